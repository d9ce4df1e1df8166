#!/usr/bin/env bash
# What the test suite needs beyond Rust, on a fresh Debian/Ubuntu machine: the legacy
# agents the end-to-end tests run against (Debian's fusioninventory-agent and
# ocsinventory-agent), the browser the UI journeys drive (chromium, chromium-driver) and
# the accessibility checker they inject (axe-core, from npm).
# README's test command runs this, then `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

need=()
command -v fusioninventory-agent >/dev/null || need+=(fusioninventory-agent)
command -v ocsinventory-agent >/dev/null || need+=(ocsinventory-agent)
# The package tests (tests/it/packages.rs) read the .deb with dpkg-deb and the .rpm with
# rpm; cargo-deb's `depends = "$auto"` needs dpkg-shlibdeps (dpkg-dev).
command -v rpm >/dev/null || need+=(rpm)
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
# The browser journeys (tests/it/browser_journeys.rs) drive headless Chromium through
# chromedriver (WebDriver).
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
# The packaging source test (tests/it/packaging_sources) lints the macOS pkg scripts.
command -v shellcheck >/dev/null || need+=(shellcheck)
# axe-core (below) comes from the npm registry's tarball.
command -v curl >/dev/null || need+=(curl ca-certificates)
# The OCS agent reads /etc/ocsinventory/ocsinventory-agent.cfg before its flags; Debian's
# default there (local=...) makes it write files instead of sending, which --server cannot
# override. Configure the package for HTTP (the tests pass their own --server).
printf '%s\n' \
  'ocsinventory-agent ocsinventory-agent/method select http' \
  'ocsinventory-agent ocsinventory-agent/server string http://localhost/ocsinventory' \
  | $sudo debconf-set-selections 2>/dev/null || true
if ((${#need[@]})); then
  echo "== installing ${need[*]} (legacy agents, a browser and tools the end-to-end tests run)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
elif grep -q '^local=' /etc/ocsinventory/ocsinventory-agent.cfg 2>/dev/null; then
  echo "== configuring ocsinventory-agent for HTTP"
  DEBIAN_FRONTEND=noninteractive $sudo dpkg-reconfigure -f noninteractive ocsinventory-agent >/dev/null
fi


# The API fuzz test (tests/it/openapi.rs) runs schemathesis against the server's own
# OpenAPI document, and openapi-spec-validator checks the document: both from PyPI, in
# a virtualenv of their own (tests/.venv), pinned so that runs are repeatable.
venv=tests/.venv
want="schemathesis==4.32.5 openapi-spec-validator==0.9.0"
if ! "$venv/bin/python" -c 'import schemathesis, openapi_spec_validator' 2>/dev/null; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "== installing python3-venv"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  echo "== installing $want into $venv (API fuzzing)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check $want
fi

# The accessibility audit (tests/it/browser_a11y.rs) injects axe-core into each page:
# the npm registry's tarball, pinned by version and digest, unpacked where npm would put
# it (tests/.node/node_modules/axe-core). No Node.js needed.
axe_version=4.10.3
axe_sha256=0f2b4d7dcdf7d1219df8d1959ad68e565f51d14c3f0d88bb71cd59abeb956292
axe_dir=tests/.node/node_modules/axe-core
if ! grep -qs "\"version\": \"$axe_version\"" "$axe_dir/package.json"; then
  echo "== fetching axe-core $axe_version into $axe_dir (accessibility audit)"
  tgz="$(mktemp)"
  curl -sSfL -o "$tgz" "https://registry.npmjs.org/axe-core/-/axe-core-$axe_version.tgz"
  echo "$axe_sha256  $tgz" | sha256sum -c --quiet
  rm -rf "$axe_dir" && mkdir -p "$axe_dir"
  tar -xzf "$tgz" -C "$axe_dir" --strip-components=1
  rm -f "$tgz"
fi

# The package and install-script tests use the real packages from packaging/build.sh
# (release binaries: about 11 minutes on 2 busy cores). Build them when they are missing
# or older than the sources they come from.
deb=$(ls target/packages/steward-agent_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ] || [ -n "$(find shared agent server config packaging Cargo.toml Cargo.lock -newer "$deb" -type f -print -quit)" ]; then
  echo "== building the Linux packages (packaging/build.sh) for the package tests"
  bash packaging/build.sh
fi
