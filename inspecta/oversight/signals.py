"""Event-driven warnings: a finding saved by any app raises, closes or reopens its
warning in the same transaction (the periodic ``warnings_sync`` catches the findings
written in bulk, which send no signal)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from inspecta.core.findings import finding_models


def _finding_saved(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw:  # fixtures
        return
    if update_fields is not None and "status" not in update_fields:
        return  # a recomputation touching ``last_seen`` or the words: the warning stands
    from .services import warnings_sync

    warnings_sync(models=[sender], pk=instance.pk)


def connect() -> None:
    for model in finding_models():
        post_save.connect(_finding_saved, sender=model, dispatch_uid=f"oversight-warning-{model._meta.label}")
