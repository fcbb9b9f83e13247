"""RFC 3161 timestamps of checkpoints (T/CECS 4.1.2, 7.2.3) against a real TSA on
loopback (pyHanko's DummyTimeStamper behind http.server, certified by a test CA with a
critical timeStamping EKU), the stored tokens verified independently by
``openssl ts -verify``; a TSA outage does not stop publication; the self-audit
catches a token that does not stamp its checkpoint."""

from __future__ import annotations

import datetime
import hashlib
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.db import connection
from django.utils import timezone
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from inspecta.ledger import audit, services, tsa
from inspecta.ledger.choices import FindingKind
from inspecta.ledger.models import Checkpoint, CheckpointTimestamp, LogImmutable
from inspecta.ledger.testing import append

TSA_CN = "Inspecta Test TSA"


@dataclass
class Authority:
    ca_pem: bytes
    stamper: DummyTimeStamper
    mode: str = "ok"  # ok | down | wrong_imprint
    requests: list[bytes] = field(default_factory=list)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")])


def _make_authority() -> Authority:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Inspecta Test Root CA"))
        .issuer_name(_name("Inspecta Test Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(TSA_CN))
        .issuer_name(ca.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )  # digitalSignature, nonRepudiation
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    return Authority(ca.public_bytes(serialization.Encoding.PEM), stamper)


@pytest.fixture(scope="module")
def authority() -> Authority:
    return _make_authority()


@pytest.fixture
def tsa_url(authority: Authority) -> Iterator[str]:
    """A real RFC 3161 TSA over HTTP on 127.0.0.1 (application/timestamp-query/-reply)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            authority.requests.append(body)
            if authority.mode == "down" or self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(503, "TSA unavailable")
                return
            request = tsp.TimeStampReq.load(body)
            if authority.mode == "wrong_imprint":
                imprint = request["message_imprint"]
                request["message_imprint"] = tsp.MessageImprint(
                    {"hash_algorithm": imprint["hash_algorithm"], "hashed_message": hashlib.sha256(b"other").digest()}
                )
            reply = authority.stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    authority.mode = "ok"
    authority.requests.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _openssl() -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl binary")
    return openssl


def _openssl_verify(
    tmp_path: Path, authority: Authority, data: bytes, der: bytes, *, token: bool
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "ca.pem").write_bytes(authority.ca_pem)
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "ts.der").write_bytes(der)
    args = [_openssl(), "ts", "-verify", "-data", "data", "-in", "ts.der", "-CAfile", "ca.pem"]
    if token:
        args.append("-token_in")
    return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60)


def _body(cp: Checkpoint) -> bytes:
    return cp.note[: cp.note.rfind("\n\n") + 1].encode("utf-8")


@pytest.mark.django_db
def test_checkpoint_timestamp_from_a_real_tsa_verified_by_openssl(client, settings, tsa_url, authority, tmp_path):
    settings.INSPECTA_LOG_TSA_URL = tsa_url
    append(6)
    services.sequence_pending()
    cp = services.checkpoint_publish()
    assert cp is not None
    stamp = CheckpointTimestamp.objects.get(checkpoint=cp)
    assert stamp.token is None and stamp.attempts == 0  # queued, fetched after the commit
    body = _body(cp)
    assert body == f"{cp.key.name}\n6\n{__import__('base64').b64encode(bytes(cp.root)).decode()}\n".encode()
    assert bytes(stamp.imprint) == hashlib.sha256(body).digest()

    stamp = services.timestamp_obtain(stamp.pk)
    assert stamp.token is not None and stamp.attempts == 1 and stamp.last_error == ""
    assert TSA_CN in stamp.tsa_name
    assert stamp.gen_time is not None and abs((timezone.now() - stamp.gen_time).total_seconds()) < 300
    assert len(authority.requests) == 1
    request = tsp.TimeStampReq.load(authority.requests[0])
    assert request["message_imprint"]["hashed_message"].native == hashlib.sha256(body).digest()
    assert request["nonce"].native is not None and request["cert_req"].native is True

    # Independent check: OpenSSL verifies the stored token over the checkpoint body ...
    result = _openssl_verify(tmp_path, authority, body, bytes(stamp.token), token=True)
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stdout + result.stderr
    # ... and not over anything else (e.g. the full signed note).
    result = _openssl_verify(tmp_path, authority, cp.note.encode(), bytes(stamp.token), token=True)
    assert result.returncode != 0

    # Served publicly as an RFC 3161 TimeStampResp.
    response = client.get("/api/v1/log/checkpoints/6/timestamp")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/timestamp-reply"
    assert "immutable" in response["Cache-Control"]
    reply = tsp.TimeStampResp.load(response.content)
    assert reply["status"]["status"].native == "granted"
    assert reply["time_stamp_token"].dump() == bytes(stamp.token)
    result = _openssl_verify(tmp_path, authority, body, response.content, token=False)
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stdout + result.stderr

    # Shown in the explorer: TSA and time.
    page = client.get("/log/").content.decode()
    assert TSA_CN in page and "/api/v1/log/checkpoints/6/timestamp" in page

    # Obtained tokens are immutable; asking again changes nothing.
    assert services.timestamp_obtain(stamp.pk).token == stamp.token
    assert len(authority.requests) == 1
    stamp.token = b"x"
    with pytest.raises(LogImmutable):
        stamp.save()
    with pytest.raises(LogImmutable):
        CheckpointTimestamp.objects.get(pk=stamp.pk).delete()

    assert not [p for p in audit.verify_log() if p.critical]


@pytest.mark.django_db
def test_timestamp_endpoint_errors(client, settings, tsa_url):
    response = client.get("/api/v1/log/checkpoints/3/timestamp")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "timestamp_not_found"
    settings.INSPECTA_LOG_TSA_URL = tsa_url
    append(3)
    services.sequence_pending()
    services.checkpoint_publish()
    # Queued but not obtained yet: still 404.
    response = client.get("/api/v1/log/checkpoints/3/timestamp")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "timestamp_not_found"
    for bad in ("-1", "abc", "99999999999999999999999"):
        response = client.get(f"/api/v1/log/checkpoints/{bad}/timestamp")
        assert 400 <= response.status_code < 500, (bad, response.status_code)


@pytest.mark.django_db
def test_tsa_outage_does_not_stop_publication_and_is_retried(client, settings, tsa_url, authority, tmp_path):
    settings.INSPECTA_LOG_TSA_URL = tsa_url
    authority.mode = "down"
    append(4)
    services.sequence_pending()
    cp = services.checkpoint_publish()
    assert cp is not None  # published whatever the TSA does
    assert client.get("/api/v1/log/checkpoint").content.decode() == cp.note
    stamp = CheckpointTimestamp.objects.get(checkpoint=cp)

    stamp = services.timestamp_obtain(stamp.pk)
    assert stamp.token is None and stamp.attempts == 1
    assert "503" in stamp.last_error
    assert stamp.next_attempt_at > timezone.now()
    assert "获取失败 1 次" in client.get("/log/").content.decode()
    # Not due yet: the periodic job leaves it alone.
    assert services.timestamps_due() == 0
    assert CheckpointTimestamp.objects.get(pk=stamp.pk).attempts == 1

    # A TSA stamping something else is a failure too, not a token kept.
    authority.mode = "wrong_imprint"
    CheckpointTimestamp.objects.filter(pk=stamp.pk).update(next_attempt_at=timezone.now())
    assert services.timestamps_due() == 0
    stamp.refresh_from_db()
    assert stamp.token is None and stamp.attempts == 2 and "imprint" in stamp.last_error

    # TSA back: the job picks it up once due.
    authority.mode = "ok"
    CheckpointTimestamp.objects.filter(pk=stamp.pk).update(next_attempt_at=timezone.now())
    assert services.timestamps_due() == 1
    stamp.refresh_from_db()
    assert stamp.token is not None and stamp.attempts == 3 and stamp.last_error == ""
    result = _openssl_verify(tmp_path, authority, _body(cp), bytes(stamp.token), token=True)
    assert result.returncode == 0, result.stdout + result.stderr

    # TSA unreachable (nothing listening) is recorded the same way.
    settings.INSPECTA_LOG_TSA_URL = "http://127.0.0.1:9/tsa"
    append(1, start=4)
    services.sequence_pending()
    cp2 = services.checkpoint_publish()
    assert cp2 is not None
    stamp2 = services.timestamp_obtain(CheckpointTimestamp.objects.get(checkpoint=cp2).pk)
    assert stamp2.token is None and stamp2.attempts == 1 and stamp2.last_error


@pytest.mark.django_db
def test_timestamp_is_fetched_by_the_job_after_commit(settings, tsa_url, django_capture_on_commit_callbacks):
    settings.INSPECTA_LOG_TSA_URL = tsa_url
    append(2)
    services.sequence_pending()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        cp = services.checkpoint_publish()
    assert cp is not None and len(callbacks) == 1
    # huey runs immediately in tests: the task has fetched the token.
    stamp = CheckpointTimestamp.objects.get(checkpoint=cp)
    assert stamp.token is not None and stamp.attempts == 1


@pytest.mark.django_db
def test_no_tsa_configured_no_timestamps(settings):
    settings.INSPECTA_LOG_TSA_URL = ""
    append(2)
    services.sequence_pending()
    assert services.checkpoint_publish() is not None
    assert not CheckpointTimestamp.objects.exists()
    assert services.timestamps_due() == 0


@pytest.mark.django_db
def test_self_audit_reports_a_token_of_another_checkpoint(settings, tsa_url):
    settings.INSPECTA_LOG_TSA_URL = tsa_url
    append(3)
    services.sequence_pending()
    first = services.checkpoint_publish()
    append(2, start=3)
    services.sequence_pending()
    second = services.checkpoint_publish()
    assert first is not None and second is not None
    s1 = services.timestamp_obtain(CheckpointTimestamp.objects.get(checkpoint=first).pk)
    s2 = services.timestamp_obtain(CheckpointTimestamp.objects.get(checkpoint=second).pk)
    assert s1.token is not None and s2.token is not None
    assert not [p for p in audit.verify_log() if p.critical]

    # Swap in the other checkpoint's token by raw SQL (what the application refuses).
    table = CheckpointTimestamp._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET token = %s WHERE id = %s", [bytes(s1.token), s2.pk])  # noqa: S608
    problems = [p for p in audit.verify_log() if p.critical]
    assert [p.kind for p in problems] == [FindingKind.TIMESTAMP_INVALID]
    assert problems[0].details["size"] == 5 and "imprint" in problems[0].summary

    # A corrupt token is reported too.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET token = %s WHERE id = %s", [b"\x30\x03\x02\x01\x00", s2.pk])  # noqa: S608
    problems = [p for p in audit.verify_log() if p.critical]
    assert [p.kind for p in problems] == [FindingKind.TIMESTAMP_INVALID]

    with pytest.raises(tsa.TimestampError):
        tsa.check_token(bytes(s1.token), hashlib.sha256(b"x").digest())
    info = tsa.check_token(bytes(s1.token), bytes(s1.imprint))
    assert info.hash_algorithm == "sha256" and TSA_CN in info.tsa_name
