#!/bin/sh
# deploy/compose.yaml's one-shot `certs` service: a throwaway CA, semgate's server certificate (names semgate,
# localhost, 127.0.0.1, so both other containers and the host can use sslmode=verify-full) and a client certificate
# for the certificate-only user `reporting` (CN reporting-bot), written to $CERTS_DIR (the `certs` volume).
# Runs once: a volume that already holds them is left alone (docker compose down -v starts afresh).
set -eu
dir=${CERTS_DIR:-/certs}
cd "$dir"
if [ -s tls.crt ]; then echo "certificates already in $dir"; exit 0; fi
# Written to a config file rather than -addext: the same on every OpenSSL version.
cat > ext.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:semgate, DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
openssl req -x509 -new -newkey rsa:2048 -nodes -days 825 -subj "/CN=semgate compose CA" \
  -keyout ca.key -out ca.crt -config ext.cnf -extensions ca 2>/dev/null
issue() {   # issue NAME CN PROFILE
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -extfile ext.cnf -extensions "$3" -out "$1.crt" 2>/dev/null
  rm "$1.csr"
}
issue tls semgate server
issue reporting reporting-bot client
rm -f ext.cnf ca.srl
# semgate runs as uid 10001 and must read its key; the CA key stays root's (nothing in the stack needs it).
chown 10001:10001 tls.key
chmod 0600 ca.key tls.key reporting.key
chmod 0644 ca.crt tls.crt reporting.crt
echo "wrote ca.crt, tls.crt/tls.key (semgate) and reporting.crt/reporting.key (CN reporting-bot) to $dir"
