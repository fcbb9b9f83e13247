"""Every read of notifications, restricted to the actor (STYLE.md 6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from .catalog import kinds_for
from .choices import Channel
from .models import Delivery, Notification, Preference
from .services import channels_available

__all__ = ["PreferenceRow", "delivery_list", "inbox", "notification_get", "preference_rows", "unread_count"]


def inbox(*, actor: Any) -> QuerySet[Notification]:
    """The actor's own messages, newest first."""

    return Notification.objects.restrict(actor).order_by("-created_at", "-id")


def notification_get(*, actor: Any, pk: int) -> Notification:
    """One of the actor's messages, or ``Http404`` (another person's answers as a missing one)."""

    return Notification.objects.reach(actor, pk=pk)


def unread_count(*, actor: Any) -> int:
    """How many of the actor's messages are unread (the badge of the navigation bar: one
    query on a partial index)."""

    return Notification.objects.restrict(actor).filter(read_at__isnull=True).count()


def delivery_list(*, actor: Any) -> QuerySet[Delivery]:
    """Every delivery the actor may see (operators: all), newest first, with the message
    and its recipient."""

    return Delivery.objects.restrict(actor).select_related("notification__recipient").order_by("-id")


@dataclass(frozen=True)
class PreferenceRow:
    """One kind on a person's preferences page: what they chose (or the defaults) and
    which channels can reach them at all."""

    kind: Any
    email: bool
    sms: bool
    email_offered: bool
    sms_offered: bool


def preference_rows(*, actor: Any) -> list[PreferenceRow]:
    stored = {p.kind: p for p in Preference.objects.restrict(actor)}
    available = channels_available(actor)
    rows = []
    for kind in kinds_for(actor):
        preference = stored.get(kind.code)
        rows.append(
            PreferenceRow(
                kind=kind,
                email=preference.email if preference else Channel.EMAIL in kind.channels,
                sms=preference.sms if preference else Channel.SMS in kind.channels,
                email_offered=Channel.EMAIL in available,
                sms_offered=Channel.SMS in available,
            )
        )
    return rows
