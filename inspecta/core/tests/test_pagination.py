"""The keyset pagination of "sync since" feeds (``inspecta.core.pagination.Keyset``,
CONTRACT §1 pagination, T/CECS 4.3.2 sharing by mirroring), exercised through its first
feed, ``GET /api/v1/projects/``: the first page, every row exactly once by following
``next_cursor``, rows changed while a client pages, and cursors it never issued."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import pytest
from django.utils import timezone

from inspecta.core.pagination import cursor_decode, cursor_encode
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.openapi import assert_documented
from inspecta.core.testing.pagination import paginator_of
from inspecta.projects import api as projects_api
from inspecta.projects.models import Project
from inspecta.reports.testing import approved_agency, project_with

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"
DOC = "/api/v1/projects/"
T0 = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
def feed(client: Any, tree: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Seven projects whose change times run opposite to their ids (the feed orders by
    change, not by id), two of them changed at the same instant; pages of three."""

    agency, _admin, _made = approved_agency(tree, 871)
    pks = [project_with(tree, [agency], code=f"P-KS-{i}").pk for i in range(7)]
    for position, pk in enumerate(reversed(pks)):
        Project.objects.filter(pk=pk).update(updated_at=T0 + datetime.timedelta(minutes=min(position, 5)))
    monkeypatch.setattr(paginator_of(projects_api.project_list), "page_size", 3)
    login_verified(client, tree["gz_supervisor"])
    return list(Project.objects.filter(pk__in=pks).order_by("updated_at", "pk").values_list("pk", flat=True))


def _get(client: Any, **query: Any) -> dict[str, Any]:
    response = client.get(URL, query)
    assert response.status_code == 200, response.content
    return assert_documented(response, DOC)


def _follow(client: Any, data: dict[str, Any], seen: list[int], on_page: Any = None) -> None:
    for _round in range(20):
        seen += [item["id"] for item in data["items"]]
        if on_page is not None:
            on_page(len(seen))
        if data["next_cursor"] is None:
            return
        data = _get(client, cursor=data["next_cursor"])
    raise AssertionError("next_cursor never became null")


def test_the_first_page_of_a_feed(client: Any, feed: list[int]) -> None:
    data = _get(client, updated_since=T0.isoformat())
    assert [item["id"] for item in data["items"]] == feed[:3]
    assert data["count"] == 7
    assert cursor_decode(data["next_cursor"]) == (T0 + datetime.timedelta(minutes=2), feed[2])


def test_following_next_cursor_returns_every_row_once(client: Any, feed: list[int]) -> None:
    seen: list[int] = []
    _follow(client, _get(client, updated_since=T0.isoformat()), seen)
    assert seen == feed
    # ``updated_since`` is inclusive and narrows the feed and its count
    later = _get(client, updated_since=(T0 + datetime.timedelta(minutes=5)).isoformat())
    assert [item["id"] for item in later["items"]] == feed[5:] and later["count"] == 2
    assert later["next_cursor"] is None


def test_rows_changed_while_paging_are_not_skipped(client: Any, feed: list[int]) -> None:
    """A row sent on the first page changes: with offsets every later row would shift
    and one would be skipped; with the keyset the changed row comes again at the end."""

    changed = feed[0]

    def change(seen_so_far: int) -> None:
        if seen_so_far == 3:
            Project.objects.filter(pk=changed).update(updated_at=timezone.now())

    seen: list[int] = []
    _follow(client, _get(client, updated_since=T0.isoformat()), seen, change)
    assert seen == [*feed, changed]


def test_without_updated_since_or_cursor_the_list_is_paged_by_number(client: Any, feed: list[int]) -> None:
    first, second = _get(client), _get(client, page=3)
    newest_first = list(Project.objects.filter(pk__in=feed).order_by("-created_at", "-pk").values_list("pk", flat=True))
    assert [item["id"] for item in first["items"]] == newest_first[:3]
    assert [item["id"] for item in second["items"]] == newest_first[6:]
    assert first["next_cursor"] is None and first["count"] == 7


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!",
        _b64("no separator"),
        _b64("2026-03-01T08:00:00|x"),
        _b64("2026-03-01T08:00:00|5"),  # a time without offset
        _b64(f"2026-03-01T08:00:00+00:00|{2**63}"),  # beyond any id
        _b64("2026-03-01T08:00:00+00:00|-1"),
        "\u6e38\u6807",
    ],
)
def test_a_cursor_the_api_did_not_issue_is_refused(client: Any, feed: list[int], cursor: str) -> None:
    response = client.get(URL, {"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_updated_since_without_offset_is_refused(client: Any, feed: list[int]) -> None:
    response = client.get(URL, {"updated_since": "2026-03-01T08:00:00"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_a_cursor_round_trips() -> None:
    assert cursor_decode(cursor_encode(T0, 42)) == (T0, 42)


def test_any_rfc3339_offset_and_the_calendars_edges_are_answered(client: Any, feed: list[int]) -> None:
    """RFC 3339 allows offsets up to ±23:59 and the years 0001–9999; the database takes
    offsets up to ±15:59 only. The feed turns each into UTC: the same instant gives
    the same rows, and the edges of the calendar give all rows or none."""

    far_east = datetime.timezone(datetime.timedelta(hours=23, minutes=20))
    shifted = (T0 + datetime.timedelta(minutes=5)).astimezone(far_east)
    later = _get(client, updated_since=shifted.isoformat())
    assert [item["id"] for item in later["items"]] == feed[5:]
    earliest = datetime.datetime(1, 1, 1, 0, 0, tzinfo=far_east).isoformat()
    assert _get(client, updated_since=earliest)["count"] == 7
    latest = datetime.datetime(9999, 12, 31, 23, 0, tzinfo=datetime.timezone(-datetime.timedelta(hours=23)))
    assert _get(client, updated_since=latest.isoformat())["count"] == 0
    assert cursor_decode(cursor_encode(shifted, feed[5])) == (T0 + datetime.timedelta(minutes=5), feed[5])
