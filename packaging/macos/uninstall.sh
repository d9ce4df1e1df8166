#!/bin/sh
# Removes the Steward agent from this Mac (the package installs this script as
# /Library/Steward/uninstall.sh). As root:
#
#   sudo /Library/Steward/uninstall.sh [--revoke] [--purge]
#
# --revoke  first asks the server to revoke this agent (the machine leaves the fleet)
# --purge   also deletes the config, the enrollment state and the logs
#
# STEWARD_ROOT=DIR works on a tree under DIR instead of / (no launchctl or pkgutil; tests).
set -eu
label=com.steward.agent
root="${STEWARD_ROOT:-}"
revoke=""
purge=""
for arg in "$@"; do
  case "$arg" in
    --revoke) revoke=1 ;;
    --purge) purge=1 ;;
    *)
      echo "usage: $0 [--revoke] [--purge]" >&2
      exit 2
      ;;
  esac
done
bin="$root/Library/Steward/bin/steward-agent"
data="$root/Library/Application Support/Steward"
plist="$root/Library/LaunchDaemons/$label.plist"

if [ -z "$root" ]; then
  launchctl bootout "system/$label" 2>/dev/null || true
fi
if [ -n "$revoke" ]; then
  "$bin" --config "$data/agent.toml" --state-dir "$data/state" deregister ||
    echo "steward-agent: could not revoke this agent on the server (see above); removing it anyway" >&2
fi
rm -f "$plist"
rm -rf "$root/Library/Steward"
if [ -n "$purge" ]; then
  rm -rf "$data" "$root/Library/Logs/Steward"
fi
if [ -z "$root" ]; then
  pkgutil --forget "$label" >/dev/null 2>&1 || true
fi
echo "Steward agent removed${purge:+ (with its data)}."
