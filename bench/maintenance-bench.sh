#!/usr/bin/env bash
# Seed assets at four sites in different time zones and maintenance plans covering them
# (default 100,000 plan-asset pairs: by type, by location, single assets; cron, n-th
# weekday, fixed and floating intervals, maximum interval, lead times), then time the
# maintenance evaluator in-process: the first pass, the next day (judged against < 1 s),
# an idle pass and a pass after every schedule was marked stale. Prints the counts of
# each pass and the database size.
#
# Usage: bench/maintenance-bench.sh [maintenance-bench options]     e.g.
#   bench/maintenance-bench.sh                                           # full size, temporary data dir
#   bench/maintenance-bench.sh --data-dir /var/tmp/maint-bench-100k      # keep the seeded dir; reuse it next time
#   bench/maintenance-bench.sh --assets 10000                            # quick
# All options: bench/maintenance-bench.sh --help
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --release -p steward-bench --quiet
bin="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/maintenance-bench"

exec "$bin" "$@"
