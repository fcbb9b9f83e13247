"""The page-number pagination of every list endpoint (CONTRACT §1 pagination), with an
upper bound on ``page``: an offset beyond any table (a page number of 20 digits) would
overflow the database's integer and must be a 422, not a 500."""

# No ``from __future__ import annotations``: Django Ninja reads the Input annotations.

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

MAX_PAGE = 1_000_000


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)  # above the endpoint's maximum: the maximum
