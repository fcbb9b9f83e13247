"""The audit trail (Guangxi 第七条(八); T/CECS 8.3.3).

Every change to every audited model is recorded by django-simple-history as a historical
row carrying who (the signed-in person, or the exchange client acting for its
organisation, as a foreign key), when, the request id and the client address;
``before`` is the previous historical row of the same object. Historical rows are
append-only: the application refuses to update or delete them
(``AuditRecord.save``/``delete``).

Services name the actor of a write with :func:`audit_stamp` (one object saved) or write
the rows of a bulk insert with :func:`audit_bulk_history`; a signed call's client is
also taken from the request (``current_client``), so no write through the exchange API
goes unattributed.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
current_client: contextvars.ContextVar[Any] = contextvars.ContextVar("exchange_client", default=None)
"""The exchange client of the signed call being served (set by the signature check)."""


class AuditRowImmutable(Exception):
    """Raised when code tries to change or remove an audit row."""


class AuditRecord(models.Model):
    """Abstract base of every historical model: extra columns and immutability."""

    request_id = models.CharField(_("请求编号"), max_length=64, blank=True, default="")
    remote_addr = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    acting_client = models.ForeignKey(
        "exchange.ExchangeClient",
        verbose_name=_("接入方"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # an audit row outlives whatever it names
        related_name="+",
    )

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


def _person_and_client(actor: Any) -> tuple[Any, Any]:
    from .actors import Actor

    if actor is None:
        return None, None
    if isinstance(actor, Actor):
        return actor.user, actor.client
    return actor, None  # a User, whatever the state of its organisation


def audit_columns(actor: Any = None) -> dict[str, Any]:
    """The project's audit columns of a row written now by ``actor`` (a ``User``, an
    ``Actor`` or ``None``): request id, client address, acting exchange client."""

    from simple_history.models import HistoricalRecords

    request = getattr(HistoricalRecords.context, "request", None)
    _person, client = _person_and_client(actor)
    return {
        "request_id": current_request_id.get(),
        "remote_addr": (request.META.get("REMOTE_ADDR") or None) if request is not None else None,
        "acting_client": client if client is not None else current_client.get(),
    }


def audit_stamp(obj: models.Model, actor: Any, reason: str = "") -> None:
    """Name who changes ``obj`` (and why) on the historical row its next save writes:
    the person, or the exchange client acting for its organisation."""

    person, client = _person_and_client(actor)
    obj._history_user = person  # type: ignore[attr-defined]
    if client is not None:
        obj._history_client = client  # type: ignore[attr-defined]
    if reason:
        obj._change_reason = reason[:100]  # type: ignore[attr-defined]


def audit_bulk_history(
    model: type[models.Model],
    objs: list[Any],
    *,
    actor: Any = None,
    date: Any = None,
    reason: str | None = None,
    batch_size: int = 1000,
) -> None:
    """The historical rows of objects written with ``bulk_create`` (which sends no
    signals), with the same columns a single save writes."""

    if not objs:
        return
    user, _client = _person_and_client(actor)
    model.history.bulk_history_create(  # type: ignore[attr-defined]
        objs,
        batch_size=batch_size,
        default_user=user,
        default_date=date,
        default_change_reason=reason,
        custom_historical_attrs=audit_columns(actor),
    )


def display_value(field: models.Field[Any, Any], value: Any) -> Any:
    """A stored value as the clerk knows it: a choice by its label, a boolean as 是/否, a
    related record by its name, a time in local time as ``Y-m-d H:i:s`` and a date as
    ``Y-m-d`` (the formats of every page); ``None`` for nothing."""

    import datetime

    from django.utils import timezone

    if value is None or value == "":
        return None
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(field, models.ManyToManyField) and isinstance(value, list | tuple):
        target = field.m2m_reverse_field_name()
        keys = [row.get(target, row.get(f"{target}_id")) if isinstance(row, dict) else row for row in value]
        found = {o.pk: str(o) for o in field.related_model._default_manager.filter(pk__in=keys)}  # type: ignore[union-attr]
        return "、".join(found.get(k, str(k)) for k in keys) or None
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, models.BooleanField):
        return _("是") if value else _("否")
    if isinstance(field, models.ForeignKey):
        related = field.related_model._default_manager.filter(pk=value).first()  # type: ignore[union-attr]
        return str(related) if related is not None else value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    return value


def history_rows(obj: models.Model) -> list[dict[str, Any]]:
    """Rows for an object's history page: each change with its before/after values, by
    field label and display value (``display_value``)."""

    records = list(obj.history.select_related("history_user", "acting_client").order_by("-history_date", "-history_id"))  # type: ignore[attr-defined]
    rows = []
    for index, record in enumerate(records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                field = record.instance._meta.get_field(change.field)
                changes.append(
                    {
                        "field": field.verbose_name,
                        "before": display_value(field, change.old),
                        "after": display_value(field, change.new),
                    }
                )
        else:
            for field in record.instance._meta.concrete_fields:
                value = getattr(record, field.attname, None)
                if value not in (None, ""):
                    changes.append({"field": field.verbose_name, "before": None, "after": display_value(field, value)})
        rows.append({"record": record, "previous": previous, "changes": changes})
    return rows
