"""Instrument data in real time (Guangxi 第七条(二)(三), 第十一条): readings sent singly or
in batches are acknowledged by index, a retry stores nothing new, curves are stored
compactly, rows are never changed, and on PostgreSQL they land in their month's
partition."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.migrations import on_postgresql
from inspecta.exchange.choices import Scope
from inspecta.exchange.testing import Credentials, approved_client, prepare, send, sign_prepared
from inspecta.testing import services
from inspecta.testing.curves import curve_unpack
from inspecta.testing.models import InstrumentRecord
from inspecta.testing.partitions import partitions_ensure
from inspecta.testing.testing import lab_fields, scene_with_sample

pytestmark = pytest.mark.django_db

API = "/api/v1/testing/instrument-records"


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = scene_with_sample(tree)
    lims = approved_client(
        applicant=s["agency_admin"], reviewer=tree["gz_supervisor"], scopes=[Scope.TESTS_SUBMIT.value], name="采集仪"
    )
    return s | {"lims": lims}


def call(creds: Credentials, body: Any, key: str = "") -> Any:
    headers = {"Content-Type": "application/json"} | ({"Idempotency-Key": key} if key else {})
    return send(Client(), sign_prepared(prepare("POST", API, json.dumps(body).encode(), **headers), creds))


def reading(
    scene: dict[str, Any], source: str, *, specimen: int = 1, points: int = 2000, **over: Any
) -> dict[str, Any]:
    """A compression test's force-time curve: ``points`` samples at 10 ms, a peak of
    about 1,100 kN."""

    force = [round(1100 * math.sin(math.pi * i / points) ** 2, 2) for i in range(points)]
    body = {
        "source_id": source,
        "record_number": "LIMS-0001",
        "equipment": scene["made"]["equipment"].asset_no,
        "parameter": "IP-0003",
        "specimen": specimen,
        "collected_at": timezone.now().replace(microsecond=0).isoformat(),
        "value": str(max(force)),
        "unit": "kN",
        "curve": {"y": force, "dt": 0.01, "x_unit": "s", "y_unit": "kN"},
    }
    return body | over


def test_a_batch_is_acknowledged_per_reading_and_a_retry_stores_nothing(scene: dict[str, Any]) -> None:
    first = reading(scene, "A-1")
    batch = [first, reading(scene, "A-2", equipment="NO-SUCH"), reading(scene, "A-3", specimen=2), first]
    response = call(scene["lims"], {"records": batch}, key="acq-1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 1)
    results = body["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted", "duplicate"]
    assert results[1]["error"]["code"] == "equipment_not_registered" and results[1]["index"] == 1
    assert results[3]["id"] == results[0]["id"]
    assert InstrumentRecord.objects.count() == 2

    replay = call(scene["lims"], {"records": batch}, key="acq-1")
    assert replay.json() == body and InstrumentRecord.objects.count() == 2
    resent = call(scene["lims"], {"records": [first]}).json()
    assert resent["results"] == [{"index": 0, "status": "duplicate", "id": results[0]["id"]}]
    assert InstrumentRecord.objects.count() == 2


def test_a_curve_is_stored_compactly_and_reads_back(scene: dict[str, Any]) -> None:
    sent = reading(scene, "C-1")
    result = call(scene["lims"], {"records": [sent]}).json()["results"][0]
    stored = InstrumentRecord.objects.get(pk=result["id"])
    assert stored.curve is not None and len(bytes(stored.curve)) < 2000 * 4  # under 4 bytes a point
    x, y = curve_unpack(stored.curve_meta, stored.curve)
    assert len(y) == 2000 and x[1] == pytest.approx(0.01)
    assert max(abs(a - b) for a, b in zip(y, sent["curve"]["y"], strict=True)) < 1e-3
    assert stored.client == scene["lims"].client and stored.parameter == "IP-0003"


def test_bad_readings_are_refused_by_index_and_change_nothing(scene: dict[str, Any]) -> None:
    future = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    bad = [
        reading(scene, "B-1", collected_at=future),
        reading(scene, "B-2", parameter="IP-9999"),
        reading(scene, "B-3", curve={"y": [1.0, 2.0]}),  # no x, no dt
        reading(scene, "B-4", collected_at="2026-12-01T08:00:00"),  # no time zone
    ]
    body = call(scene["lims"], {"records": bad}).json()
    assert [r["error"]["code"] for r in body["results"]] == [
        "test_times_invalid",
        "unknown_parameter",
        "invalid_input",
        "invalid_input",
    ]
    assert all(r["error"]["message"] for r in body["results"])
    assert not InstrumentRecord.objects.exists()


def test_stored_readings_cannot_be_changed(scene: dict[str, Any]) -> None:
    call(scene["lims"], {"records": [reading(scene, "I-1", points=10)]})
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE testing_instrumentrecord SET value = %s", ["9999"])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM testing_instrumentrecord")
    assert InstrumentRecord.objects.get().value != "9999"


def test_the_record_page_draws_its_curves_for_those_who_see_it(scene: dict[str, Any]) -> None:
    call(scene["lims"], {"records": [reading(scene, "P-1"), reading(scene, "P-2", specimen=2)]})
    record = services.test_record_upload(actor=scene["agency_admin"], agency=scene["agency"], **lab_fields(scene))
    page = login_verified(Client(), scene["tree"]["gz_supervisor"]).get(f"/testing/{record.pk}/").content.decode()
    assert 'data-testid="record-curves"' in page and page.count('data-testid="record-reading"') == 2
    data = json.loads(page.split('id="record-curves-data" type="application/json">')[1].split("</script>")[0])
    assert len(data[0]["points"]) <= 1000 and max(p[1] for p in data[0]["points"]) == pytest.approx(1100, abs=1)
    assert login_verified(Client(), scene["tree"]["sz_supervisor"]).get(f"/testing/{record.pk}/").status_code == 404


@on_postgresql
def test_readings_land_in_their_month_partition(scene: dict[str, Any]) -> None:
    partitions_ensure(ahead=1)
    result = call(scene["lims"], {"records": [reading(scene, "M-1", points=10)]}).json()["results"][0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM testing_instrumentrecord WHERE id = %s", [result["id"]])
        (partition,) = cursor.fetchone()
    assert partition == f"testing_instrumentrecord_p{timezone.now():%Y%m}"
    assert partitions_ensure(ahead=1) == []  # idempotent


def test_times_at_the_edges_of_the_calendar_are_refused_one_by_one(scene: dict[str, Any]) -> None:
    edges = ["0001-01-01T00:00:00+23:59", "1999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-23:59"]
    body = call(scene["lims"], {"records": [reading(scene, f"E-{i}", collected_at=t) for i, t in enumerate(edges)]})
    assert body.status_code == 200, body.content
    assert [r["error"]["code"] for r in body.json()["results"]] == ["test_times_invalid"] * 3
    assert not InstrumentRecord.objects.exists()


@pytest.mark.parametrize("bad", [[1e39], [float("nan")], [float("inf")], [1.0, -float("inf")], ["1"], [None], []])
def test_a_curve_that_is_not_finite_float32_numbers_is_refused(bad: list[Any]) -> None:
    from inspecta.core.errors import AppError
    from inspecta.testing.curves import curve_pack

    with pytest.raises(AppError) as refused:
        curve_pack({"y": bad, "dt": 0.01})
    assert refused.value.code == "invalid_input" and "曲线的 y" in refused.value.message


def test_a_packed_curve_comes_back_within_float32() -> None:
    from inspecta.testing.curves import curve_pack, curve_unpack

    meta, data, digest = curve_pack({"y": [0.0, 1234.5678, -3.0e38], "x": [0, 0.5, 1.0], "y_unit": "kN"})
    x, y = curve_unpack(meta, data)
    assert meta["count"] == 3 and meta["has_x"] and len(digest) == 64
    assert x == [0.0, 0.5, 1.0] and abs(y[1] - 1234.5678) < 1e-3 and abs(y[2] / -3.0e38 - 1) < 1e-6
