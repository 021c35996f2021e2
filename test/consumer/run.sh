#!/usr/bin/env bash
# Installs rotina from an existing build tree and builds + runs the consumer
# project against the install tree, proving find_package(rotina) works.
#   test/consumer/run.sh <rotina build dir> <install prefix> <consumer build dir>
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-build/release}"
prefix="${2:-build/install}"
consumer="${3:-build/consumer}"
cd "$root"
rm -rf "$prefix" "$consumer"
cmake --install "$build" --prefix "$prefix"
# Internal headers that no public header includes stay out of the install.
for internal in rotina/detail/goroutine_env.hpp rotina/detail/scheduler.hpp; do
  if [ -e "$prefix/include/$internal" ]; then
    echo "consumer: internal header $internal was installed" >&2
    exit 1
  fi
done
cmake -S test/consumer -B "$consumer" \
      -DCMAKE_PREFIX_PATH="$root/$prefix" -DCMAKE_BUILD_TYPE=Release
cmake --build "$consumer" -j"${JOBS:-2}"
out="$("$consumer/consumer")"
echo "$out"
expected="consumer: rotina 0.1.0, node consumer, 2 * 21 = 42
consumer: goroutine 1*1 + 2*2 + 3*3 = 14"
if [ "$out" != "$expected" ]; then
  echo "consumer: expected '$expected'" >&2
  exit 1
fi
echo "consumer: OK (find_package(rotina) from $prefix)"
