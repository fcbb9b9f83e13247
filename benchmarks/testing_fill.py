# ruff: noqa: S608 (SQL built from the schema's own names and integers, no input)
"""Benchmark tooling: fill the chain of custody to 10,000,000 test records fast.

Not application code. One real scene is built through the services (an approved agency,
a project, a received cement sample with its test record, a filed on-site plan with its
record), then PostgreSQL copies those rows with ``INSERT … SELECT … generate_series``,
changing only what must differ: ids, codes and numbers, the project (spread over the
districts of Guangdong), the agency, the times (spread over two years) and, for the
on-site records, the plan. The secondary indexes of the filled tables are dropped during
the fill and built again after it (as a restore does), then the tables are vacuumed and
analysed (as autovacuum leaves them).

What it makes of ``records`` (``N``):

* ``0.9 N`` lab records, one per received sample (with its handover and receipt);
* ``0.1 N`` on-site records, 20 per filed plan;
* ``overdue_samples`` received samples without data, received 40 to 60 days ago, and
  ``overdue_plans`` filed plans without data, ended 2 to 10 days ago: what the overdue
  scan must find among the rest.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Filled", "fill"]

TABLES = ["sampling_sample", "sampling_handover", "sampling_receipt", "projects_inspectionplan", "testing_testrecord"]


class Filled:
    records: int
    samples: int
    plans: int
    overdue_samples: int
    overdue_plans: int
    projects: list[int]
    agencies: list[int]
    items: list[str]
    seconds: float


def _columns(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id' "
        "ORDER BY ordinal_position",
        [table],
    )
    return [r[0] for r in cursor.fetchall()]


def _clone(cursor: Any, table: str, template_id: int, first: int, count: int, over: dict[str, str]) -> None:
    """Rows ``first .. first + count - 1`` (ids) of ``table`` copied from row
    ``template_id``; ``over`` gives SQL expressions of ``g`` (0-based) per column."""

    columns = _columns(cursor, table)
    select = ", ".join(over.get(c, f"t.{c}") for c in columns)
    cursor.execute(
        f"INSERT INTO {table} (id, {', '.join(columns)}) "
        f"SELECT {first} + g, {select} FROM {table} t, generate_series(0, {count - 1}) g WHERE t.id = {template_id}"
    )


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    return list(cursor.fetchall())


def _scene() -> dict[str, Any]:
    from inspecta.core.testing.factories import authority_tree
    from inspecta.reports.testing import approved_agency
    from inspecta.testing import services
    from inspecta.testing.testing import filed_pile_plan, lab_fields, scene_with_sample

    tree = authority_tree()
    scene = scene_with_sample(tree)
    agency, admin = scene["agency"], scene["agency_admin"]
    lab = services.test_record_upload(actor=admin, agency=agency, **lab_fields(scene, "TEMPLATE-LAB"))
    plan = filed_pile_plan(scene, ahead=datetime.timedelta(hours=-3))
    from inspecta.testing.models import TestRecord

    onsite = TestRecord.objects.create(
        **{
            f.attname: getattr(lab, f.attname)
            for f in TestRecord._meta.concrete_fields
            if f.attname not in ("id", "sample_id", "plan_id", "number", "kind", "test_item_id")
        },
        number="TEMPLATE-ONSITE",
        kind="onsite",
        plan_id=plan.pk,
        test_item_id=plan.test_item_id,
    )
    others = [approved_agency(tree, n)[0] for n in (2, 3, 4)]
    return scene | {"tree": tree, "lab": lab, "plan": plan, "onsite": onsite, "agencies": [agency, *others]}


def fill(
    records: int,
    *,
    overdue_samples: int = 2000,
    overdue_plans: int = 200,
    projects: int = 1000,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[Filled, dict[str, Any]]:
    from django.db import connection, transaction

    from inspecta.core.choices import RegionLevel
    from inspecta.core.models import Region

    scene = _scene()
    started = time.perf_counter()
    sample, lab, plan, onsite = scene["sample"], scene["lab"], scene["plan"], scene["onsite"]
    receipt = sample.receipt
    districts = list(
        Region.objects.filter(code__startswith="44", level=RegionLevel.COUNTY)
        .order_by("code")
        .values_list("code", flat=True)
    )
    agencies = [a.pk for a in scene["agencies"]]
    lab_count = records * 9 // 10
    plan_count = max(1, (records - lab_count) // 20)
    onsite_count = plan_count * 20
    base = 1_000_000  # ids above the scene's own rows
    now = datetime.datetime.now(datetime.UTC)
    two_years = 730 * 86400
    with connection.cursor() as cursor:
        dropped = {t: _secondary_indexes(cursor, t) for t in TABLES}
        for indexes in dropped.values():
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")  # no FK triggers while copying rows
        project_ids = []
        with transaction.atomic():
            _clone(
                cursor,
                "projects_project",
                scene["project"].pk,
                base,
                projects,
                {
                    "code": "'BENCH-P' || g",
                    "name": "'基准工程' || g",
                    "region_id": f"(ARRAY[{','.join(repr(d) for d in districts)}])[1 + g % {len(districts)}]",
                },
            )
            project_ids = list(range(base, base + projects))
        agency_list = ",".join(map(str, agencies))

        def project_of(g: str) -> str:
            return f"({base} + ({g}::bigint * 7919) % {projects})"

        def agency_of(g: str) -> str:
            return f"(ARRAY[{agency_list}])[1 + {g} % {len(agencies)}]"

        epoch = f"TIMESTAMPTZ '{now.isoformat()}'"
        # lab: a sample received 1 day after sampling, its record 1 hour after receipt,
        # spread over the two years up to two days ago (their data is in time by construction)
        chunk = 1_000_000
        total_samples = lab_count + overdue_samples
        for first in range(0, total_samples, chunk):
            count = min(chunk, total_samples - first)
            g = f"({first} + g)"
            overdue = f"({g} >= {lab_count})"
            sampled = (
                f"CASE WHEN {overdue} THEN {epoch} - interval '41 days' - ({g} - {lab_count}) * interval '10 minutes' "
                f"ELSE {epoch} - interval '2 days' - (({g}::bigint * 104729) % {two_years}) * interval '1 second' END"
            )
            with transaction.atomic():
                _clone(
                    cursor,
                    "sampling_sample",
                    sample.pk,
                    base + first,
                    count,
                    {
                        "code": f"'B' || lpad({g}::text, 16, '0')",
                        "sampled_at": sampled,
                        "updated_at": sampled,
                        "project_id": project_of(g),
                        "agency_id": agency_of(g),
                        "status": "'received'",
                    },
                )
                _clone(
                    cursor,
                    "sampling_handover",
                    receipt.handover_id,
                    base + first,
                    count,
                    {"token_sha256": f"md5({g}::text) || md5(({g} + 1)::text)"},
                )
                cursor.execute(
                    f"""INSERT INTO sampling_receipt (id, {", ".join(_columns(cursor, "sampling_receipt"))})
                    SELECT {base + first} + g, {
                        ", ".join(
                            {
                                "received_at": "s.sampled_at + interval '1 day'",
                                "sample_id": "s.id",
                                "handover_id": "s.id",
                            }.get(c, f"t.{c}")
                            for c in _columns(cursor, "sampling_receipt")
                        )
                    }
                    FROM sampling_receipt t, generate_series(0, {count - 1}) g
                    JOIN sampling_sample s ON s.id = {base + first} + g
                    WHERE t.id = {receipt.pk}"""
                )
                with_data = min(count, max(0, lab_count - first))
                if with_data:
                    columns = _columns(cursor, "testing_testrecord")
                    over = {
                        "number": "'L' || s.id",
                        "sample_id": "s.id",
                        "project_id": "s.project_id",
                        "agency_id": "s.agency_id",
                        "started_at": "s.sampled_at + interval '25 hours'",
                        "ended_at": "s.sampled_at + interval '26 hours'",
                        "uploaded_at": "s.sampled_at + interval '27 hours'",
                        "updated_at": "s.sampled_at + interval '27 hours'",
                        "conclusion": "CASE WHEN s.id % 50 = 0 THEN 'nonconforming' ELSE 'qualified' END",
                    }
                    cursor.execute(
                        f"""INSERT INTO testing_testrecord (id, {", ".join(columns)})
                        SELECT {base + first} + g, {", ".join(over.get(c, f"t.{c}") for c in columns)}
                        FROM testing_testrecord t, generate_series(0, {with_data - 1}) g
                        JOIN sampling_sample s ON s.id = {base + first} + g
                        WHERE t.id = {lab.pk}"""
                    )
            progress(f"lab {first + count:,} of {total_samples:,}")
        # on-site: plans over the same two years, 20 records each; the last ones ended
        # 2 to 10 days ago without data
        total_plans = plan_count + overdue_plans
        ended = (
            f"CASE WHEN g >= {plan_count} THEN {epoch} - interval '2 days' - (g - {plan_count}) * interval '1 hour' "
            f"ELSE {epoch} - interval '32 days' - ((g::bigint * 104729) % {two_years}) * interval '1 second' END"
        )
        with transaction.atomic():
            _clone(
                cursor,
                "projects_inspectionplan",
                plan.pk,
                base,
                total_plans,
                {
                    "planned_end": ended,
                    "planned_start": f"{ended} - interval '8 hours'",
                    "filed_at": f"{ended} - interval '3 days'",
                    "updated_at": f"{ended} - interval '3 days'",
                    "project_id": project_of("g"),
                    "agency_id": agency_of("g"),
                    "status": "'filed'",
                },
            )
        for first in range(0, onsite_count, chunk):
            count = min(chunk, onsite_count - first)
            columns = _columns(cursor, "testing_testrecord")
            over = {
                "number": f"'O' || ({first} + g)",
                "plan_id": "p.id",
                "project_id": "p.project_id",
                "agency_id": "p.agency_id",
                "started_at": "p.planned_start",
                "ended_at": "p.planned_end",
                "uploaded_at": "p.planned_end + interval '1 hour'",
                "updated_at": "p.planned_end + interval '1 hour'",
            }
            with transaction.atomic():
                cursor.execute(
                    f"""INSERT INTO testing_testrecord (id, {", ".join(columns)})
                    SELECT {base + lab_count + first} + g, {", ".join(over.get(c, f"t.{c}") for c in columns)}
                    FROM testing_testrecord t, generate_series(0, {count - 1}) g
                    JOIN projects_inspectionplan p ON p.id = {base} + ({first} + g) / 20
                    WHERE t.id = {onsite.pk}"""
                )
            progress(f"on-site {first + count:,} of {onsite_count:,}")
        cursor.execute("SET session_replication_role = origin")
        for table, indexes in dropped.items():
            for _name, definition in indexes:
                cursor.execute(definition)
            progress(f"indexes of {table} built")
        for table in [*TABLES, "projects_project"]:
            cursor.execute(f"VACUUM (ANALYZE) {table}")  # as autovacuum leaves a settled table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    filled = Filled()
    filled.records = lab_count + onsite_count
    filled.samples = total_samples
    filled.plans = total_plans
    filled.overdue_samples = overdue_samples
    filled.overdue_plans = overdue_plans
    filled.projects = project_ids
    filled.agencies = agencies
    filled.items = [lab.test_item_id, plan.test_item_id]
    filled.seconds = time.perf_counter() - started
    return filled, scene
