#!/usr/bin/env bash
# Time how many FusionInventory XML inventories per second the legacy endpoint stores:
# --devices (2,000) devices made from this machine's own FusionInventory 2.6 inventory
# (`fusioninventory-inventory`, ~860 packages) send PROLOG then INVENTORY, zlib-compressed,
# to the server in-process on 127.0.0.1 with --concurrency (8) clients: first inventories
# (each a new asset), then a second round with a few packages upgraded; then parse-only
# throughput and where the time goes, the database size and the asset count.
#
# Usage: bench/legacy-bench.sh [legacy-bench options]     e.g.
#   bench/legacy-bench.sh                                    # 2,000 devices, temporary data dir
#   bench/legacy-bench.sh --devices 200 --concurrency 4      # quick
#   bench/legacy-bench.sh --data-dir /var/tmp/legacy-2k      # keep the database afterwards
# All options: bench/legacy-bench.sh --help
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --release -p steward-bench --quiet
bin="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/legacy-bench"

exec "$bin" "$@"
