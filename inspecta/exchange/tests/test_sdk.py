"""The Python SDK and CLI in ``clients/python`` against a live server."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from inspecta.core.models import StoredFile
from inspecta.exchange.models import Receipt
from inspecta.exchange.testing import agency_with_admin, approved_client

SDK = Path(__file__).resolve().parents[3] / "clients" / "python" / "src"
sys.path.insert(0, str(SDK))

from inspecta_client import InspectaClient, Signer  # noqa: E402
from inspecta_client.client import ApiError  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(algorithm="hmac-sha256"):
    from inspecta.core.testing.factories import authority_tree

    tree = authority_tree()
    _org, admin = agency_with_admin()
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], algorithm=algorithm)
    if algorithm == "hmac-sha256":
        signer = Signer(creds.key_id, secret=creds.secret_text)
    else:
        signer = Signer(creds.key_id, private_key=creds.key)
    return creds, signer


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "ed25519"])
def test_sdk_ping(live_server, algorithm):
    creds, signer = _setup(algorithm)
    client = InspectaClient(live_server.url, signer)
    assert client.ping()["key_id"] == creds.key_id
    data = client.ping({"名称": "测试", "n": [1, 2]})
    assert data["echo"] == {"名称": "测试", "n": [1, 2]}
    result = client.call("GET", "/api/v1/exchange/ping", params={"q": "中 文&x"})
    assert result["query"] == {"q": "中 文&x"}


def test_sdk_refusals_are_api_errors(live_server):
    creds, _signer = _setup()
    wrong = InspectaClient(live_server.url, Signer(creds.key_id, secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    with pytest.raises(ApiError) as error:
        wrong.ping()
    assert error.value.status == 401 and error.value.code == "bad_signature"


class FlakySession(requests.Session):
    """Loses the first two requests on the network, as a bad mobile link does."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 2
        self.idempotency_keys: list[str] = []

    def send(self, request, **kwargs):  # type: ignore[override]
        if "Idempotency-Key" in request.headers:
            self.idempotency_keys.append(request.headers["Idempotency-Key"])
        if self.failures:
            self.failures -= 1
            raise requests.ConnectionError("simulated network failure")
        return super().send(request, **kwargs)


def test_sdk_retries_with_backoff_and_one_idempotency_key(live_server):
    from inspecta.core import services as core_services
    from inspecta.core.testing.factories import authority_tree
    from inspecta.reports.testing import reporting_scene

    core_services.regions_load()  # reference data a transactional test's flush removed
    core_services.catalog_load()
    creds = reporting_scene(authority_tree(), 905)["creds"]
    signer = Signer(creds.key_id, secret=creds.secret_text)
    delays: list[float] = []
    session = FlakySession()
    client = InspectaClient(live_server.url, signer, session=session, sleep=delays.append, backoff=0.2)
    body = {"reports": [{"report_number": "x"}], "async": True}
    result = client.call("POST", "/api/v1/reports/batch", json_body=body)
    assert result["receipt_id"]
    assert len(delays) == 2 and delays[1] > 0
    assert len(set(session.idempotency_keys)) == 1 and len(session.idempotency_keys) == 3
    assert Receipt.objects.count() == 1


def test_sdk_retries_429_using_retry_after(live_server):
    creds, signer = _setup()
    from inspecta.exchange.models import ExchangeClient

    ExchangeClient.objects.filter(pk=creds.client.pk).update(rate_limit_per_minute=1)
    delays: list[float] = []
    client = InspectaClient(live_server.url, signer, sleep=delays.append, retries=2)
    client.ping()
    response = client.request("GET", "/api/v1/exchange/ping")
    assert response.status_code == 429
    assert len(delays) == 2 and all(d >= 1 for d in delays)


def test_sdk_upload_resumes_after_interruption(live_server, tmp_path):
    _creds, signer = _setup()
    data = b"%PDF-1.7\n" + os.urandom(300_000)
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    client = InspectaClient(live_server.url, signer)
    seen: list[int] = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        if done >= 128 * 1024:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.upload(path, chunk_size=64 * 1024, progress=interrupt, state_dir=tmp_path / "state")
    assert list((tmp_path / "state").glob("*.json"))
    resumed: list[int] = []
    info = client.upload(
        path, chunk_size=64 * 1024, progress=lambda d, t: resumed.append(d), state_dir=tmp_path / "state"
    )
    assert resumed[0] == 128 * 1024  # started from the server's offset, not from zero
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert StoredFile.objects.get().sha256 == info["sha256"]
    assert not list((tmp_path / "state").glob("*.json"))


def test_cli_ping_upload_and_keygen(live_server, tmp_path):
    creds, _signer = _setup()
    env = {
        **os.environ,
        "PYTHONPATH": str(SDK),
        "INSPECTA_URL": live_server.url,
        "INSPECTA_KEY_ID": creds.key_id,
        "INSPECTA_SECRET": creds.secret_text or "",
        "HOME": str(tmp_path),
    }
    ping = subprocess.run(
        [sys.executable, "-m", "inspecta_client.cli", "ping", "--data", '{"a": 1}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ping.returncode == 0, ping.stderr
    assert json.loads(ping.stdout)["echo"] == {"a": 1}
    path = tmp_path / "photo.pdf"
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(50_000))
    upload = subprocess.run(
        [sys.executable, "-m", "inspecta_client.cli", "upload", str(path), "--chunk-size", "16384"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert upload.returncode == 0, upload.stderr
    assert json.loads(upload.stdout)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "100.0%" in upload.stderr
    keygen = subprocess.run(
        [sys.executable, "-m", "inspecta_client.cli", "keygen", str(tmp_path / "k.pem")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert keygen.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    serialization.load_pem_private_key((tmp_path / "k.pem").read_bytes(), password=None)
    bad = subprocess.run(
        [sys.executable, "-m", "inspecta_client.cli", "call", "GET", "/api/v1/exchange/receipts/nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"]["status"] == 422


def test_sdk_finds_every_id_submits_and_fetches_the_stamped_pdf(live_server, tmp_path, monkeypatch):
    """The walkthrough of docs/integration/walkthrough.md with signed calls only: the ids
    of the report come from the registry reads, the PDF from an upload (``pdf_id`` is the
    finished file's id), then the report, its stamped PDF and QR."""

    import datetime
    import uuid

    from inspecta.core import services as core_services
    from inspecta.core.testing.factories import authority_tree
    from inspecta.core.testing.pagination import paginator_of
    from inspecta.registry import api as registry_api
    from inspecta.registry import services as registry_services
    from inspecta.reports.testing import pdf_bytes, report_body, reporting_scene

    core_services.regions_load()  # reference data a transactional test's flush removed
    core_services.catalog_load()
    tree = authority_tree()
    scopes = ["files:upload", "reports:submit", "registry:read", "sync:pull"]
    scene = reporting_scene(tree, 905, scopes=scopes)
    creds = scene["creds"]
    client = InspectaClient(live_server.url, Signer(creds.key_id, secret=creds.secret_text))
    [agency] = client.agencies()
    assert agency["id"] == scene["agency"].pk
    staff_ids = {s["id"] for s in client.staff(agency["id"])}
    assert {scene["made"]["staff"].pk, scene["made"]["reviewer"].pk, scene["made"]["approver"].pk} <= staff_ids
    assert scene["made"]["approver"].pk in {s["staff_id"] for s in client.signatories(agency["id"])}
    [equipment] = client.equipment(agency["id"])
    assert equipment["calibration_valid_until"]
    assert client.sites(agency["id"])[0]["capabilities"]
    specialty = client.specialties()[0]["code"]
    assert isinstance(client.test_items(specialty), list)
    since = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)).isoformat()
    assert [e["asset_no"] for e in client.feed("equipment", since)] == [equipment["asset_no"]]
    # equipment taken off the register comes in the feed of removals, page after page
    monkeypatch.setattr(paginator_of(registry_api.feed_removed), "page_size", 2)
    spares = []
    for i in range(3):
        spare = registry_services.equipment_save(
            actor=scene["admin"],
            agency=scene["agency"],
            data={"asset_no": f"EQ-SDK-{i}", "name": "天平", "parameters": ["IP-0001"]},
        )
        registry_services.equipment_remove(actor=scene["admin"], agency=scene["agency"], pk=spare.pk)
        spares.append(spare.pk)
    removed = list(client.removed("equipment", since))
    assert [(r["kind"], r["id"], r["agency_id"]) for r in removed] == [("equipment", pk, agency["id"]) for pk in spares]
    assert list(client.removed("signatories", since)) == []
    path = tmp_path / "R-SDK.pdf"
    path.write_bytes(pdf_bytes("R-SDK"))
    uploaded = client.upload(path, progress=False, state_dir=tmp_path / "state")
    body = report_body(scene, "R-SDK", pdf_id=uuid.UUID(uploaded["id"]))
    created = client.submit_report(body, idempotency_key="lims-R-SDK")
    assert client.submit_report(body, idempotency_key="lims-R-SDK")["id"] == created["id"]
    report = client.report(created["id"])
    assert report["status"] == "valid" and report["pdf_sha256"] == uploaded["sha256"]
    assert client.report_pdf(created["id"]).startswith(b"%PDF")
    assert client.report_qr(created["id"]).startswith(b"\x89PNG")
    assert [(r["id"], r["status"]) for r in client.report_feed(since)] == [(created["id"], "valid")]
    with pytest.raises(ApiError) as error:
        client.report(10**9)
    assert (error.value.status, error.value.code) == (404, "not_found")
