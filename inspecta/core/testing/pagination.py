"""The paginator of a paginated view, for tests that shrink its page size."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ninja.pagination import PaginationBase


def paginator_of(view: Callable[..., Any]) -> PaginationBase:
    """The instance ``ninja.pagination.paginate`` made for ``view`` (e.g.
    ``monkeypatch.setattr(paginator_of(api.project_list), "page_size", 2)``)."""

    paginator = inspect.getclosurevars(view).nonlocals.get("paginator")
    if not isinstance(paginator, PaginationBase):
        raise TypeError(f"{view!r} is not paginated")
    return paginator
