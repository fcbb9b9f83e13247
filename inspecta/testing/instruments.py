"""Instrument data arriving in real time (Guangxi 第七条(二)(三), 第十一条; the Hunan/Hebei
interface's ``Acsrecord``): readings an instrument collected itself, from the agency's
LIMS or a collector over the signed API, one or up to ``BATCH_MAX`` per call.

Each reading is checked on its own (the equipment is the agency's, the parameter is in
the catalog, the time is not in the future, the curve is well formed) and answered by
its index: ``accepted`` with its id, ``duplicate`` with the id stored before (the same
``source_id`` and ``collected_at`` from the same agency: a retry stores nothing new), or
refused with its code. The accepted ones are written in one statement: on PostgreSQL a
``COPY`` into a temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING
RETURNING``; on SQLite a multi-row ``INSERT OR IGNORE``. Rows are never changed
(``InstrumentRecord.append_only``); the exchange call log names the call and the row its
client.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.actors import actor_of
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.models import Parameter
from inspecta.registry.models import Agency, Equipment

from .curves import curve_pack
from .models import InstrumentRecord
from .services import BATCH_MAX, CLOCK_SKEW, instant, require_uploader

__all__ = ["COLUMNS", "Stored", "instrument_ingest"]

COLUMNS = (
    "agency_id",
    "source_id",
    "record_number",
    "equipment",
    "parameter",
    "specimen",
    "collected_at",
    "value",
    "unit",
    "curve_meta",
    "curve",
    "curve_sha256",
    "received_at",
    "client_id",
)
"""The columns written, in the order of a row."""


@dataclass(frozen=True)
class Stored:
    """How one reading was answered: ``accepted`` (stored now) or ``duplicate`` (stored
    before), with the id of the stored row."""

    status: str
    id: int


def _row(
    f: dict[str, Any],
    *,
    agency: Agency,
    assets: set[str],
    parameters: set[str],
    now: datetime.datetime,
    client_id: int | None,
) -> tuple[Any, ...]:
    collected = instant(f["collected_at"])
    if collected > now + CLOCK_SKEW:
        raise AppError(ErrorCode.TEST_TIMES_INVALID, _("采集时间晚于当前时间。"))
    if f["equipment"] not in assets:
        raise AppError(
            ErrorCode.EQUIPMENT_NOT_REGISTERED,
            _("仪器设备未登记（本机构没有该设备编号）：%(e)s。") % {"e": f["equipment"]},
            {"equipment": [f["equipment"]]},
        )
    if f["parameter"] not in parameters:
        raise AppError(ErrorCode.UNKNOWN_PARAMETER, _("参数编码不存在：%(p)s。") % {"p": f["parameter"]})
    meta: dict[str, Any] = {}
    data: bytes | None = None
    digest = ""
    if f.get("curve") is not None:
        meta, data, digest = curve_pack(f["curve"])
    return (
        agency.pk,
        f["source_id"],
        f["record_number"],
        f["equipment"],
        f["parameter"],
        f["specimen"],
        collected,
        str(f.get("value", "")),
        str(f.get("unit", "")),
        meta,
        data,
        digest,
        now,
        client_id,
    )


def _insert_postgresql(rows: list[tuple[Any, ...]]) -> dict[tuple[str, datetime.datetime], int]:
    """Insert ``rows``; the ids of those inserted now, by (source_id, collected_at)."""

    import json

    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        # the written columns only, without constraints: a staging table for COPY
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS testing_instrument_incoming ON COMMIT DELETE ROWS AS "  # noqa: S608 (constant column names)
            f"SELECT {columns} FROM testing_instrumentrecord WITH NO DATA"
        )
        raw = cursor.cursor  # psycopg 3
        with raw.copy(f"COPY testing_instrument_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])
        insert = (
            f"INSERT INTO testing_instrumentrecord ({columns}) SELECT {columns} FROM testing_instrument_incoming "  # noqa: S608 (constant column names)
            "ON CONFLICT (agency_id, source_id, collected_at) DO NOTHING RETURNING source_id, collected_at, id"
        )
        cursor.execute(insert)
        inserted = {(s, c): pk for s, c, pk in cursor.fetchall()}
        cursor.execute("DELETE FROM testing_instrument_incoming")
    return inserted


def _store(
    agency: Agency, rows: dict[tuple[str, datetime.datetime], tuple[Any, ...]]
) -> tuple[set[Any], dict[Any, int]]:
    """Store the new ones of ``rows``: the keys stored before, and the id of every key.
    PostgreSQL answers the new ids from the insert itself (``RETURNING``) and only the
    others are looked up; SQLite looks up before and after."""

    if connection.vendor == "postgresql":
        inserted = _insert_postgresql(list(rows.values())) if rows else {}
        missing = [key for key in rows if key not in inserted]
        before = _ids(agency, missing)
        return set(before), {**before, **inserted}
    before = _ids(agency, list(rows))
    fresh = [row for key, row in rows.items() if key not in before]
    if fresh:
        InstrumentRecord.objects.bulk_create(
            [InstrumentRecord(**dict(zip(COLUMNS, row, strict=True))) for row in fresh], ignore_conflicts=True
        )
    return set(before), _ids(agency, list(rows))


@transaction.atomic
def instrument_ingest(*, actor: Any, agency: Agency, items: Sequence[dict[str, Any]]) -> list[Stored | AppError]:
    """Store the readings ``items`` (the API's ``InstrumentRecordIn`` as dicts) of
    ``agency``; one answer per reading, in order. Refuses the whole call when ``actor``
    may not upload for ``agency`` or the batch is too large."""

    require_uploader(actor, agency)
    if len(items) > BATCH_MAX:
        raise AppError(
            ErrorCode.BATCH_TOO_LARGE, _("每批最多上传 %(n)d 条仪器采集数据。") % {"n": BATCH_MAX}, {"max": BATCH_MAX}
        )
    now = timezone.now()
    client = actor_of(actor).client
    assets = set(
        Equipment.objects.filter(agency=agency, asset_no__in={f["equipment"] for f in items}).values_list(
            "asset_no", flat=True
        )
    )
    parameters = set(Parameter.objects.filter(pk__in={f["parameter"] for f in items}).values_list("pk", flat=True))
    outcomes: list[tuple[str, str] | AppError] = []
    rows: dict[tuple[str, datetime.datetime], tuple[Any, ...]] = {}
    for f in items:
        try:
            row = _row(
                f, agency=agency, assets=assets, parameters=parameters, now=now, client_id=getattr(client, "pk", None)
            )
        except AppError as exc:
            outcomes.append(exc)
            continue
        key = (row[1], row[6])  # source_id, collected_at in UTC
        outcomes.append(key)  # type: ignore[arg-type]
        rows.setdefault(key, row)
    before, after = _store(agency, rows)
    answered: set[tuple[str, datetime.datetime]] = set()
    out: list[Stored | AppError] = []
    for outcome in outcomes:
        if isinstance(outcome, AppError):
            out.append(outcome)
            continue
        status = "duplicate" if outcome in before or outcome in answered else "accepted"
        answered.add(outcome)  # type: ignore[arg-type]
        out.append(Stored(status, after[outcome]))  # type: ignore[index]
    return out


def _ids(agency: Agency, keys: list[tuple[str, datetime.datetime]]) -> dict[tuple[str, datetime.datetime], int]:
    """The ids of the agency's stored readings among ``keys``, in one query."""

    if not keys:
        return {}
    wanted = set(keys)
    found = InstrumentRecord.objects.filter(
        agency=agency, source_id__in={k[0] for k in keys}, collected_at__in={k[1] for k in keys}
    ).values_list("source_id", "collected_at", "id")
    return {(s, c): pk for s, c, pk in found if (s, c) in wanted}
