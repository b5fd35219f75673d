#!/usr/bin/env python3
"""Writes fuzz/seeds/tlog_witness_state/*: witness state files (docs/audit.md, "The witness")
whose checkpoint (origin PeterNeumann) is signed with golang.org/x/mod/sumdb/note's example
key, and a witness key string. An independent writer of the format: the Rust unit test
`witness::state` reads the same shape. Run from the repository root:
python3 fuzz/examples/tlog_witness_state_seed.py (needs python3-cryptography)."""
import base64, hashlib, json, os
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
NAME, KEY_ID = "PeterNeumann", bytes.fromhex("c74f20a3")
signer = Ed25519PrivateKey.from_private_bytes(base64.b64decode(SKEY.split("+", 4)[4])[1:])
OUT = "fuzz/seeds/tlog_witness_state"

def note(size, root):
    text = f"{NAME}\n{size}\n{base64.b64encode(root).decode()}\n"
    sig = base64.b64encode(KEY_ID + signer.sign(text.encode())).decode()
    return text + "\n\u2014 " + NAME + " " + sig + "\n"

def state(size, root):
    return json.dumps({"version": 1, "origin": NAME, "size": size,
                       "root": base64.b64encode(root).decode(), "note": note(size, root)},
                      indent=2, ensure_ascii=False) + "\n"

os.makedirs(OUT, exist_ok=True)
empty = hashlib.sha256(b"").digest()
root7 = hashlib.sha256(b"seven").digest()
with open(f"{OUT}/empty-log.json", "w") as f: f.write(state(0, empty))
with open(f"{OUT}/size-7.json", "w") as f: f.write(state(7, root7))
with open(f"{OUT}/edited-size.json", "w") as f:
    f.write(state(7, root7).replace('"size": 7', '"size": 8'))
# A witness key string: PRIVATE+KEY+<name>+<id>+base64(0x04 || seed).
seed = bytes(range(32))
pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
wname = "witness.example.com/w1"
kid = hashlib.sha256(wname.encode() + b"\n\x04" + pub).digest()[:4]
blob = base64.b64encode(bytes([4]) + seed).decode()
with open(f"{OUT}/witness-key.txt", "w") as f:
    f.write(f"PRIVATE+KEY+{wname}+{kid.hex()}+{blob}\n")
