"""Who may do what with projects and contracts: the predicates that services, views and
templates share (DESIGN.md "Who uses it"; T/CECS 4.3.2-4.3.3)."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import Role
from inspecta.core.actors import actor_of
from inspecta.core.permissions import (
    has_role,
    has_scope,
    is_agency,
    is_authority,
    is_operator,
    is_party,
    is_regulator,
)
from inspecta.core.scoping import permits
from inspecta.exchange.choices import Scope

__all__ = [
    "may_change_plan",
    "may_create_in",
    "may_file_plan",
    "may_name_people",
    "may_register_projects",
    "may_upload_contract",
    "may_view_plan_calendar",
    "nameable_parties",
]

may_register_projects = is_authority & (
    has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR)
    | has_scope(Scope.PROJECTS_WRITE)
    | has_scope(Scope.SYNC_PUSH)
)
"""Registers and changes projects of its region: an authority's admins and supervisors,
or the authority's platform through the exchange API with ``projects:write`` or, for a
lower platform pushing its projects up, ``sync:push`` (T/CECS 4.3.2: "created by
authorities or through the exchange API"; 6.0.7)."""


def may_create_in(who: Any, region_code: str = "") -> bool:
    """Registers a project located in ``region_code`` (any region it may, when empty:
    whether to offer the form at all)."""

    actor = actor_of(who)
    if is_operator(actor):
        return True
    return bool(may_register_projects(actor) and (not region_code or actor.within(region_code)))


def may_upload_contract(who: Any, project: Any) -> bool:
    """Uploads a testing contract of ``project``: an agency that is a party of it, for
    itself (T/CECS 4.3.3)."""

    from inspecta.registry.models import Agency

    actor = actor_of(who)
    if not is_agency(actor) or actor.organisation is None:
        return False
    return Agency.objects.filter(organisation_id=actor.organisation.pk, pk__in=project.agency_ids()).exists()


def may_file_plan(who: Any, project: Any) -> bool:
    """Files an on-site inspection plan on ``project``: an agency that is a party of it,
    for itself, from a browser or its LIMS (Nanchang 二(三); Guangxi 第十条)."""

    return may_upload_contract(who, project)


def may_change_plan(who: Any, plan: Any) -> bool:
    """Changes or cancels ``plan``: the agency that filed it, while it is not cancelled."""

    from .choices import PlanStatus

    return plan.status == PlanStatus.FILED and permits(who, plan, "change")


may_view_plan_calendar = is_operator | is_regulator
"""Opens the calendar of upcoming on-site tests: the authorities and stations (of their
region's projects), operators (Guangxi 第十条: the plans are filed so that the supervisors
can be there)."""


def may_name_people(who: Any, party: Any) -> bool:
    """Names and un-names the samplers and witnesses ``party`` serves ``party.project``
    with: the admin (参建单位管理员) of the party's own organisation, for an owner,
    contractor or supervising firm that has accounts here (Nanchang 一(二))."""

    from .choices import PartyRole

    actor = actor_of(who)
    if party.role == PartyRole.AGENCY or party.organisation_id is None:
        return False
    return bool(
        (is_party & has_role(Role.PARTY_ADMIN))(actor)
        and actor.organisation is not None
        and actor.organisation.pk == party.organisation_id
    )


def nameable_parties(who: Any, parties: Any) -> list[int]:
    """The ids of those of ``parties`` whose people ``who`` may name (``may_name_people``)."""

    return [party.pk for party in parties if may_name_people(who, party)]
