"""Storing and serving files (CONTRACT §4; T/CECS 6.0.2, 6.0.4): the one way a file
becomes a :class:`~inspecta.core.models.StoredFile` and the one way it is read back.

:func:`file_store` takes bytes or a binary stream, sniffs the type from the content
(``filetype``; the name the client gives is kept for display, never trusted), enforces
the limits of the file's *purpose* (``INSPECTA_FILE_PURPOSES``), computes the SHA-256,
writes the bytes to the default storage (local folder or S3-compatible object storage)
and records the row, audited with the person or exchange client acting. A refused file
leaves nothing behind: no row and no bytes.

:func:`file_open` reads a stored file; :func:`file_response` serves one to a browser
with the headers every download carries (inline with its original name, ``nosniff``,
never cached by a shared cache); the page ``/files/<id>/`` (``core:file``) serves a
file to whoever may see it (``StoredFile.scoping``), anyone else gets 404.

Limits: every purpose is at most ``INSPECTA_UPLOAD_MAX_SIZE`` and accepts only types of
``INSPECTA_UPLOAD_ALLOWED_TYPES`` (the documented limits of CONTRACT §4); a purpose may
narrow both (registry scans: PDF, JPEG, PNG up to ``INSPECTA_REGISTRY_MAX_UPLOAD_BYTES``).

Orphans: the bytes are written before the row, so a transaction around ``file_store``
that rolls back (a refused submission after its stamped copy was stored, a batch that
fails, a crash) leaves bytes no row names. :func:`files_orphans_remove` (a housekeeping
job) walks the files' folder of the storage (``files/``) and removes the bytes that no
``StoredFile`` row (nor its audit history) names once they are older than
``INSPECTA_ORPHAN_GRACE_HOURS``, so a transaction still in flight never loses its file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import IO, Any
from urllib.parse import quote

import filetype
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import _person_and_client, audit_stamp
from .errors import AppError, ErrorCode
from .models import StoredFile

__all__ = [
    "FileLimits",
    "file_check",
    "file_limits",
    "file_open",
    "file_read",
    "file_response",
    "file_store",
    "file_store_many",
    "files_orphans_remove",
]

logger = logging.getLogger("inspecta.security")

SNIFF_BYTES = 8192
CHUNK = 1024 * 1024
FILES_ROOT = "files"
"""The folder of the default storage that holds every file written by ``file_store``."""
ORPHAN_BATCH = 1000
"""Names checked against the rows per query by :func:`files_orphans_remove`."""

TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/tiff": "TIFF",
    "image/heic": "HEIC",
    "video/mp4": "MP4",
    "video/quicktime": "QuickTime",
    "video/x-msvideo": "AVI",
    "application/zip": "ZIP",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/msword": "DOC",
    "application/vnd.ms-excel": "XLS",
}
"""How a type is named in a message to a person."""


@dataclass(frozen=True)
class FileLimits:
    """What a purpose accepts: the largest size in bytes and the sniffed types."""

    max_size: int
    types: tuple[str, ...]

    def type_names(self) -> str:
        return "、".join(TYPE_LABELS.get(t, t) for t in self.types)

    def size_text(self) -> str:
        mb = self.max_size / (1024 * 1024)
        if mb >= 1:
            return f"{mb:g} MB"
        return f"{self.max_size} 字节"


def file_limits(purpose: str) -> FileLimits:
    """The limits of ``purpose``: its entry of ``INSPECTA_FILE_PURPOSES`` (``max_size``
    and ``types``, each optional), never wider than the general upload limits."""

    purposes: dict[str, dict[str, Any]] = settings.INSPECTA_FILE_PURPOSES
    if purpose not in purposes:
        raise ValueError(f"unknown file purpose {purpose!r}")
    entry = purposes[purpose]
    general = tuple(settings.INSPECTA_UPLOAD_ALLOWED_TYPES)
    types = tuple(t for t in (entry.get("types") or general) if t in general)
    max_size = min(int(entry.get("max_size") or settings.INSPECTA_UPLOAD_MAX_SIZE), settings.INSPECTA_UPLOAD_MAX_SIZE)
    return FileLimits(max_size=max_size, types=types)


def _size_of(stream: IO[bytes]) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _stream(source: bytes | IO[bytes] | File) -> IO[bytes]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(bytes(source))
    if isinstance(source, File):
        source.open("rb")
        return source.file  # type: ignore[return-value]
    return source


def file_check(*, size: int, purpose: str) -> FileLimits:
    """Refuse a file of ``size`` bytes before its bytes arrive (tus creation)."""

    limits = file_limits(purpose)
    if size > limits.max_size:
        raise AppError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            _("文件过大：不能超过 %(limit)s。") % {"limit": limits.size_text()},
            {"max_size": limits.max_size},
        )
    return limits


def file_store(
    source: bytes | IO[bytes] | File,
    *,
    organisation_id: int,
    purpose: str,
    name: str = "",
    actor: Any = None,
    file_id: uuid.UUID | None = None,
) -> StoredFile:
    """Store ``source`` (bytes or a seekable binary stream) as a file of
    ``organisation_id`` for ``purpose``; ``actor`` (a ``User``, an exchange client's
    ``Actor`` or nobody) is recorded as uploader and in the audit trail.

    Raises ``AppError`` (``payload_too_large``, ``unsupported_file_type``) with a message
    naming the limit; then nothing is stored."""

    stream = _stream(source)
    size = _size_of(stream)
    limits = file_check(size=size, purpose=purpose)
    head = stream.read(SNIFF_BYTES)
    kind = filetype.guess(head) if head else None
    content_type = kind.mime if kind is not None else "application/octet-stream"
    if content_type not in limits.types:
        if content_type in TYPE_LABELS:
            text = _("不接受 %(t)s 文件，只接受 %(types)s 文件。") % {
                "t": TYPE_LABELS[content_type],
                "types": limits.type_names(),
            }
        else:  # the clerk is not shown a media type such as application/octet-stream
            text = _("无法识别该文件的格式，只接受 %(types)s 文件。") % {"types": limits.type_names()}
        raise AppError(ErrorCode.UNSUPPORTED_FILE_TYPE, text, {"content_type": content_type})
    stream.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(CHUNK), b""):
        digest.update(block)
    stream.seek(0)
    file_id = file_id or uuid.uuid4()
    now = timezone.now()
    extension = f".{kind.extension}" if kind is not None else ""
    path = default_storage.save(f"{FILES_ROOT}/{purpose}/{now:%Y/%m}/{file_id}{extension}", File(stream))
    user, client = _person_and_client(actor)
    stored = StoredFile(
        id=file_id,
        organisation_id=organisation_id,
        uploaded_by=user,
        client=client,
        original_name=str(name or "")[-255:],
        purpose=purpose[:64],
        sha256=digest.hexdigest(),
        size=size,
        content_type=content_type,
        file=path,
        created_at=now,
    )
    audit_stamp(stored, actor)
    try:
        with transaction.atomic():
            stored.save(force_insert=True)
    except BaseException:
        default_storage.delete(path)
        raise
    return stored


def file_store_many(
    contents: list[tuple[bytes, str]], *, organisation_id: int, purpose: str, actor: Any = None
) -> list[StoredFile | AppError]:
    """``file_store`` for many ``(content, name)`` pairs of one organisation and purpose,
    with one INSERT for the rows and one for their audit rows (a batch of reports stores
    its stamped copies so). Each answers with its ``StoredFile`` or the ``AppError`` that
    refused it (size, type); a refused one stores nothing."""

    from .audit import audit_bulk_history

    now = timezone.now()
    user, client = _person_and_client(actor)
    out: list[StoredFile | AppError] = []
    rows: list[StoredFile] = []
    limits = file_limits(purpose)
    for content, name in contents:
        try:
            file_check(size=len(content), purpose=purpose)
            kind = filetype.guess(content[:SNIFF_BYTES]) if content else None
            content_type = kind.mime if kind is not None else "application/octet-stream"
            if content_type not in limits.types:
                raise AppError(
                    ErrorCode.UNSUPPORTED_FILE_TYPE,
                    _("不接受的文件类型：%(t)s。只接受 %(types)s 文件。")
                    % {"t": TYPE_LABELS.get(content_type, content_type), "types": limits.type_names()},
                )
        except AppError as exc:
            out.append(exc)
            continue
        file_id = uuid.uuid4()
        extension = f".{kind.extension}" if kind is not None else ""
        path = default_storage.save(
            f"{FILES_ROOT}/{purpose}/{now:%Y/%m}/{file_id}{extension}", File(io.BytesIO(content))
        )
        stored = StoredFile(
            id=file_id,
            organisation_id=organisation_id,
            uploaded_by=user,
            client=client,
            original_name=str(name or "")[-255:],
            purpose=purpose[:64],
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            content_type=content_type,
            file=path,
            created_at=now,
        )
        rows.append(stored)
        out.append(stored)
    try:
        with transaction.atomic():
            StoredFile.objects.bulk_create(rows)
            audit_bulk_history(StoredFile, rows, actor=actor, date=now)
    except BaseException:
        for stored in rows:
            default_storage.delete(stored.file.name)
        raise
    return out


def file_open(stored: StoredFile) -> IO[bytes]:
    """The stored bytes, opened for reading (the caller closes them)."""

    return default_storage.open(stored.file.name, "rb")


def file_read(stored: StoredFile) -> bytes:
    with file_open(stored) as handle:
        return handle.read()


def file_response(stored: StoredFile, *, filename: str | None = None, download: bool = False) -> FileResponse:
    """``stored`` served to a browser: its sniffed type, inline (or, ``download``, as an
    attachment) under ``filename`` or its original name, never re-sniffed by the
    browser, never kept by a shared cache."""

    try:
        handle = file_open(stored)
    except OSError as exc:
        raise Http404(_("文件内容已不存在。")) from exc
    response = FileResponse(handle, content_type=stored.content_type)
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(filename or stored.original_name or 'file')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------- orphans


def _stored_names(folder: str) -> Iterator[str]:
    """Every name under ``folder`` of the default storage, one folder listed at a time."""

    folders, names = default_storage.listdir(folder)
    for name in sorted(names):
        yield f"{folder}/{name}"
    for sub in sorted(folders):
        yield from _stored_names(f"{folder}/{sub}")


def _named(names: list[str], *, by_id: bool) -> set[str]:
    """Those of ``names`` a ``StoredFile`` row or one of its history rows names: looked up
    by the id each name begins with (``file_store`` names the bytes after the row's id;
    primary-key index), or, ``by_id`` false, by the name itself."""

    history = StoredFile.history.model  # type: ignore[attr-defined]
    if by_id:
        ids = set()
        for name in names:
            try:
                ids.add(uuid.UUID(PurePosixPath(name).name[:36]))
            except ValueError:
                continue
        lookups = [StoredFile.objects.filter(pk__in=ids), history.objects.filter(id__in=ids)]
    else:
        lookups = [StoredFile.objects.filter(file__in=names), history.objects.filter(file__in=names)]
    found: set[str] = set()
    for queryset in lookups:
        found.update(queryset.order_by().values_list("file", flat=True).distinct())
    return found & set(names)


def _orphans_of(names: list[str], cutoff: Any) -> list[str]:
    named = _named(names, by_id=True)
    unnamed = [name for name in names if name not in named]
    old = []
    for name in unnamed:
        try:
            if default_storage.get_modified_time(name) < cutoff:
                old.append(name)
        except (OSError, NotImplementedError):  # gone meanwhile, or no time: kept
            continue
    if not old:
        return []
    named = _named(old, by_id=False)
    return [name for name in old if name not in named]


def files_orphans_remove() -> int:
    """Remove the bytes under ``files/`` of the storage that no ``StoredFile`` row (nor the
    audit history of one) names and that are older than ``INSPECTA_ORPHAN_GRACE_HOURS``:
    left by a transaction that stored a file and then rolled back. Nothing outside
    ``files/`` is touched, and the rows are read ``ORPHAN_BATCH`` names at a time; a
    negative grace period switches the removal off. Answers how many were removed."""

    grace = float(settings.INSPECTA_ORPHAN_GRACE_HOURS)
    if grace < 0 or not default_storage.exists(FILES_ROOT):  # negative: switched off (restores)
        return 0
    cutoff = timezone.now() - timedelta(hours=grace)
    removed = 0
    batch: list[str] = []

    def sweep() -> int:
        if not batch:
            return 0
        count = 0
        for name in _orphans_of(batch, cutoff):
            parts = PurePosixPath(name).parts
            if parts[0] != FILES_ROOT or ".." in parts:  # never outside the files' folder
                continue
            default_storage.delete(name)
            logger.info("orphaned file removed: %s", name)
            count += 1
        batch.clear()
        return count

    for name in _stored_names(FILES_ROOT):
        batch.append(name)
        if len(batch) >= ORPHAN_BATCH:
            removed += sweep()
    removed += sweep()
    if removed:
        logger.info("orphaned files removed: %d", removed)
    return removed
