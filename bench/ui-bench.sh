#!/usr/bin/env bash
# Seed one data directory with 100,000 assets and 1,000,000 tickets (by default) and time
# every page of the web UI over real HTTP, signed in through the login form: p50/p95/max
# per page against issue 11's target, p95 < 100 ms.
#
# Usage: bench/ui-bench.sh [ui-bench options]     e.g.
#   bench/ui-bench.sh                                     # full size in /var/tmp/steward-ui-bench (reused next time)
#   bench/ui-bench.sh --assets 10000 --tickets 100000 --data-dir /var/tmp/ui-bench-small   # quick
#   bench/ui-bench.sh --strict                            # exit 1 when a page misses the target
# All options: bench/ui-bench.sh --help
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --release -p steward-bench --bin ui-bench --quiet
bin="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/ui-bench"

exec "$bin" "$@"
