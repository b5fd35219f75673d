#!/usr/bin/env python3
"""Writes fuzz/seeds/tlog_bundle/*: audit bundles (docs/audit.md) as the tlog_bundle target
reads them, checkpoint NUL entries.jsonl NUL proofs.jsonl NUL entries.csv, signed with
golang.org/x/mod/sumdb/note's example key (PeterNeumann). Run from the repository root:
python3 fuzz/examples/tlog_bundle_seed.py (needs python3-cryptography)."""
import base64, datetime, hashlib, json, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
NAME, KEY_ID = "PeterNeumann", bytes.fromhex("c74f20a3")
signer = Ed25519PrivateKey.from_private_bytes(base64.b64decode(SKEY.split("+", 4)[4])[1:])

def sha(b): return hashlib.sha256(b).digest()
def leaf(d): return sha(b"\0" + d)
def node(l, r): return sha(b"\1" + l + r)
def split(n):
    k = 1
    while k * 2 < n: k *= 2
    return k
def mth(h):
    if len(h) == 1: return h[0]
    k = split(len(h)); return node(mth(h[:k]), mth(h[k:]))
def path(m, h):
    if len(h) == 1: return []
    k = split(len(h))
    return path(m, h[:k]) + [mth(h[k:])] if m < k else path(m - k, h[k:]) + [mth(h[:k])]
def canon(v): return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
def short(v): return sha(canon(v).encode()).hex()[:16]
def b64(b): return base64.b64encode(b).decode()

entries = [{"index": i, "at": 1700000000 + i, "kind": "trust.decision", "actor": "service",
            "subject": f"host/h{i}", "body": {"host_id": f"h{i}", "verdict": "trusted"}}
           for i in range(5)]
leaves = [leaf(canon(e).encode()) for e in entries]
text = f"{NAME}\n{len(entries)}\n{b64(mth(leaves))}\n"
sig = signer.sign(text.encode())
note = f"{text}\n\u2014 {NAME} {b64(KEY_ID + sig)}\n"

def bundle(keep):
    lines, proofs = "", ""
    csv = "index,time,kind,actor,subject,body\r\n"
    for i in keep:
        e = entries[i]
        lines += canon(e) + "\n"
        fields = {f: short(e[f]) for f in ["index", "at", "kind", "actor", "subject", "body"]}
        proofs += json.dumps({"index": i, "leaf_hash": b64(leaves[i]),
                              "hashes": [b64(h) for h in path(i, leaves)], "fields": fields},
                             separators=(",", ":")) + "\n"
        t = datetime.datetime.fromtimestamp(e["at"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = canon(e["body"]).replace('"', '""')
        csv += f'{i},{t},{e["kind"]},{e["actor"]},{e["subject"]},"{body}"\r\n'
    return "\0".join([note, lines, proofs, csv]).encode()

open("fuzz/seeds/tlog_bundle/valid-3-of-5.bin", "wb").write(bundle([0, 2, 4]))
open("fuzz/seeds/tlog_bundle/empty.bin", "wb").write(bundle([]))
open("fuzz/seeds/tlog_bundle/tampered-body.bin", "wb").write(
    bundle([1, 3]).replace(b'"host_id":"h3"', b'"host_id":"h9"', 1))
