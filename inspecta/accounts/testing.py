"""Scenario builders of accounts for tests outside this app (docs/development/adding-models.md 7).

:class:`SoftAuthenticator` is a phone's passkey in software: an EC P-256 key that
answers the options of ``navigator.credentials.create`` (attestation "none") and
``navigator.credentials.get`` the way a platform authenticator does, so that server
tests of enrolment and confirmation need no browser. Its knobs make it misbehave on
purpose: no user verification, a tampered signature, a counter that goes backwards.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

__all__ = ["SoftAuthenticator"]

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40


def _b64(value: bytes) -> str:
    return bytes_to_base64url(value)


class SoftAuthenticator:
    """One passkey on one (software) phone.

    ``create(options_json)`` returns the registration credential JSON (a dict) and keeps
    the new credential; ``get(options_json)`` returns an assertion JSON signed with it,
    its counter advanced by one. Knobs, settable at any time:

    - ``user_verified``: set the UV flag (the phone's fingerprint or face check passed);
    - ``tamper_signature``: sign other bytes than the ones WebAuthn signs;
    - ``sign_count``: the counter of the next assertion is this plus one (set it lower to
      play a copied key); ``counting=False`` keeps it at 0 like many synced passkeys;
    - ``origin``: the page origin written into clientDataJSON (default: the first of
      ``INSPECTA_WEBAUTHN_ORIGINS``).
    """

    def __init__(
        self,
        *,
        origin: str | None = None,
        user_verified: bool = True,
        tamper_signature: bool = False,
        counting: bool = True,
    ) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.origin = origin or str(settings.INSPECTA_WEBAUTHN_ORIGINS[0])
        self.user_verified = user_verified
        self.tamper_signature = tamper_signature
        self.counting = counting
        self.sign_count = 0
        self.rp_id = ""
        self.user_handle = b""

    # --- pieces -------------------------------------------------------------------
    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _flags(self, *extra: int) -> int:
        flags = FLAG_UP | (FLAG_UV if self.user_verified else 0)
        for flag in extra:
            flags |= flag
        return flags

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def _sign(self, data: bytes) -> bytes:
        if self.tamper_signature:
            data += b"tampered"
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    # --- the two ceremonies ---------------------------------------------------------
    def create(self, options_json: str | dict[str, Any]) -> dict[str, Any]:
        """Answer ``navigator.credentials.create`` options: a new credential."""

        options = json.loads(options_json) if isinstance(options_json, str) else options_json
        self.rp_id = options["rp"]["id"]
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"])
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([self._flags(FLAG_AT)])
            + self.sign_count.to_bytes(4, "big")
            + bytes(16)  # aaguid: none
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self.cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": _b64(self.credential_id),
            "rawId": _b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": _b64(client_data),
                "attestationObject": _b64(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(self, options_json: str | dict[str, Any]) -> dict[str, Any]:
        """Answer ``navigator.credentials.get`` options: an assertion over its challenge."""

        options = json.loads(options_json) if isinstance(options_json, str) else options_json
        rp_id = options.get("rpId") or self.rp_id
        if self.counting:
            self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags()])
            + (self.sign_count if self.counting else 0).to_bytes(4, "big")
        )
        signature = self._sign(auth_data + hashlib.sha256(client_data).digest())
        return {
            "id": _b64(self.credential_id),
            "rawId": _b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": _b64(client_data),
                "authenticatorData": _b64(auth_data),
                "signature": _b64(signature),
                "userHandle": _b64(self.user_handle) if self.user_handle else None,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
