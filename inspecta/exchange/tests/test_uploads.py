"""CONTRACT §4: tus 1.0.0 uploads with the independent ``tuspy`` client against a live
server; resume after the client is killed and after the server restarts."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from tusclient import client as tus_client
from tusclient.uploader import Uploader

from inspecta.core.models import StoredFile
from inspecta.core.testing.openapi import assert_documented
from inspecta.exchange.models import Upload
from inspecta.exchange.testing import (
    agency_with_admin,
    approved_client,
    needs_shared_db,
    prepare,
    sign_prepared,
    signed_call,
)

pytestmark = pytest.mark.django_db(transaction=True)


def pdf_bytes(size: int) -> bytes:
    body = os.urandom(size - 9)
    return b"%PDF-1.7\n" + body


def _creds():
    from inspecta.core.testing.factories import authority_tree

    tree = authority_tree()
    _org, admin = agency_with_admin()
    return approved_client(applicant=admin, reviewer=tree["gz_admin"]), tree, admin


def upload_token(base: str, creds) -> str:
    prepared = prepare("POST", "/api/v1/exchange/upload-tokens", base=base)
    sign_prepared(prepared, creds)
    response = requests.Session().send(prepared, timeout=10)
    assert response.status_code == 201, response.content
    return response.json()["token"]


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.mark.parametrize("uploader_class", [Uploader, Sha256Uploader])
def test_tuspy_upload_with_checksums(live_server, tmp_path, uploader_class):
    creds, _tree, _admin = _creds()
    token = upload_token(live_server.url, creds)
    data = pdf_bytes(300_000)
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    tus = tus_client.TusClient(live_server.url + "/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
    uploader = tus.uploader(
        file_path=str(path), chunk_size=64 * 1024, upload_checksum=True, metadata={"filename": "检测报告.pdf"}
    )
    assert isinstance(uploader, Uploader)
    if uploader_class is Sha256Uploader:
        uploader = Sha256Uploader(
            file_path=str(path), client=tus, chunk_size=64 * 1024, upload_checksum=True, metadata={"filename": "r.pdf"}
        )
    uploader.upload()
    answer = requests.get(uploader.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    info = assert_documented(answer, "/api/v1/uploads/{upload_id}")
    assert info["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["file"]["content_type"] == "application/pdf"
    stored = StoredFile.objects.get(pk=info["file"]["id"])
    assert stored.size == len(data) and stored.client_id == creds.client.pk
    assert stored.original_name in ("检测报告.pdf", "r.pdf")
    from django.core.files.storage import default_storage

    with default_storage.open(stored.file.name) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == stored.sha256


def test_protocol_details(live_server):
    creds, tree, _admin = _creds()
    base = live_server.url + "/api/v1/uploads/"
    options = requests.options(base, timeout=10)
    assert options.status_code == 204
    assert options.headers["Tus-Version"] == "1.0.0"
    assert set(options.headers["Tus-Extension"].split(",")) == {"creation", "expiration", "checksum", "termination"}
    assert options.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
    assert int(options.headers["Tus-Max-Size"]) > 0

    token = upload_token(live_server.url, creds)
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    assert requests.post(base, headers={**auth, "Upload-Length": "10"}, timeout=10).status_code == 201
    # No token, bad token, wrong version.
    no_token = requests.post(base, headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10"}, timeout=10)
    assert no_token.status_code == 401 and no_token.json()["error"]["code"] == "not_authenticated"
    bad = requests.post(base, headers={**auth, "Authorization": "Bearer nope", "Upload-Length": "10"}, timeout=10)
    assert bad.json()["error"]["code"] == "invalid_upload_token"
    old = requests.post(base, headers={**auth, "Tus-Resumable": "0.2.2", "Upload-Length": "10"}, timeout=10)
    assert old.status_code == 412 and old.headers["Tus-Version"] == "1.0.0"
    too_big = requests.post(base, headers={**auth, "Upload-Length": str(10**13)}, timeout=10)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "upload_too_large"
    bad_meta = requests.post(base, headers={**auth, "Upload-Length": "10", "Upload-Metadata": "a !!"}, timeout=10)
    assert bad_meta.status_code == 400

    created = requests.post(base, headers={**auth, "Upload-Length": "20"}, timeout=10)
    url = created.headers["Location"]
    assert "Upload-Expires" in created.headers
    head = requests.head(url, headers=auth, timeout=10)
    assert head.headers["Upload-Offset"] == "0" and head.headers["Upload-Length"] == "20"
    patch = {**auth, "Content-Type": "application/offset+octet-stream"}
    wrong_offset = requests.patch(url, data=b"abc", headers={**patch, "Upload-Offset": "5"}, timeout=10)
    assert wrong_offset.status_code == 409
    wrong_type = requests.patch(url, data=b"abc", headers={**auth, "Upload-Offset": "0"}, timeout=10)
    assert wrong_type.status_code == 415
    bad_sum = requests.patch(
        url,
        data=b"abc",
        headers={**patch, "Upload-Offset": "0", "Upload-Checksum": "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
        timeout=10,
    )
    assert bad_sum.status_code == 460 and bad_sum.json()["error"]["code"] == "checksum_mismatch"
    md5 = requests.patch(
        url, data=b"abc", headers={**patch, "Upload-Offset": "0", "Upload-Checksum": "md5 AAAA"}, timeout=10
    )
    assert md5.status_code == 400
    assert requests.head(url, headers=auth, timeout=10).headers["Upload-Offset"] == "0"
    ok = requests.patch(url, data=b"abc", headers={**patch, "Upload-Offset": "0"}, timeout=10)
    assert ok.status_code == 204 and ok.headers["Upload-Offset"] == "3"
    overflow = requests.patch(url, data=b"x" * 30, headers={**patch, "Upload-Offset": "3"}, timeout=10)
    assert overflow.status_code == 413
    # Another client's token sees nothing of this upload.
    _org2, admin2 = agency_with_admin("440300", name="深圳检测", username="sz_agency")
    other = approved_client(applicant=admin2, reviewer=tree["sz_admin"], name="其他")
    other_auth = {"Authorization": f"Bearer {upload_token(live_server.url, other)}", "Tus-Resumable": "1.0.0"}
    assert requests.head(url, headers=other_auth, timeout=10).status_code == 404
    assert (
        requests.patch(url, data=b"d", headers={**patch, **other_auth, "Upload-Offset": "3"}, timeout=10).status_code
        == 404
    )
    assert requests.delete(url, headers=other_auth, timeout=10).status_code == 404
    # Termination.
    assert requests.delete(url, headers=auth, timeout=10).status_code == 204
    assert requests.head(url, headers=auth, timeout=10).status_code == 410
    # A finished upload of a type we do not accept.
    created = requests.post(base, headers={**auth, "Upload-Length": "4"}, timeout=10)
    refused = requests.patch(
        created.headers["Location"], data=b"\x00\x01\x02\x03", headers={**patch, "Upload-Offset": "0"}, timeout=10
    )
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_file_type"
    assert not StoredFile.objects.exists()


def test_session_user_gets_upload_token(live_server, client):
    from inspecta.core.testing.access import login_verified

    _unused, _tree, admin = _creds()
    login_verified(client, admin)
    response = client.post("/api/v1/exchange/upload-tokens")
    assert response.status_code == 201
    token = response.json()["token"]
    created = requests.post(
        live_server.url + "/api/v1/uploads/",
        headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", "Upload-Length": "5"},
        timeout=10,
    )
    assert created.status_code == 201
    assert Upload.objects.get().user_id == admin.pk


CLIENT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from tusclient import client
    url, token, path = sys.argv[1:4]
    tus = client.TusClient(url, headers={"Authorization": "Bearer " + token})
    uploader = tus.uploader(file_path=path, chunk_size=32 * 1024, upload_checksum=True)
    uploader.set_url(uploader.create_url())
    print("URL", uploader.url, flush=True)
    while uploader.offset < uploader.get_file_size():
        uploader.upload_chunk()
        print("OFFSET", uploader.offset, flush=True)
        time.sleep(0.2)
    """
)


def test_resume_after_client_killed(live_server, tmp_path):
    creds, _tree, _admin = _creds()
    token = upload_token(live_server.url, creds)
    data = pdf_bytes(400_000)
    path = tmp_path / "big.pdf"
    path.write_bytes(data)
    proc = subprocess.Popen(
        [sys.executable, "-c", CLIENT_SCRIPT, live_server.url + "/api/v1/uploads/", token, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = None
    offsets = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("URL"):
            url = line.split()[1]
        if line.startswith("OFFSET"):
            offsets.append(int(line.split()[1]))
            if len(offsets) == 3:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=10)
    assert url is not None and offsets[-1] < len(data)
    head = requests.head(url, headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}, timeout=10)
    server_offset = int(head.headers["Upload-Offset"])
    assert offsets[-1] <= server_offset < len(data)
    tus = tus_client.TusClient(live_server.url + "/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
    resumed = tus.uploader(file_path=str(path), url=url, chunk_size=64 * 1024, upload_checksum=True)
    assert resumed.offset == server_offset
    resumed.upload()
    stored = StoredFile.objects.get()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


class _Server:
    """A WSGI server of the project in a thread; stopping it and starting another over the
    same database and upload folder is a server restart (nothing kept in memory)."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.httpd = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
        self.httpd.set_app(WSGIHandler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def test_resume_after_server_restart(settings, tmp_path):
    settings.ALLOWED_HOSTS = ["*"]
    creds, _tree, _admin = _creds()
    first = _Server()
    token = upload_token(first.url, creds)
    data = pdf_bytes(256_000)
    path = tmp_path / "restart.pdf"
    path.write_bytes(data)
    tus = tus_client.TusClient(first.url + "/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
    uploader = tus.uploader(file_path=str(path), chunk_size=50_000, upload_checksum=True)
    uploader.upload(stop_at=100_000)
    url_path = "/api/v1/uploads/" + uploader.url.rsplit("/", 1)[1]
    first.stop()
    with pytest.raises(requests.ConnectionError):
        requests.head(first.url + url_path, timeout=2)

    second = _Server()
    try:
        tus2 = tus_client.TusClient(second.url + "/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
        resumed = tus2.uploader(file_path=str(path), url=second.url + url_path, chunk_size=50_000, upload_checksum=True)
        assert resumed.offset == 100_000
        resumed.upload()
    finally:
        second.stop()
    stored = StoredFile.objects.get()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert Upload.objects.get().offset == len(data)


def test_file_metadata_api_is_scoped(live_server, client):
    creds, tree, _admin = _creds()
    token = upload_token(live_server.url, creds)
    data = pdf_bytes(1000)
    created = requests.post(
        live_server.url + "/api/v1/uploads/",
        headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data))},
        timeout=10,
    )
    done = requests.patch(
        created.headers["Location"],
        data=data,
        headers={
            "Authorization": f"Bearer {token}",
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        },
        timeout=10,
    )
    assert done.status_code == 204
    file_id = done.headers["Inspecta-File-Id"]
    assert done.headers["Inspecta-File-SHA256"] == hashlib.sha256(data).hexdigest()
    mine = signed_call(client, creds, "GET", f"/api/v1/exchange/files/{file_id}")
    assert mine.status_code == 200 and mine.json()["sha256"] == hashlib.sha256(data).hexdigest()
    _org2, admin2 = agency_with_admin("440300", name="深圳检测", username="sz_agency")
    other = approved_client(applicant=admin2, reviewer=tree["sz_admin"], name="其他")
    assert signed_call(client, other, "GET", f"/api/v1/exchange/files/{file_id}").status_code == 404
    from inspecta.core.testing.access import assert_gets_nothing, login_verified

    login_verified(client, tree["sz_admin"])
    assert_gets_nothing(client, [f"/api/v1/exchange/files/{file_id}"], secrets=[file_id])
    login_verified(client, tree["gz_supervisor"])
    assert client.get(f"/api/v1/exchange/files/{file_id}").status_code == 200
    assert json.loads(client.get(f"/api/v1/exchange/files/{file_id}").content)["content_type"] == "application/pdf"


def test_abandoned_uploads_expire(live_server):
    from datetime import timedelta

    from django.utils import timezone

    from inspecta.exchange import uploads
    from inspecta.exchange.choices import UploadState
    from inspecta.exchange.tasks import exchange_housekeeping

    creds, _tree, _admin = _creds()
    token = upload_token(live_server.url, creds)
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    created = requests.post(live_server.url + "/api/v1/uploads/", headers={**auth, "Upload-Length": "100"}, timeout=10)
    url = created.headers["Location"]
    requests.patch(
        url,
        data=b"x" * 10,
        headers={**auth, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
        timeout=10,
    )
    upload = Upload.objects.get()
    assert uploads.partial_path(upload).exists()
    assert exchange_housekeeping.call_local()["uploads"] == 0  # not yet expired
    Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert requests.head(url, headers=auth, timeout=10).status_code == 410
    assert exchange_housekeeping.call_local()["uploads"] == 1
    upload.refresh_from_db()
    assert upload.state == UploadState.EXPIRED
    assert not uploads.partial_path(upload).exists()


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _server_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a separate server process over this test's database and
    upload folder."""

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inspecta.settings.base",
        "DATABASE_URL": _database_url(),
        "INSPECTA_VAR_DIR": str(tmp_path / "var"),
        "INSPECTA_UPLOAD_TEMP_DIR": django_settings.INSPECTA_UPLOAD_TEMP_DIR,
        "SECRET_KEY": django_settings.SECRET_KEY,
    }


def _start_process(port: int, env: dict) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "inspecta.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # master and worker in one group: a crash takes both
    )
    for _i in range(150):
        try:
            requests.options(f"http://127.0.0.1:{port}/api/v1/uploads/", timeout=5)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server process did not start")


@needs_shared_db
def test_resume_after_server_process_crash(tmp_path, settings):
    """A fresh server process over the same (PostgreSQL) database and upload folder
    resumes an upload whose first server process was killed (SIGKILL)."""

    creds, _tree, _admin = _creds()
    port = 19000 + os.getpid() % 500
    env = _server_env(tmp_path)
    base = f"http://127.0.0.1:{port}"
    # the node's cache table, as ``inspecta setup`` creates it: without Redis the server
    # process counts its rate limits there
    if not os.environ.get("REDIS_URL"):
        from django.core.management import call_command

        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "inspecta_cache"}
        }
        call_command("createcachetable", verbosity=0)
    first = _start_process(port, env)
    try:
        token = upload_token(base, creds)
        data = pdf_bytes(200_000)
        path = tmp_path / "crash.pdf"
        path.write_bytes(data)
        tus = tus_client.TusClient(base + "/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
        uploader = tus.uploader(file_path=str(path), chunk_size=40_000, upload_checksum=True)
        uploader.upload(stop_at=80_000)
        url = uploader.url
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    time.sleep(1)  # the killed worker's socket closes
    with pytest.raises(requests.ConnectionError):
        requests.head(url, timeout=2)
    second = _start_process(port, env)
    try:
        resumed = tus.uploader(file_path=str(path), url=url, chunk_size=40_000, upload_checksum=True)
        assert resumed.offset == 80_000
        resumed.upload()
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
    stored = StoredFile.objects.get()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    on_disk = tmp_path / "var" / "media" / stored.file.name
    assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == stored.sha256


@pytest.mark.parametrize("url", ["/api/v1/uploads/", "/api/v1/uploads/6f0d7f1e-0000-4000-8000-000000000405"])
def test_an_undocumented_method_is_405_with_allow_before_the_tus_headers(client, url):
    """Method not allowed comes before the Tus-Resumable check (405, not 412)."""

    response = client.generic("TRACE", url)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "OPTIONS" in response["Allow"]


_DIE_AT_COMPLETION = '''
def post_worker_init(worker):
    """Fault injection: the server dies (SIGKILL, master and worker) right after the
    finished upload's file was stored, before its transaction commits."""

    import os
    import signal

    from inspecta.exchange import uploads

    real = uploads.file_store

    def store_then_die(*args, **kwargs):
        stored = real(*args, **kwargs)
        os.killpg(os.getpgid(0), signal.SIGKILL)
        return stored

    uploads.file_store = store_then_die
'''


@needs_shared_db
def test_server_killed_at_the_completion_point_then_the_sdk_resumes(tmp_path, settings):
    """Crash-safe completion: a server killed between storing the last upload's file and
    committing it leaves the offset below the length (never "complete" without a file);
    the Python SDK keeps its resume state, and against a fresh server resumes, sends the
    last chunk again and gets the file with its SHA-256 (no ``upload_mismatch``)."""

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "clients" / "python" / "src"))
    from inspecta_client import InspectaClient, Signer

    creds, _tree, _admin = _creds()
    port = 19500 + os.getpid() % 400
    env = _server_env(tmp_path)
    if not os.environ.get("REDIS_URL"):
        from django.core.management import call_command

        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "inspecta_cache"}
        }
        call_command("createcachetable", verbosity=0)
    fault = tmp_path / "fault.py"
    fault.write_text(_DIE_AT_COMPLETION)
    base = f"http://127.0.0.1:{port}"
    data = pdf_bytes(200_000)
    path = tmp_path / "complete.pdf"
    path.write_bytes(data)
    state = tmp_path / "state"

    def sdk() -> InspectaClient:
        return InspectaClient(base, Signer(creds.key_id, secret=creds.secret_text), sleep=lambda _s: None, retries=1)

    first = _start_process(port, {**env, "GUNICORN_CMD_ARGS": f"--config {fault}"})
    try:
        with pytest.raises(requests.ConnectionError):
            sdk().upload(path, chunk_size=40_000, progress=False, state_dir=state)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    upload = Upload.objects.get()
    assert upload.offset < upload.length  # not "complete" while no file is recorded
    assert upload.stored_file_id is None and not StoredFile.objects.exists()
    assert list(state.glob("*.json")), "the SDK dropped its resume state"
    second = _start_process(port, env)
    try:
        result = sdk().upload(path, chunk_size=40_000, progress=False, state_dir=state)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    upload.refresh_from_db()
    assert upload.offset == upload.length and str(upload.stored_file_id) == result["id"]
    assert not list(state.glob("*.json"))


def test_an_upload_left_at_its_length_without_a_file_is_finished_on_the_next_request(live_server):
    """What a crash of an earlier version left (offset = length, no file): the next
    HEAD finishes it, so the client learns the file, never ``file: null``."""

    from inspecta.exchange import uploads
    from inspecta.exchange.choices import UploadState

    creds, _tree, _admin = _creds()
    token = upload_token(live_server.url, creds)
    data = pdf_bytes(5_000)
    created = requests.post(
        live_server.url + "/api/v1/uploads/",
        headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data))},
        timeout=10,
    )
    upload = Upload.objects.get()
    uploads.partial_path(upload).write_bytes(data)
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))  # the state the old code crashed in
    head = requests.head(
        created.headers["Location"], headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}, timeout=10
    )
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(data))
    got = requests.get(created.headers["Location"], headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert got["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    upload.refresh_from_db()
    assert upload.state == UploadState.COMPLETE
