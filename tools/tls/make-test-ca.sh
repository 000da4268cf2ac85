#!/usr/bin/env bash
# Test certificates for the TLS integration tests (never for production):
# a throwaway CA, a server certificate for 127.0.0.1, and a client
# certificate (mutual TLS), all signed by that CA. PEM files in DIR:
#   ca.pem, ca.key           the CA
#   server.pem, server.key   server (subjectAltName IP:127.0.0.1 only: tests use
#                            https://localhost:PORT for a name the certificate lacks)
#   client.pem, client.key   client (CN callscope-test-client)
# Keys are PKCS#8 and unencrypted. .ci/run calls this with target/test-tls.
# Usage: tools/tls/make-test-ca.sh DIR
set -euo pipefail
DIR=${1:?usage: make-test-ca.sh DIR}
mkdir -p "$DIR"
cd "$DIR"
if [ -s ca.pem ] && [ -s server.pem ] && [ -s client.pem ] \
  && openssl x509 -checkend 86400 -noout -in server.pem >/dev/null 2>&1; then
  exit 0 # still valid for a day
fi
q() { "$@" >/dev/null 2>&1 || { echo "error: $*" >&2; "$@"; exit 1; }; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=callscope test CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
leaf() { # name, subject, extensions
  q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" >"$1.ext"
  q openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -out "$1.pem" -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
leaf server "/CN=127.0.0.1" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1"
leaf client "/CN=callscope-test-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
rm -f ca.srl
chmod 600 ./*.key
