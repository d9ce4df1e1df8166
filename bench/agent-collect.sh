#!/usr/bin/env bash
# Measure `steward-agent collect` (full inventory + health): wall time and peak RSS over
# 20 runs, and the release binary's size. Targets: under 50 ms, under 10 MB, under 6 MB.
# Then the bytes on the wire of this machine's reports (`collect --wire-size`): a full
# report, an unchanged check-in (heartbeat; target under 1 KB) and a one-package delta.
#
# Usage: bench/agent-collect.sh [RUNS]
set -euo pipefail

runs="${1:-20}"
cd "$(dirname "$0")/.."

cargo build --release -p steward-agent --quiet
bin="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/steward-agent"

if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found; installing the 'time' package (needs root)..." >&2
  apt-get install -y -qq time >/dev/null
fi

# Warm the page cache so that the figures are about the agent, not the disk.
"$bin" collect >/dev/null

walls=()
rss=()
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  /usr/bin/time -f %M -o "$tmp" "$bin" collect >/dev/null
  end=$(date +%s%N)
  walls+=($(( (end - start) / 1000 )))  # microseconds
  rss+=("$(tail -n 1 "$tmp")")           # KiB
done

sorted_walls=($(printf '%s\n' "${walls[@]}" | sort -n))
sorted_rss=($(printf '%s\n' "${rss[@]}" | sort -n))
n=${#sorted_walls[@]}
median=${sorted_walls[$((n / 2))]}
max=${sorted_walls[$((n - 1))]}
max_rss=${sorted_rss[$((n - 1))]}
size=$(stat -c %s "$bin")
packages=$("$bin" collect | grep -o '"source":"[a-z]*"' | wc -l)

awk -v med="$median" -v max="$max" -v rss="$max_rss" -v size="$size" -v runs="$runs" \
    -v pk="$packages" 'BEGIN {
  printf "steward-agent collect, %d runs (%d packages)\n", runs, pk
  printf "  wall time: median %.1f ms, max %.1f ms   (target < 50 ms)\n", med / 1000, max / 1000
  printf "  peak RSS:  max %.1f MiB                  (target < 10 MB)\n", rss / 1024
  printf "  release binary: %.2f MiB                (target < 6 MB)\n", size / 1048576
}'
printf '  on the wire: %s   (target: heartbeat < 1 KB)\n' "$("$bin" collect --wire-size)"
