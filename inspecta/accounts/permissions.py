"""Who may administer accounts and organisations: the predicates that services, views,
templates and the navigation share (Guangdong 附件2 一(一): accounts allocated top-down)."""

from __future__ import annotations

from typing import Any

from inspecta.core.actors import actor_of
from inspecta.core.permissions import has_role, is_authority, is_operator

from .choices import Role

__all__ = ["may_administer_accounts", "may_allocate", "may_manage"]

may_administer_accounts = is_operator | (is_authority & has_role(Role.AUTHORITY_ADMIN))
"""Creates and manages accounts of its subtree: operators and authority admins."""


def may_allocate(who: Any, organisation: Any, role: str) -> bool:
    """Creates an account with ``role`` in ``organisation`` (``services.allocatable``)."""

    from .services import allocatable

    return any(a.organisation.pk == organisation.pk and a.role == role for a in allocatable(who))


def may_manage(who: Any, user: Any) -> bool:
    """Disables, resets or edits ``user``: strictly below in the tree, or a non-admin of
    the actor's own department; never oneself."""

    actor = actor_of(who)
    if actor.user is None or actor.user.pk == user.pk:
        return False
    if is_operator(actor):
        return True
    own = actor.organisation
    if not may_administer_accounts(actor) or own is None or user.organisation is None:
        return False
    if user.organisation.pk == own.pk:
        return Role.AUTHORITY_ADMIN not in user.roles
    return bool(user.organisation.tree_path.startswith(own.tree_path))
