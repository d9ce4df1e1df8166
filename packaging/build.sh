#!/usr/bin/env bash
# Builds the Linux packages: steward-agent and steward-server as .deb (cargo-deb) and .rpm
# (cargo-generate-rpm), from release binaries, into target/packages/, and prints their
# names and sizes. Installs the two cargo tools first if they are missing.
#
#   packaging/build.sh [--releases DIR]
#
# --releases DIR also copies the agent binary to DIR/linux-<arch>/steward-agent, the
# layout the server's install one-liner serves (DIR is <server data dir>/releases).
set -euo pipefail
cd "$(dirname "$0")/.."

releases=""
while (($#)); do
  case "$1" in
    --releases) releases="${2:?--releases needs a directory}"; shift 2 ;;
    *) echo "usage: $0 [--releases DIR]" >&2; exit 2 ;;
  esac
done

for tool in cargo-deb cargo-generate-rpm; do
  if ! command -v "$tool" >/dev/null; then
    echo "== installing $tool"
    cargo install "$tool" --locked
  fi
done

echo "== release build (steward-agent, steward-server)"
start=$(date +%s)
cargo build --release --locked -p steward-agent -p steward-server
echo "release build: $(($(date +%s) - start)) s"

out=target/packages
rm -rf "$out"
mkdir -p "$out"
for pkg in steward-agent steward-server; do
  cargo deb --no-build --no-strip -p "$pkg" -o "$out/" >/dev/null
  cargo generate-rpm -p "${pkg#steward-}" -o "$out/" >/dev/null
done

arch=$(uname -m)
if [ -n "$releases" ]; then
  mkdir -p "$releases/linux-$arch"
  install -m 0755 target/release/steward-agent "$releases/linux-$arch/steward-agent.new"
  mv -f "$releases/linux-$arch/steward-agent.new" "$releases/linux-$arch/steward-agent"
  echo "agent binary for the install one-liner: $releases/linux-$arch/steward-agent"
fi

echo "== packages in $out"
for f in "$out"/*; do
  printf '%-48s %6s KiB\n' "$(basename "$f")" "$(($(stat -c %s "$f") / 1024))"
done
