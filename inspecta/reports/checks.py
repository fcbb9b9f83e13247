"""Acceptance checks of a submitted report against the registry and the project (issue 5
point 4; T/CECS 4.3.4; Nanchang 三(一); Guangxi 第十一条).

Each check has a stable code (``CheckCode``). A failed check either refuses the report
(HTTP 422 with the code) or accepts it with a ``ReportFinding``, as configured per rule
by the province (``CheckRule`` rows), then by ``INSPECTA_REPORT_CHECK_ACTIONS``, then by
``DEFAULT_ACTIONS`` below. Defaults (documented in docs/reports.md):

============================  ======  ==============================================
code                          action  what fails
============================  ======  ==============================================
agency_not_approved           reject  the agency is not approved (Guangdong 附件2 一(二))
capability_missing            reject  no site capability for the item and every parameter
tester_certificate_invalid    reject  no post certificate of the category valid on the test date
signatory_not_authorised      reject  the signatory is not registered with that scope/site
equipment_not_calibrated      reject  named equipment unknown, not in use, or calibration not valid on the test date
agency_not_party              reject  the agency is not a party of the project
too_many_agencies             flag    a third agency for the project and item without a contract allowing it
approval_trail_invalid        reject  tester, reviewer, signatory not three persons or times out of order
============================  ======  ==============================================
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.models import TestItem
from inspecta.projects.models import Contract, Project
from inspecta.registry.choices import EquipmentStatus
from inspecta.registry.models import Agency, Equipment, PostCertificate, Signatory, SiteCapability, Staff

from .choices import CheckAction, CheckCode
from .models import CheckRule

DEFAULT_ACTIONS: dict[str, str] = {
    CheckCode.AGENCY_NOT_APPROVED: CheckAction.REJECT,
    CheckCode.CAPABILITY_MISSING: CheckAction.REJECT,
    CheckCode.TESTER_CERTIFICATE_INVALID: CheckAction.REJECT,
    CheckCode.SIGNATORY_NOT_AUTHORISED: CheckAction.REJECT,
    CheckCode.EQUIPMENT_NOT_CALIBRATED: CheckAction.REJECT,
    CheckCode.AGENCY_NOT_PARTY: CheckAction.REJECT,
    CheckCode.TOO_MANY_AGENCIES: CheckAction.FLAG,
    CheckCode.APPROVAL_TRAIL_INVALID: CheckAction.REJECT,
}


def check_action(code: str) -> str:
    """The configured action of a check: ``CheckRule`` row, then settings, then default."""

    row = CheckRule.objects.filter(code=code).values_list("action", flat=True).first()
    if row:
        return str(row)
    configured = getattr(settings, "INSPECTA_REPORT_CHECK_ACTIONS", {}) or {}
    return str(configured.get(code, DEFAULT_ACTIONS.get(code, CheckAction.REJECT)))


@dataclass
class Failure:
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckInput:
    agency: Agency
    project: Project
    test_item: TestItem
    parameters: list[str]
    tested_on: datetime.date
    site_id: int | None
    tester: Staff
    reviewer: Staff
    signatory: Staff
    tested_at: datetime.datetime
    reviewed_at: datetime.datetime
    approved_at: datetime.datetime
    equipment: list[str]


def run_checks(c: CheckInput) -> list[Failure]:
    """Every failed check, in a stable order."""

    failures: list[Failure] = []
    specialty_id = c.test_item.specialty_id
    if not c.agency.may_operate:
        failures.append(Failure(CheckCode.AGENCY_NOT_APPROVED, _("检测机构未通过审核，不能报送报告。")))
    caps = SiteCapability.objects.filter(agency=c.agency, item_parameter__test_item_id=c.test_item.pk)
    if c.site_id:
        caps = caps.filter(site_id=c.site_id)
    covered = set(caps.values_list("item_parameter__parameter_id", flat=True))
    missing = sorted(set(c.parameters) - covered) if covered else sorted(c.parameters)
    if missing or not covered:
        failures.append(
            Failure(
                CheckCode.CAPABILITY_MISSING,
                _("检测机构未登记该检测项目/参数的检测能力。"),
                {"test_item": c.test_item.pk, "parameters": missing},
            )
        )
    certificate = PostCertificate.objects.filter(
        staff=c.tester, category_id=specialty_id, valid_until__gte=c.tested_on
    ).filter(Q(issued_on__isnull=True) | Q(issued_on__lte=c.tested_on))
    if not c.tester.active or not certificate.exists():
        failures.append(
            Failure(
                CheckCode.TESTER_CERTIFICATE_INVALID,
                _("检测人员在检测日期没有该类别的有效上岗证。"),
                {"tester": c.tester.pk, "category": specialty_id, "tested_on": c.tested_on.isoformat()},
            )
        )
    signatory = Signatory.objects.filter(agency=c.agency, staff=c.signatory, scope=specialty_id)
    if c.site_id:
        signatory = signatory.filter(Q(site__isnull=True) | Q(site_id=c.site_id))
    if not signatory.exists():
        failures.append(
            Failure(
                CheckCode.SIGNATORY_NOT_AUTHORISED,
                _("批准人不是具有该签字范围和检测场所的授权签字人。"),
                {"signatory": c.signatory.pk, "category": specialty_id, "site": c.site_id},
            )
        )
    bad_equipment = []
    found = {e.asset_no: e for e in Equipment.objects.filter(agency=c.agency, asset_no__in=c.equipment)}
    for asset_no in c.equipment:
        eq = found.get(asset_no)
        if (
            eq is None
            or eq.status != EquipmentStatus.IN_USE
            or timezone.localdate(eq.created_at) > c.tested_on
            or (eq.calibrated_on is not None and eq.calibrated_on > c.tested_on)
            or not eq.calibration_valid_on(c.tested_on)
        ):
            bad_equipment.append(asset_no)
    if bad_equipment:
        failures.append(
            Failure(
                CheckCode.EQUIPMENT_NOT_CALIBRATED,
                _("仪器设备未登记、未在用或检测日期不在检定/校准有效期内：%(e)s。") % {"e": "、".join(bad_equipment)},
                {"equipment": bad_equipment},
            )
        )
    if c.agency.pk not in c.project.agency_ids():
        failures.append(
            Failure(CheckCode.AGENCY_NOT_PARTY, _("检测机构不是该项目的参建检测机构。"), {"project": c.project.pk})
        )
    from .models import Report

    others = set(
        Report.objects.filter(project=c.project, test_item=c.test_item).values_list("agency_id", flat=True)
    ) | set(Contract.objects.filter(project=c.project, test_items=c.test_item).values_list("agency_id", flat=True))
    others.discard(c.agency.pk)
    if len(others) >= 2:
        allowed = Contract.objects.filter(
            project=c.project, agency=c.agency, test_items=c.test_item, allows_additional_agency=True
        ).exists()
        if not allowed:
            failures.append(
                Failure(
                    CheckCode.TOO_MANY_AGENCIES,
                    _("该项目该检测项目已有两家检测机构，且无合同允许增加。"),
                    {"agencies": sorted(others)},
                )
            )
    people = {c.tester.pk, c.reviewer.pk, c.signatory.pk}
    in_order = c.tested_at <= c.reviewed_at <= c.approved_at <= timezone.now() + datetime.timedelta(minutes=5)
    if len(people) != 3 or not in_order:
        failures.append(
            Failure(
                CheckCode.APPROVAL_TRAIL_INVALID,
                _("三级审批须由检测、审核、批准三人依次完成，时间不得倒序。"),
                {"distinct_people": len(people) == 3, "in_order": in_order},
            )
        )
    return failures
