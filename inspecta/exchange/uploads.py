"""tus 1.0.0 resumable uploads (CONTRACT §4; T/CECS 6.0.2, 6.0.4 续传): core protocol plus
the creation, expiration, checksum (sha1, sha256) and termination extensions.

* ``OPTIONS /api/v1/uploads/`` advertises version, extensions, maximum size and checksum
  algorithms; it needs no token.
* Every other request carries ``Tus-Resumable: 1.0.0`` and ``Authorization: Bearer
  <upload token>`` (``POST /api/v1/exchange/upload-tokens``); an upload is visible only
  to the client or user that created it.
* The offset is kept in the ``Upload`` row, the bytes in ``<INSPECTA_UPLOAD_TEMP_DIR>/
  <id>.part``, so a restarted server resumes. A PATCH holds an exclusive lock on the
  partial file (a second concurrent PATCH of the same upload gets 423).
* A chunk whose ``Upload-Checksum`` does not match is discarded (460); an interrupted
  chunk without a checksum is kept up to what arrived.
* When the last byte arrives the file goes through ``inspecta.core.files.file_store``
  (purpose ``upload``): sniffed (``filetype``; the name is not trusted), checked against
  ``INSPECTA_UPLOAD_ALLOWED_TYPES``, hashed (SHA-256), written to the default storage and
  recorded as a ``core.StoredFile``; the final PATCH answers with
  ``Inspecta-File-Id`` and ``Inspecta-File-SHA256``, and ``GET`` on the upload URL gives
  the file as JSON.
* The offset reaches the length only in the transaction that records the file, so
  ``Upload-Offset`` = ``Upload-Length`` always means the file exists; an upload an older
  version left at its length without a file is finished on its next request, at the
  start of ``inspecta serve`` and by the housekeeping job (``uploads_recover``).
* Uploads untouched until ``Upload-Expires`` are removed by the housekeeping job.
* A partial file no upload still receives (left by a crash between the end of an upload
  and the removal of its partial file) is removed by the housekeeping job once older
  than ``INSPECTA_ORPHAN_GRACE_HOURS`` (``uploads_orphans_remove``).

Errors use the JSON envelope (CONTRACT §1) with the tus status codes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import logging
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from inspecta.accounts.models import User
from inspecta.core.actors import Actor
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.files import file_limits, file_store
from inspecta.core.models import StoredFile

from .choices import Scope, UploadState
from .models import ExchangeClient, Upload
from .services import upload_token_read

logger = logging.getLogger("inspecta.exchange")

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,expiration,checksum,termination"
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
CHUNK = 1024 * 1024
_META_KEY = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _temp_dir() -> Path:
    path = Path(settings.INSPECTA_UPLOAD_TEMP_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(upload: Upload) -> Path:
    return _temp_dir() / f"{upload.pk}.part"


def _base_headers(response: HttpResponse) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def _error(exc: AppError) -> HttpResponse:
    return _base_headers(exc.response())


def _expires_header(upload: Upload) -> str:
    return http_date(upload.expires_at.timestamp())


# --------------------------------------------------------------------- owners


class Owner:
    """Who presents the bearer token: a client or a user, and their organisation."""

    def __init__(self, client: ExchangeClient | None, user: User | None) -> None:
        self.client = client
        self.user = user
        organisation_id = client.organisation_id if client is not None else user.organisation_id  # type: ignore[union-attr]
        assert organisation_id is not None
        self.organisation_id: int = organisation_id

    def uploads(self) -> Any:
        if self.client is not None:
            return Upload.objects.filter(client=self.client)
        return Upload.objects.filter(user=self.user, client__isnull=True)


def _owner(request: HttpRequest) -> Owner:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AppError(ErrorCode.NOT_AUTHENTICATED, _("缺少上传令牌（Authorization: Bearer）。"))
    data = upload_token_read(token.strip())
    if data is None:
        raise AppError(ErrorCode.INVALID_UPLOAD_TOKEN, _("上传令牌无效或已过期。"))
    if "c" in data:
        client = ExchangeClient.objects.filter(pk=data["c"], is_active=True).first()
        if client is None or Scope.FILES_UPLOAD.value not in client.scopes:
            raise AppError(ErrorCode.INVALID_UPLOAD_TOKEN, _("上传令牌无效或已过期。"))
        request.exchange_client_id = client.pk  # type: ignore[attr-defined]
        return Owner(client, None)
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.organisation_id is None:
        raise AppError(ErrorCode.INVALID_UPLOAD_TOKEN, _("上传令牌无效或已过期。"))
    return Owner(None, user)


def parse_metadata(raw: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (value optional)."""

    result: dict[str, str] = {}
    if not raw.strip():
        return result
    for pair in raw.split(","):
        parts = pair.strip().split(" ")
        if not parts[0] or len(parts) > 2 or not _META_KEY.match(parts[0]) or parts[0] in result:
            raise AppError(ErrorCode.BAD_UPLOAD_METADATA, _("Upload-Metadata 格式不正确。"))
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, ValueError) as exc:
                raise AppError(
                    ErrorCode.BAD_UPLOAD_METADATA, _("Upload-Metadata 的值须为 Base64 编码的 UTF-8。")
                ) from exc
        result[parts[0]] = value[:1000]
    if len(result) > 32:
        raise AppError(ErrorCode.BAD_UPLOAD_METADATA, _("Upload-Metadata 项过多。"))
    return result


def _metadata_header(metadata: dict[str, str]) -> str:
    return ",".join(
        f"{k} {base64.b64encode(v.encode('utf-8')).decode('ascii')}" if v else k for k, v in metadata.items()
    )


# ------------------------------------------------------------------ protocol


def _options() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Tus-Version"] = TUS_VERSION
    response["Tus-Extension"] = EXTENSIONS
    response["Tus-Max-Size"] = str(file_limits("upload").max_size)
    response["Tus-Checksum-Algorithm"] = ",".join(CHECKSUMS)
    return _base_headers(response)


def _int_header(request: HttpRequest, name: str) -> int:
    raw = request.headers.get(name)
    if raw is None or not raw.isdigit() or len(raw) > 19:
        raise AppError(ErrorCode.BAD_REQUEST, _("缺少或错误的 %(h)s 头。") % {"h": name})
    return int(raw)


def _create(request: HttpRequest, owner: Owner) -> HttpResponse:
    if "Upload-Defer-Length" in request.headers:
        raise AppError(ErrorCode.DEFER_LENGTH_UNSUPPORTED, _("不支持延迟声明长度（Upload-Defer-Length）。"))
    length = _int_header(request, "Upload-Length")
    max_size = file_limits("upload").max_size
    if length > max_size:
        raise AppError(ErrorCode.UPLOAD_TOO_LARGE, _("文件超过上限 %(n)d 字节。") % {"n": max_size})
    if length == 0:
        raise AppError(ErrorCode.EMPTY_UPLOAD, _("不能上传空文件。"))
    if int(request.META.get("CONTENT_LENGTH") or 0) > 0:
        raise AppError(
            ErrorCode.CREATION_WITH_UPLOAD_UNSUPPORTED, _("创建请求不能携带数据（未启用 creation-with-upload）。")
        )
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    upload = Upload.objects.create(
        organisation_id=owner.organisation_id,
        client=owner.client,
        user=owner.user,
        length=length,
        metadata=metadata,
        expires_at=timezone.now() + timedelta(hours=settings.INSPECTA_UPLOAD_EXPIRY_HOURS),
    )
    partial_path(upload).touch()
    response = HttpResponse(status=201)
    response["Location"] = request.build_absolute_uri(f"/api/v1/uploads/{upload.pk}")
    response["Upload-Expires"] = _expires_header(upload)
    return _base_headers(response)


def _get_upload(owner: Owner, upload_id: UUID) -> Upload:
    upload = owner.uploads().filter(pk=upload_id).first()
    if upload is None:
        raise AppError(ErrorCode.NOT_FOUND, _("上传任务不存在。"))
    if upload.state in (UploadState.TERMINATED, UploadState.EXPIRED) or (
        upload.state == UploadState.RECEIVING and upload.expires_at < timezone.now()
    ):
        raise AppError(ErrorCode.UPLOAD_GONE, _("上传任务已终止或过期。"))
    return upload


def _head(upload: Upload) -> HttpResponse:
    response = HttpResponse(status=200)
    response["Upload-Offset"] = str(upload.offset)
    response["Upload-Length"] = str(upload.length)
    if upload.metadata:
        response["Upload-Metadata"] = _metadata_header(upload.metadata)
    if upload.state == UploadState.RECEIVING:
        response["Upload-Expires"] = _expires_header(upload)
    if upload.stored_file_id:
        response["Inspecta-File-Id"] = str(upload.stored_file_id)
    return _base_headers(response)


def _checksum(request: HttpRequest) -> tuple[Any, bytes] | None:
    raw = request.headers.get("Upload-Checksum")
    if raw is None:
        return None
    algorithm, _sep, value = raw.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise AppError(ErrorCode.CHECKSUM_ALGORITHM_UNSUPPORTED, _("不支持的校验算法，仅支持 sha1、sha256。"))
    try:
        expected = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise AppError(ErrorCode.BAD_CHECKSUM, _("Upload-Checksum 的值须为 Base64。")) from exc
    return CHECKSUMS[algorithm](), expected


@contextlib.contextmanager
def _locked(path: Path) -> Any:
    with open(path, "r+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AppError(ErrorCode.UPLOAD_LOCKED, _("该上传任务正被另一请求写入。")) from None
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _patch(request: HttpRequest, owner: Owner, upload_id: UUID) -> HttpResponse:
    if request.content_type != "application/offset+octet-stream":
        raise AppError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, _("PATCH 的 Content-Type 须为 application/offset+octet-stream。")
        )
    upload = _get_upload(owner, upload_id)
    offset = _int_header(request, "Upload-Offset")
    checksum = _checksum(request)
    declared = request.META.get("CONTENT_LENGTH")
    path = partial_path(upload)
    if not path.exists():
        raise AppError(ErrorCode.UPLOAD_GONE, _("上传任务的数据已不存在。"))
    with _locked(path) as handle:
        upload.refresh_from_db()
        if upload.state != UploadState.RECEIVING:
            raise AppError(ErrorCode.UPLOAD_COMPLETE, _("该上传已完成。"))
        if offset != upload.offset:
            raise AppError(
                ErrorCode.OFFSET_MISMATCH, _("Upload-Offset 与服务器偏移量不一致。"), Upload_Offset=str(upload.offset)
            )
        remaining = upload.length - upload.offset
        if declared and declared.isdigit() and int(declared) > remaining:
            raise AppError(ErrorCode.UPLOAD_TOO_LARGE, _("数据超过声明的 Upload-Length。"))
        handle.seek(upload.offset)
        received = 0
        interrupted = False
        hasher = checksum[0] if checksum else None
        try:
            while received <= remaining:
                chunk = request.read(min(CHUNK, remaining - received + 1))
                if not chunk:
                    break
                if received + len(chunk) > remaining:
                    handle.truncate(upload.offset)
                    raise AppError(ErrorCode.UPLOAD_TOO_LARGE, _("数据超过声明的 Upload-Length。"))
                handle.write(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                received += len(chunk)
        except OSError:
            interrupted = True
        if declared and declared.isdigit() and received < int(declared):
            interrupted = True
        if checksum is not None and (interrupted or hasher.digest() != checksum[1]):  # type: ignore[union-attr]
            handle.truncate(upload.offset)
            if interrupted:
                raise AppError(ErrorCode.INCOMPLETE_CHUNK, _("数据块不完整，已丢弃。"))
            raise AppError(ErrorCode.CHECKSUM_MISMATCH, _("数据块校验值不一致，已丢弃。"))
        handle.flush()
        os.fsync(handle.fileno())
        new_offset = upload.offset + received
        response = HttpResponse(status=204)
        if new_offset == upload.length:
            # the offset reaches the length in the transaction that records the file
            stored = upload_finish(upload=upload, path=path)
            response["Inspecta-File-Id"] = str(stored.pk)
            response["Inspecta-File-SHA256"] = stored.sha256
        else:
            Upload.objects.filter(pk=upload.pk).update(
                offset=new_offset,
                expires_at=timezone.now() + timedelta(hours=settings.INSPECTA_UPLOAD_EXPIRY_HOURS),
            )
            upload.refresh_from_db()
    response["Upload-Offset"] = str(upload.offset)
    if upload.state == UploadState.RECEIVING:
        response["Upload-Expires"] = _expires_header(upload)
    return _base_headers(response)


def upload_finish(*, upload: Upload, path: Path) -> StoredFile:
    """The last byte arrived: sniff, check, hash, store, record (CONTRACT §4) through
    the one store of files; a refused file ends the upload and leaves nothing.

    The offset becomes the length, the state complete and the file recorded in one
    transaction: a client that sees ``Upload-Offset`` equal to ``Upload-Length`` always
    finds the file. A crash before the commit leaves the offset where it was (the bytes
    are in the partial file), so the client sends the last chunk again."""

    actor: Any = Actor.for_client(upload.client, None) if upload.client is not None else upload.user
    try:
        with transaction.atomic(), open(path, "rb") as handle:
            stored = file_store(
                handle,
                organisation_id=upload.organisation_id,
                purpose="upload",
                name=upload.metadata.get("filename") or upload.metadata.get("name") or "",
                actor=actor,
            )
            Upload.objects.filter(pk=upload.pk).update(
                offset=upload.length, state=UploadState.COMPLETE, stored_file=stored
            )
    except AppError:
        Upload.objects.filter(pk=upload.pk).update(state=UploadState.TERMINATED)
        path.unlink(missing_ok=True)
        raise
    upload.refresh_from_db()
    path.unlink(missing_ok=True)
    return stored


def _unfinished(upload: Upload) -> bool:
    return upload.state == UploadState.RECEIVING and upload.offset >= upload.length and upload.stored_file_id is None


def upload_recover(upload: Upload) -> Upload:
    """An upload whose offset reached its length without its file (left so by a
    crash of an earlier version between the two steps): finish it now from the partial
    file, or end it when the file is gone or refused. Safe to call concurrently (the
    partial file's lock decides)."""

    if not _unfinished(upload):
        return upload
    path = partial_path(upload)
    try:
        if not path.exists() or path.stat().st_size != upload.length:
            Upload.objects.filter(pk=upload.pk, state=UploadState.RECEIVING).update(state=UploadState.TERMINATED)
            path.unlink(missing_ok=True)
        else:
            with _locked(path):
                upload.refresh_from_db()
                if _unfinished(upload):
                    upload_finish(upload=upload, path=path)
    except AppError as exc:  # refused type, or being finished by another request right now
        logger.info("upload %s not recovered: %s", upload.pk, exc.code)
    upload.refresh_from_db()
    return upload


def uploads_recover() -> int:
    """Finish every upload left with its offset at its length and no file (start-up
    of ``inspecta serve`` and the housekeeping job)."""

    count = 0
    for upload in Upload.objects.filter(state=UploadState.RECEIVING, stored_file__isnull=True):
        if upload.offset >= upload.length:
            upload_recover(upload)
            count += 1
    return count


def _terminate(owner: Owner, upload_id: UUID) -> HttpResponse:
    upload = _get_upload(owner, upload_id)
    path = partial_path(upload)
    if path.exists():
        with _locked(path):
            Upload.objects.filter(pk=upload.pk).update(state=UploadState.TERMINATED)
        path.unlink(missing_ok=True)
    else:
        Upload.objects.filter(pk=upload.pk).update(state=UploadState.TERMINATED)
    return _base_headers(HttpResponse(status=204))


def _file_json(upload: Upload) -> HttpResponse:
    if upload.stored_file is None:
        data: dict[str, Any] = {"id": str(upload.pk), "offset": upload.offset, "length": upload.length, "file": None}
    else:
        stored = upload.stored_file
        data = {
            "id": str(upload.pk),
            "offset": upload.offset,
            "length": upload.length,
            "file": {
                "id": str(stored.pk),
                "name": stored.original_name,
                "sha256": stored.sha256,
                "size": stored.size,
                "content_type": stored.content_type,
                "created_at": stored.created_at.isoformat(),
            },
        }
    return _base_headers(JsonResponse(data, json_dumps_params={"ensure_ascii": False}))


def _method(request: HttpRequest) -> str:
    override = request.headers.get("X-HTTP-Method-Override", "")
    return override.upper() if request.method == "POST" and override else (request.method or "")


def _check_version(request: HttpRequest) -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise AppError(ErrorCode.TUS_VERSION_UNSUPPORTED, _("仅支持 tus 1.0.0。"), Tus_Version=TUS_VERSION)


@csrf_exempt
def collection_view(request: HttpRequest) -> HttpResponse:
    method = _method(request)
    try:
        if method == "OPTIONS":
            return _options()
        if method != "POST":
            raise AppError(ErrorCode.METHOD_NOT_ALLOWED, _("不支持的方法。"), Allow="OPTIONS, POST")
        _check_version(request)
        return _create(request, _owner(request))
    except AppError as exc:
        return _error(exc)


_RESOURCE_METHODS = ("GET", "HEAD", "PATCH", "DELETE", "OPTIONS")


@csrf_exempt
def resource_view(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    method = _method(request)
    try:
        if method == "OPTIONS":
            return _options()
        if method not in _RESOURCE_METHODS:  # before the tus headers: 405, not 412
            raise AppError(ErrorCode.METHOD_NOT_ALLOWED, _("不支持的方法。"), Allow=", ".join(_RESOURCE_METHODS))
        if method == "GET":
            owner = _owner(request)
            upload = owner.uploads().filter(pk=upload_id).first()
            if upload is None:
                raise AppError(ErrorCode.NOT_FOUND, _("上传任务不存在。"))
            upload = upload_recover(upload)
            return _file_json(Upload.objects.select_related("stored_file").get(pk=upload.pk))
        _check_version(request)
        owner = _owner(request)
        for unfinished in owner.uploads().filter(pk=upload_id, state=UploadState.RECEIVING):
            upload_recover(unfinished)  # the next request finishes a completion a crash left
        if method == "HEAD":
            upload = owner.uploads().filter(pk=upload_id).first()
            if upload is not None and upload.state == UploadState.COMPLETE:
                return _head(upload)
            return _head(_get_upload(owner, upload_id))
        if method == "PATCH":
            return _patch(request, owner, upload_id)
        return _terminate(owner, upload_id)
    except AppError as exc:
        return _error(exc)


def uploads_expire() -> int:
    """Abandoned uploads past ``expires_at``: the partial data goes, the row is marked."""

    count = 0
    for upload in Upload.objects.filter(state=UploadState.RECEIVING, expires_at__lt=timezone.now()):
        path = partial_path(upload)
        try:
            if path.exists():
                with _locked(path):
                    Upload.objects.filter(pk=upload.pk).update(state=UploadState.EXPIRED)
                path.unlink(missing_ok=True)
            else:
                Upload.objects.filter(pk=upload.pk).update(state=UploadState.EXPIRED)
        except AppError:
            continue  # being written right now: not abandoned
        count += 1
    return count


def uploads_orphans_remove() -> int:
    """Remove the partial files (``<id>.part`` in ``INSPECTA_UPLOAD_TEMP_DIR``) of uploads
    that no longer receive (finished, ended, expired, or never recorded) once older than
    ``INSPECTA_ORPHAN_GRACE_HOURS``; the uploads are read ``ORPHAN_BATCH`` at a time and
    nothing else in the folder is touched. Answers how many were removed."""

    from inspecta.core.files import ORPHAN_BATCH

    grace = float(settings.INSPECTA_ORPHAN_GRACE_HOURS)
    folder = Path(settings.INSPECTA_UPLOAD_TEMP_DIR)
    if grace < 0 or not folder.is_dir():
        return 0
    cutoff = (timezone.now() - timedelta(hours=grace)).timestamp()
    removed = 0
    batch: dict[UUID, Path] = {}

    def sweep() -> int:
        receiving = set(
            Upload.objects.filter(pk__in=list(batch), state=UploadState.RECEIVING).values_list("pk", flat=True)
        )
        count = 0
        for upload_id, path in batch.items():
            if upload_id in receiving:
                continue
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                with _locked(path):
                    path.unlink()
            except (AppError, OSError):  # being written, or gone meanwhile
                continue
            logger.info("orphaned partial upload removed: %s", path.name)
            count += 1
        batch.clear()
        return count

    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.endswith(".part") or not entry.is_file(follow_symlinks=False):
                continue
            try:
                upload_id = UUID(entry.name.removesuffix(".part"))
            except ValueError:
                continue
            batch[upload_id] = folder / entry.name
            if len(batch) >= ORPHAN_BATCH:
                removed += sweep()
    if batch:
        removed += sweep()
    if removed:
        logger.info("orphaned partial uploads removed: %d", removed)
    return removed
