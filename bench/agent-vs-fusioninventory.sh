#!/usr/bin/env bash
# Compare steward-agent with the Debian `fusioninventory-agent` package on this machine:
#
#   - full collection: median wall time over N runs and peak RSS (/usr/bin/time -f %M);
#     steward: `steward-agent collect`; fusioninventory: `fusioninventory-agent --local DIR`
#   - one inventory on the wire: steward's gzip full report and its unchanged check-in
#     (heartbeat), from `steward-agent collect --wire-size`; fusioninventory's XML file,
#     raw and gzip-compressed (the agent sends it zlib-compressed, a few bytes less than
#     gzip, and sends the whole inventory on every run: it has no delta or heartbeat)
#   - the release binary's size (steward)
#   - idle RSS of a running agent after --idle-secs: a real steward-server on 127.0.0.1
#     with a scratch data dir, the agent enrolled into a scratch state dir and left running
#     (`steward-agent run`; it checks in at start, then on its schedule). Alongside it,
#     if installed, fusioninventory-agent runs as a daemon (`--daemon --no-fork
#     --no-httpd --local DIR`, forced to inventory at start with `--set-forcerun`).
#
# Steward targets: < 50 ms, < 10 MB peak, < 8 MB idle, < 1 KB unchanged, < 6 MB binary.
# They are judged with decimal units (1 MB = 10^6 bytes, 1 KB = 1000 bytes), the stricter
# reading; a figure that meets a target only with binary units (MiB, KiB) is marked so.
#
# fusioninventory-agent is installed with apt-get if missing (needs root; runs
# `apt-get update` and retries if the first install fails). If it cannot be installed or
# run, its column says why and the steward side is still measured.
#
# Usage: bench/agent-vs-fusioninventory.sh [--idle-secs N] [--runs N] [--fi-runs N] [--no-build]
#   --idle-secs N  how long the agents idle before their RSS is read (default 600)
#   --runs N       steward-agent collections to time (default 10)
#   --fi-runs N    fusioninventory-agent inventories to time (default 3; about 1-2 s each)
#   --no-build     use the release binaries already in the target dir (no cargo build)
set -euo pipefail

idle_secs=600
runs=10
fi_runs=3
build=1
usage() { sed -n '/^# Usage:/,/^# *--no-build/s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --idle-secs) idle_secs="${2:?--idle-secs needs a value}"; shift 2 ;;
    --idle-secs=*) idle_secs="${1#*=}"; shift ;;
    --runs) runs="${2:?--runs needs a value}"; shift 2 ;;
    --runs=*) runs="${1#*=}"; shift ;;
    --fi-runs) fi_runs="${2:?--fi-runs needs a value}"; shift 2 ;;
    --fi-runs=*) fi_runs="${1#*=}"; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$idle_secs" "$runs" "$fi_runs"; do
  case "$v" in ''|*[!0-9]*) echo "not a number: $v" >&2; exit 2 ;; esac
done
[ "$runs" -ge 1 ] && [ "$fi_runs" -ge 1 ] || { echo "--runs and --fi-runs must be >= 1" >&2; exit 2; }

cd "$(dirname "$0")/.."
# Settings from the caller's environment must not change what is measured.
unset STEWARD_AGENT_CONFIG STEWARD_AGENT_STATE_DIR STEWARD_AGENT_TOKEN STEWARD_CONFIG

log() { echo "[bench] $*" >&2; }

# --- processes and scratch files: all removed on exit ------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/steward-vs-fi.XXXXXX")"
server_pid=""
agent_pid=""
fi_daemon_pid=""

stop_pid() { # PID: TERM it (and its direct children), wait up to 10 s, then KILL
  local pid="$1" kids i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kids="$(ps -o pid= --ppid "$pid" 2>/dev/null || true)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for k in $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$agent_pid"; agent_pid=""
  stop_pid "$fi_daemon_pid"; fi_daemon_pid=""
  stop_pid "$server_pid"; server_pid=""
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools --------------------------------------------------------------------------------
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else return 1
  fi
}
apt_install() { # PACKAGE: install it; on failure run apt-get update and try again
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >>"$work/apt.log" 2>&1 && return 0
  as_root apt-get update -qq >>"$work/apt.log" 2>&1 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >>"$work/apt.log" 2>&1
}

if [ ! -x /usr/bin/time ]; then
  log "/usr/bin/time not found; installing the 'time' package..."
  apt_install time || { echo "cannot install 'time' (see apt-get output below)" >&2; tail -n 5 "$work/apt.log" >&2; exit 1; }
fi

fi_note=""  # why fusioninventory-agent is not measured, if it is not
if ! command -v fusioninventory-agent >/dev/null; then
  log "fusioninventory-agent not found; installing the Debian package..."
  if ! command -v apt-get >/dev/null; then
    fi_note="not installed, and no apt-get on this machine"
  elif ! apt_install fusioninventory-agent; then
    fi_note="could not be installed: $(grep -E '^(E|Err):' "$work/apt.log" | tail -n 1 || true)"
  elif ! command -v fusioninventory-agent >/dev/null; then
    fi_note="installed, but fusioninventory-agent is not on PATH"
  fi
fi

if [ "$build" -eq 1 ]; then
  log "building the release steward-server and steward-agent (LTO: this can take minutes)..."
  cargo build --release -p steward-server -p steward-agent --quiet
fi
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
agent="$target_dir/release/steward-agent"
server="$target_dir/release/steward-server"
for b in "$agent" "$server"; do
  [ -x "$b" ] || { echo "$b not found: build it (without --no-build)" >&2; exit 1; }
done

# --- helpers ------------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }'; }
maximum() { printf '%s\n' "$@" | sort -n | tail -n 1; }

# timed_runs N CMD...: run CMD N times; sets run_walls (microseconds) and run_rss (KiB).
# Returns 1 (and leaves the output in $work/run.err) if a run fails.
timed_runs() {
  local n="$1" start end i
  shift
  run_walls=()
  run_rss=()
  for i in $(seq "$n"); do
    start=$(date +%s%N)
    if ! /usr/bin/time -f %M -o "$work/time.out" "$@" >"$work/run.out" 2>"$work/run.err"; then
      return 1
    fi
    end=$(date +%s%N)
    run_walls+=($(( (end - start) / 1000 )))
    run_rss+=("$(tail -n 1 "$work/time.out")")
  done
}

fmt_ms() { awk -v us="$1" 'BEGIN { if (us >= 1000000) printf "%.3f s", us / 1e6; else printf "%.1f ms", us / 1000 }'; }
fmt_kib() { awk -v k="$1" 'BEGIN { printf "%.2f MiB = %.2f MB", k / 1024, k * 1024 / 1e6 }'; }
fmt_size() {
  awk -v b="$1" 'BEGIN {
    if (b < 1000) printf "%d B", b
    else if (b < 1e6) printf "%.1f KB", b / 1e3
    else printf "%.2f MB", b / 1e6 }'
}
# verdict VALUE LIMIT UNIT: VALUE in bytes (or microseconds for UNIT=ms), target < LIMIT UNIT.
verdict() {
  awk -v v="$1" -v t="$2" -v u="$3" 'BEGIN {
    if (u == "ms") { print (v < t * 1000 ? "met" : "MISSED"); exit }
    dec = (u == "KB") ? 1e3 : 1e6; bin = (u == "KB") ? 1024 : 1048576
    if (v < t * dec) print "met"
    else if (v < t * bin) print "MISSED in " u ", met in " (u == "KB" ? "KiB" : "MiB")
    else print "MISSED" }'
}

# --- steward-agent: collection, wire sizes, binary ----------------------------------------
log "steward-agent: ${runs} collections..."
"$agent" collect >/dev/null # warm the page cache: the figures are about the agent, not the disk
st_wall="n/a"; st_rss="n/a"; st_wall_v=""; st_rss_v=""
if timed_runs "$runs" "$agent" collect; then
  st_wall_v=$(median "${run_walls[@]}")
  st_rss_v=$(maximum "${run_rss[@]}")
  st_wall="$(fmt_ms "$st_wall_v") (median of $runs)"
  st_rss="$(fmt_kib "$st_rss_v")"
else
  st_wall="failed: $(tail -n 1 "$work/run.err")"
fi
st_packages=$("$agent" collect | grep -o '"source":"[a-z]*"' | wc -l || true)

wire="$("$agent" collect --wire-size)"
st_full_gz=$(sed -nE 's/^full: ([0-9]+) bytes.*/\1/p' <<<"$wire")
st_full_json=$(sed -nE 's/^full: [0-9]+ bytes \([^;]*; ([0-9]+) bytes as JSON\).*/\1/p' <<<"$wire")
st_full_enc=$(sed -nE 's/^full: [0-9]+ bytes \(([^;]*);.*/\1/p' <<<"$wire")
st_second_label=$(sed -nE 's/^full: [^)]*\), (.*): [0-9]+ bytes, delta .*/\1/p' <<<"$wire")
st_second=$(sed -nE 's/.*: ([0-9]+) bytes, delta .*/\1/p' <<<"$wire")
st_one_upgrade=$(sed -nE 's/.*delta with one package upgraded: ([0-9]+) bytes.*/\1/p' <<<"$wire")
st_bin=$(stat -c %s "$agent")

# --- fusioninventory-agent: collection and inventory size ---------------------------------
fi_wall="n/a"; fi_rss="n/a"; fi_full="n/a"; fi_second="n/a"; fi_bin="n/a"; fi_packages=""
fi_version=""
if [ -z "$fi_note" ]; then
  fi_version="$(fusioninventory-agent --version 2>/dev/null | head -n 1 || true)"
  fi_out="$work/fi-local" # each run writes (overwrites) DEVICEID.ocs here
  mkdir -p "$fi_out"
  log "fusioninventory-agent: a warm-up inventory and ${fi_runs} timed ones (slow)..."
  if ! fusioninventory-agent --local "$fi_out" >"$work/fi-warm.log" 2>&1; then
    fi_note="the inventory failed: $(grep -v '^\s*$' "$work/fi-warm.log" | tail -n 1)"
  elif ! timed_runs "$fi_runs" fusioninventory-agent --local "$fi_out"; then
    fi_note="an inventory failed: $(grep -v '^\s*$' "$work/run.err" | tail -n 1)"
  else
    xml="$(ls -t "$fi_out"/*.ocs 2>/dev/null | head -n 1 || true)"
    if [ -z "$xml" ]; then
      fi_note="the inventory wrote no .ocs file into $fi_out"
    else
      fi_wall="$(fmt_ms "$(median "${run_walls[@]}")") (median of $fi_runs)"
      fi_rss="$(fmt_kib "$(maximum "${run_rss[@]}")")"
      fi_raw=$(stat -c %s "$xml")
      fi_gz=$(gzip -c "$xml" | wc -c)
      fi_full="$(fmt_size "$fi_gz") gzip ($(fmt_size "$fi_raw") XML)"
      fi_second="$(fmt_size "$fi_gz") (full again)"
      fi_packages=$(grep -o '<SOFTWARES>' "$xml" | wc -l || true)
      fi_kib=$(dpkg-query -W -f='${Installed-Size}' fusioninventory-agent 2>/dev/null || true)
      fi_bin="n/a (Perl; package ${fi_kib:+$(fmt_size $(( fi_kib * 1024 ))) }+ deps)"
    fi
  fi
fi

# --- idle: a real server, an enrolled agent left running ----------------------------------
idle_st="n/a"; idle_st_hwm="n/a"; idle_st_v=""; idle_fi="n/a"; idle_note=""; checkins=0
idle_phase() {
  local data="$work/server-data" state="$work/agent-state" url="" token i
  mkdir -p "$data" "$state"
  export STEWARD_ADMIN_PASSWORD="bench-admin-password-$$"
  if ! token="$("$server" --data-dir "$data" enrollment create 2>"$work/enroll-token.err")" \
      || [ -z "$token" ]; then
    idle_note="enrollment create failed: $(tail -n 1 "$work/enroll-token.err")"
    return 1
  fi
  "$server" --data-dir "$data" serve --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
  server_pid=$!
  for i in $(seq 600); do # up to 60 s
    url="$(sed -n 's/^Steward is running at //p' "$work/server.log")"
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    idle_note="steward-server did not start: $(tail -n 1 "$work/server.log")"
    return 1
  fi
  if ! "$agent" --state-dir "$state" enroll --server "$url" --token "$token" \
      >"$work/enroll.log" 2>&1; then
    idle_note="enroll failed: $(tail -n 1 "$work/enroll.log")"
    return 1
  fi
  RUST_LOG=info "$agent" --state-dir "$state" run >"$work/agent.log" 2>&1 &
  agent_pid=$!

  if [ -z "$fi_note" ]; then
    mkdir -p "$work/fi-daemon"
    if fusioninventory-agent --set-forcerun >"$work/fi-daemon.log" 2>&1; then
      fusioninventory-agent --daemon --no-fork --no-httpd --local "$work/fi-daemon" \
        >>"$work/fi-daemon.log" 2>&1 &
      fi_daemon_pid=$!
    fi
  fi

  log "idle: ${idle_secs} s with a running steward-agent (and fusioninventory-agent daemon) against $url..."
  local end=$(( $(date +%s) + idle_secs ))
  while [ "$(date +%s)" -lt "$end" ]; do
    if ! kill -0 "$agent_pid" 2>/dev/null; then
      idle_note="steward-agent run exited early: $(tail -n 1 "$work/agent.log")"
      return 1
    fi
    sleep 1
  done
  idle_st_v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$agent_pid/status")
  idle_st="$(fmt_kib "$idle_st_v")"
  idle_st_hwm="$(fmt_kib "$(awk '/^VmHWM:/ { print $2 }' "/proc/$agent_pid/status")")"
  checkins=$(grep -c 'checked in' "$work/agent.log" || true)

  if [ -n "$fi_daemon_pid" ] && kill -0 "$fi_daemon_pid" 2>/dev/null; then
    local kib procs=1 k extra
    kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$fi_daemon_pid/status")
    for k in $(ps -o pid= --ppid "$fi_daemon_pid" || true); do
      extra=$(awk '/^VmRSS:/ { print $2 }' "/proc/$k/status" 2>/dev/null || true)
      [ -n "$extra" ] && kib=$(( kib + extra )) && procs=$(( procs + 1 ))
    done
    idle_fi="$(fmt_kib "$kib")"
    [ "$procs" -gt 1 ] && idle_fi="$idle_fi ($procs processes)"
    if ! find "$work/fi-daemon" -name '*.ocs' | grep -q .; then
      idle_fi="$idle_fi (had not run its inventory)"
    fi
  elif [ -z "$fi_note" ]; then
    idle_fi="daemon failed: $(grep -v '^\s*$' "$work/fi-daemon.log" | tail -n 1)"
  fi
  stop_pid "$agent_pid"; agent_pid=""
  stop_pid "$fi_daemon_pid"; fi_daemon_pid=""
  stop_pid "$server_pid"; server_pid=""
}
idle_phase || idle_st="failed: $idle_note"

# --- report -------------------------------------------------------------------------------
row() { printf '%-32s  %-30s  %-34s  %s\n' "$@"; }
line="----------------------------------------"
st_version="$("$agent" --version)"
os="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" || uname -s)"

echo
echo "steward-agent vs fusioninventory-agent on $(hostname) ($os, kernel $(uname -r), $(nproc) CPUs)"
echo "  $st_version: release build, $agent$([ "$build" -eq 1 ] || echo " (--no-build: built $(date -r "$agent" '+%F %T'))")"
if [ -z "$fi_note" ]; then
  echo "  ${fi_version:-fusioninventory-agent}: Debian package; measured: fusioninventory-agent --local DIR"
else
  echo "  fusioninventory-agent: NOT MEASURED: $fi_note"
fi
echo "  inventories: steward $st_packages packages${fi_packages:+, fusioninventory $fi_packages software entries}"
echo
row "" "steward-agent" "fusioninventory-agent" "steward target"
row "${line:0:32}" "${line:0:30}" "${line:0:34}" "${line:0:32}"
row "full collection, wall time" "$st_wall" "$fi_wall" \
  "< 50 ms: ${st_wall_v:+$(verdict "$st_wall_v" 50 ms)}"
row "full collection, peak RSS" "$st_rss" "$fi_rss" \
  "< 10 MB: ${st_rss_v:+$(verdict $(( st_rss_v * 1024 )) 10 MB)}"
row "one inventory on the wire" "$(fmt_size "$st_full_gz") $st_full_enc ($(fmt_size "$st_full_json") JSON)" \
  "$fi_full" "-"
row "unchanged check-in on the wire" "$(fmt_size "$st_second") ($st_second_label)" "$fi_second" \
  "< 1 KB: $(verdict "$st_second" 1 KB)"
row "idle RSS after $idle_secs s" "$idle_st" "$idle_fi" \
  "< 8 MB: ${idle_st_v:+$(verdict $(( idle_st_v * 1024 )) 8 MB)}"
row "  peak RSS of that run (VmHWM)" "$idle_st_hwm" "" "-"
row "release binary" "$(fmt_size "$st_bin") ($(awk -v b="$st_bin" 'BEGIN { printf "%.2f MiB", b / 1048576 }'))" \
  "$fi_bin" "< 6 MB: $(verdict "$st_bin" 6 MB)"
echo
echo "Notes:"
echo "  - wall time includes process start; peak RSS is the largest of $runs (steward) / $fi_runs"
echo "    (fusioninventory) runs, as /usr/bin/time -f %M reports it (largest process of the run)."
echo "  - steward's one-package-upgrade delta is $(fmt_size "${st_one_upgrade:-0}"). fusioninventory-agent"
echo "    sends its whole inventory, zlib-compressed, on every run (no delta, no heartbeat)."
echo "  - idle: steward-agent run enrolled with a local steward-server, $checkins check-in(s) logged;"
echo "    fusioninventory-agent --daemon --no-fork --no-httpd --local DIR after --set-forcerun,"
echo "    its inventory done in a forked child; RSS is VmRSS from /proc/PID/status."
echo "  - MB = 10^6 bytes, KB = 1000 bytes; MiB = 2^20 bytes."
