#!/usr/bin/env bash
# Makes a throwaway CA and node certificates for the TLS tests in DIR (no key
# is ever committed):
#   ca.crt/key, other-ca.crt/key   two unrelated CAs
#   server, client                 signed by ca, CN and SAN = their name
#   client-other                   CN client, signed by other-ca
#   client-expired                 CN client, signed by ca, already expired
#   mallory                        CN and SAN mallory, signed by ca
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -subj "/CN=$1" -days 2 2>/dev/null
}
cert() { # name cn ca days
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial \
    -out "$1.crt" -days "$4" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca
ca other-ca
cert server server ca 2
cert client client ca 2
cert client-other client other-ca 2
cert client-expired client ca 0
cert mallory mallory ca 2
