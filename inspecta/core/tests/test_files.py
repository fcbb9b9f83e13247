"""The one store of files (``inspecta.core.files``; CONTRACT §4): what it keeps, what it
refuses (with a message in Chinese, leaving no row and no bytes), and who is served a
stored file (``/files/<id>/``)."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.files import file_limits, file_read, file_store
from inspecta.core.models import StoredFile
from inspecta.core.testing.access import login_verified
from inspecta.registry.testing import register

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _stored_names(path: str = "") -> set[str]:
    """Every name in the default storage (the test settings keep it in memory)."""

    if path and not default_storage.exists(path):
        return set()
    folders, files = default_storage.listdir(path)
    names = {f"{path}/{name}" if path else name for name in files}
    for folder in folders:
        names |= _stored_names(f"{path}/{folder}" if path else folder)
    return names


@pytest.fixture
def media() -> set[str]:
    """The names in the storage before the test."""

    return _stored_names()


def test_a_file_is_stored_with_sniffed_type_hash_and_audit(tree, media):
    agency, admin = register(371)
    stored = file_store(
        SimpleUploadedFile("名字随意.png", PDF, content_type="image/png"),
        organisation_id=agency.organisation_id,
        purpose="scan",
        name="名字随意.png",
        actor=admin,
    )
    stored = StoredFile.objects.get(pk=stored.pk)
    assert (stored.content_type, stored.size, stored.sha256) == (
        "application/pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    assert (stored.original_name, stored.purpose, stored.uploaded_by_id) == ("名字随意.png", "scan", admin.pk)
    assert file_read(stored) == PDF and _stored_names() - media == {stored.file.name}
    assert stored.history.get().history_user_id == admin.pk  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "purpose", "code", "words"),
    [
        (b"hello world, not a PDF", "report", ErrorCode.UNSUPPORTED_FILE_TYPE, "无法识别该文件的格式，只接受 PDF 文件"),
        (PNG, "report", ErrorCode.UNSUPPORTED_FILE_TYPE, "不接受 PNG 文件"),
        (PNG + b"\x00" * 100, "tiny", ErrorCode.PAYLOAD_TOO_LARGE, "文件过大：不能超过 64 字节"),
    ],
)
def test_a_refused_file_leaves_no_row_and_no_bytes(tree, media, settings, content, purpose, code, words):
    settings.INSPECTA_FILE_PURPOSES = {**settings.INSPECTA_FILE_PURPOSES, "tiny": {"max_size": 64}}
    agency, admin = register(372)
    with pytest.raises(AppError) as caught:
        file_store(content, organisation_id=agency.organisation_id, purpose=purpose, name="x.pdf", actor=admin)
    assert caught.value.code == code and words in caught.value.message
    assert "application/" not in caught.value.message  # no media type in the clerk's words
    assert not StoredFile.objects.exists() and not StoredFile.history.exists()  # type: ignore[attr-defined]
    assert _stored_names() == media


def test_no_purpose_is_wider_than_the_documented_upload_limits(settings):
    """CONTRACT §4 (docs/integration/uploads.md): INSPECTA_UPLOAD_MAX_SIZE and
    INSPECTA_UPLOAD_ALLOWED_TYPES bound every purpose."""

    settings.INSPECTA_UPLOAD_MAX_SIZE = 1000
    settings.INSPECTA_UPLOAD_ALLOWED_TYPES = ["application/pdf", "image/png"]
    settings.INSPECTA_FILE_PURPOSES = {"wide": {"max_size": 10**9, "types": ["application/pdf", "image/jpeg"]}}
    limits = file_limits("wide")
    assert (limits.max_size, limits.types) == (1000, ("application/pdf",))
    with pytest.raises(ValueError):
        file_limits("unknown")


def test_registry_scans_keep_the_stricter_registry_rule():
    limits = file_limits("scan")
    assert limits.types == ("application/pdf", "image/jpeg", "image/png")
    assert limits.max_size == 10 * 1024 * 1024 < settings.INSPECTA_UPLOAD_MAX_SIZE


def test_a_file_is_served_to_its_owner_and_regulators_and_is_404_elsewhere(client, tree, media):
    agency, admin = register(373)  # Guangzhou
    _other, other_admin = register(374, region="440300")  # Shenzhen
    stored = file_store(PDF, organisation_id=agency.organisation_id, purpose="scan", name="证书.pdf", actor=admin)
    url = f"/files/{stored.pk}/"

    client.force_login(admin)
    served = client.get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF
    assert served["Content-Type"] == "application/pdf" and served["X-Content-Type-Options"] == "nosniff"
    assert "private" in served["Cache-Control"] and "UTF-8''" in served["Content-Disposition"]
    login_verified(client, tree["gz_supervisor"])
    assert client.get(url).status_code == 200

    login_verified(client, tree["sz_supervisor"])  # another region's regulator
    assert client.get(url).status_code == 404
    client.force_login(other_admin)  # another region's agency
    assert client.get(url).status_code == 404
    assert client.get(f"/files/{uuid.uuid4()}/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
