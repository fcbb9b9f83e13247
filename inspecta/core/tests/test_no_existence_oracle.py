"""No existence oracle (GB/T 22239 access control): a record out of the caller's reach
answers exactly as a missing one, so no refusal tells that it exists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.http import Http404

from inspecta.core.errors import AppError
from inspecta.core.testing.access import login_verified
from inspecta.projects.models import Contract, Project
from inspecta.registry.testing import CEMENT
from inspecta.reports import services as report_services
from inspecta.reports.models import Report
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission

pytestmark = pytest.mark.django_db

MISSING = 987654321


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    """Agency A of Guangzhou with its project; a Shenzhen project it is no party of."""

    agency, admin, made = approved_agency(tree, 971)
    own = project_with(tree, [agency], code="P-OWN")
    sz_agency, _sz_admin, _ = approved_agency(tree, 972, region="440300")
    other = project_with(tree, [sz_agency], code="P-SZ", region="440304")
    return {"agency": agency, "admin": admin, "made": made, "own": own, "other": other}


def _scrub(body: dict[str, Any], ident: int) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True).replace(str(ident), "<id>")


def test_reach_answers_404_for_a_row_out_of_reach(tree: dict[str, Any], scene: dict[str, Any]) -> None:
    assert Project.objects.reach(scene["admin"], pk=scene["own"].pk) == scene["own"]
    for pk in (scene["other"].pk, MISSING):
        with pytest.raises(Http404):
            Project.objects.reach(scene["admin"], pk=pk)


def test_contract_upload_on_another_citys_project_is_not_found(client: Any, scene: dict[str, Any]) -> None:
    scan = stored_file(scene["agency"].organisation_id, pdf_bytes("contract"))
    body = {
        "number": "HT-X",
        "client_name": "业主",
        "amount": "10.00",
        "signed_on": "2026-01-01",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "test_items": [CEMENT],
        "scan_id": str(scan.pk),
    }
    login_verified(client, scene["admin"])
    answers = {}
    for pk in (scene["other"].pk, MISSING):
        response = client.post(f"/api/v1/projects/{pk}/contracts", json.dumps(body), content_type="application/json")
        answers[pk] = (response.status_code, _scrub(response.json(), pk))
    assert answers[scene["other"].pk] == answers[MISSING]
    assert answers[MISSING][0] == 404 and '"not_found"' in answers[MISSING][1]
    assert not Contract.objects.exists()


def test_report_on_another_citys_project_is_an_unknown_project(scene: dict[str, Any]) -> None:
    """Before: another's project passed as known and the submission failed later (on the
    staff or the party check), telling that the id exists."""

    refusals = {}
    for pk in (scene["other"].pk, MISSING):
        fields = submission(scene["agency"], scene["made"], scene["own"], f"R-{pk}") | {"project_id": pk}
        with pytest.raises(AppError) as exc:
            report_services.report_submit(actor=scene["admin"], **fields)
        refusals[pk] = (exc.value.code, exc.value.status, str(exc.value.message).replace(str(pk), "<id>"))
    assert refusals[scene["other"].pk] == refusals[MISSING]
    assert refusals[MISSING][0] == "unknown_project"
    assert not Report.objects.exists()


def test_report_with_another_agencys_staff_on_another_project_is_an_unknown_project(scene: dict[str, Any]) -> None:
    """Staff of the submitting agency is checked after the project: whatever the staff,
    another's project is an unknown project."""

    fields = submission(scene["agency"], scene["made"], scene["own"], "R-S") | {
        "project_id": scene["other"].pk,
        "tester_id": MISSING,
    }
    with pytest.raises(AppError) as exc:
        report_services.report_submit(actor=scene["admin"], **fields)
    assert exc.value.code == "unknown_project"
    report_services.report_submit(actor=scene["admin"], **submission(scene["agency"], scene["made"], scene["own"]))
    assert Report.objects.count() == 1


def test_a_province_that_only_flags_non_party_agencies_still_accepts_them(
    tree: dict[str, Any], scene: dict[str, Any]
) -> None:
    """Where the province set ``agency_not_party`` to flag, any of its projects may be
    reported on (the rule says so), and the report carries the finding."""

    from inspecta.reports.choices import CheckAction, CheckCode
    from inspecta.reports.models import ReportFinding

    report_services.check_rule_set(
        actor=tree["operator"], code=CheckCode.AGENCY_NOT_PARTY, action=CheckAction.FLAG, province="440000"
    )
    fields = submission(scene["agency"], scene["made"], scene["own"], "R-FLAG") | {"project_id": scene["other"].pk}
    report = report_services.report_submit(actor=scene["admin"], **fields)
    assert report.project == scene["other"]
    assert ReportFinding.objects.filter(report=report, rule=CheckCode.AGENCY_NOT_PARTY).exists()
