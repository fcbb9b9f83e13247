"""The audit trail (Guangxi 第七条(八); T/CECS 8.3.3).

Every change to every audited model is recorded by django-simple-history as a historical
row carrying who, when, the request id and the client address; ``before`` is the previous
historical row of the same object. Historical rows are append-only: the application
refuses to update or delete them (``AuditRecord.save``/``delete``).
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class AuditRowImmutable(Exception):
    """Raised when code tries to change or remove an audit row."""


class AuditRecord(models.Model):
    """Abstract base of every historical model: extra columns and immutability."""

    request_id = models.CharField(_("请求编号"), max_length=64, blank=True, default="")
    remote_addr = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditRowImmutable("audit rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditRowImmutable("audit rows cannot be deleted")


def audited(**kwargs: Any) -> HistoricalRecords:
    """``HistoricalRecords`` with the project's audit columns; use on every model."""

    kwargs.setdefault("bases", [AuditRecord])
    kwargs.setdefault("cascade_delete_history", False)
    return HistoricalRecords(**kwargs)


def history_rows(obj: models.Model) -> list[dict[str, Any]]:
    """Rows for an object's history page: each change with its before/after values."""

    records = list(obj.history.select_related("history_user").order_by("-history_date", "-history_id"))  # type: ignore[attr-defined]
    rows = []
    for index, record in enumerate(records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                field = record.instance._meta.get_field(change.field)
                changes.append({"field": field.verbose_name, "before": change.old, "after": change.new})
        else:
            for field in record.instance._meta.concrete_fields:
                value = getattr(record, field.attname, None)
                if value not in (None, ""):
                    changes.append({"field": field.verbose_name, "before": None, "after": value})
        rows.append({"record": record, "previous": previous, "changes": changes})
    return rows
