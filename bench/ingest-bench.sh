#!/usr/bin/env bash
# First full inventories through the server's own check-in code, in-process (no HTTP, no
# client): the database's share of loadgen's "first inventories" figure, per window of
# machines as the database grows (see bench/README.md, "ingest-bench.sh").
#
# Usage: bench/ingest-bench.sh [--machines N] [--window N] [--in-flight N] [--setup-sql SQL]
#   bench/ingest-bench.sh                       # 30,000 machines in a temporary directory
#   bench/ingest-bench.sh --machines 5000       # quick check
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --release -p steward-bench --bin ingest-bench --quiet
target="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release"

exec "$target/ingest-bench" "$@"
