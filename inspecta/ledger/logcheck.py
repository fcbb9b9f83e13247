#!/usr/bin/env python3
"""Offline verifier of an Inspecta transparency log (CONTRACT §5).

The tool an auditor or a city node runs. It needs only the node's public endpoints
and its verifier key, and only the Python standard library and ``cryptography``: it
imports nothing else from Inspecta, so this one file can be copied and run alone::

    python logcheck.py --url https://node.example --key 'name+1234abcd+AQ...' \\
        --state last-checkpoint.txt --index 0 --index 41

It verifies:

* the checkpoint from ``GET /api/v1/log/checkpoint`` (C2SP signed note, Ed25519,
  key ID = first 4 bytes of SHA-256(name || 0x0A || 0x01 || key));
* for each ``--index``: the entry from ``GET /api/v1/log/entries/{i}`` is included in
  that checkpoint (RFC 9162 §2.1.3.2, proof from ``/proof/inclusion``);
* with ``--state FILE``: consistency of the checkpoint saved there with the new one
  (RFC 9162 §2.1.4.2, proof from ``/proof/consistency``); a different root for the
  same size is a fork. The new checkpoint is then saved to FILE;
* with ``--sm2-key``: the optional second signature line, SM2 with SM3 (GB/T 39786),
  by that key (type ``0xff`` followed by the DER OID 1.2.156.10197.1.501; needs
  ``tongsuopy``; distinguishing ID ``1234567812345678``).

Exit status: 0 all verified, 1 a verification failed, 2 usage or network error.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "CheckError",
    "FetchError",
    "LogClient",
    "SM2VerifierKey",
    "SignedCheckpoint",
    "VerifierKey",
    "main",
    "open_signed_checkpoint",
    "verify_consistency",
    "verify_inclusion",
]

Fetcher = Callable[[str], bytes]


class CheckError(Exception):
    """A verification failed: the log is not what it claims to be."""


class FetchError(Exception):
    """The node could not be reached or answered an error."""


# ----------------------------------------------------------------------- RFC 9162


def _leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raise :class:`CheckError` unless the proof leads to ``root``."""
    if not 0 <= index < size:
        raise CheckError(f"index {index} not in a tree of size {size}")
    if len(leaf_hash) != 32 or len(root) != 32 or any(len(p) != 32 for p in proof):
        raise CheckError("hashes must be 32 bytes")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise CheckError("inclusion proof too long")
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise CheckError("inclusion proof too short")
    if not hmac.compare_digest(r, root):
        raise CheckError("inclusion proof does not lead to the checkpoint root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 §2.1.4.2; raise :class:`CheckError` unless tree 1 is a prefix of tree 2."""
    if not 0 < size1 <= size2:
        raise CheckError(f"cannot check consistency from {size1} to {size2}")
    if size1 == size2:
        # Only the roots are compared (as Go's tlog.CheckTree does; see the vectors).
        if proof:
            raise CheckError("consistency proof between equal sizes must be empty")
        if not hmac.compare_digest(root1, root2):
            raise CheckError("fork: two different roots for the same tree size")
        return
    if any(len(p) != 32 for p in proof) or len(root1) != 32 or len(root2) != 32:
        raise CheckError("hashes must be 32 bytes")
    if not proof:
        raise CheckError("empty consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise CheckError("consistency proof too long")
        if fn % 2 == 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise CheckError("consistency proof too short")
    if not hmac.compare_digest(fr, root1):
        raise CheckError("consistency proof does not lead to the old root")
    if not hmac.compare_digest(sr, root2):
        raise CheckError("consistency proof does not lead to the new root")


# ------------------------------------------------------------- C2SP signed notes


def _b64(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckError("invalid base64") from exc
    return raw


@dataclass(frozen=True)
class VerifierKey:
    """``<name>+<hex key ID>+<base64(0x01 || Ed25519 public key)>``."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # the base64 key may itself contain "+"
        if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
            raise CheckError("malformed verifier key")
        name, hex_id, b64 = parts
        key = _b64(b64)
        if len(key) != 33 or key[0] != 0x01:
            raise CheckError("verifier key is not an Ed25519 signed-note key")
        key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
        if key_id.hex() != hex_id.lower():
            raise CheckError("verifier key ID does not match the key")
        return cls(name, key_id, key[1:])


SM2_TYPE_PREFIX = bytes.fromhex("ff06082a811ccf55018375")
"""C2SP type ``0xff`` + DER OID 1.2.156.10197.1.501 (SM2-with-SM3), see ``sm2.py``."""


@dataclass(frozen=True)
class SM2VerifierKey:
    """``<name>+<hex key ID>+<base64(0xff || OID DER || 04 || x || y)>`` (GB/T 39786)."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> SM2VerifierKey:
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
            raise CheckError("malformed SM2 verifier key")
        name, hex_id, b64 = parts
        key = _b64(b64)
        if not key.startswith(SM2_TYPE_PREFIX) or len(key) != len(SM2_TYPE_PREFIX) + 65:
            raise CheckError("verifier key is not an SM2-SM3 signed-note key")
        key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
        if key_id.hex() != hex_id.lower():
            raise CheckError("SM2 verifier key ID does not match the key")
        return cls(name, key_id, key[len(SM2_TYPE_PREFIX) :])


def verify_sm2_line(note: str, key: SM2VerifierKey) -> None:
    """Verify the SM2-with-SM3 signature line of ``key`` on ``note`` (GB/T 39786)."""
    try:
        from tongsuopy.crypto import hashes as sm_hashes
        from tongsuopy.crypto.asymciphers import ec as sm_ec
    except ImportError:
        raise CheckError("--sm2-key needs the tongsuopy package (pip install tongsuopy)") from None
    text, signatures = _signatures_by(note, key.name, key.key_id)
    for signature in signatures:
        try:
            public = sm_ec.EllipticCurvePublicKey.from_encoded_point(sm_ec.SM2(), key.public_key)
            public.verify(signature, text.encode("utf-8"), sm_ec.ECDSA(sm_hashes.SM3()))
        except Exception:
            raise CheckError("SM2 checkpoint signature is invalid") from None
        return
    raise CheckError(f"checkpoint carries no SM2 signature by {key.name}")


def _signatures_by(note: str, name: str, key_id: bytes) -> tuple[str, list[bytes]]:
    """The text of a signed note and the signatures on it by the key ``name``/``key_id``."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckError("not a signed note")
    signatures = []
    for line in note[split + 2 : -1].split("\n"):
        if not line.startswith("\u2014 "):
            raise CheckError("malformed signature line")
        signer, _, b64 = line[2:].partition(" ")
        raw = _b64(b64)
        if signer == name and raw[:4] == key_id:
            signatures.append(raw[4:])
    return note[: split + 1], signatures


@dataclass(frozen=True)
class SignedCheckpoint:
    origin: str
    size: int
    root: bytes
    text: str
    note: str


def open_signed_checkpoint(note: str, key: VerifierKey) -> SignedCheckpoint:
    """Verify a C2SP signed checkpoint with ``key`` and parse its body."""
    text, signatures = _signatures_by(note, key.name, key.key_id)
    if not signatures:
        raise CheckError(f"checkpoint carries no signature by {key.name}")
    for signature in signatures:
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            raise CheckError("checkpoint signature is invalid") from None
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[1].isdigit() or (lines[1] != "0" and lines[1].startswith("0")):
        raise CheckError("malformed checkpoint body")
    root = _b64(lines[2])
    if len(root) != 32:
        raise CheckError("checkpoint root is not 32 bytes")
    if lines[0] != key.name:
        raise CheckError(f"checkpoint origin {lines[0]!r} is not the key name {key.name!r}")
    return SignedCheckpoint(lines[0], int(lines[1]), root, text, note)


# ----------------------------------------------------------------------- the node


def http_fetch(url: str) -> bytes:
    """GET ``url``; :class:`FetchError` with the server's error message on failure."""
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"not an http(s) URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - scheme checked above
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = json.loads(detail)["error"]["message"]
        raise FetchError(f"{url}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {exc}") from None


class LogClient:
    """Reads a node's public log endpoints (CONTRACT §5)."""

    def __init__(self, base_url: str, fetch: Fetcher = http_fetch) -> None:
        self.base = base_url.rstrip("/") + "/api/v1/log"
        self.fetch = fetch

    def _json(self, path: str, **params: int) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            return json.loads(self.fetch(self.base + path + query))
        except ValueError as exc:
            raise FetchError(f"{path}: not JSON") from exc

    def checkpoint(self) -> str:
        return self.fetch(self.base + "/checkpoint").decode("utf-8")

    def key(self) -> str:
        return self.fetch(self.base + "/key").decode("utf-8").strip()

    def entry(self, index: int) -> dict[str, Any]:
        data: dict[str, Any] = self._json(f"/entries/{index}")
        return data

    def inclusion(self, index: int, size: int) -> list[bytes]:
        data = self._json("/proof/inclusion", index=index, size=size)
        if data.get("index") != index or data.get("size") != size:
            raise CheckError("inclusion proof answers a different question")
        return [_b64(h) for h in data["hashes"]]

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        data = self._json("/proof/consistency", **{"from": size1, "size": size2})
        if data.get("from") != size1 or data.get("size") != size2:
            raise CheckError("consistency proof answers a different question")
        return [_b64(h) for h in data["hashes"]]


def check_entry(client: LogClient, checkpoint: SignedCheckpoint, index: int) -> dict[str, Any]:
    """Fetch entry ``index`` and verify it is included in ``checkpoint``; return the entry."""
    data = client.entry(index)
    raw = _b64(data["entry"])
    leaf = _leaf_hash(raw)
    if data.get("index") != index:
        raise CheckError(f"entry {index}: the node answered entry {data.get('index')}")
    if "leaf_hash" in data and _b64(data["leaf_hash"]) != leaf:
        raise CheckError(f"entry {index}: leaf hash does not match the entry bytes")
    verify_inclusion(leaf, index, checkpoint.size, client.inclusion(index, checkpoint.size), checkpoint.root)
    return data


def check_consistency(client: LogClient, old: SignedCheckpoint, new: SignedCheckpoint) -> None:
    """Verify that ``old`` and ``new`` describe one append-only log (either order)."""
    first, second = (old, new) if old.size <= new.size else (new, old)
    if first.size == 0:
        return
    proof = [] if first.size == second.size else client.consistency(first.size, second.size)
    verify_consistency(first.size, second.size, proof, first.root, second.root)


def main(argv: Sequence[str] | None = None, *, fetch: Fetcher = http_fetch, out: Any = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="logcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="base URL of the node, e.g. https://node.example")
    parser.add_argument("--key", help="verifier key string, or @FILE holding it (default: trust /api/v1/log/key)")
    parser.add_argument("--state", type=Path, help="saved checkpoint file: check consistency with it, then update it")
    parser.add_argument("--index", type=int, action="append", default=[], help="check inclusion of this entry")
    parser.add_argument(
        "--sm2-key", help="SM2-SM3 verifier key (or @FILE): also verify the second signature line (GB/T 39786)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    client = LogClient(args.url, fetch)
    result: dict[str, Any] = {"url": args.url, "ok": False}
    try:
        if args.key:
            key_text = Path(args.key[1:]).read_text() if args.key.startswith("@") else args.key
        else:
            key_text = client.key()
            result["warning"] = "verifier key fetched from the node itself (trust on first use)"
        key = VerifierKey.parse(key_text)
        checkpoint = open_signed_checkpoint(client.checkpoint(), key)
        result.update(origin=checkpoint.origin, size=checkpoint.size, root=base64.b64encode(checkpoint.root).decode())
        if args.sm2_key:
            sm2_text = Path(args.sm2_key[1:]).read_text() if args.sm2_key.startswith("@") else args.sm2_key
            verify_sm2_line(checkpoint.note, SM2VerifierKey.parse(sm2_text))
            result["sm2"] = True
        if args.state is not None and args.state.exists():
            old = open_signed_checkpoint(args.state.read_text(encoding="utf-8"), key)
            check_consistency(client, old, checkpoint)
            result["consistent_with"] = old.size
        result["entries"] = []
        for index in args.index:
            data = check_entry(client, checkpoint, index)
            result["entries"].append({"index": index, "kind": data.get("kind"), "included": True})
        if args.state is not None:
            args.state.write_text(checkpoint.note, encoding="utf-8")
        result["ok"] = True
        status = 0
    except CheckError as exc:
        result["error"] = str(exc)
        status = 1
    except (FetchError, OSError, KeyError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        status = 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False), file=out)
    elif result["ok"]:
        print(f"OK {result['origin']} size {result['size']} root {result['root']}", file=out)
        if result.get("sm2"):
            print("OK SM2-SM3 signature line verified", file=out)
        if "consistent_with" in result:
            print(f"OK consistent with the saved checkpoint of size {result['consistent_with']}", file=out)
        for e in result["entries"]:
            print(f"OK entry {e['index']} ({e['kind']}) is included", file=out)
        if "warning" in result:
            print(f"NOTE {result['warning']}", file=out)
    else:
        print(f"FAILED {result['error']}", file=out)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
