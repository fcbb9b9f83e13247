"""Log entries as a regulator knows the records they log (T/CECS 4.1.2): the kind in
Chinese, the record by its own name and linked to its page, who caused it and when.

The log explorer is public. Everyone sees the kind, the organisation that acted (a
public body or a registered agency, never a person) and the time; the record's title,
its link and the acting person's name are shown only to whoever may view the record
(its model's declared ``view`` scoping, ``core.scoping.permits``): to anyone else it is
the record's kind and number, exactly as if the record were not theirs to know.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from inspecta.core.scoping import Scoping, permits

from .models import Entry
from .registry import get_kind, record_model

__all__ = ["EntryView", "entry_view", "entry_views"]


@dataclass(frozen=True)
class EntryView:
    entry: Entry
    label: str
    title: str
    url: str
    organisation: str
    person: str
    at: datetime.datetime


def _kind_label(kind: str) -> str:
    spec = get_kind(kind)
    return str(spec.label) if spec and spec.label else kind


def _record(model: type[models.Model] | None, record_id: str) -> models.Model | None:
    if model is None:
        return None
    try:
        return model._default_manager.filter(pk=record_id).first()
    except (ValueError, TypeError):  # an id that is not of the model's key type
        return None


def _may_view(viewer: Any, obj: models.Model) -> bool:
    scoping = getattr(type(obj), "scoping", None)
    if not isinstance(scoping, Scoping) or "view" not in scoping.grants:
        return False
    return permits(viewer, obj, "view")


def _acted(obj: models.Model, at: datetime.datetime) -> Any:
    """The audit row of the change the entry logs: the record's last one up to the
    entry's time."""

    history = getattr(obj, "history", None)
    if history is None:
        return None
    return (
        history.filter(history_date__lte=at)
        .select_related("history_user__organisation", "acting_client__organisation")
        .order_by("-history_date", "-history_id")
        .first()
    )


def entry_view(entry: Entry, viewer: Any) -> EntryView:
    spec = get_kind(entry.kind)
    model = spec.model if spec is not None and spec.model is not None else record_model(entry.record_type)
    obj = _record(model, entry.record_id)
    visible = obj is not None and _may_view(viewer, obj)
    noun = str(model._meta.verbose_name) if model is not None else entry.record_type
    title, url = f"{noun} #{entry.record_id}", ""
    subject = spec.describe(obj) if obj is not None and spec is not None and spec.describe is not None else None
    if subject is not None and visible:
        title, url = subject.title, subject.url
    organisation = person = ""
    user = client = None
    if subject is not None and subject.by is not None:
        is_person = isinstance(subject.by, get_user_model())
        user, client = (subject.by, None) if is_person else (None, subject.by)
    elif obj is not None and (row := _acted(obj, entry.created_at)) is not None:
        user = getattr(row, "history_user", None)
        client = getattr(row, "acting_client", None)
    if user is not None or client is not None:
        acting_org = getattr(user, "organisation", None) or getattr(client, "organisation", None)
        organisation = acting_org.name if acting_org is not None else ""
        if visible:
            if user is not None:
                person = user.full_name or user.username
            elif client is not None:
                person = client.name
    return EntryView(
        entry=entry,
        label=_kind_label(entry.kind),
        title=title,
        url=url,
        organisation=organisation,
        person=person,
        at=entry.created_at,
    )


def entry_views(entries: Iterable[Entry], viewer: Any) -> list[EntryView]:
    return [entry_view(entry, viewer) for entry in entries]
