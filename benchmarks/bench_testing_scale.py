"""Test data at 10,000,000 records (the test-data issue's second and third benchmarks).

PostgreSQL (a scratch database as ``bench_reports`` chooses it). ``testing_fill`` builds
one real scene through the services and copies it to ``--records`` test records (90 %
lab records of received samples, 10 % on-site records of filed plans) over two years and
1,000 projects in the districts of Guangdong, with 2,000 received samples and 200 filed
plans whose data is overdue.

1. ``overdue_scan_10m``: ``testing.overdue.overdue_scan`` as the 15-minute job runs it,
   once it has kept the findings (each later scan finds what became overdue since);
   target <= 5 s. Baseline in the same run: the bare SQL of the same predicate (received
   samples past the shortest due time with no record, filed plans past their end with
   no record), indexed, as one query; ``ratio`` = product / bare (lower is better). The
   first scan, which keeps the 2,200 findings, is reported beside it.
2. ``record_list_10m_p95``: the page ``/testing/`` of the Guangzhou supervisor (a city
   regulator: the records of the projects in Guangzhou's districts), rendered with its
   filter form, table and count, under a mix of filters (none, item, conclusion, agency,
   date range, district, a later page); p95 in ms, target <= 200 ms. The count is exact
   up to 1,000 rows and the planner's estimate beyond (``core.pagination``). Baseline:
   the same pages' rows by the same queryset with an exact ``count(*)`` instead,
   without rendering (what an exact count would cost alone).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_reports as br  # noqa: E402


def log(message: str) -> None:
    sys.stderr.write(f"[bench_testing_scale {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


DAYS = (14, 31, 45)  # the bench's rules for samples: 31 by default, 14 and 45 for two items


def receipts_window(now: Any, mark: Any) -> tuple[str, list[Any]]:
    """The receipts (``r``) the scan at ``now`` reads after the one at ``mark``."""

    if mark is None:
        return "r.received_at <= %s", [now - datetime.timedelta(days=DAYS[0])]
    window = " OR ".join("(r.received_at > %s AND r.received_at <= %s)" for _d in DAYS)
    return window, [t for d in DAYS for t in (mark - datetime.timedelta(days=d), now - datetime.timedelta(days=d))]


def bare_scan(now: Any, mark: Any) -> tuple[str, list[Any]]:
    """The bare SQL of the scan's predicate at ``now`` with the previous scan at ``mark``
    (``None``: the first, full scan): received samples past their due time with no
    record and no finding, filed plans past their end likewise."""

    window, params = receipts_window(now, mark)
    sql = f"""
SELECT s.id FROM sampling_sample s JOIN sampling_receipt r ON r.sample_id = s.id
WHERE s.status = 'received' AND ({window})
  AND NOT EXISTS (SELECT 1 FROM testing_testrecord t WHERE t.sample_id = s.id)
  AND NOT EXISTS (SELECT 1 FROM testing_testingfinding f WHERE f.sample_id = s.id AND f.rule = 'sample_data_overdue')
UNION ALL
SELECT p.id FROM projects_inspectionplan p
WHERE p.status = 'filed' AND p.planned_end <= %s
  AND NOT EXISTS (SELECT 1 FROM testing_testrecord t WHERE t.plan_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM testing_testingfinding f WHERE f.plan_id = p.id AND f.rule = 'onsite_data_overdue')
"""  # noqa: S608 (placeholders only)
    return sql, [*params, now - datetime.timedelta(hours=24)]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--scans", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6, help="times each list query is asked")
    args, _unknown = parser.parse_known_args()
    dsn = br.choose_database()
    br.choose_redis()
    os.environ.setdefault("INSPECTA_VAR_DIR", tempfile.mkdtemp(prefix="inspecta-bench-testing-scale-var-"))
    from _django import emit, setup_django

    setup_django()
    import testing_fill
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from inspecta.core.pagination import PagePaginator
    from inspecta.testing import selectors
    from inspecta.testing.filtersets import TestRecordFilterSet
    from inspecta.testing.models import TestingFinding
    from inspecta.testing.overdue import overdue_scan

    log(f"filling {args.records:,} test records into {dsn.rsplit('/', 1)[-1]}")
    filled, scene = testing_fill.fill(args.records, progress=log)
    log(f"filled in {filled.seconds:.0f} s")

    # 1. the overdue scan. Two regions set their own days for other items (14 and 45):
    # a scan after the first reads, for each of 14, 31 and 45 days, the 15 minutes of
    # receipts that became due since the one before.
    from inspecta.core.models import RegionRule, TestItem

    others = list(TestItem.objects.exclude(pk__in=filled.items).order_by("pk").values_list("pk", flat=True)[:2])
    RegionRule.objects.create(name="test_due_days", region_id="440100", test_item_id=others[0], value="14")
    RegionRule.objects.create(name="test_due_days", region_id="440300", test_item_id=others[1], value="45")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        t0 = time.perf_counter()
        cursor.execute(*bare_scan(now, None))
        full_rows = len(cursor.fetchall())
        full_bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = overdue_scan(now=now)
    first_s = time.perf_counter() - t0
    expected = filled.overdue_samples + filled.overdue_plans
    assert first.found == expected == full_rows, (first, expected, full_rows)
    assert TestingFinding.objects.filter(rule__in=["sample_data_overdue", "onsite_data_overdue"]).count() == expected
    scans, bare = [], []
    step = datetime.timedelta(minutes=15)
    for k in range(1, args.scans + 1):  # the 15-minute job
        at = now + k * step
        with connection.cursor() as cursor:
            t0 = time.perf_counter()
            cursor.execute(*bare_scan(at, at - step))
            rows = cursor.fetchall()
            bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        again = overdue_scan(now=at)
        scans.append(time.perf_counter() - t0)
        assert again.found == len(rows) == 0 and again.resolved == 0, (again, len(rows))
    with connection.cursor() as cursor:
        window, params = receipts_window(now + step, now)
        cursor.execute(f"SELECT count(*) FROM sampling_receipt r WHERE {window}", params)  # noqa: S608
        receipts_read = cursor.fetchone()[0]
    emit(
        "overdue_scan_10m",
        statistics.median(scans),
        "s",
        "bare_indexed_sql_same_predicate",
        statistics.median(bare),
        target_s=5.0,
        lower_is_better=True,
        receipts_in_window=receipts_read,
        first_scan_s=round(first_s, 3),
        first_scan_found=first.found,
        full_predicate_bare_sql_s=round(full_bare, 3),
        records=filled.records,
        received_samples=filled.samples,
        filed_plans=filled.plans,
        scans="every 15 minutes after the first, rules unchanged (ScanMark); first = full scan",
        machine=f"{os.cpu_count()} cores",
        database="postgresql",
    )

    # 2. the supervisor's list
    supervisor = scene["tree"]["gz_supervisor"]
    item, _pile = filled.items
    agency = filled.agencies[1]
    today = timezone.localdate()
    month = (today - datetime.timedelta(days=200)).isoformat(), (today - datetime.timedelta(days=170)).isoformat()
    queries = [
        {},
        {"test_item": item},
        {"conclusion": "nonconforming"},
        {"agency": str(agency)},
        {"date_from": month[0], "date_to": month[1]},
        {"region": "440106"},
        {"test_item": item, "conclusion": "nonconforming", "date_from": month[0]},
        {"page": "3"},
    ]
    from django.core.management import call_command

    from inspecta.core.testing.access import login_verified

    call_command("collectstatic", "--no-input", verbosity=0)  # the pages' static files, as served
    client = login_verified(Client(), supervisor)
    from urllib.parse import urlencode

    pages: list[float] = []
    estimated = 0
    for _round in range(args.rounds):
        for q in queries:
            t0 = time.perf_counter()
            answer = client.get("/testing/?" + urlencode(q))
            pages.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 200, (q, answer.status_code)
            estimated += "约 " in answer.content.decode()
    exact: list[float] = []
    from django.http import QueryDict

    class _Request:
        user = supervisor

    for _round in range(args.rounds):
        for q in queries:
            t0 = time.perf_counter()
            data = QueryDict(urlencode(q))
            fs = TestRecordFilterSet(data, queryset=selectors.record_list(actor=supervisor), request=_Request())
            qs = fs.qs
            page = int(q.get("page", 1))
            rows = list(qs[(page - 1) * 50 : page * 50])
            total = qs.count()
            exact.append((time.perf_counter() - t0) * 1000)
            assert total >= len(rows)
    paginator = PagePaginator(selectors.record_list(actor=supervisor), 50)
    emit(
        "record_list_10m_p95",
        _p95(pages),
        "ms",
        "same_rows_with_exact_count_p95",
        _p95(exact),
        target_ms=200.0,
        lower_is_better=True,
        page_p50_ms=round(statistics.median(pages), 1),
        requests=len(pages),
        pages_with_estimated_count=estimated,
        supervisor_records_estimate=paginator.count,
        counts="exact up to 1,000 rows, PostgreSQL planner estimate beyond (shown as 约 N 条)",
        records=filled.records,
        machine=f"{os.cpu_count()} cores",
        database="postgresql",
    )


if __name__ == "__main__":
    main()
