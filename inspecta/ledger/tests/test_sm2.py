"""The optional SM2-with-SM3 second checkpoint signature line (GB/T 39786; T/CECS 2.0.15,
4.1.2, 7.2.3): signed-note type ``0xff`` + OID, the distinguishing ID checked against
OpenSSL 3 (an independent implementation taking the ID explicitly), keys encrypted at
rest, rotated and published, the self-audit and the offline checker."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from inspecta.ledger import audit, logcheck, services
from inspecta.ledger.choices import FindingKind, KeyAlgorithm
from inspecta.ledger.keys import open_private_key
from inspecta.ledger.models import Checkpoint, SigningKey
from inspecta.ledger.note import (
    ED25519,
    InvalidSignatureError,
    KeyFormatError,
    Signer,
    Verifier,
    key_hash,
    open_checkpoint,
    open_note,
    sign_note,
)
from inspecta.ledger.sm2 import SM2, SM2_DISTID, SM2_SM3_OID_DER, sm2_private_key_pem, sm2_public_key_pem
from inspecta.ledger.testing import append, get_json

ORIGIN = "inspecta.example/sm2-test"
NODE = "http://node.test"


# ------------------------------------------------------------------ algorithm


def test_sm2_signed_note_key_format() -> None:
    signer = Signer.generate(ORIGIN, SM2)
    verifier = signer.verifier()
    encoded = base64.b64decode(verifier.key_string.split("+", 2)[2])
    # C2SP: type 0xff, then the identifier (DER OID 1.2.156.10197.1.501), then the point.
    assert encoded[:1] == b"\xff"
    assert encoded[1:11] == SM2_SM3_OID_DER == bytes.fromhex("06082a811ccf55018375")
    assert encoded[11] == 0x04 and len(encoded) == 11 + 65
    assert verifier.key_hash == hashlib.sha256(ORIGIN.encode() + b"\n" + encoded).digest()[:4]
    assert verifier.key_hash == key_hash(ORIGIN, encoded)
    parsed = Verifier.from_key_string(verifier.key_string)
    assert parsed == verifier and parsed.algorithm is SM2
    again = Signer.from_key_string(signer.key_string)
    assert again.algorithm is SM2 and again.private_key == signer.private_key
    # The same point under Ed25519's type byte is not an SM2 key.
    with pytest.raises(KeyFormatError):
        Verifier(ORIGIN, verifier.public_key, ED25519)
    with pytest.raises(KeyFormatError):
        Verifier(ORIGIN, b"\x04" + bytes(64), SM2)  # not on the curve
    with pytest.raises(KeyFormatError):
        Signer(ORIGIN, bytes(32), SM2)  # d = 0
    # An unknown 0xff identifier is refused, not mistaken for SM2.
    other = b"\xff\x06\x03\x2a\x03\x05" + verifier.public_key
    vkey = f"{ORIGIN}+{key_hash(ORIGIN, other).hex()}+{base64.b64encode(other).decode()}"
    with pytest.raises(KeyFormatError):
        Verifier.from_key_string(vkey)


def test_sm2_line_next_to_ed25519() -> None:
    ed = Signer.generate(ORIGIN)
    sm = Signer.generate(ORIGIN, SM2)
    note = sign_note("hello\n", [ed, sm])
    lines = note.split("\n\n", 1)[1].splitlines()
    assert len(lines) == 2 and all(line.startswith(f"\u2014 {ORIGIN} ") for line in lines)
    assert open_note(note, [ed.verifier(), sm.verifier()]).signers == [ORIGIN, ORIGIN]
    # Only the Ed25519 key known: the SM2 line is a signature by an unknown key, ignored.
    assert open_note(note, [ed.verifier()]).signers == [ORIGIN]
    assert open_note(note, [sm.verifier()]).signers == [ORIGIN]
    # A forged SM2 signature by the known SM2 key rejects the note.
    raw = base64.b64decode(lines[1].rsplit(" ", 1)[1])
    forged = raw[:4] + sm.sign(b"other text\n")
    bad = note.replace(lines[1], f"\u2014 {ORIGIN} {base64.b64encode(forged).decode()}")
    with pytest.raises(InvalidSignatureError):
        open_note(bad, [ed.verifier(), sm.verifier()])
    assert SM2.verify(sm.verifier().public_key, b"hello\n", raw[4:])
    assert not SM2.verify(sm.verifier().public_key, b"hello!\n", raw[4:])
    assert not SM2.verify(sm.verifier().public_key, b"hello\n", b"\x30\x00")


def _openssl_sm2() -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl binary")
    listing = subprocess.run(
        [openssl, "list", "-public-key-algorithms"], capture_output=True, text=True, check=False, timeout=60
    )
    if "sm2" not in listing.stdout.lower():
        pytest.skip("this openssl has no SM2")
    return openssl


def test_sm2_distinguishing_id_is_1234567812345678_per_openssl(tmp_path: Path) -> None:
    """tongsuopy does not take the SM2 ID explicitly; OpenSSL 3 does
    (``-pkeyopt distid:``). Our signatures verify under ID 1234567812345678 and not
    under another, and OpenSSL's signatures with that explicit ID verify with ours."""
    openssl = _openssl_sm2()
    signer = Signer.generate(ORIGIN, SM2)
    public = signer.verifier().public_key
    message = f"{ORIGIN}\n42\n{base64.b64encode(bytes(32)).decode()}\n".encode()
    (tmp_path / "pub.pem").write_text(sm2_public_key_pem(public))
    (tmp_path / "key.pem").write_text(sm2_private_key_pem(signer.private_key))
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signer.sign(message))

    def verify(distid: str, sigfile: str = "sig") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(openssl, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{distid}"),
                *("-pubin", "-inkey", "pub.pem", "-in", "msg", "-sigfile", sigfile),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    assert SM2_DISTID == b"1234567812345678"
    good = verify("1234567812345678")
    assert good.returncode == 0 and "Verified Successfully" in good.stdout, good.stdout + good.stderr
    assert verify("1234567812345679").returncode != 0
    assert verify("ALICE123@YAHOO.COM").returncode != 0

    # The other way round: OpenSSL signs with the explicit ID, we verify.
    signed = subprocess.run(
        [
            *(openssl, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678"),
            *("-inkey", "key.pem", "-in", "msg", "-out", "osig"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert signed.returncode == 0, signed.stderr
    assert SM2.verify(public, message, (tmp_path / "osig").read_bytes())
    assert not SM2.verify(public, message + b"x", (tmp_path / "osig").read_bytes())
    other = subprocess.run(
        [
            *(openssl, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345679"),
            *("-inkey", "key.pem", "-in", "msg", "-out", "osig2"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert other.returncode == 0, other.stderr
    assert not SM2.verify(public, message, (tmp_path / "osig2").read_bytes())


# -------------------------------------------------------------------- service


def _sig_lines(note: str) -> list[str]:
    return note.split("\n\n", 1)[1].splitlines()


@pytest.mark.django_db
def test_checkpoint_carries_sm2_line_only_when_enabled(client, settings) -> None:
    append(5)
    services.sequence_pending()
    first = services.checkpoint_publish()
    assert first is not None and first.sm2_key is None and len(_sig_lines(first.note)) == 1
    assert services.sm2_key_active() is None
    assert not SigningKey.objects.filter(algorithm=KeyAlgorithm.SM2).exists()

    settings.INSPECTA_LOG_SM2_SIGNATURE = True
    second = services.checkpoint_publish()  # same size, but the key set changed
    assert second is not None and second.size == 5 and second.sm2_key is not None
    assert services.checkpoint_publish() is None  # now current
    sm2_key = SigningKey.objects.get(algorithm=KeyAlgorithm.SM2, is_active=True)
    assert second.sm2_key == sm2_key
    lines = _sig_lines(second.note)
    assert len(lines) == 2
    body, signers = open_checkpoint(second.note, services.verifiers())
    assert body.size == 5 and signers == [services.log_origin()] * 2
    sm2_verifier = Verifier.from_key_string(sm2_key.verifier_key)
    assert sm2_verifier.algorithm is SM2
    assert open_note(second.note, [sm2_verifier]).signers == [services.log_origin()]
    # Encrypted at rest: the stored bytes are not the scalar, and they open to it.
    scalar = open_private_key(sm2_key.encrypted_private_key)
    assert len(scalar) == 32 and scalar not in bytes(sm2_key.encrypted_private_key)
    assert Signer(sm2_key.name, scalar, SM2).verifier().key_string == sm2_key.verifier_key

    served = client.get("/api/v1/log/checkpoint").content.decode()
    assert served == second.note
    keys = get_json(client, "/api/v1/log/keys")["items"]
    assert {(k["algorithm"], k["verifier_key"]) for k in keys if k["is_active"]} == {
        ("ed25519", second.key.verifier_key),
        ("sm2", sm2_key.verifier_key),
    }
    # /key stays the Ed25519 key (CONTRACT §5).
    assert client.get("/api/v1/log/key").content.decode().strip() == second.key.verifier_key

    # Rotation rotates both keys; the old ones stay public and verify old checkpoints.
    services.signing_key_rotate()
    third = services.checkpoint_publish(force=True)
    assert third is not None and third.sm2_key is not None and third.sm2_key != sm2_key
    assert third.key != second.key
    assert SigningKey.objects.filter(algorithm=KeyAlgorithm.SM2).count() == 2
    assert SigningKey.objects.filter(algorithm=KeyAlgorithm.SM2, is_active=True).count() == 1
    assert not SigningKey.objects.get(pk=sm2_key.pk).is_active
    assert not [p for p in audit.verify_log() if p.critical]

    settings.INSPECTA_LOG_SM2_SIGNATURE = False
    fourth = services.checkpoint_publish()
    assert fourth is not None and fourth.sm2_key is None and len(_sig_lines(fourth.note)) == 1


@pytest.mark.django_db
def test_self_audit_finds_a_forged_sm2_line(settings) -> None:
    settings.INSPECTA_LOG_SM2_SIGNATURE = True
    append(3)
    services.sequence_pending()
    cp = services.checkpoint_publish()
    assert cp is not None
    assert not [p for p in audit.verify_log() if p.critical]
    _ed_line, sm_line = _sig_lines(cp.note)
    raw = base64.b64decode(sm_line.rsplit(" ", 1)[1])
    forged_sig = services.signer_for(cp.sm2_key).sign(b"something else\n")  # type: ignore[arg-type]
    forged = cp.note.replace(
        sm_line, f"\u2014 {services.log_origin()} {base64.b64encode(raw[:4] + forged_sig).decode()}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Checkpoint._meta.db_table} SET note = %s WHERE id = %s", [forged, cp.pk])  # noqa: S608
    problems = [p for p in audit.verify_log() if p.critical]
    assert [p.kind for p in problems] == [FindingKind.CHECKPOINT_INVALID]
    assert "invalid signature" in problems[0].summary


def _fetcher(client):
    def fetch(url: str) -> bytes:
        assert url.startswith(NODE)
        response = client.get(url[len(NODE) :])
        if response.status_code != 200:
            raise logcheck.FetchError(f"{url}: HTTP {response.status_code}")
        return bytes(response.content)

    return fetch


def _check(client, *args: str) -> tuple[int, dict]:
    out = io.StringIO()
    status = logcheck.main(["--url", NODE, "--json", *args], fetch=_fetcher(client), out=out)
    return status, json.loads(out.getvalue())


@pytest.mark.django_db
def test_offline_checker_verifies_the_sm2_line(client, settings, tmp_path) -> None:
    settings.INSPECTA_LOG_SM2_SIGNATURE = True
    append(4)
    services.sequence_pending()
    cp = services.checkpoint_publish()
    assert cp is not None and cp.sm2_key is not None
    key = cp.key.verifier_key
    sm2_file = tmp_path / "node-sm2.vkey"
    sm2_file.write_text(cp.sm2_key.verifier_key + "\n")

    status, result = _check(client, "--key", key, "--sm2-key", f"@{sm2_file}", "--index", "3")
    assert status == 0, result
    assert result["sm2"] is True and result["size"] == 4

    # Without --sm2-key the SM2 line is ignored (as any C2SP verifier does).
    status, result = _check(client, "--key", key)
    assert status == 0 and "sm2" not in result

    # Another SM2 key: no line by it.
    stranger = Signer.generate(services.log_origin(), SM2).verifier().key_string
    status, result = _check(client, "--key", key, "--sm2-key", stranger)
    assert status == 1 and "no SM2 signature" in result["error"]

    # An Ed25519 key passed as SM2 key is refused.
    status, result = _check(client, "--key", key, "--sm2-key", key)
    assert status == 1 and "not an SM2" in result["error"]

    # SM2 switched off: the new checkpoint has no SM2 line, which --sm2-key reports.
    settings.INSPECTA_LOG_SM2_SIGNATURE = False
    append(1, start=4)
    services.sequence_pending()
    services.checkpoint_publish()
    status, result = _check(client, "--key", key, "--sm2-key", f"@{sm2_file}")
    assert status == 1 and "no SM2 signature" in result["error"]

    # The stand-alone checker verifies the SM2 line the same way as note.py.
    settings.INSPECTA_LOG_SM2_SIGNATURE = True
    services.checkpoint_publish()
    note = client.get("/api/v1/log/checkpoint").content.decode()
    active = SigningKey.objects.get(algorithm=KeyAlgorithm.SM2, is_active=True)
    logcheck.verify_sm2_line(note, logcheck.SM2VerifierKey.parse(active.verifier_key))
    with pytest.raises(logcheck.CheckError):
        logcheck.verify_sm2_line(note.replace("\n5\n", "\n6\n"), logcheck.SM2VerifierKey.parse(active.verifier_key))
