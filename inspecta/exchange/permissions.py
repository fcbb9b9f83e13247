"""Who may do what with exchange access: the predicates that services, views and
templates share (T/CECS 6.0.4, 6.0.7-6.0.8)."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import Role
from inspecta.core.actors import actor_of
from inspecta.core.permissions import has_role, is_authority, is_member, is_operator, is_person, is_regulator

__all__ = ["is_competent_for", "may_apply", "may_manage_client", "may_monitor", "may_receive_secret", "may_review"]

may_apply = is_person & is_member & has_role(Role.AGENCY_ADMIN, Role.AUTHORITY_ADMIN, Role.PARTY_ADMIN)
"""An organisation's admin applies for its own systems (T/CECS 6.0.7-6.0.8): an agency's
LIMS, an authority's platform, a project party's site app (sampling and witnessing)."""

may_monitor = is_operator | is_regulator
"""Watches exchange traffic and anomalies (T/CECS 6.0.4): operators and regulators."""

_reviewer = is_authority & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR)


def is_competent_for(who: Any, organisation: Any) -> bool:
    """The authority of ``organisation``'s region (not the organisation itself) decides its
    access and runs its clients."""

    actor = actor_of(who)
    return bool(_reviewer(actor) and organisation.pk != actor.organisation_id and actor.within(organisation.region_id))


def may_review(who: Any, application: Any) -> bool:
    """Approves or rejects an access application."""

    return is_competent_for(who, application.organisation)


def may_manage_client(who: Any, client: Any) -> bool:
    """The client's own organisation admins (keys) and its competent authority."""

    actor = actor_of(who)
    own_admin = may_apply(actor) and actor.organisation_id == client.organisation_id
    return bool(own_admin) or is_competent_for(actor, client.organisation)


def may_receive_secret(who: Any, client: Any) -> bool:
    """Is shown a client's HMAC secret (once per key): an admin of the client's own
    organisation, the applicant (T/CECS 6.0.5, 6.0.8). Never the authority that approved
    it, never the organisation's other people."""

    actor = actor_of(who)
    return bool(may_apply(actor)) and actor.organisation_id == client.organisation_id
