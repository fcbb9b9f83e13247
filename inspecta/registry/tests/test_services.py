"""Registration, review, key-fact re-review and conformity."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.core.testing.factories import PASSWORD
from inspecta.ledger.models import Entry
from inspecta.registry import services
from inspecta.registry.choices import AgencyStatus, ChangeRequestStatus, FindingRule
from inspecta.registry.models import Agency, AgencyHead, AgencyVersion, ChangeRequest, Equipment, Finding
from inspecta.registry.testing import CEMENT_MANDATORY, approved, credit_code, fill, id_number, register

pytestmark = pytest.mark.django_db


def open_rules(agency: Agency) -> set[str]:
    return set(Finding.objects.filter(agency=agency, resolved_at__isnull=True).values_list("rule", flat=True))


def test_register_fill_submit_approve(tree):
    agency, admin = register(1)
    assert agency.status == AgencyStatus.DRAFT and not agency.may_operate
    assert admin.organisation == agency.organisation and admin.has_role("agency_admin")
    with pytest.raises(ValidationError):
        services.agency_submit(actor=admin, agency=agency)  # nothing filled in yet
    fill(agency, admin)
    assert open_rules(agency) == set()
    agency = services.agency_submit(actor=admin, agency=agency)
    assert agency.status == AgencyStatus.SUBMITTED
    with pytest.raises(PermissionDenied):
        services.agency_approve(actor=tree["sz_supervisor"], agency=agency)
    with pytest.raises(PermissionDenied):
        services.agency_approve(actor=admin, agency=agency)
    agency = services.agency_approve(actor=tree["gz_supervisor"], agency=agency)
    assert agency.status == AgencyStatus.APPROVED and agency.may_operate
    version = AgencyVersion.objects.get(agency=agency)
    assert version.number == 1 and version.approved_by == tree["gz_supervisor"]
    assert Entry.objects.filter(kind="agency_approval", record_id=str(version.pk)).exists()
    last = agency.history.latest()
    assert last.history_user == tree["gz_supervisor"] and last.status == AgencyStatus.APPROVED


def test_return_needs_reason_and_resubmit(tree):
    agency, admin = register(2)
    fill(agency, admin, seed=2)
    services.agency_submit(actor=admin, agency=agency)
    with pytest.raises(ValidationError):
        services.agency_return(actor=tree["gz_supervisor"], agency=agency, reason="  ")
    agency = services.agency_return(actor=tree["gz_supervisor"], agency=agency, reason="资质证书扫描件不清晰")
    assert agency.status == AgencyStatus.RETURNED and agency.return_reason == "资质证书扫描件不清晰"
    assert agency.reviews.first().reason == "资质证书扫描件不清晰"
    assert services.agency_submit(actor=admin, agency=agency).status == AgencyStatus.SUBMITTED


def test_registration_validates_credit_code_region_and_password(tree):
    bad = credit_code(3)[:-1] + ("0" if credit_code(3)[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        services.agency_register(
            credit_code=bad,
            name="x",
            region_code="440100",
            contact_name="x",
            contact_mobile="",
            username="x1",
            password=PASSWORD,
        )
    assert "credit_code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.agency_register(
            credit_code=credit_code(3),
            name="x",
            region_code="110100",
            contact_name="x",
            contact_mobile="",
            username="x1",
            password=PASSWORD,
        )
    assert "region_code" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.agency_register(
            credit_code=credit_code(3),
            name="x",
            region_code="440100",
            contact_name="x",
            contact_mobile="",
            username="x1",
            password="password",
        )
    assert not Agency.objects.exists() and not User.objects.filter(username="x1").exists()


def test_key_fact_change_after_approval_is_rereviewed(tree):
    agency, admin = approved(tree, 4)
    head = AgencyHead.objects.get(agency=agency, role="legal_representative")
    change = services.head_save(
        actor=admin, agency=agency, pk=head.pk, data={"name": "新法人", "id_number": id_number(77)}
    )
    assert isinstance(change, ChangeRequest)
    head.refresh_from_db()
    assert head.name != "新法人"  # the approved version stays in force
    with pytest.raises(ValidationError):  # bad input refused at once
        services.head_save(actor=admin, agency=agency, pk=head.pk, data={"id_number": "440106198501010000"})
    services.change_request_approve(actor=tree["gz_supervisor"], change=change)
    head.refresh_from_db()
    assert head.name == "新法人"
    assert AgencyVersion.objects.filter(agency=agency).count() == 2
    change.refresh_from_db()
    assert change.status == ChangeRequestStatus.APPROVED
    # non-key edits apply at once
    services.agency_update(actor=admin, agency=agency, data={"phone": "020-87654321"})
    assert Agency.objects.get(pk=agency.pk).phone == "020-87654321"


def test_removing_only_calibrated_equipment_produces_finding(tree):
    agency, admin = register(5)
    records = fill(agency, admin, seed=5)
    assert FindingRule.PARAMETER_WITHOUT_EQUIPMENT not in open_rules(agency)
    services.equipment_remove(actor=admin, agency=agency, pk=records["equipment"].pk)
    findings = Finding.objects.filter(
        agency=agency, rule=FindingRule.PARAMETER_WITHOUT_EQUIPMENT, resolved_at__isnull=True
    )
    assert findings.count() == len(CEMENT_MANDATORY)  # the optional IP-0005 is not required


def test_calibration_expiring_and_expired(tree):
    agency, admin = register(6)
    records = fill(agency, admin, seed=6)
    today = timezone.localdate()
    services.equipment_save(
        actor=admin,
        agency=agency,
        pk=records["equipment"].pk,
        data={"calibration_valid_until": today + datetime.timedelta(days=10)},
    )
    assert FindingRule.CALIBRATION_EXPIRING in open_rules(agency)
    services.equipment_save(
        actor=admin,
        agency=agency,
        pk=records["equipment"].pk,
        data={
            "calibrated_on": today - datetime.timedelta(days=400),
            "calibration_valid_until": today - datetime.timedelta(days=1),
        },
    )
    rules = open_rules(agency)
    assert FindingRule.CALIBRATION_EXPIRED in rules and FindingRule.PARAMETER_WITHOUT_EQUIPMENT in rules


def test_person_in_two_agencies_and_shared_certificate(tree):
    first, admin1 = register(7)
    fill(first, admin1, seed=7)
    second, admin2 = register(8)
    person = id_number(75)  # staff of the first agency (seed 7 * 10 + 5)
    staff = services.staff_save(actor=admin2, agency=second, data={"name": "挂靠者", "id_number": person})
    assert FindingRule.PERSON_IN_TWO_AGENCIES in open_rules(first)
    assert FindingRule.PERSON_IN_TWO_AGENCIES in open_rules(second)
    services.staff_leave(actor=admin2, agency=second, pk=staff.pk)
    assert FindingRule.PERSON_IN_TWO_AGENCIES not in open_rules(first)
    other = services.staff_save(actor=admin2, agency=second, data={"name": "另一人", "id_number": id_number(99)})
    services.record_save(
        actor=admin2,
        agency=second,
        kind="post_certificate",
        data={"staff": other.pk, "number": "SG000007", "category": "SP01", "valid_until": "2099-01-01"},
    )
    assert FindingRule.CERTIFICATE_SHARED in open_rules(first)
    assert FindingRule.CERTIFICATE_SHARED in open_rules(second)


def test_other_agency_cannot_write(tree):
    first, _admin1 = register(9)
    _second, admin2 = register(10)
    with pytest.raises(PermissionDenied):
        services.staff_save(actor=admin2, agency=first, data={"name": "x", "id_number": id_number(1)})
    with pytest.raises(PermissionDenied):
        services.agency_update(actor=tree["gz_supervisor"], agency=first, data={"phone": "1"})


def test_name_and_capital_after_approval_are_change_requests(tree):
    """Company name and registered capital are key facts: after approval a change waits
    for the registration authority; other basic facts in the same save apply at once."""

    agency, admin = approved(tree, 40)
    old_name = agency.name
    change = services.agency_update(
        actor=admin,
        agency=agency,
        data={"name": "改名后的检测机构", "registered_capital": "5000.00", "phone": "020-11112222"},
    )
    assert isinstance(change, ChangeRequest) and change.status == ChangeRequestStatus.PENDING
    agency.refresh_from_db()
    assert agency.name == old_name and str(agency.registered_capital) == "1000.00"
    assert agency.organisation.name == old_name
    assert agency.phone == "020-11112222"  # not a key fact: in force at once
    assert "改名后的检测机构" in change.summary and "5000" in change.summary
    # a save that keeps the key facts as they are asks nothing
    assert services.agency_update(actor=admin, agency=agency, data={"name": old_name, "phone": "020-87654321"}) is None
    services.change_request_approve(actor=tree["gz_supervisor"], change=change)
    agency.refresh_from_db()
    assert agency.name == "改名后的检测机构" and str(agency.registered_capital) == "5000.00"
    assert agency.organisation.name == "改名后的检测机构"
    latest = AgencyVersion.objects.filter(agency=agency).first()
    assert latest.number == 2 and latest.snapshot["name"] == "改名后的检测机构"
    assert latest.snapshot["registered_capital"] == "5000.00"


def test_name_before_approval_applies_at_once(tree):
    agency, admin = register(41)
    assert services.agency_update(actor=admin, agency=agency, data={"name": "新名称"}) is None
    agency.refresh_from_db()
    assert agency.name == "新名称" and agency.organisation.name == "新名称"


def test_approving_with_critical_findings_needs_a_confirmation_naming_them(tree):
    agency, admin = register(42)
    fill(agency, admin, seed=42)
    services.record_save(
        actor=admin,
        agency=agency,
        kind="equipment",
        pk=Equipment.objects.get(agency=agency).pk,
        data={"calibration_valid_until": timezone.localdate() - datetime.timedelta(days=1)},
    )
    services.agency_submit(actor=admin, agency=agency)
    critical = Finding.objects.filter(agency=agency, resolved_at__isnull=True, severity="critical")
    assert critical.exists()
    with pytest.raises(ValidationError) as exc:
        services.agency_approve(actor=tree["gz_supervisor"], agency=agency)
    assert "confirm" in exc.value.message_dict
    text = " ".join(exc.value.message_dict["confirm"])
    for finding in critical:
        assert finding.subject in text
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.SUBMITTED
    agency = services.agency_approve(actor=tree["gz_supervisor"], agency=agency, confirm_findings=True)
    assert agency.status == AgencyStatus.APPROVED


def test_staff_is_bound_to_an_account_of_the_agency_only_once(tree):
    """The agency admin binds a staff record to an account of its own organisation (the
    account signs off reports as that person); another organisation's account or a second
    active record for the same account is refused with a message, nothing written."""

    from inspecta.accounts.services import user_create
    from inspecta.core.testing.factories import PASSWORD
    from inspecta.registry.models import Staff

    agency, admin = register(46)
    tester = user_create(
        actor=None,
        username="tester46",
        full_name="检测员甲",
        organisation=agency.organisation,
        roles=["tester"],
        password=PASSWORD,
    )
    staff = services.staff_save(
        actor=admin, agency=agency, data={"name": "检测员甲", "id_number": id_number(461), "user": tester.pk}
    )
    assert Staff.objects.get(pk=staff.pk).user == tester
    with pytest.raises(ValidationError) as exc:
        services.staff_save(
            actor=admin,
            agency=agency,
            data={"name": "外单位", "id_number": id_number(462), "user": tree["gz_admin"].pk},
        )
    assert "user" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.staff_save(
            actor=admin, agency=agency, data={"name": "检测员乙", "id_number": id_number(463), "user": tester.pk}
        )
    assert "另一名在职人员" in " ".join(exc.value.messages)
    assert Staff.objects.filter(agency=agency).count() == 1
