"""Test records: uploaded once, checked against the chain and the registry, changed only
by revisions with a reason, pinned in the transparency log (T/CECS 2.0.7-2.0.9; Guangxi
第七条(八), 第十三条)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from click.testing import CliRunner
from django.db import connection
from django.test import Client
from django.utils import timezone

from inspecta.cli import main
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.testing.access import login_verified
from inspecta.ledger import audit
from inspecta.ledger.choices import FindingKind
from inspecta.ledger.models import Entry
from inspecta.ledger.services import sequence_pending
from inspecta.registry import services as registry_services
from inspecta.sampling import services as sampling_services
from inspecta.sampling.testing import record_kwargs
from inspecta.testing import services
from inspecta.testing.canonical import body_sha256, record_body
from inspecta.testing.choices import TestingLogKind
from inspecta.testing.demo import demo_parameters
from inspecta.testing.models import TestRecord, TestRecordRevision
from inspecta.testing.testing import lab_fields, scene_with_sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return scene_with_sample(tree)


def _upload(scene: dict[str, Any], **over: Any) -> TestRecord:
    return services.test_record_upload(actor=scene["agency_admin"], agency=scene["agency"], **lab_fields(scene, **over))


def test_an_upload_is_revision_one_with_its_hash_in_the_log(scene: dict[str, Any]) -> None:
    record = _upload(scene)
    assert record.project_id == scene["project"].pk and record.sample_id == scene["sample"].pk
    revision = TestRecordRevision.objects.get(record=record)
    assert revision.number == 1 and revision.by == scene["agency_admin"]
    assert revision.sha256 == record.sha256 == body_sha256(record_body(record))
    entry = Entry.objects.get(kind=TestingLogKind.TEST_RECORD, record_id=str(record.pk))
    assert b'"sha256":"' + record.sha256.encode() in entry.entry
    sequence_pending()
    assert [p for p in audit.verify_log() if p.kind == FindingKind.RECORD_CHANGED] == []


def test_a_revision_keeps_the_first_upload_and_says_what_changed(scene: dict[str, Any]) -> None:
    record = _upload(scene)
    first = record.sha256
    fixed = demo_parameters(["48.2", "47.9", "49.1", "48.6", "47.5", "49.0"])
    record = services.test_record_revise(
        actor=scene["agency_admin"], record=record, reason="第 6 块录入错误", parameters=fixed
    )
    assert record.revision == 2 and record.parameters == fixed and record.sha256 != first
    r1, r2 = TestRecordRevision.objects.filter(record=record).order_by("number")
    assert r1.sha256 == first and r1.body["parameters"][2]["values"][-1] == "48.8"
    assert r2.changed == ["parameters"] and r2.reason == "第 6 块录入错误"
    assert Entry.objects.filter(kind=TestingLogKind.TEST_RECORD, record_id=str(record.pk)).count() == 2
    sequence_pending()
    assert [p for p in audit.verify_log() if p.kind == FindingKind.RECORD_CHANGED] == []


def test_a_revision_needs_a_reason_and_a_change(scene: dict[str, Any]) -> None:
    record = _upload(scene)
    with pytest.raises(AppError) as no_reason:
        services.test_record_revise(actor=scene["agency_admin"], record=record, reason=" ", standard="GB 175")
    assert no_reason.value.code == ErrorCode.REASON_REQUIRED
    with pytest.raises(AppError) as same:
        services.test_record_revise(actor=scene["agency_admin"], record=record, reason="无", standard="GB 175-2023")
    assert same.value.code == ErrorCode.NOTHING_TO_AMEND
    with pytest.raises(AppError) as fixed:
        services.test_record_revise(actor=scene["agency_admin"], record=record, reason="换样品", sample="X")
    assert fixed.value.code == ErrorCode.FIELD_NOT_UPDATABLE
    record.refresh_from_db()
    assert record.revision == 1 and TestRecordRevision.objects.filter(record=record).count() == 1


@pytest.mark.parametrize("table", ["testing_testrecord", "testing_testrecordrevision"])
def test_a_raw_sql_update_is_caught_by_log_verify(scene: dict[str, Any], table: str) -> None:
    record = _upload(scene)
    sequence_pending()
    with connection.cursor() as cursor:
        if table == "testing_testrecord":
            cursor.execute(f"UPDATE {table} SET conclusion = %s WHERE id = %s", ["nonconforming", record.pk])  # noqa: S608
        else:
            body = TestRecordRevision.objects.get(record=record).body
            body["parameters"][2]["values"][0] = "58.2"
            import json

            cursor.execute(f"UPDATE {table} SET body = %s WHERE record_id = %s", [json.dumps(body), record.pk])  # noqa: S608
    result = CliRunner().invoke(main, ["log", "verify", "--no-progress", "--record"])
    assert result.exit_code == 1, result.output
    assert f"testing.testrecord:{record.pk} differs from log index" in result.output


def _refusal(scene: dict[str, Any], **over: Any) -> AppError:
    with pytest.raises(AppError) as exc:
        _upload(scene, **over)
    assert not TestRecord.objects.exists()
    return exc.value


def test_uploads_that_break_the_chain_or_the_registry_are_refused(scene: dict[str, Any]) -> None:
    sample = scene["sample"]
    received = sample.receipt.received_at
    pending = sampling_services.sample_record(**record_kwargs(scene, seed=41))
    cases = {
        ErrorCode.TEST_SAMPLE_INVALID: [{"sample": pending.code}, {"sample": "440106-2026-999999-X"}],
        ErrorCode.TEST_TIMES_INVALID: [
            {"started_at": received - datetime.timedelta(hours=1)},
            {"ended_at": timezone.now() + datetime.timedelta(hours=1)},
        ],
        ErrorCode.TEST_PARAMETER_INVALID: [
            {"parameters": [{**demo_parameters(["1"])[0], "parameter": "IP-0500"}]},
            {"conclusion": "nonconforming"},
            {"parameters": [{**demo_parameters(["1"])[2], "judgement": "nonconforming"}]},
        ],
        ErrorCode.UNKNOWN_STAFF: [{"tester_id": scene["made"]["reviewer"].pk + 10_000}],
        ErrorCode.TESTER_CERTIFICATE_INVALID: [{"tester_id": scene["made"]["reviewer"].pk}],
        ErrorCode.EQUIPMENT_NOT_REGISTERED: [{"equipment": ["NO-SUCH"]}],
        ErrorCode.UNKNOWN_TEST_ITEM: [{"test_item": "OBJ-NOPE"}],
    }
    for code, variants in cases.items():
        for over in variants:
            assert _refusal(scene, **over).code == code, over


def test_an_expired_calibration_is_refused_on_the_test_date(scene: dict[str, Any]) -> None:
    equipment = scene["made"]["equipment"]
    registry_services.record_save(
        actor=scene["agency_admin"],
        agency=scene["agency"],
        kind="equipment",
        pk=equipment.pk,
        data={"calibration_valid_until": timezone.localdate() - datetime.timedelta(days=1)},
    )
    assert _refusal(scene).code == ErrorCode.EQUIPMENT_CALIBRATION_EXPIRED


def test_a_number_is_uploaded_once_per_agency(scene: dict[str, Any]) -> None:
    _upload(scene)
    with pytest.raises(AppError) as exc:
        _upload(scene)
    assert exc.value.code == ErrorCode.TEST_RECORD_EXISTS and exc.value.status == 409
    assert TestRecord.objects.count() == 1


def test_another_agency_cannot_upload_on_a_sample_it_did_not_receive(
    tree: dict[str, Any], scene: dict[str, Any]
) -> None:
    other = scene_with_sample(tree, 2, seed=32)
    with pytest.raises(AppError) as exc:
        services.test_record_upload(actor=other["agency_admin"], agency=other["agency"], **lab_fields(scene))
    assert exc.value.code == ErrorCode.TEST_SAMPLE_INVALID
    assert not TestRecord.objects.exists()


def test_only_the_agency_uploads_and_revises(scene: dict[str, Any]) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.test_record_upload(actor=scene["receiver"], agency=scene["agency"], **lab_fields(scene))
    record = _upload(scene)
    with pytest.raises(PermissionDenied):
        services.test_record_revise(actor=scene["tree"]["gz_supervisor"], record=record, reason="改", standard="X")


def test_pages_show_the_record_to_its_region_and_nothing_to_others(scene: dict[str, Any]) -> None:
    record = services.test_record_revise(
        actor=scene["agency_admin"],
        record=_upload(scene, number="JK-77"),
        reason="更正第 6 块",
        parameters=demo_parameters(["48.2", "47.9", "49.1", "48.6", "47.5", "49.0"]),
    )
    tree = scene["tree"]
    for user in (tree["gz_supervisor"], scene["agency_admin"], scene["contractor_admin"]):
        client = login_verified(Client(), user)
        listing = client.get("/testing/").content.decode()
        assert "JK-77" in listing, user
        page = client.get(f"/testing/{record.pk}/").content.decode()
        assert "更正第 6 块" in page and "48.8" in page and "49.0" in page and record.sha256 in page
    for user in (tree["sz_supervisor"],):
        client = login_verified(Client(), user)
        assert "JK-77" not in client.get("/testing/").content.decode()
        assert client.get(f"/testing/{record.pk}/").status_code == 404


def test_pass_rates_and_the_export_follow_the_scope_and_the_filters(scene: dict[str, Any]) -> None:
    import io

    from openpyxl import load_workbook

    _upload(scene, number="ST-1")
    tree = scene["tree"]
    supervisor = login_verified(Client(), tree["gz_supervisor"])
    page = supervisor.get("/testing/stats/").content.decode()
    assert page.count('data-testid="pass-rate"') == 1 and "100%" in page and scene["agency"].name in page
    listing = supervisor.get("/testing/").content.decode()
    assert f'<option value="{scene["sample"].test_item_id}">' in listing  # items offered by name
    workbook = load_workbook(io.BytesIO(supervisor.get("/testing/export.xlsx?conclusion=qualified").content))
    rows = list(workbook["检测数据"].values)
    assert rows[1][0] == "ST-1" and len(rows) == 2
    assert list(workbook["合格率"].values)[1][2:] == (1, 0, 1.0)
    empty = load_workbook(io.BytesIO(supervisor.get("/testing/export.xlsx?conclusion=nonconforming").content))
    assert len(list(empty["检测数据"].values)) == 1
    other = login_verified(Client(), tree["sz_supervisor"])
    assert 'data-testid="pass-rate"' not in other.get("/testing/stats/").content.decode()
    assert len(list(load_workbook(io.BytesIO(other.get("/testing/export.xlsx").content))["检测数据"].values)) == 1
    today = timezone.localdate()
    assert "ST-1" in supervisor.get(f"/testing/?date_from={today}&date_to={today}").content.decode()
    assert "ST-1" not in supervisor.get(f"/testing/?date_to={today - datetime.timedelta(days=1)}").content.decode()
