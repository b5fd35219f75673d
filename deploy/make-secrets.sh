#!/usr/bin/env bash
# Creates, once, the files that every replica of the attestation service must share, in
# the formats `ironroot server` reads from its data directory (--data). They go into the
# Secret `ironroot-server-secrets` (README.md, "Secrets and ConfigMaps to create"):
#
#   ca.key             the service CA's private key: ECDSA P-256, PKCS#8, PEM ("PRIVATE KEY")
#   ca.pem             the service CA's certificate, self-signed, made as the service makes
#                      its own (crates/server/src/pki.rs): subject CN=ironroot service CA,
#                      O=ironroot (UTF8String, in that order: the service signs the server's
#                      and the agents' certificates with this name as issuer, and a client
#                      matches issuer to subject byte for byte); basicConstraints critical
#                      CA:TRUE, pathlen:0; keyUsage critical keyCertSign, cRLSign; subject
#                      key identifier the first 20 bytes of SHA-256 of the public key info
#   report-signing.pk8 the trust reports' JWS signing key: ECDSA P-256, PKCS#8 v1, DER
#   tag-signing.pk8    the asset tag CA's signing key: same format
#   broker-master.key  the key broker's master key: 32 random bytes, raw (it seals every
#                      broker key at rest: keys sealed by one replica must open in the others)
#   admin.token        the administrator's bearer token: 64 hex characters, no newline
#
# Usage: deploy/make-secrets.sh DIR    (DIR must not exist, or be empty)
#
# It never overwrites: a new CA would have to be given to every agent (which re-enroll), and
# a new broker master key would leave every sealed broker key unopenable. Only openssl is
# needed. CA_DAYS sets the CA certificate's lifetime (default 3650).
set -euo pipefail

die() { echo "make-secrets: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR   (a new directory for the service's shared secrets)"
dir="$1"
days="${CA_DAYS:-3650}"
case "$days" in '' | *[!0-9]*) die "CA_DAYS must be a number of days, not '$days'" ;; esac
command -v openssl >/dev/null || die "openssl not found"
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
  die "$dir is not empty: refusing to replace existing keys (see the comment at the top)"
fi

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

p256() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve
}

# PEM PKCS#8, as rcgen's KeyPair::serialize_pem writes it.
p256 >"$dir/ca.key"

# `genpkey -outform DER` would write SEC1 (ECPrivateKey), which the service refuses:
# convert to PKCS#8 explicitly.
for f in report-signing.pk8 tag-signing.pk8; do
  p256 | openssl pkcs8 -topk8 -nocrypt -outform DER -out "$dir/$f"
done

ski="$(openssl pkey -in "$dir/ca.key" -pubout -outform DER | openssl dgst -sha256 -r | cut -c1-40)"
cat >"$work/ca.cnf" <<EOF
[req]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
prompt = no
x509_extensions = ca
[dn]
CN = ironroot service CA
O = ironroot
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = $ski
authorityKeyIdentifier = none
EOF
openssl req -new -x509 -sha256 -days "$days" -key "$dir/ca.key" -config "$work/ca.cnf" \
  -out "$dir/ca.pem"

openssl rand -out "$dir/broker-master.key" 32
printf '%s' "$(openssl rand -hex 32)" >"$dir/admin.token"

# Check what was written before anyone copies it into the cluster.
[ "$(openssl pkey -in "$dir/ca.key" -pubout)" = "$(openssl x509 -in "$dir/ca.pem" -noout -pubkey)" ] ||
  die "ca.pem does not hold ca.key's public key"
for f in report-signing.pk8 tag-signing.pk8; do
  openssl asn1parse -inform DER -in "$dir/$f" | grep -q 'OBJECT *:prime256v1' ||
    die "$f is not a PKCS#8 P-256 key"
done
[ "$(wc -c <"$dir/broker-master.key")" -eq 32 ] || die "broker-master.key is not 32 bytes"
[ "$(wc -c <"$dir/admin.token")" -eq 64 ] || die "admin.token is not 64 characters"
chmod 0600 "$dir"/*

echo "made in $dir: $(cd "$dir" && echo *)"
echo "next: the two kubectl commands in deploy/README.md, \"Secrets and ConfigMaps to create\""
