"""Predicates over an :class:`~inspecta.core.actors.Actor` (django-rules).

The building blocks of every app's ``permissions.py`` and of the scope declarations in
models (``inspecta.core.scoping``). They take an ``Actor`` (or anything
:func:`~inspecta.core.actors.actor_of` resolves: a ``User``, ``None``) and compose with
``&``, ``|`` and ``~``::

    may_review = is_authority & ~is_province_level & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR)

Roles are always the ``Role`` enum, never bare strings.
"""

from __future__ import annotations

from typing import Any

import rules

from inspecta.accounts.choices import AuthorityLevel, Role

from .actors import ActorKind, actor_of

__all__ = [
    "always",
    "has_role",
    "has_scope",
    "is_agency",
    "is_authority",
    "is_client",
    "is_member",
    "is_operator",
    "is_party",
    "is_person",
    "is_province_level",
    "is_regulator",
    "is_station",
    "may_manage_region_rules",
    "signed_in",
]


def _kind_is(*kinds: ActorKind) -> rules.Predicate:
    def check(who: Any) -> bool:
        return actor_of(who).kind in kinds

    return rules.Predicate(check, name="kind_is_" + "_or_".join(kinds))


always = rules.always_true
signed_in = rules.Predicate(lambda who: (a := actor_of(who)).user is not None or a.client is not None, name="signed_in")
"""A person signed in or a signed client, whatever its organisation's state."""
is_operator = _kind_is(ActorKind.OPERATOR)
is_authority = _kind_is(ActorKind.AUTHORITY)
is_station = _kind_is(ActorKind.STATION)
is_regulator = _kind_is(ActorKind.AUTHORITY, ActorKind.STATION)
is_agency = _kind_is(ActorKind.AGENCY)
is_party = _kind_is(ActorKind.PARTY)
is_member = _kind_is(ActorKind.AUTHORITY, ActorKind.STATION, ActorKind.AGENCY, ActorKind.PARTY)
"""Acts for an active organisation (operators excepted)."""
is_client = rules.Predicate(lambda who: actor_of(who).is_client, name="is_client")
is_person = rules.Predicate(lambda who: actor_of(who).user is not None, name="is_person")
is_province_level = rules.Predicate(lambda who: actor_of(who).level == AuthorityLevel.PROVINCE, name="province_level")


def has_role(*roles: Role) -> rules.Predicate:
    """Holds one of ``roles`` (people only: clients hold scopes, not roles)."""

    return rules.Predicate(lambda who: actor_of(who).has_role(*roles), name="has_role_" + "_or_".join(roles))


def has_scope(scope: str) -> rules.Predicate:
    """An exchange client granted ``scope`` (people hold no scopes)."""

    return rules.Predicate(lambda who: actor_of(who).has_scope(scope), name=f"has_scope_{scope}")


may_manage_region_rules = is_operator | (is_authority & has_role(Role.AUTHORITY_ADMIN))
"""Sets the regional rules (``core.regionrules``) of its own region and below: an
authority's admins; operators for any region."""
