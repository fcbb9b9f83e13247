"""RFC 3161 timestamps of checkpoints from a configured TSA (T/CECS 4.1.2, 7.2.3).

A timestamp from an independent time-stamping authority proves that a tree head
existed no later than the TSA's time, independently of the node's own clock and keys.
``INSPECTA_LOG_TSA_URL`` names the TSA (empty: off). What is stamped is the SHA-256 of
the checkpoint *body* — the note text ``origin\\nsize\\nbase64(root)\\n`` that the
signature lines sign — so the token binds the tree head itself, is the same for every
checkpoint of one size (whichever key signed it, before or after a key rotation) and
can be checked by anyone holding that checkpoint, e.g.::

    head -n 3 checkpoint.txt > body.txt
    curl -o ts.tsr https://node.example/api/v1/log/checkpoints/4211/timestamp
    openssl ts -verify -data body.txt -in ts.tsr -CAfile tsa-ca.pem

The requests go through pyHanko's RFC 3161 client (``HTTPTimeStamper``), with a nonce
and ``certReq``; the token kept is the DER ``TimeStampToken`` (CMS ``ContentInfo``).
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
from dataclasses import dataclass

from asn1crypto import cms, tsp, x509

__all__ = [
    "TimestampError",
    "TokenInfo",
    "check_token",
    "request_token",
    "timestamp_reply",
]


class TimestampError(Exception):
    """The TSA could not be reached, refused, or answered something unusable."""


@dataclass(frozen=True)
class TokenInfo:
    """What the explorer and the self-audit show of a token."""

    tsa_name: str
    gen_time: datetime.datetime
    serial_number: int
    hash_algorithm: str
    imprint: bytes


async def request_token(url: str, digest: bytes, *, timeout: float = 10.0) -> bytes:
    """Ask the TSA at ``url`` for a timestamp of the SHA-256 ``digest``; return the DER token.

    :class:`TimestampError` on any network, protocol or refusal error.
    """
    from pyhanko.sign.timestamps import HTTPTimeStamper

    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"TSA URL is not http(s): {url}")
    stamper = HTTPTimeStamper(url, timeout=max(1, int(timeout)))
    try:
        token = await asyncio.wait_for(stamper.async_timestamp(digest, "sha256"), timeout=timeout + 5)
    except Exception as exc:
        raise TimestampError(_describe(exc)) from exc
    return bytes(token.dump())


def _describe(exc: BaseException) -> str:
    """``Type: message (cause)``, e.g. the HTTP status behind pyHanko's generic error."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) not in text:
        text += f" ({type(cause).__name__}: {cause})"
    return text


def _signer_subject(signed_data: cms.SignedData) -> str:
    signer_infos = signed_data["signer_infos"]
    if not len(signer_infos):
        return ""
    sid = signer_infos[0]["sid"]
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert: x509.Certificate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            if cert.serial_number == sid.chosen["serial_number"].native and cert.issuer == sid.chosen["issuer"]:
                return str(cert.subject.human_friendly)
        elif cert.key_identifier == sid.chosen.native:
            return str(cert.subject.human_friendly)
    return ""


def check_token(token: bytes, imprint: bytes) -> TokenInfo:
    """Parse a DER ``TimeStampToken`` and check that it stamps SHA-256 ``imprint``.

    Checks the structure (CMS SignedData carrying a ``TSTInfo``), the message imprint
    (algorithm SHA-256, digest equal to ``imprint``) and that the signed
    ``message-digest`` attribute is the digest of the ``TSTInfo`` actually carried.
    Raises :class:`TimestampError` otherwise. The TSA's signature and certificate
    chain are verified by the relying party against the TSA it trusts
    (``openssl ts -verify ... -CAfile``).
    """
    try:
        info = cms.ContentInfo.load(bytes(token))
        if info["content_type"].native != "signed_data":
            raise TimestampError("the token is not CMS SignedData")
        signed_data: cms.SignedData = info["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampError("the token does not carry a TSTInfo")
        tst_info: tsp.TSTInfo = encap["content"].parsed
        message_imprint = tst_info["message_imprint"]
        algorithm = message_imprint["hash_algorithm"]["algorithm"].native
        hashed = bytes(message_imprint["hashed_message"].native)
        gen_time = tst_info["gen_time"].native
        serial = int(tst_info["serial_number"].native)
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise TimestampError("the token must have exactly one signer")
        signer = signer_infos[0]
        digest_algorithm = signer["digest_algorithm"]["algorithm"].native
        signed_digest = None
        for attr in signer["signed_attrs"] or []:
            if attr["type"].native == "message_digest":
                signed_digest = bytes(attr["values"][0].native)
        content = bytes(encap["content"].contents)
        tsa_field = tst_info["tsa"]
        tsa_name = _signer_subject(signed_data) or (str(tsa_field.native) if tsa_field.native else "")
    except TimestampError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise TimestampError(f"malformed timestamp token: {exc}") from exc
    if algorithm != "sha256":
        raise TimestampError(f"the token stamps a {algorithm} digest, not SHA-256")
    if not hmac.compare_digest(hashed, bytes(imprint)):
        raise TimestampError("the token's message imprint is not the SHA-256 of this checkpoint")
    if signed_digest is None or digest_algorithm not in hashlib.algorithms_available:
        raise TimestampError("the token's signer has no usable message-digest attribute")
    if not hmac.compare_digest(hashlib.new(digest_algorithm, content).digest(), signed_digest):
        raise TimestampError("the token's signed message digest does not match its TSTInfo")
    if not isinstance(gen_time, datetime.datetime):
        raise TimestampError("the token has no generation time")
    return TokenInfo(tsa_name, gen_time, serial, algorithm, hashed)


def timestamp_reply(token: bytes) -> bytes:
    """The DER ``TimeStampResp`` (status granted) carrying ``token`` (RFC 3161 §2.4.2),
    what ``application/timestamp-reply`` means and ``openssl ts -verify -in`` reads."""
    response = tsp.TimeStampResp(
        {"status": {"status": "granted"}, "time_stamp_token": cms.ContentInfo.load(bytes(token))}
    )
    return bytes(response.dump())
