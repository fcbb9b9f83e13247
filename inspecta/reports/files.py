"""Files uploaded through the web forms become ``StoredFile`` records exactly like tus
uploads (CONTRACT §4): type sniffed from the content, SHA-256, default storage."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.errors import AppError, ErrorCode
from inspecta.exchange.models import StoredFile


def store_upload(
    *, organisation_id: int, user: Any, upload: Any, allowed: tuple[str, ...] = ("application/pdf",)
) -> StoredFile:
    content = upload.read()
    if len(content) > settings.INSPECTA_UPLOAD_MAX_SIZE:
        raise AppError(ErrorCode.PAYLOAD_TOO_LARGE, _("文件过大。"))
    kind = filetype.guess(content[:8192])
    content_type = kind.mime if kind is not None else "application/octet-stream"
    if content_type not in allowed:
        raise AppError(ErrorCode.UNSUPPORTED_FILE_TYPE, _("不接受的文件类型：%(t)s。") % {"t": content_type})
    now = timezone.now()
    file_id = uuid.uuid4()
    path = default_storage.save(
        f"exchange/{now:%Y/%m}/{file_id}.{kind.extension if kind else 'bin'}", ContentFile(content)
    )
    return StoredFile.objects.create(
        id=file_id,
        organisation_id=organisation_id,
        uploaded_by=user,
        name=str(getattr(upload, "name", ""))[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content_type=content_type,
        storage_path=path,
    )
