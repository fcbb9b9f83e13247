"""Reads of accounts and organisations, always scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import AuthEvent, Organisation, Passkey, Registration, User


def user_list(*, actor: User) -> QuerySet[User]:
    """The accounts ``actor`` may see; ``filtersets.UserFilterSet`` narrows them."""

    qs = (
        User.objects.restrict(actor)
        .select_related("organisation", "organisation__region")
        .prefetch_related("role_grants")
    )
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


def passkey_list(*, actor: User, user: User) -> QuerySet[Passkey]:
    """The passkeys of ``user`` that are in use and that ``actor`` may see (the person
    themself; operators), oldest first."""

    return Passkey.objects.restrict(actor).filter(user=user, removed_at__isnull=True).order_by("created_at", "id")


def passkey_get(*, actor: User, pk: int, action: str = "view") -> Passkey:
    """A passkey in use that ``actor`` may ``action``, else ``Http404`` (as a missing one)."""

    return Passkey.objects.filter(removed_at__isnull=True).reach(actor, action, pk=pk)


def registration_list(*, actor: User) -> QuerySet[Registration]:
    """The personal registrations ``actor`` may see: its own organisation's for an
    agency or party admin, every one for operators (Nanchang 一(二))."""

    return Registration.objects.restrict(actor).select_related("organisation", "photo", "user", "decided_by")


def registration_get(*, actor: User, pk: int) -> Registration:
    return registration_list(actor=actor).get(pk=pk)
