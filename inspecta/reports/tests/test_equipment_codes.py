"""The equipment rule (T/CECS 4.1.3: equipment registered, in service and calibrated on
the test date) answers one error code per distinct failure, naming the equipment, so
a LIMS knows what to fix: ``equipment_not_registered``, ``equipment_not_in_service``,
``equipment_registered_after_test``, ``equipment_calibration_expired``."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inspecta.core.errors import AppError, ErrorCode
from inspecta.registry.models import Equipment
from inspecta.reports import services
from inspecta.reports.choices import CheckAction, CheckCode
from inspecta.reports.models import Report, ReportFinding
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def scene(tree):
    agency, admin, made = approved_agency(tree, 502)
    project = project_with(tree, [agency])
    return {"tree": tree, "agency": agency, "admin": admin, "made": made, "project": project}


def _refusal(scene, **over):
    kwargs = submission(scene["agency"], scene["made"], scene["project"], "R-EQ", **over)
    with pytest.raises(AppError) as exc:
        services.report_submit(actor=scene["admin"], **kwargs)
    assert exc.value.status == 422 and not Report.objects.exists()
    return exc.value


def _equipment(scene):
    return Equipment.objects.filter(pk=scene["made"]["equipment"].pk)


def test_unknown_equipment_is_not_registered(scene):
    error = _refusal(scene, equipment=["NO-SUCH-ASSET"])
    assert error.code == ErrorCode.EQUIPMENT_NOT_REGISTERED
    assert "NO-SUCH-ASSET" in error.message and "未登记" in error.message
    (failure,) = error.details["failures"]
    assert failure["code"] == "equipment_not_registered" and failure["equipment"] == ["NO-SUCH-ASSET"]
    assert failure["check"] == CheckCode.EQUIPMENT_NOT_CALIBRATED


def test_stopped_equipment_is_not_in_service(scene):
    _equipment(scene).update(status="stopped")
    error = _refusal(scene)
    assert error.code == ErrorCode.EQUIPMENT_NOT_IN_SERVICE


def test_equipment_registered_after_the_test_date(scene):
    _equipment(scene).update(
        created_at=timezone.now() + 3 * DAY, calibration_valid_until=timezone.localdate() + 9 * DAY
    )
    error = _refusal(scene)
    assert error.code == ErrorCode.EQUIPMENT_REGISTERED_AFTER_TEST


def test_calibration_expired_on_the_test_date(scene):
    _equipment(scene).update(calibration_valid_until=timezone.localdate() - DAY)
    error = _refusal(scene)
    assert error.code == ErrorCode.EQUIPMENT_CALIBRATION_EXPIRED
    assert error.details["failures"][0]["tested_on"] == timezone.localdate().isoformat()


def test_each_distinct_failure_is_listed_with_its_code(scene):
    _equipment(scene).update(calibration_valid_until=timezone.localdate() - DAY)
    error = _refusal(scene, equipment=["NO-SUCH-ASSET", scene["made"]["equipment"].asset_no])
    codes = [f["code"] for f in error.details["failures"]]
    assert codes == ["equipment_not_registered", "equipment_calibration_expired"]
    assert error.code == ErrorCode.EQUIPMENT_NOT_REGISTERED


def test_the_check_rule_still_flags_instead(scene):
    """The province's rule for the check (one rule, ``equipment_not_calibrated``) still
    decides whether any of these refuses or is accepted with a finding."""

    services.check_rule_set(
        actor=scene["tree"]["gd_admin"], code=CheckCode.EQUIPMENT_NOT_CALIBRATED, action=CheckAction.FLAG
    )
    kwargs = submission(scene["agency"], scene["made"], scene["project"], "R-EQ", equipment=["NO-SUCH-ASSET"])
    report = services.report_submit(actor=scene["admin"], **kwargs)
    finding = ReportFinding.objects.get(report=report, rule=CheckCode.EQUIPMENT_NOT_CALIBRATED)
    assert "NO-SUCH-ASSET" in finding.detail and "未登记" in finding.detail
