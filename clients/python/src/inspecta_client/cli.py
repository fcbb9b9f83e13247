"""``inspecta-client``: ping, upload, call and keygen from the command line.

Credentials from options or the environment: ``INSPECTA_URL``, ``INSPECTA_KEY_ID`` and
``INSPECTA_SECRET`` (HMAC) or ``INSPECTA_PRIVATE_KEY`` (path to an Ed25519 PEM).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .client import ApiError, InspectaClient
from .signing import Signer, load_private_key


def _client(args: argparse.Namespace) -> InspectaClient:
    url = args.url or os.environ.get("INSPECTA_URL")
    key_id = args.key_id or os.environ.get("INSPECTA_KEY_ID")
    secret = args.secret or os.environ.get("INSPECTA_SECRET")
    private = args.private_key or os.environ.get("INSPECTA_PRIVATE_KEY")
    if not url or not key_id or not (secret or private):
        raise SystemExit("need --url, --key-id and --secret or --private-key (or INSPECTA_* variables)")
    signer = Signer(key_id, private_key=load_private_key(private)) if private else Signer(key_id, secret=secret)
    return InspectaClient(url, signer, retries=args.retries)


def _print(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inspecta-client", description=__doc__)
    parser.add_argument("--url", help="platform base URL, e.g. https://platform.example.cn")
    parser.add_argument("--key-id", help="keyid issued on approval")
    parser.add_argument("--secret", help="HMAC secret (shown once on approval)")
    parser.add_argument("--private-key", help="Ed25519 private key PEM file")
    parser.add_argument("--retries", type=int, default=5, help="retries on network errors, 5xx and 429")
    sub = parser.add_subparsers(dest="command", required=True)
    ping = sub.add_parser("ping", help="signed echo: checks your signing")
    ping.add_argument("--data", help="JSON to echo (POST); without it a GET")
    upload = sub.add_parser("upload", help="upload a file (tus, resumable)")
    upload.add_argument("file")
    upload.add_argument("--chunk-size", type=int, default=4 * 1024 * 1024)
    upload.add_argument("--no-progress", action="store_true")
    call = sub.add_parser("call", help="any signed call: METHOD PATH [--json BODY]")
    call.add_argument("method")
    call.add_argument("path")
    call.add_argument("--json", dest="body")
    call.add_argument("--idempotency-key")
    keygen = sub.add_parser("keygen", help="make an Ed25519 key pair; prints the public key to register")
    keygen.add_argument("output", help="file to write the private key PEM to")
    args = parser.parse_args(argv)

    if args.command == "keygen":
        key = Ed25519PrivateKey.generate()
        out = Path(args.output)
        out.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        out.chmod(0o600)
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        print(public.decode("ascii"), end="")
        return 0
    client = _client(args)
    try:
        if args.command == "ping":
            _print(client.ping(json.loads(args.data) if args.data else None))
        elif args.command == "upload":
            _print(client.upload(args.file, chunk_size=args.chunk_size, progress=not args.no_progress))
        elif args.command == "call":
            body = json.loads(args.body) if args.body else None
            _print(client.call(args.method, args.path, json_body=body, idempotency_key=args.idempotency_key))
    except ApiError as exc:
        _print({"error": {"status": exc.status, "code": exc.code, "message": exc.message, "details": exc.details}})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
