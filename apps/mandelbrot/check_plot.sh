#!/usr/bin/env bash
# Test of scripts/plot_speedup.sh (ctest app.mandelbrot.plot): draws a chart
# from a known data file and checks the speed-up table it prints and that the
# output is a PNG; a malformed line must be an error naming file and line.
# Usage: check_plot.sh SCRIPT WORKDIR
set -euo pipefail
script=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
printf '# comment\n1 4.0\n2 2.5\n2 1.5\n4 1.25  # trailing comment\n' > "$dir/ok.dat"
table=$("$script" "$dir/ok.dat" "$dir/ok.png" "test chart" workers | grep -v '^#' | grep -v wrote)
expected=$'1 4.000000 1.0000 1.0000\n2 2.000000 2.0000 2.0000\n4 1.250000 3.2000 4.0000'
[ "$table" = "$expected" ] || { echo "table differs:"; echo "$table"; exit 1; }
[ "$(head -c 8 "$dir/ok.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
  || { echo "$dir/ok.png is not a PNG"; exit 1; }
printf '1 4.0\n2 fast\n' > "$dir/bad.dat"
if "$script" "$dir/bad.dat" "$dir/bad.png" 2> "$dir/bad.err"; then
  echo "a malformed line was accepted"; exit 1
fi
grep -q "bad.dat:2: expected" "$dir/bad.err" || { echo "no file:line in: $(cat "$dir/bad.err")"; exit 1; }
echo "plot_speedup.sh: table, PNG and error ok"
