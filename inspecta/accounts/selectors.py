"""Reads of accounts and organisations, always scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from .models import AuthEvent, Organisation, User


def user_list(*, actor: User, filters: dict[str, Any] | None = None) -> QuerySet[User]:
    filters = filters or {}
    qs = (
        User.objects.restrict(actor)
        .select_related("organisation", "organisation__region")
        .prefetch_related("role_grants")
    )
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(mobile__icontains=q))
    if role := filters.get("role"):
        qs = qs.filter(role_grants__role=role)
    if org := filters.get("organisation"):
        qs = qs.filter(organisation=org)
    if filters.get("is_active") in ("0", "1"):
        qs = qs.filter(is_active=filters["is_active"] == "1")
    from inspecta.ledger.selectors import with_log_index

    return with_log_index(qs).order_by("organisation__tree_path", "username")


def user_get(*, actor: User, pk: int) -> User:
    """The user, or ``User.DoesNotExist`` when it is outside the actor's scope."""

    return user_list(actor=actor).get(pk=pk)


def organisation_list(*, actor: User, action: str = "view") -> QuerySet[Organisation]:
    from inspecta.ledger.selectors import with_log_index

    qs = Organisation.objects.restrict(actor, action).select_related("region", "parent")
    return with_log_index(qs).order_by("tree_path", "name")


def organisation_get(*, actor: User, pk: int) -> Organisation:
    return organisation_list(actor=actor).get(pk=pk)


def auth_events_for(*, actor: User, user: User, limit: int = 20) -> QuerySet[AuthEvent]:
    """Authentication events of a user the actor may see (the user itself or its admins)."""

    if not user_list(actor=actor).filter(pk=user.pk).exists():
        return AuthEvent.objects.none()
    return AuthEvent.objects.filter(Q(user=user) | Q(username=user.username)).order_by("-at", "-id")[:limit]
