#!/usr/bin/env bash
# Test of the wordfreq app (ctest app.wordfreq): its output must equal the same
# statistics computed here, at test time, by a shell pipeline over the same
# files (every regular file without '.' in its name in DIR), with 1 and with 4
# mappers.
# Usage: check.sh WORDFREQ CONFIG DIR
set -euo pipefail
export LC_ALL=C
app=$1 config=$2 dir=$3
[ -d "$dir" ] || { echo "check.sh: $dir missing (install the fortunes packages)" >&2; exit 1; }
mapfile -t files < <(find "$dir" -mindepth 1 -maxdepth 1 -type f ! -name '*.*' | sort)
[ ${#files[@]} -gt 0 ] || { echo "check.sh: no files in $dir" >&2; exit 1; }

words=$(mktemp) ranked=$(mktemp)
trap 'rm -f "$words" "$ranked"' EXIT
cat "${files[@]}" | tr -cs 'A-Za-z' '\n' | tr 'A-Z' 'a-z' | grep -v '^$' > "$words"
sort "$words" | uniq -c | sort -k1,1nr -k2,2 > "$ranked" # (head in a pipe: SIGPIPE)
expected=$(
  echo "files: ${#files[@]}, words: $(wc -l < "$words"), distinct: $(wc -l < "$ranked")"
  head -20 "$ranked"
)
for mappers in 1 4; do
  actual=$("$app" --config-file="$config" --mappers=$mappers "$dir")
  if [ "$actual" != "$expected" ]; then
    echo "wordfreq --mappers=$mappers differs from the shell pipeline:" >&2
    diff <(echo "$expected") <(echo "$actual") >&2 || true
    exit 1
  fi
  echo "mappers=$mappers: same as the shell pipeline"
done
echo "$expected"
