"""Who may administer accounts and organisations: the predicates that services, views,
templates and the navigation share (Guangdong 附件2 一(一): accounts allocated top-down;
Nanchang 一(二): agencies and project parties confirm their own people)."""

from __future__ import annotations

from typing import Any

from inspecta.core.actors import actor_of
from inspecta.core.masking import Audience
from inspecta.core.permissions import has_role, is_agency, is_authority, is_operator, is_party, is_regulator

from .choices import ADMIN_ROLES, Role

__all__ = [
    "administers_own_organisation",
    "administers_tree",
    "may_administer_accounts",
    "may_administer_organisations",
    "may_allocate",
    "may_decide_registration",
    "may_manage",
    "person_audience",
]

administers_tree = is_authority & has_role(Role.AUTHORITY_ADMIN)
"""Sees and manages the accounts of its allocation subtree (Guangdong 附件2 一(一))."""

administers_own_organisation = (is_agency & has_role(Role.AGENCY_ADMIN)) | (is_party & has_role(Role.PARTY_ADMIN))
"""The admin of an agency or of a project party (owner, contractor, supervising firm):
confirms the people who register for it and manages their accounts (Nanchang 一(二))."""

may_administer_accounts = is_operator | administers_tree | administers_own_organisation
"""Has an account list to manage: operators, authority admins (their subtree),
agency and party admins (their own organisation)."""

may_administer_organisations = is_operator | administers_tree
"""Creates and lists organisations of the allocation tree."""


def may_allocate(who: Any, organisation: Any, role: str) -> bool:
    """Creates an account with ``role`` in ``organisation`` (``services.allocatable``)."""

    from .services import allocatable

    return any(a.organisation.pk == organisation.pk and a.role == role for a in allocatable(who))


def may_manage(who: Any, user: Any) -> bool:
    """Disables, resets or edits ``user``: strictly below in the tree, or a non-admin of
    the actor's own organisation; never oneself."""

    actor = actor_of(who)
    if actor.user is None or actor.user.pk == user.pk:
        return False
    if is_operator(actor):
        return True
    own = actor.organisation
    if not may_administer_accounts(actor) or own is None or user.organisation is None:
        return False
    if user.organisation.pk == own.pk:
        return not ADMIN_ROLES.intersection(user.roles)
    if not administers_tree(actor):
        return False
    return bool(user.organisation.tree_path.startswith(own.tree_path))


def may_decide_registration(who: Any, registration: Any) -> bool:
    """Approves or rejects a person's registration: the admin of the organisation the
    person named as employer, while it is pending (Nanchang 一(二))."""

    actor = actor_of(who)
    return (
        actor.user is not None
        and bool(administers_own_organisation(actor))
        and actor.organisation is not None
        and registration.organisation_id == actor.organisation.pk
        and registration.is_pending
    )


def person_audience(who: Any, organisation_id: int | None, person_id: int | None = None) -> Audience:
    """How a person's citizen ID and mobile number are shown to ``who`` (T/CECS 8.x data
    masking): whole to the person themself and to the admin of their own organisation;
    first 6 + last 4 to operators and regulators; first 1 + last 2 to everyone else
    (other organisations' pages, API reads, exports)."""

    actor = actor_of(who)
    if actor.user is not None and person_id is not None and actor.user.pk == person_id:
        return Audience.FULL
    own = actor.organisation
    if administers_own_organisation(actor) and own is not None and own.pk == organisation_id:
        return Audience.FULL
    if is_operator(actor) or is_regulator(actor):
        return Audience.AUTHORITY
    return Audience.PUBLIC
