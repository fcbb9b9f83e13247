"""One mechanism that scopes every read and write by role and region (DESIGN.md "Who uses it").

Every model that users may see defines ``scope_q(user, action)`` returning a ``Q`` over
its own fields, and uses ``RestrictedQuerySet`` as its manager so that selectors write
``Model.objects.restrict(user)`` (NetBox ``utilities/querysets.py``). A province user's
scope is the region codes sharing the province's two-digit prefix, a city user's the
four-digit prefix, a district user's exactly its own code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from inspecta.accounts.models import User

M = TypeVar("M", bound=models.Model)


class Scoped(Protocol):
    @classmethod
    def scope_q(cls, user: User, action: str) -> Q: ...


def region_prefix(code: str) -> str:
    """The prefix that every region inside ``code`` shares (GB/T 2260 structure)."""

    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_within(code: str, ancestor: str) -> bool:
    return code.startswith(region_prefix(ancestor))


def region_q(user: User, field: str) -> Q:
    """``Q`` limiting ``field`` (a region code path such as ``region__code``) to the user's area."""

    if user.is_operator:
        return Q()
    code = user.region_code
    if not code:
        return Q(pk__in=[])
    return Q(**{f"{field}__startswith": region_prefix(code)})


class RestrictedQuerySet(models.QuerySet[M]):
    """Queryset whose ``restrict(user, action)`` keeps only what the user may act on."""

    def restrict(self, user: Any, action: str = "view") -> RestrictedQuerySet[M]:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        scope_q = getattr(self.model, "scope_q", None)
        if scope_q is None:
            raise TypeError(f"{self.model.__name__} has no scope_q(user, action)")
        return self.filter(scope_q(user, action))
