"""The kinds of notification: each app declares the kinds it sends (``notification_kinds``
on its ``AppConfig``, read by ``core.appconfig.notification_kinds``), each with a stable
code, a Chinese label and the channels it goes out on by default; each person may switch
e-mail and SMS per kind on their preferences page (T/CECS 8.2.4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inspecta.core.appconfig import notification_kinds

from .choices import Channel

__all__ = ["NotificationKind", "kind_label", "kinds", "kinds_for"]


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification an app sends with ``notifications.services.notify``.

    ``code`` is stable (stored on every notification and preference; never renamed),
    ``label`` is what the preferences page and the inbox show, ``channels`` are the
    channels besides the inbox it uses until the person chooses otherwise, and
    ``audience(user)`` says whom the preferences page offers it to (``None``: everyone
    signed in)."""

    code: str
    label: Any
    channels: tuple[Channel, ...] = (Channel.EMAIL,)
    audience: Callable[[Any], bool] | None = None
    description: Any = ""

    def offered_to(self, user: Any) -> bool:
        return self.audience is None or bool(self.audience(user))


def kinds() -> dict[str, NotificationKind]:
    """Every declared kind by code, in ``INSTALLED_APPS`` order."""

    return notification_kinds()


def kinds_for(user: Any) -> list[NotificationKind]:
    """The kinds the preferences page offers ``user``."""

    return [kind for kind in kinds().values() if kind.offered_to(user)]


def kind_label(code: str) -> Any:
    """The label of ``code``; the code itself for a kind no app declares any more."""

    kind = kinds().get(code)
    return kind.label if kind is not None else code
