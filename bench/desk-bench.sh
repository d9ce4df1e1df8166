#!/usr/bin/env bash
# Seed a big service desk (default 1,000,000 tickets with ~2 comments each and 100,000
# assets) and time the ticket API over real HTTP: p50/p95/p99 per query against a
# p95 < 50 ms target, plus the database size and the seeding time.
#
# Usage: bench/desk-bench.sh [desk-bench options]     e.g.
#   bench/desk-bench.sh                                   # full size, temporary data dir
#   bench/desk-bench.sh --data-dir /var/tmp/desk-1m       # keep the seeded dir; reuse it next time
#   bench/desk-bench.sh --tickets 100000 --assets 10000   # quick
# All options: bench/desk-bench.sh --help
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --release -p steward-bench --quiet
bin="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/desk-bench"

exec "$bin" "$@"
