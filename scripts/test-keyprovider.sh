#!/bin/sh
# TEST ONLY, INSECURE: an ocicrypt key provider (cmd transport) that "wraps" by identity, so the
# layer key sits in the image annotation in the clear. For exercising skopeo's key-provider path.
#
# keywrap:   {"keywrapresults":{"annotation": <the request's keywrapparams.optsdata>}}
# keyunwrap: {"keyunwrapresults":{"optsdata": <the request's keyunwrapparams.annotation>}}
# If TESTKP_CAPTURE_DIR is set (pass it into the chroot with IRONROOT_CHROOT_PASSENV), each
# request is saved there as OP-N.json. Needs jq (present in the trixie rootfs).
# OCICRYPT_KEYPROVIDER_CONFIG: {"key-providers":{"testkp":{"cmd":{"path":"<this file>","args":[]}}}}
set -eu
if [ -n "${TESTKP_CAPTURE_DIR:-}" ]; then
  tmp=$TESTKP_CAPTURE_DIR/.req-$$
  cat >"$tmp"  # the exact bytes skopeo sent
  req=$(cat "$tmp")
  mv "$tmp" "$TESTKP_CAPTURE_DIR/$(printf '%s' "$req" | jq -r .op)-$(date +%s%N)-$$.json"
else
  req=$(cat)
fi
op=$(printf '%s' "$req" | jq -r .op)
case "$op" in
  keywrap) printf '%s' "$req" | jq -c '{keywrapresults: {annotation: .keywrapparams.optsdata}}' ;;
  keyunwrap) printf '%s' "$req" | jq -c '{keyunwrapresults: {optsdata: .keyunwrapparams.annotation}}' ;;
  *) echo "testkp: unknown op $op" >&2; exit 1 ;;
esac
