"""The electronic seal (T/CECS 2.0.16, 4.3.4-1): what the platform signs is read back by
independent peers — zbarimg from the printed label, the ``base45`` package, ``pycose``
with a key built from the published key list — and any change is refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import subprocess

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import CoseMessage, Sign1Message

from inspecta.ledger import services as ledger
from inspecta.sampling.labels import seal_label_pdf
from inspecta.sampling.seal import (
    PREFIX,
    SealClaims,
    SealReason,
    b45decode,
    b45encode,
    seal_decode,
    seal_encode,
    seal_keys,
)

pytestmark = pytest.mark.django_db

CST = dt.timezone(dt.timedelta(hours=8))


def claims(**changes) -> SealClaims:
    values = {
        "code": "3601002026SY000123",
        "tags": ("TAG-3601-000123-1", "TAG-3601-000123-2", "TAG-3601-000123-3"),
        "photo_hashes": ("b2192536b698dd59", "c3d0a1f2e4b59687", "0f1e2d3c4b5a6978"),
        "count": 3,
        "dimensions": "150×150×150 mm",
        "sealed_at": dt.datetime(2026, 5, 12, 9, 30, 15, 123456, tzinfo=CST),
        "latitude": "28.682892",
        "longitude": "115.857972",
        "region": "360102",
        "witness_assertion_sha256": hashlib.sha256(b"assertion").hexdigest(),
    }
    values.update(changes)
    return SealClaims(**values)


def okp_key(kid_hex: str) -> OKPKey:
    """The pycose key of the published key ``kid_hex`` (from ``seal_keys()`` only)."""
    [jwk] = [k for k in seal_keys() if k["kid"] == kid_hex]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    x = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return OKPKey(crv=Ed25519, x=x)


def cose_of(text: str) -> bytes:
    assert text.startswith(PREFIX)
    return base45.b45decode(text[len(PREFIX) :])


def pycose_decode(cose: bytes) -> Sign1Message:
    """``CoseMessage.decode``; with cbor2 >= 6 (which decodes a tag's array as a tuple)
    pycose 1.1.0 refuses every tagged message (TimothyClaeys/pycose#141), so then only
    the tag is taken off with cbor2 and pycose reads the four elements itself."""
    try:
        message = CoseMessage.decode(cose)
    except TypeError:
        tagged = cbor2.loads(cose)
        assert tagged.tag == 18
        protected, unprotected, payload, signature = tagged.value
        message = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
    assert isinstance(message, Sign1Message)
    return message


def pycose_verifies(cose: bytes) -> bool:
    message = pycose_decode(cose)
    message.key = okp_key(message.phdr[KID].hex())
    try:
        return message.verify_signature()
    except Exception:  # pycose raises for some malformed signatures instead of returning False
        return False


def rebuilt(text: str, *, payload=None, signature=None) -> str:
    """The seal with its payload or signature replaced (parts taken apart with cbor2)."""
    message = cbor2.loads(cose_of(text))
    protected, unprotected, old_payload, old_signature = message.value
    parts = [protected, dict(unprotected), payload or old_payload, signature or old_signature]
    return PREFIX + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, parts))).decode()


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# -------------------------------------------------------------- the format


def test_the_seal_is_a_tagged_cose_sign1_with_eddsa_and_the_platform_kid():
    text = seal_encode(claims())
    key = ledger.signing_key_active()
    message = cbor2.loads(cose_of(text))
    assert message.tag == 18
    protected, unprotected, payload, signature = message.value
    assert cbor2.loads(protected) == {1: -8, 4: bytes.fromhex(key.key_hash)}
    assert dict(unprotected) == {}
    assert len(signature) == 64
    # the payload is canonical CBOR with the documented short keys
    assert cbor2.dumps(cbor2.loads(payload), canonical=True) == payload
    decoded = cbor2.loads(payload)
    assert decoded == {
        "v": 1,
        "c": "3601002026SY000123",
        "t": ["TAG-3601-000123-1", "TAG-3601-000123-2", "TAG-3601-000123-3"],
        "p": [bytes.fromhex("b2192536b698dd59"), bytes.fromhex("c3d0a1f2e4b59687"), bytes.fromhex("0f1e2d3c4b5a6978")],
        "n": 3,
        "d": "150×150×150 mm",
        "s": int(dt.datetime(2026, 5, 12, 1, 30, 15, tzinfo=dt.UTC).timestamp()),
        "la": "28.682892",
        "lo": "115.857972",
        "r": "360102",
        "w": hashlib.sha256(b"assertion").digest(),
    }
    # the whole text is in the QR alphanumeric alphabet, and deterministic
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert seal_encode(claims()) == text


def test_base45_matches_the_reference_package_and_the_rfc_examples():
    assert b45encode(b"AB") == "BB8"
    assert b45encode(b"Hello!!") == "%69 VD92EX0"
    assert b45encode(b"ietf!") == "QED8WEX0"
    assert b45decode("QED8WEX0") == b"ietf!"
    for data in (b"", b"\x00", b"\xff", b"\xff\xff", bytes(range(256)), cbor2.dumps(list(range(300)))):
        assert b45encode(data) == base45.b45encode(data).decode()
        assert b45decode(base45.b45encode(data).decode()) == data
    for bad in ("GGW", "ZZZ", "A", "abc", "GG"):  # 65536+, > 65535, dangling, lower case, 2 chars > 255
        with pytest.raises(ValueError):
            b45decode(bad)


def test_claims_are_validated_and_kept_to_the_second():
    assert claims().sealed_at == dt.datetime(2026, 5, 12, 1, 30, 15, tzinfo=dt.UTC)
    assert claims(photo_hashes=["B2192536B698DD59"]).photo_hashes == ("b2192536b698dd59",)
    for bad in (
        {"sealed_at": dt.datetime(2026, 5, 12, 9, 30)},  # naive
        {"photo_hashes": ("b2192536b698dd5",)},
        {"photo_hashes": "b2192536b698dd59"},
        {"count": -1},
        {"count": True},
        {"region": "36010"},
        {"latitude": "91"},
        {"longitude": "1e2"},
        {"witness_assertion_sha256": "00"},
        {"code": ""},
    ):
        with pytest.raises(ValueError):
            claims(**bad)


# --------------------------------------------------- the independent peers


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="zbar-tools/poppler not installed"
)
def test_printed_seal_scans_and_verifies_with_pycose(tmp_path):
    original = claims()
    text = seal_encode(original)
    assert len(text) > 350  # a realistic seal, not a toy
    pdf = seal_label_pdf(
        text, code=original.code, lines=["赣江新区某住宅项目", "3#楼 5层 梁板", "C30 抗压", "2026-05-12"]
    )
    (tmp_path / "seal.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(tmp_path / "seal.pdf"), str(tmp_path / "seal")], check=True)
    [png] = sorted(tmp_path.glob("seal*.png"))
    scanned = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
    assert scanned.stdout.rstrip("\n") == text

    cose = cose_of(scanned.stdout.rstrip("\n"))
    message = pycose_decode(cose)
    assert message.phdr[Algorithm].identifier == -8
    message.key = okp_key(message.phdr[KID].hex())
    assert message.verify_signature()
    payload = cbor2.loads(message.payload)
    assert payload["c"] == original.code and tuple(payload["t"]) == original.tags
    assert tuple(p.hex() for p in payload["p"]) == original.photo_hashes
    assert dt.datetime.fromtimestamp(payload["s"], dt.UTC) == original.sealed_at

    check = seal_decode(scanned.stdout)
    assert check.valid and check.reason is None and check.claims == original
    assert check.kid == ledger.signing_key_active().key_hash and check.key_active is True
    assert check.error() is None


def test_a_seal_pycose_signs_with_the_platform_key_is_accepted():
    """Interoperability the other way: our decoder reads what the reference library writes."""
    key = ledger.signing_key_active()
    private = ledger.signer_for(key).private_key
    message = Sign1Message(
        phdr={Algorithm: -8, KID: bytes.fromhex(key.key_hash)},
        payload=cbor2.dumps(claims().to_cbor_map(), canonical=True),
    )
    message.key = OKPKey(
        crv=Ed25519, d=private, x=Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    )
    text = PREFIX + base45.b45encode(message.encode()).decode()
    check = seal_decode(text)
    assert check.valid, check.reason
    assert check.claims == claims()


@pytest.mark.parametrize("part", ["signature", "payload"])
def test_a_changed_byte_fails_pycose_and_the_decoder(part):
    text = seal_encode(claims())
    _, _, payload, signature = cbor2.loads(cose_of(text)).value
    assert pycose_verifies(cose_of(text))
    for index in (0, 17, -1):
        if part == "signature":
            changed = rebuilt(text, signature=flip(signature, index % 64))
        else:
            changed = rebuilt(text, payload=flip(payload, index % len(payload)))
        assert not pycose_verifies(cose_of(changed))
        check = seal_decode(changed)
        assert not check.valid
        assert check.reason == SealReason.SIGNATURE == "seal_signature"
        assert check.message == "电子封志签名验证不通过，内容可能被改动过。"


def test_an_unknown_kid_and_a_foreign_key_are_refused():
    text = seal_encode(claims())
    _, _, payload, signature = cbor2.loads(cose_of(text)).value
    # the same signature under a kid the platform never had
    other = cbor2.dumps({1: -8, 4: b"\x00\x00\x00\x00"}, canonical=True)
    changed = PREFIX + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, [other, {}, payload, signature]))).decode()
    check = seal_decode(changed)
    assert (check.valid, check.reason) == (False, SealReason.UNKNOWN_KEY)
    assert check.kid == "00000000" and check.claims == claims()  # readable, but unverified

    # a seal signed with someone else's key that claims the platform's kid
    key = ledger.signing_key_active()
    forged = Sign1Message(phdr={Algorithm: -8, KID: bytes.fromhex(key.key_hash)}, payload=payload)
    forged.key = OKPKey.generate_key(crv=Ed25519)
    check = seal_decode(PREFIX + base45.b45encode(forged.encode()).decode())
    assert (check.valid, check.reason) == (False, SealReason.SIGNATURE)


def test_garbage_wrong_prefix_and_wrong_structure_are_told_apart():
    text = seal_encode(claims())
    body = text[len(PREFIX) :]
    cases = {
        "HC1:" + body: SealReason.PREFIX,
        body: SealReason.PREFIX,
        "https://example.com/v/ABC": SealReason.PREFIX,
        "": SealReason.PREFIX,
        PREFIX: SealReason.ENCODING,
        PREFIX + "hello, world": SealReason.ENCODING,  # lower case is not base45
        PREFIX + body[:-1] + "::": SealReason.ENCODING,
        PREFIX + body + "A": SealReason.ENCODING,  # a dangling symbol
        PREFIX + base45.b45encode(b"not cbor at all \xff").decode(): SealReason.FORMAT,
        PREFIX + base45.b45encode(cbor2.dumps([1, 2, 3])).decode(): SealReason.FORMAT,
        PREFIX + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b""]))).decode(): SealReason.FORMAT,
        PREFIX + base45.b45encode(cose_of(text) + b"\x00").decode(): SealReason.FORMAT,  # trailing bytes
    }
    for value, reason in cases.items():
        check = seal_decode(value)
        assert (check.valid, check.reason) == (False, reason), value
        assert check.message == str(reason.label) and check.message.endswith("。")
        error = check.error()
        assert (error.code, error.status, error.message) == (reason.value, 422, check.message)
    # another algorithm in the protected header
    _, _, payload, signature = cbor2.loads(cose_of(text)).value
    es256 = cbor2.dumps({1: -7, 4: bytes.fromhex(ledger.signing_key_active().key_hash)}, canonical=True)
    changed = PREFIX + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, [es256, {}, payload, signature]))).decode()
    assert seal_decode(changed).reason == SealReason.FORMAT


def test_a_signed_payload_that_is_not_a_seal_is_a_format_error():
    key = ledger.signing_key_active()
    private = ledger.signer_for(key).private_key
    message = Sign1Message(phdr={Algorithm: -8, KID: bytes.fromhex(key.key_hash)}, payload=cbor2.dumps({"c": "x"}))
    message.key = OKPKey(
        crv=Ed25519, d=private, x=Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    )
    check = seal_decode(PREFIX + base45.b45encode(message.encode()).decode())
    assert (check.valid, check.reason, check.claims) == (False, SealReason.FORMAT, None)


# ------------------------------------------------------------------- keys


def test_seals_stay_valid_after_key_rotation_and_keys_are_published():
    old_key = ledger.signing_key_active()
    before = seal_encode(claims())
    new_key = ledger.signing_key_rotate()
    after = seal_encode(claims(count=6))
    assert before != after

    keys = seal_keys()
    assert [(k["kid"], k["active"]) for k in keys] == [(old_key.key_hash, False), (new_key.key_hash, True)]
    for k in keys:
        assert set(k) == {"kid", "kty", "crv", "alg", "x", "active"}
        assert (k["kty"], k["crv"], k["alg"]) == ("OKP", "Ed25519", "EdDSA")
        assert "=" not in k["x"] and len(base64.urlsafe_b64decode(k["x"] + "=")) == 32

    old, new = seal_decode(before), seal_decode(after)
    assert old.valid and old.kid == old_key.key_hash and old.key_active is False
    assert new.valid and new.kid == new_key.key_hash and new.key_active is True
    assert pycose_verifies(cose_of(before)) and pycose_verifies(cose_of(after))


def test_the_documented_python_check_verifies_a_seal():
    """docs/integration/seals.md shows integrators how to check a seal: the recipe runs."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "integration" / "seals.md").read_text()
    recipe = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(recipe, namespace)  # noqa: S102 - our own documentation
    payload = namespace["check"](seal_encode(claims()), seal_keys())
    assert payload == claims().to_cbor_map()
    with pytest.raises(AssertionError):
        namespace["check"](rebuilt(seal_encode(claims()), payload=cbor2.dumps({"c": "forged"})), seal_keys())
