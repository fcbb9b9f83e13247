"""Reads of projects and contracts scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from inspecta.accounts.choices import OrganisationKind
from inspecta.core.scoping import region_prefix

from .models import Contract, Project, ProjectParty


def organisation_project_q(organisation: Any) -> Q:
    """Projects an organisation's exchange client may read (``projects:read``): a
    regulator's platform (authority or station) the projects located in its region,
    any other organisation the projects it is a party of (as ``project_scope_q``)."""

    if organisation is None or not organisation.is_active:
        return Q(pk__in=[])
    if organisation.kind in (OrganisationKind.AUTHORITY, OrganisationKind.STATION):
        return Q(region__code__startswith=region_prefix(organisation.region_id))
    return Q(pk__in=ProjectParty.objects.filter(organisation_id=organisation.pk).values("project_id"))


def _scoped(actor: Any) -> QuerySet[Project]:
    if getattr(actor, "is_client", False):
        return Project.objects.filter(organisation_project_q(actor.organisation))
    return Project.objects.restrict(actor)


def project_list(
    *,
    actor: Any,
    q: str = "",
    region: str = "",
    updated_since: datetime.datetime | None = None,
    after: tuple[datetime.datetime, int] | None = None,
) -> QuerySet[Project]:
    """Projects the actor may see. With ``updated_since`` or ``after`` (a keyset cursor
    ``(updated_at, pk)``) the order is oldest change first, for mirroring by another
    platform (T/CECS 4.3.2); otherwise newest first."""

    qs = _scoped(actor).select_related("region", "station")
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(code__icontains=q)
    if region:
        qs = qs.filter(region__code__startswith=region)
    if updated_since is not None or after is not None:
        if updated_since is not None:
            qs = qs.filter(updated_at__gte=updated_since)
        if after is not None:
            qs = qs.filter(Q(updated_at__gt=after[0]) | Q(updated_at=after[0], pk__gt=after[1]))
        return qs.order_by("updated_at", "pk")
    return qs.order_by("-created_at", "-pk")


def project_get(*, actor: Any, pk: int) -> Project:
    project = _scoped(actor).select_related("region", "station").filter(pk=pk).first()
    if project is None:
        raise Http404
    return project


def contract_list(*, actor: Any, project: Project | None = None) -> QuerySet[Contract]:
    qs = Contract.objects.restrict(actor).select_related("project", "agency")
    if project is not None:
        qs = qs.filter(project=project)
    return qs.order_by("-created_at", "-pk")
