"""One mechanism that scopes every read and write by role and region (DESIGN.md "Who uses it").

Each scoped model *declares* how its rows are reached and who may reach them for each
action; nothing else in the code builds a scope ``Q``::

    class Report(models.Model):
        scoping = Scoping(
            region="project__region__code",          # the region the row lies in
            organisation="agency__organisation_id",  # the organisation that owns it
            project="project_id",                 # the project, for project parties
            grants={
                "view": (
                    Grant(Reach.ALL, is_operator),
                    Grant(Reach.REGION, is_regulator),
                    Grant(Reach.OWN, is_agency),
                    Grant(Reach.PARTY, is_party),
                ),
            },
        )
        objects = RestrictedQuerySet.as_manager()

:func:`scope_q` reads that declaration for an actor (a ``User``, an exchange client's
``Actor``, or nobody) and returns the ``Q``; ``Model.objects.restrict(actor, action)``
filters by it (NetBox ``utilities/querysets.py``), and :func:`permits` asks the same
question of one row, so a page, a service and an API operation cannot disagree. An
action a model does not declare is a programming error, not an empty answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

import rules
from django.apps import apps
from django.db import models
from django.db.models import Q
from django.http import Http404

from .actors import Actor, actor_of, region_prefix, region_within

__all__ = [
    "Grant",
    "Reach",
    "RestrictedQuerySet",
    "Scoping",
    "permits",
    "region_prefix",
    "region_within",
    "scope_q",
]

M = TypeVar("M", bound=models.Model)

NOTHING = Q(pk__in=[])


class Reach(StrEnum):
    """Which rows a grant opens, read through the model's declared paths."""

    ALL = "all"
    """Every row (operators; public code tables)."""
    REGION = "region"
    """Rows whose region lies inside the actor's region (``region`` path)."""
    OWN = "own"
    """Rows owned by the actor's organisation (``organisation`` path)."""
    PARTY = "party"
    """Rows of the projects the actor's organisation is a party of (``project`` path)."""
    STATION = "station"
    """Rows of the projects the actor's organisation supervises as station (``station`` path)."""
    SUBTREE = "subtree"
    """Rows of the actor's organisation and every one below it in the allocation tree
    (``tree`` path)."""
    SELF = "self"
    """The acting person's own account (``person`` path)."""
    RECORD = "record"
    """Rows referenced by a record the actor may view (``records``: ``(model label,
    foreign key)`` pairs), e.g. a contract's scan for everyone who sees the contract."""


@dataclass(frozen=True)
class Grant:
    """``who`` (a predicate on the actor) reaches the rows of ``reach``, narrowed by ``where``."""

    reach: Reach
    who: rules.Predicate
    where: Q | None = None


@dataclass(frozen=True)
class Scoping:
    """How a model is reached: lookup paths, and the grants of each action."""

    grants: Mapping[str, tuple[Grant, ...]] = field(default_factory=dict)
    region: str | None = None
    organisation: str | None = None
    project: str | None = None
    station: str | None = None
    tree: str | None = None
    person: str | None = None
    records: tuple[tuple[str, str], ...] = ()

    def via(self, relation: str, **overrides: Any) -> Scoping:
        """The same declaration for a model reached through ``relation`` (a foreign key
        to the declaring model): every path gains the ``relation__`` prefix."""

        def prefixed(path: str | None) -> str | None:
            if path is None:
                return None
            return relation + "_id" if path in ("pk", "id") else f"{relation}__{path}"

        moved = {
            name: prefixed(getattr(self, name))
            for name in ("region", "organisation", "project", "station", "tree", "person")
        }
        grants = {
            action: tuple(replace(g, where=_prefix_q(g.where, relation)) if g.where is not None else g for g in gs)
            for action, gs in self.grants.items()
        }
        return replace(self, grants=grants, **{**moved, **overrides})

    def reach_q(self, reach: Reach, actor: Actor) -> Q:
        if reach is Reach.ALL:
            return Q()
        org = actor.organisation
        if org is None:
            return NOTHING
        if reach is Reach.REGION:
            return Q(**{f"{self._path('region')}__startswith": actor.region_prefix}) if actor.region_code else NOTHING
        if reach is Reach.OWN:
            return Q(**{self._path("organisation"): org.pk})
        if reach is Reach.STATION:
            return Q(**{self._path("station"): org.pk})
        if reach is Reach.SUBTREE:
            return Q(**{f"{self._path('tree')}__startswith": org.tree_path}) if org.tree_path else NOTHING
        if reach is Reach.PARTY:
            party = apps.get_model("projects", "ProjectParty")
            return Q(
                **{f"{self._path('project')}__in": party.objects.filter(organisation_id=org.pk).values("project_id")}
            )
        if reach is Reach.SELF:
            return Q(**{self._path("person"): actor.user.pk}) if actor.user is not None else NOTHING
        if reach is Reach.RECORD:
            if not self.records:
                raise TypeError("a grant reaches by record, but the model declares no records")
            found = NOTHING
            for label, foreign_key in self.records:
                model = apps.get_model(label)
                found |= Q(pk__in=model._default_manager.filter(scope_q(actor, model, "view")).values(foreign_key))
            return found
        raise ValueError(reach)

    def _path(self, name: str) -> str:
        path = getattr(self, name)
        if path is None:
            raise TypeError(f"a grant reaches by {name}, but the model declares no {name} path")
        return path


def _prefix_q(q: Q, relation: str) -> Q:
    def move(child: Any) -> Any:
        if isinstance(child, Q):
            return _prefix_q(child, relation)
        lookup, value = child
        return (f"{relation}__{lookup}", value)

    moved = Q()
    moved.connector = q.connector
    moved.negated = q.negated
    moved.children = [move(c) for c in q.children]
    return moved


def scoping_of(model: type[models.Model]) -> Scoping:
    scoping = getattr(model, "scoping", None)
    if not isinstance(scoping, Scoping):
        raise TypeError(f"{model.__name__} declares no scoping")
    return scoping


def scope_q(who: Any, model: type[models.Model], action: str = "view") -> Q:
    """The rows of ``model`` that ``who`` may ``action``, as a ``Q`` over the model."""

    scoping = scoping_of(model)
    grants = scoping.grants.get(action)
    if grants is None:
        raise ValueError(f"{model.__name__} declares no {action!r} action")
    actor = actor_of(who)
    parts = [
        scoping.reach_q(g.reach, actor) & g.where if g.where is not None else scoping.reach_q(g.reach, actor)
        for g in grants
        if g.who(actor)
    ]
    if not parts:
        return NOTHING
    if any(p == Q() for p in parts):
        return Q()
    result = parts[0]
    for part in parts[1:]:
        result |= part
    return result


def permits(who: Any, obj: models.Model, action: str) -> bool:
    """Whether ``who`` may ``action`` this row: the same declaration as :func:`scope_q`,
    asked of one row (one query)."""

    model = type(obj)
    return model._default_manager.filter(pk=obj.pk).filter(scope_q(who, model, action)).exists()


class RestrictedQuerySet(models.QuerySet[M]):
    """Queryset whose ``restrict(actor, action)`` keeps only what the actor may act on."""

    def restrict(self, who: Any, action: str = "view") -> RestrictedQuerySet[M]:
        q = scope_q(who, self.model, action)
        if q == NOTHING:
            return self.none()
        return self.filter(q)

    def reach(self, who: Any, action: str = "view", **lookup: Any) -> M:
        """The one row of ``lookup`` that ``who`` may ``action``, or ``Http404``: a row out
        of the actor's reach answers exactly as a missing one (404 ``not_found``), so no
        answer tells whether a record the actor may not see exists (GB/T 22239 access
        control). Look rows up by id through this, never unscoped then refused."""

        row = self.restrict(who, action).filter(**lookup).first()
        if row is None:
            raise Http404
        return row
