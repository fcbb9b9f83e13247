"""The inbox link with its unread count beside the user menu of every page
(``templates/base.html``): one query on a partial index, made only when a page renders
the bar (a lazy value), none for visitors and clients."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from .permissions import has_inbox


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not has_inbox(user):
        return {}

    def badge() -> dict[str, Any]:
        from .selectors import unread_count

        return {"url": reverse("notifications:inbox"), "unread": unread_count(actor=user)}

    return {"inbox": SimpleLazyObject(badge)}
