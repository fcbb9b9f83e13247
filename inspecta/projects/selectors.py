"""Reads of projects and contracts scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Contract, Project


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

    qs = Project.objects.restrict(actor).select_related("region", "station")
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
    project = Project.objects.restrict(actor).select_related("region", "station").filter(pk=pk).first()
    if project is None:
        raise Http404
    return project


def contract_list(*, actor: Any, project: Project | None = None) -> QuerySet[Contract]:
    qs = Contract.objects.restrict(actor).select_related("project", "agency")
    if project is not None:
        qs = qs.filter(project=project)
    return qs.order_by("-created_at", "-pk")
