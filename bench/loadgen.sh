#!/usr/bin/env bash
# Load the release server with simulated agents (see bench/README.md, "loadgen.sh"):
# enrollment of --agents (100,000) agents, each one's first full inventory (150 to 1,500
# packages), full re-reports, the check-in mix at --rate (2,000/s) for --duration (60 s)
# while a technician's pages are timed, the maximum rate, an overload burst (503 with
# Retry-After), the /healthz and raw SQLite ceilings, the server's peak RSS, the database
# size and growth, and a check that every acknowledged report is in the database.
#
# Usage: bench/loadgen.sh [loadgen options]     e.g.
#   bench/loadgen.sh                                         # 100,000 agents in /var/tmp/steward-loadgen
#   bench/loadgen.sh --agents 2000 --data-dir /tmp/lg-2k     # quick
#   bench/loadgen.sh --data-dir /var/tmp/steward-loadgen     # again on the same fleet: skips enrollment
#                                                            # and first inventories
# All options: bench/loadgen.sh --help
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --release -p steward-server -p steward-bench --bin steward-server --bin loadgen --quiet
target="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release"

exec "$target/loadgen" --server-bin "$target/steward-server" "$@"
