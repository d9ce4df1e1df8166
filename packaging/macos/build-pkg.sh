#!/bin/sh
# Builds the macOS installer package target/packages/steward-agent-<version>.pkg. Runs on
# a Mac with Xcode's command line tools (pkgbuild, productbuild, lipo) and the rustup
# targets aarch64-apple-darwin and x86_64-apple-darwin; it cannot run on Linux, where
# tests/it/packaging_sources.rs checks the files it packs instead.
#
#   packaging/macos/build-pkg.sh [--binary FILE] [--sign IDENTITY]
#
# --binary FILE     pack this agent binary (default: build a universal one here with lipo)
# --sign IDENTITY   sign the package, e.g. "Developer ID Installer: Example (TEAMID)";
#                   then notarize it: xcrun notarytool submit PKG --wait ..., and
#                   xcrun stapler staple PKG
#
# The package installs:
#   /Library/Steward/bin/steward-agent                 the agent (root-owned; self-updates in place)
#   /Library/Steward/agent.example.toml                copied to the config when there is none
#   /Library/Steward/uninstall.sh                      sudo /Library/Steward/uninstall.sh [--revoke] [--purge]
#   /Library/LaunchDaemons/com.steward.agent.plist     the launchd daemon
# and its scripts (scripts/preinstall, scripts/postinstall) keep the config in
# /Library/Application Support/Steward/agent.toml and the state in .../Steward/state.
set -eu
cd "$(dirname "$0")/../.."

identifier=com.steward.agent
binary=""
sign=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --sign) sign="${2:?--sign needs an identity}"; shift 2 ;;
    *) echo "usage: $0 [--binary FILE] [--sign IDENTITY]" >&2; exit 2 ;;
  esac
done
[ "$(uname -s)" = Darwin ] || { echo "$0: pkgbuild and productbuild only exist on macOS" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
out=target/packages
mkdir -p "$out"

if [ -z "$binary" ]; then
  for target in aarch64-apple-darwin x86_64-apple-darwin; do
    cargo build --release --locked -p steward-agent --target "$target"
  done
  binary="$out/steward-agent-macos-universal"
  lipo -create -output "$binary" \
    target/aarch64-apple-darwin/release/steward-agent \
    target/x86_64-apple-darwin/release/steward-agent
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -d -m 0755 "$root/Library/Steward/bin" "$root/Library/LaunchDaemons"
install -m 0755 "$binary" "$root/Library/Steward/bin/steward-agent"
install -m 0644 config/agent.example.toml "$root/Library/Steward/agent.example.toml"
install -m 0755 packaging/macos/uninstall.sh "$root/Library/Steward/uninstall.sh"
install -m 0644 packaging/macos/com.steward.agent.plist "$root/Library/LaunchDaemons/com.steward.agent.plist"

# --ownership recommended: root:wheel, as launchd requires of a daemon's plist.
pkgbuild --root "$root" --install-location / --identifier "$identifier" --version "$version" \
  --scripts packaging/macos/scripts --ownership recommended "$out/steward-agent-component.pkg"
pkg="$out/steward-agent-$version.pkg"
if [ -n "$sign" ]; then
  productbuild --package "$out/steward-agent-component.pkg" --sign "$sign" "$pkg"
else
  productbuild --package "$out/steward-agent-component.pkg" "$pkg"
fi
rm -f "$out/steward-agent-component.pkg"
echo "$pkg"
