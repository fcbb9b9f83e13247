"""The paginations: :class:`PagePaginator` of the pages, and the two of the exchange API (CONTRACT §1: "Lists are paginated
(``?cursor=`` or ``?page=``), filterable, and stable-ordered").

* :class:`Pages`: page numbers, ``?page=&page_size=`` -> ``{"items", "count"}``, with an
  upper bound on ``page``: an offset beyond any table (a page number of 20 digits) would
  overflow the database's integer and must be a 422, not a 500.
* :class:`Keyset`: the "sync since" feed of a platform mirroring records (T/CECS 4.3.2):
  ``?updated_since=`` (RFC 3339, inclusive) then ``?cursor=<next_cursor>`` until
  ``next_cursor`` is null -> ``{"items", "count", "next_cursor"}``. The cursor is the
  position ``(updated_at, pk)`` of the last row sent, so a row changed while a client
  pages is never skipped: its new ``updated_at`` puts it after the cursor, and it comes
  again. Without either parameter the list is paged by ``?page=`` in the view's own order.

The two of the API are Django Ninja pagination classes used with ``ninja.pagination.paginate``; the
view declares ``response=list[ItemOut]`` and returns the stable-ordered queryset. A
``render`` callable, when given, turns the list of the page's rows into the items (for
reads of related data in one query for the whole page, e.g. log entries).
"""

# No ``from __future__ import annotations``: Django Ninja reads the Input annotations.

import base64
import binascii
import datetime
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination, PaginationBase

from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.limits import MAX_ID

MAX_PAGE = 1_000_000

Render = Callable[[list[Any]], Sequence[Any]]

EXACT_UP_TO = 1_000


def _planner_rows(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of the rows of ``queryset`` (``EXPLAIN``, nothing read);
    ``None`` on another database."""

    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (``pk__in=[]``, ``none()``)
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class PagePaginator(Paginator):
    """The paginator of every list page (``core.generic.ObjectListView``).

    On PostgreSQL a page asks the planner first: when it expects more than
    ``EXACT_UP_TO`` rows, its estimate is the count, and the page says so
    (``estimated``: "约 N 条"), because an exact count of millions of rows costs seconds
    on every page a supervisor opens, and even a capped one walks the whole index when
    the filter is selective. Otherwise the rows are counted, reading at most
    ``EXACT_UP_TO`` + 1 of them (more than that, though the planner expected fewer: "约"
    the limit). SQLite counts exactly.

    A page of a queryset is read in two steps (a "deferred join"): the ids of the page
    in the list's order, which an index of the order can give without reading the rows
    or joining what the table shows, then those rows with their related rows. The
    database then sorts ids, not rows with every ``select_related`` join."""

    exact_up_to = EXACT_UP_TO
    _estimated = False

    @property
    def estimated(self) -> bool:
        """Whether ``count`` is the planner's estimate (rounded to three digits)."""

        self.count  # noqa: B018 (sets _estimated)
        return self._estimated

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        # the planner's estimate first (on the ids alone: fewer joins to plan); a large
        # one is the answer, a small one is counted, reading at most the limit's rows
        rows = _planner_rows(queryset.values("pk"))
        if rows is not None and rows > self.exact_up_to:
            self._estimated = True
            return max(round(rows, 3 - len(str(rows))), self.exact_up_to + 1)
        capped = queryset.order_by()[: self.exact_up_to + 1].count()
        if capped <= self.exact_up_to:
            return capped
        if rows is None:
            return queryset.count()
        self._estimated = True
        return capped

    def page(self, number: Any) -> Any:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or queryset.query.distinct or queryset.query.combinator:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.orphans and top + self.orphans >= self.count:
            top = self.count
        ids = list(queryset.values_list("pk", flat=True)[bottom:top])
        if ids and len(ids) < self.per_page and self.estimated:
            # a short page is the last one: the count is known now, whatever the estimate
            self.__dict__.update(count=bottom + len(ids), num_pages=number)
            self._estimated = False
        rows = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
        return Page([rows[pk] for pk in ids if pk in rows], number, self)


def _rendered(rows: Any, render: Render | None) -> Any:
    return render(list(rows)) if render is not None else rows


class PagesInput(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int | None = Field(None, ge=1)  # above the endpoint's maximum: the maximum


class Pages(PageNumberPagination):
    """``?page=`` (1-based) and ``?page_size=`` (at most the endpoint's maximum)."""

    Input = PagesInput  # type: ignore[assignment]

    def __init__(self, *, render: Render | None = None, **kwargs: Any) -> None:
        self.render = render
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any) -> Any:
        result = super().paginate_queryset(queryset, pagination, request, **params)
        result[self.items_attribute] = _rendered(result[self.items_attribute], self.render)
        return result


def cursor_encode(moment: datetime.datetime, pk: int) -> str:
    """The opaque cursor of position ``(moment, pk)``: unpadded base64url of
    ``<RFC 3339 time>|<pk>``."""

    raw = f"{moment.isoformat()}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime.datetime, int]:
    """The position in ``cursor``; ``invalid_cursor`` (422) for anything this API did
    not issue."""

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        parsed = datetime.datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        parsed = parsed.astimezone(datetime.UTC)
        number = int(pk)
        if not 0 <= number <= MAX_ID:
            raise ValueError("pk out of range")
        return parsed, number
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error) as exc:
        raise AppError(ErrorCode.INVALID_CURSOR, _("cursor 不合法。"), {"cursor": cursor[:80]}) from exc


class KeysetInput(Schema):
    updated_since: datetime.datetime | None = Field(
        None, description="只列出此时间（含）之后新建或修改的记录，按修改时间升序（RFC 3339，须带时区）"
    )
    cursor: str = Field("", description="上一页答复的 next_cursor")
    page: int = Field(1, ge=1, le=MAX_PAGE, description="不带 updated_since 和 cursor 时的页码")


class KeysetOutput(Schema):
    items: list[Any]
    count: int
    next_cursor: str | None = Field(
        None, description="有 updated_since 或 cursor 时：下一页的游标（按修改时间升序）；没有更多时为 null"
    )


class Keyset(PaginationBase):
    """The "sync since" feed: keyset pagination on ``(key, pk)`` ascending (``key``
    defaults to ``updated_at``), ``page_size`` rows a page.

    ``count`` is the number of rows of the feed (with ``updated_since``, not the
    cursor); ``next_cursor`` is set while more rows follow in feed mode and is null in
    page mode and on the last page."""

    Input = KeysetInput  # type: ignore[assignment]
    Output = KeysetOutput  # type: ignore[assignment]

    def __init__(
        self, *, page_size: int = 50, key: str = "updated_at", render: Render | None = None, **kwargs: Any
    ) -> None:
        self.page_size = page_size
        self.key = key
        self.render = render
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any) -> Any:
        since: datetime.datetime | None = pagination.updated_since
        if since is not None and since.tzinfo is None:
            raise AppError(ErrorCode.INVALID_INPUT, _("updated_since 须带时区（RFC 3339）。"))
        if since is not None:
            # the database takes offsets up to ±15:59 only, so any valid RFC 3339 offset
            # is turned into UTC first
            try:
                since = since.astimezone(datetime.UTC)
            except OverflowError:
                edge = datetime.datetime.min if since.year == datetime.MINYEAR else datetime.datetime.max
                since = edge.replace(tzinfo=datetime.UTC)
        after = cursor_decode(pagination.cursor) if pagination.cursor else None
        if since is None and after is None:
            start = (pagination.page - 1) * self.page_size
            rows = list(queryset[start : start + self.page_size])
            return {"items": _rendered(rows, self.render), "count": self._items_count(queryset), "next_cursor": None}
        feed = queryset.filter(**{f"{self.key}__gte": since}) if since is not None else queryset
        page = feed.order_by(self.key, "pk")
        if after is not None:
            page = page.filter(Q(**{f"{self.key}__gt": after[0]}) | Q(**{self.key: after[0], "pk__gt": after[1]}))
        rows = list(page[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        last = rows[-1] if more and rows else None
        return {
            "items": _rendered(rows, self.render),
            "count": self._items_count(feed),
            "next_cursor": cursor_encode(getattr(last, self.key), last.pk) if last is not None else None,
        }
