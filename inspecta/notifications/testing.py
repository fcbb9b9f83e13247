"""Scenario builders for notifications, for this app's tests and any other app's
(``docs/development/adding-models.md`` step 7)."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import User
from inspecta.core.testing.factories import OrganisationFactory, UserFactory

__all__ = ["operator", "person"]


def person(tree: dict[str, Any], username: str, *, email: str = "", mobile: str = "", **kwargs: Any) -> User:
    """A Guangzhou authority admin with the given e-mail and mobile number."""

    kwargs.setdefault("organisation", tree["gz"])
    return UserFactory(username=username, email=email, mobile=mobile, **kwargs)  # type: ignore[return-value]


def operator(tree: dict[str, Any], username: str, *, email: str = "", mobile: str = "") -> User:
    """Another operator of the platform (运维人员) in the tree's operator organisation."""

    ops = tree.get("ops") or OrganisationFactory(kind=OrganisationKind.OPERATOR, level="", region_code="440000")
    return UserFactory(  # type: ignore[return-value]
        username=username, organisation=ops, roles=[Role.OPERATOR], email=email, mobile=mobile
    )
