"""A report is compared with the test data uploaded for its samples: a contradiction is
a failed acceptance check (reject by default, flag where the province says so), a sample
without data is flagged, and the report page shows the data behind it (Guangxi
第十七条(五); Guangdong 附件2 二(十一))."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.testing.access import login_verified
from inspecta.registry.testing import CEMENT_MANDATORY
from inspecta.reports import services as report_services
from inspecta.reports.models import Report, ReportFinding
from inspecta.reports.testing import submission
from inspecta.testing import services
from inspecta.testing.testing import lab_fields, scene_with_sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = scene_with_sample(tree)
    record = services.test_record_upload(actor=s["agency_admin"], agency=s["agency"], **lab_fields(s, "D-1"))
    uploaded = {p["parameter"]: p["result"] for p in record.parameters}
    return s | {"agreeing": {"IP-0003": uploaded["IP-0003"], "IP-0004": uploaded["IP-0004"]}}


def _submit(scene: dict[str, Any], number: str, **over: Any) -> Report:
    fields = {
        "samples": [scene["sample"].code],
        "parameters": CEMENT_MANDATORY,
        "results": scene["agreeing"],
        "conclusion": "qualified",
        **over,
    }
    return report_services.report_submit(
        actor=scene["agency_admin"], **submission(scene["agency"], scene["made"], scene["project"], number, **fields)
    )


def test_a_report_that_agrees_with_its_data_is_accepted_and_shows_it(scene: dict[str, Any]) -> None:
    written = {"IP-0003": scene["agreeing"]["IP-0003"] + "0", "IP-0004": "0.0210"}  # the same numbers
    report = _submit(scene, "RD-1", results=written)
    assert not ReportFinding.objects.filter(report=report).exists()
    page = login_verified(Client(), scene["tree"]["gz_supervisor"]).get(f"/reports/{report.pk}/").content.decode()
    assert 'data-testid="report-test-records"' in page and "D-1" in page


@pytest.mark.parametrize(
    ("over", "problem"),
    [
        ({"conclusion": "nonconforming"}, "conclusion_differs"),
        ({"results": {"IP-0003": "52.0"}}, "results_differ"),
        ({"parameters": [*CEMENT_MANDATORY, "IP-0005"]}, "parameters_without_data"),
    ],
)
def test_a_report_that_contradicts_its_data_is_refused(
    scene: dict[str, Any], over: dict[str, Any], problem: str
) -> None:
    with pytest.raises(AppError) as exc:
        _submit(scene, "RD-2", **over)
    assert exc.value.code == ErrorCode.REPORT_DATA_MISMATCH
    failure = next(f for f in exc.value.details["failures"] if f["code"] == "report_data_mismatch")
    assert [p["problem"] for p in failure["problems"]] == [problem]
    assert not Report.objects.filter(report_number="RD-2").exists()


def test_where_the_province_flags_it_the_report_is_accepted_with_a_finding(scene: dict[str, Any]) -> None:
    report_services.check_rule_set(actor=scene["tree"]["gd_admin"], code="report_data_mismatch", action="flag")
    report = _submit(scene, "RD-3", conclusion="nonconforming")
    finding = ReportFinding.objects.get(report=report)
    assert finding.rule == "report_data_mismatch" and "结论" in finding.detail


def test_a_sample_without_data_is_flagged(tree: dict[str, Any], scene: dict[str, Any]) -> None:
    from inspecta.sampling.testing import received_sample

    bare = received_sample(scene, 37)
    report = _submit(scene, "RD-4", samples=[bare.code], results={})
    finding = ReportFinding.objects.get(report=report)
    assert finding.rule == "report_data_missing" and bare.code in finding.detail


def test_the_public_verification_shows_the_test_data_masked(tree: dict[str, Any]) -> None:
    from inspecta.ledger.services import sequence_pending
    from inspecta.sampling.testing import photo
    from inspecta.testing.instruments import instrument_ingest
    from inspecta.testing.public import image_url

    s = scene_with_sample(tree, seed=38)
    image = photo(s["agency_admin"], 3801)
    record = services.test_record_upload(
        actor=s["agency_admin"],
        agency=s["agency"],
        **lab_fields(s, "PUB-1", files=[{"id": image.pk, "kind": "image", "caption": "破型"}]),
    )
    (stored,) = instrument_ingest(
        actor=s["agency_admin"],
        agency=s["agency"],
        items=[
            {
                "source_id": "S-1",
                "record_number": "PUB-1",
                "equipment": s["made"]["equipment"].asset_no,
                "parameter": "IP-0003",
                "specimen": 1,
                "collected_at": record.started_at,
                "value": "72.4",
                "unit": "kN",
                "curve": {"y": [float(i % 50) for i in range(500)], "dt": 0.1},
            }
        ],
    )
    row = record.files.get()
    url = image_url(s["sample"].code, row.pk)
    assert Client().get(url).status_code == 404  # no report names the sample yet
    uploaded = {p["parameter"]: p["result"] for p in record.parameters}
    report = _submit(s | {"agreeing": {"IP-0003": uploaded["IP-0003"]}}, "PUB-R")
    sequence_pending()
    body = Client().get(f"/api/v1/public/reports/{report.verification_code}").json()
    (step,) = [c for c in body["chain"] if c["step"] == "test_record"]
    assert step["number"] == "PUB-1" and step["sha256"] == record.sha256 and step["log_index"] is not None
    assert step["tester"] != s["made"]["staff"].name and "*" in step["tester"]
    assert len(step["curves"]) == 1 and len(step["curves"][0]["points"]) <= 60 and step["curves"][0]["sketch"]
    assert step["images"][0]["url"] == url
    thumb = Client().get(url)
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    page = Client().get(f"/v/{report.verification_code}").content.decode()
    assert 'data-testid="test-record-step"' in page and 'data-testid="curve-sketch"' in page and url in page
    assert s["made"]["staff"].name not in page
    assert stored.status == "accepted"  # type: ignore[union-attr]


def test_once_a_report_in_force_names_the_sample_its_data_is_locked(scene: dict[str, Any]) -> None:
    from inspecta.testing.models import TestRecord

    record = TestRecord.objects.get(number="D-1")
    _submit(scene, "RD-5")
    with pytest.raises(AppError) as exc:
        services.test_record_revise(actor=scene["agency_admin"], record=record, reason="改", standard="GB 175")
    assert exc.value.code == ErrorCode.TEST_RECORD_LOCKED and exc.value.status == 409
    record.refresh_from_db()
    assert record.revision == 1 and record.standard == "GB 175-2023"


def test_a_locked_record_changes_once_through_an_approved_amendment_of_its_report(
    scene: dict[str, Any], client: Client
) -> None:
    from inspecta.testing.models import TestRecord

    record = TestRecord.objects.get(number="D-1")
    report = _submit(scene, "RD-6")
    admin, tree = scene["agency_admin"], scene["tree"]
    amendment = report_services.amendment_apply(
        actor=admin, report=report, reason="检测标准版本号笔误", data={"test_basis": "GB 175-2023"}
    )

    def revise(**kw: Any) -> Any:
        return services.test_record_revise(actor=admin, record=record, reason="依据报告变更更正标准", **kw)

    with pytest.raises(AppError) as pending:  # not approved yet
        revise(amendment_id=amendment.pk, standard="GB 175-2023 (第1号修改单)")
    assert pending.value.code == ErrorCode.TEST_AMENDMENT_INVALID and pending.value.status == 422
    report_services.amendment_approve(actor=tree["gz_supervisor"], amendment=amendment, reason="同意")
    revised = revise(amendment_id=amendment.pk, standard="GB 175-2023 (第1号修改单)")
    assert revised.revision == 2 and revised.standard == "GB 175-2023 (第1号修改单)"
    assert revised.revisions.get(number=2).amendment_id == amendment.pk
    with pytest.raises(AppError) as again:  # once per record
        revise(amendment_id=amendment.pk, standard="GB 175-2023")
    assert again.value.code == ErrorCode.TEST_AMENDMENT_INVALID
    with pytest.raises(AppError) as none:
        revise(standard="GB 175-2023")
    assert none.value.code == ErrorCode.TEST_RECORD_LOCKED
    record.refresh_from_db()
    assert record.revision == 2 and record.standard == "GB 175-2023 (第1号修改单)"
    login_verified(client, tree["gz_supervisor"])
    shown = client.get(f"/api/v1/testing/records/{record.pk}").json()
    assert shown["revisions"][1]["amendment"] == amendment.pk and shown["revisions"][0]["amendment"] is None
    page = client.get(f"/testing/{record.pk}/").content.decode()
    assert page.count('data-testid="revision-amendment"') == 1 and report.report_number in page


def test_another_agencys_amendment_opens_nothing(scene: dict[str, Any], tree: dict[str, Any]) -> None:
    from inspecta.reports.testing import approved_agency, project_with
    from inspecta.testing.models import TestRecord

    record = TestRecord.objects.get(number="D-1")
    _submit(scene, "RD-7")
    other, other_admin, made = approved_agency(tree, 7)
    project = project_with(tree, [other], code="P-OTHER")
    foreign = report_services.report_submit(actor=other_admin, **submission(other, made, project, "RD-8"))
    amendment = report_services.amendment_apply(
        actor=other_admin, report=foreign, reason="更正", data={"test_basis": "GB 175-2023"}
    )
    report_services.amendment_approve(actor=tree["gz_supervisor"], amendment=amendment, reason="同意")
    with pytest.raises(AppError) as refused:
        services.test_record_revise(
            actor=scene["agency_admin"], record=record, reason="改", amendment_id=amendment.pk, standard="GB 175"
        )
    assert refused.value.code == ErrorCode.TEST_AMENDMENT_INVALID
    record.refresh_from_db()
    assert record.revision == 1
