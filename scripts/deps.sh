#!/usr/bin/env bash
# Installs the Debian 12 packages rotina needs, if any are missing.
# As root it runs apt-get (apt-get update once, only when something is
# missing); otherwise it prints the exact command to run and fails.
set -euo pipefail

packages=(cmake make g++ clang libclang-rt-14-dev libcaf-dev
          libboost-test-dev libbenchmark-dev ccache
          libpng-dev libssl-dev openssl gnuplot-nox fortunes fortunes-min
          util-linux python3)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
       | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all packages present (${packages[*]})"
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  $cmd
else
  echo "deps: missing Debian packages: ${missing[*]}" >&2
  echo "deps: run this as root, then retry:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
