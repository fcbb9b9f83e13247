"""Query-count guards for lists (STYLE.md 14; Zulip ``assert_database_query_count``,
NetBox ``query_counts.json``).

A list page or list operation must do the same number of queries whatever the number of
rows it shows: ``assert_queries_constant`` builds ``n`` rows, fetches, builds ``2n`` more
(so ``3n`` in all), fetches again, and fails, printing both sets of queries, when the
counts differ or exceed the stated ceiling. ``guards`` names the API operations a test
guards, so that ``inspecta/core/tests/test_list_guards.py`` can prove none is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

F = TypeVar("F", bound=Callable[..., Any])

GUARDED_OPERATIONS: set[str] = set()


def guards(*operation_ids: str) -> Callable[[F], F]:
    """Declare the OpenAPI operation ids (``inspecta_<app>_api_<function>``) a test guards."""

    GUARDED_OPERATIONS.update(operation_ids)

    def mark(test: F) -> F:
        test.guarded_operations = operation_ids  # type: ignore[attr-defined]
        return test

    return mark


def _listing(label: str, queries: list[dict[str, Any]]) -> str:
    lines = [f"{label}: {len(queries)} queries"]
    lines += [f"  {i + 1}. {q['sql']}" for i, q in enumerate(queries)]
    return "\n".join(lines)


def assert_queries_constant(
    fetch: Callable[[], HttpResponse],
    grow: Callable[[int], object],
    *,
    limit: int,
    n: int = 2,
    rows: Callable[[HttpResponse], int] | None = None,
) -> int:
    """Fetch a list at ``n`` and at ``3n`` rows and prove the query count did not grow.

    ``grow(k)`` adds ``k`` rows the fetching user sees (through the real services);
    ``fetch()`` answers the page or operation; ``rows(response)``, when given, counts the
    rows in an answer and proves that the second answer really shows more of them;
    ``limit`` is the ceiling the count must stay at or below. Returns the count. A
    first, unmeasured fetch warms per-process caches (content types, sessions).
    """

    grow(n)
    warm = fetch()
    assert warm.status_code == 200, f"the list answered {warm.status_code}"
    with CaptureQueriesContext(connection) as small:
        first = fetch()
    grow(2 * n)
    with CaptureQueriesContext(connection) as large:
        second = fetch()
    assert second.status_code == 200, f"the list answered {second.status_code}"
    if rows is not None:
        before, after = rows(first), rows(second)
        assert after > before, f"the list showed {before} rows, then {after}: the builder made nothing visible"
    report = (
        _listing(f"at {n} rows", small.captured_queries) + "\n" + _listing(f"at {3 * n} rows", large.captured_queries)
    )
    assert len(small) == len(large), f"query count grows with the rows ({len(small)} -> {len(large)})\n{report}"
    assert len(large) <= limit, f"{len(large)} queries, above the ceiling of {limit}\n{report}"
    return len(large)


def json_rows(key: str | None = None) -> Callable[[HttpResponse], int]:
    """Counts the items of a JSON list answer (a bare array, or the array under ``key``)."""

    def count(response: HttpResponse) -> int:
        data = response.json()  # type: ignore[attr-defined]
        return len(data[key] if key else data)

    return count


def html_rows(marker: str) -> Callable[[HttpResponse], int]:
    """Counts the occurrences of ``marker`` (e.g. a row's link prefix) in an HTML page."""

    def count(response: HttpResponse) -> int:
        return response.content.decode().count(marker)

    return count
