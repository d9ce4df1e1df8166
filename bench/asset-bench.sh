#!/usr/bin/env bash
# Seed a big fleet (default 100,000 machines with 200 installed software items each, a
# year of catalog history, licenses) and time the asset list with filters and the
# software catalog over real HTTP: p50/p95/p99 per query against a p95 < 50 ms target,
# plus the database size and the seeding time.
#
# Usage: bench/asset-bench.sh [asset-bench options]     e.g.
#   bench/asset-bench.sh                                    # full size, temporary data dir
#   bench/asset-bench.sh --data-dir /var/tmp/fleet-100k     # keep the seeded dir; reuse it next time
#   bench/asset-bench.sh --assets 10000                     # quick
# All options: bench/asset-bench.sh --help
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --release -p steward-bench --quiet
bin="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/asset-bench"

exec "$bin" "$@"
