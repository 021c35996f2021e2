#!/usr/bin/env bash
# Draws a speed-up chart (PNG) from a data file of "count seconds" lines with
# gnuplot (Debian's gnuplot-nox).
# Usage: scripts/plot_speedup.sh DATA OUT.png [TITLE] [XLABEL]
#   DATA    one measurement per line: a count (nodes, workers, ...) and the
#           wall-clock seconds it took; '#' starts a comment; several lines
#           with the same count are averaged.
#   OUT.png the chart: speed-up T(base) / T(count) over count, where base is
#           the smallest count, next to the ideal count / base; each point is
#           labelled with its time.
#   TITLE   default "speed-up"; XLABEL default "nodes".
# Example: printf '1 2.0\n2 1.1\n4 0.6\n' > t.dat && scripts/plot_speedup.sh t.dat t.png
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
  echo "usage: $0 DATA OUT.png [TITLE] [XLABEL]" >&2
  exit 2
fi
data=$1 out=$2 title=${3:-speed-up} xlabel=${4:-nodes}
# gnuplot reads the texts inside double quotes: escape backslashes and quotes.
quote() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }
title=$(quote "$title") xlabel=$(quote "$xlabel") out_q=$(quote "$out")
[ -r "$data" ] || { echo "$0: cannot read $data" >&2; exit 1; }
command -v gnuplot > /dev/null || { echo "$0: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }

table=$(mktemp)
trap 'rm -f "$table"' EXIT
# Validate, average per count, sort by count, add the speed-up column.
LC_ALL=C awk -v file="$data" '
  { sub(/#.*/, "") }
  NF == 0 { next }
  NF != 2 || $1 !~ /^[0-9]+$/ || $1 < 1 || $2 !~ /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/ || $2 <= 0 {
    printf "%s:%d: expected \"count seconds\" (count >= 1, seconds > 0), got: %s\n", file, NR, $0 > "/dev/stderr"
    bad = 1; exit 1
  }
  { sum[$1] += $2; n[$1]++ }
  END {
    if (bad) exit 1
    for (c in sum) printf "%d %.6f\n", c, sum[c] / n[c]
  }' "$data" | sort -n -k1,1 | LC_ALL=C awk '
  NR == 1 { base = $1; t0 = $2 }
  { printf "%d %.6f %.4f %.4f\n", $1, $2, t0 / $2, $1 / base }' > "$table"
[ -s "$table" ] || { echo "$0: $data has no measurements" >&2; exit 1; }

max=$(LC_ALL=C awk '{ if ($1 > m) m = $1 } END { print m }' "$table")
ymax=$(LC_ALL=C awk '{ if ($3 > m) m = $3; if ($4 > m) m = $4 } END { printf "%.3f", m * 1.15 }' "$table")
gnuplot <<GNUPLOT
set terminal pngcairo size 720,480 font "sans,11"
set output "$out_q"
set title "$title"
set xlabel "$xlabel"
set ylabel "speed-up (T(first) / T(count))"
set key top left
set grid
set xrange [0.5:$max + 0.5]
set yrange [0:$ymax]
set xtics 1
plot "$table" using 1:4 with lines dashtype 2 linewidth 2 title "ideal", \
     "$table" using 1:3 with linespoints pointtype 7 pointsize 1.5 linewidth 2 title "measured", \
     "$table" using 1:3:(sprintf("%.2f s", \$2)) with labels offset 0,1.2 notitle
GNUPLOT
echo "$0: wrote $out"
echo "# count seconds speed-up ideal"
cat "$table"
