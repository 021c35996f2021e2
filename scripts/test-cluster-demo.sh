#!/usr/bin/env bash
# Test of scripts/cluster-demo.sh (ctest app.cluster_demo): at the small size,
# on free ports,
# 1. a complete run passes every result check, prints the summary table, and
#    leaves no node process behind;
# 2. SIGINT (Ctrl-C) in the middle of a run: exit status 130, no node left;
# 3. SIGKILL of the runner in the middle of a run (no trap can run): no node
#    left within 3 s (PR_SET_PDEATHSIG).
# A node process is recognised by ROTINA_DEMO_RUN=<work dir> in its environment.
# Usage: test-cluster-demo.sh BUILD_DIR [APPS]
set -euo pipefail
build=$1 apps=${2:-mandelbrot}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d /tmp/rotina-demo-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# strays WORK: pids of live processes whose environment names WORK.
strays() {
  grep -lsxzF "ROTINA_DEMO_RUN=$1" /proc/[0-9]*/environ 2>/dev/null \
    | sed 's|/proc/\([0-9]*\)/environ|\1|' | grep -vx "$$" | tr '\n' ' ' || true
}

# no_strays WORK WHAT: fails unless no process names WORK within 3 s.
no_strays() {
  local left
  for _ in $(seq 30); do
    left=$(strays "$1")
    [ -z "$left" ] && { echo "$2: no process left behind"; return 0; }
    sleep 0.1
  done
  echo "FAIL: $2: processes left behind: $left" >&2
  ps -o pid,ppid,stat,args -p "$(echo $left | tr " " ",")" >&2 || true
  kill -KILL $left 2>/dev/null || true
  exit 1
}

demo=(scripts/cluster-demo.sh --bin="$build" --size=small --free-ports)
# 2. and 3. interrupt a full-size render (seconds long), so that a node that
# survived its runner would still be running when we look
long=(scripts/cluster-demo.sh --bin="$build" --size=full --free-ports --apps=mandelbrot)

# 1. a full run
work=$tmp/full
if ! timeout 300 "${demo[@]}" --apps="$apps" --work="$work" > "$tmp/full.log" 2>&1; then
  cat "$tmp/full.log" >&2
  echo "FAIL: the demo failed" >&2
  exit 1
fi
grep -q '^== summary' "$tmp/full.log" || { cat "$tmp/full.log" >&2; echo "FAIL: no summary" >&2; exit 1; }
sed -n '/^== summary/,$p' "$tmp/full.log"
no_strays "$work" "full run"

# wait_for_node WORK: waits (at most 60 s) until a mandelbrot node of WORK runs.
wait_for_node() {
  local p
  for _ in $(seq 600); do
    for p in $(strays "$1"); do
      grep -qx mandelbrot "/proc/$p/comm" 2>/dev/null && return 0
    done
    sleep 0.1
  done
  echo "FAIL: no node process of $1 started" >&2
  exit 1
}

# 2. Ctrl-C: job control on, so that the background runner does not ignore
#    SIGINT (bash ignores it in background jobs of a non-interactive shell)
set -m
work=$tmp/int
timeout 120 "${long[@]}" --work="$work" > "$tmp/int.log" 2>&1 &
runner=$!
wait_for_node "$work"
kill -INT "$runner" 2>/dev/null || kill -INT "$(pgrep -P "$runner" | head -1)"
status=0
wait "$runner" || status=$?
# timeout(1) forwards the signal; the runner exits 130
if [ $status != 130 ]; then
  cat "$tmp/int.log" >&2
  echo "FAIL: SIGINT: exit status $status, expected 130" >&2
  exit 1
fi
no_strays "$work" "SIGINT (exit $status)"

# 3. SIGKILL of the runner itself (not of timeout(1))
work=$tmp/kill
"${long[@]}" --work="$work" > "$tmp/kill.log" 2>&1 &
runner=$!
wait_for_node "$work"
kill -KILL "$runner"
wait "$runner" 2>/dev/null || true
no_strays "$work" "SIGKILL of the runner"
echo "cluster-demo.sh: ok"
