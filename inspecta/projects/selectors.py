"""Reads of projects and contracts scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Contract, Project


def project_list(*, actor: Any) -> QuerySet[Project]:
    """Projects the actor may see, newest first (``filtersets.ProjectFilterSet`` narrows
    them; the exchange API's feed orders them by change, ``inspecta.core.pagination.Keyset``)."""

    qs = Project.objects.restrict(actor).select_related("region", "station")
    return qs.order_by("-created_at", "-pk")


def project_get(*, actor: Any, pk: int) -> Project:
    return Project.objects.select_related("region", "station").reach(actor, pk=pk)


def contract_list(*, actor: Any, project: Project | None = None) -> QuerySet[Contract]:
    qs = Contract.objects.restrict(actor).select_related("project", "agency")
    if project is not None:
        qs = qs.filter(project=project)
    return qs.order_by("-created_at", "-pk")
