"""Acceptance checks of a submitted report against the registry and the project (T/CECS 4.3.4; Nanchang 三(一); Guangxi 第十一条).

Each check has a stable code (``CheckCode``). A failed check either refuses the report
(HTTP 422 with the code) or accepts it with a ``ReportFinding``, as configured per rule
by the province of the project (``CheckRule`` rows; a platform-wide row set by an
operator), then by ``INSPECTA_REPORT_CHECK_ACTIONS``, then by
the rule's default action. Each check is one rule of ``CHECKS`` (a
``core.rulebook.RuleBook``) with its code, clause and default action. Defaults
(documented in docs/reports.md):

============================  ======  ==============================================
code                          action  what fails
============================  ======  ==============================================
agency_not_approved           reject  the agency is not approved (Guangdong 附件2 一(二))
capability_missing            reject  no site capability for the item and every parameter
tester_certificate_invalid    reject  no post certificate of the category valid on the test date
signatory_not_authorised      reject  the signatory is not registered with that scope/site
equipment_not_calibrated      reject  named equipment unknown, not in use, registered after or not calibrated on the test date
agency_not_party              reject  the agency is not a party of the project
too_many_agencies             flag    a third agency for the project and item without a contract allowing it
approval_trail_invalid        reject  tester, reviewer, signatory not three persons or times out of order
============================  ======  ==============================================

A check may fail for distinct causes, each with its own error code (``Failure.error``)
under the one configurable rule (``Failure.code``): the equipment check answers
``equipment_not_registered``, ``equipment_not_in_service``,
``equipment_registered_after_test`` or ``equipment_calibration_expired``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspecta.core.errors import ErrorCode
from inspecta.core.models import TestItem
from inspecta.core.rulebook import RuleBook
from inspecta.projects.choices import PartyRole
from inspecta.projects.models import Contract, Project, ProjectParty
from inspecta.registry.choices import EquipmentStatus
from inspecta.registry.models import (
    Agency,
    Equipment,
    PostCertificate,
    Signatory,
    SiteCapability,
    Staff,
    certificate_covers,
)

from .choices import CheckAction, CheckCode, Conclusion
from .models import CheckRule

PLATFORM = ""  # ``CheckRule.province`` of a platform-wide rule (set by an operator)


def province_of(region_code: str) -> str:
    """The province (``XX0000``) whose rules apply to a project in ``region_code``."""

    return region_code[:2] + "0000"


def configured_action(code: str) -> str:
    """The action of a check without a province rule: settings, then the default."""

    configured = settings.INSPECTA_REPORT_CHECK_ACTIONS
    return str(configured.get(code, DEFAULT_ACTIONS.get(code, CheckAction.REJECT)))


def check_actions(provinces: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{province: {code: action}}`` for every check, in one query: the province's
    ``CheckRule``, then a platform-wide rule, then settings, then the default."""

    wanted = sorted(set(provinces))
    rows = CheckRule.objects.filter(province__in=[*wanted, PLATFORM]).values_list("province", "code", "action")
    by_province: dict[str, dict[str, str]] = defaultdict(dict)
    for province, code, action in rows:
        by_province[province][code] = str(action)
    result: dict[str, dict[str, str]] = {}
    for province in wanted:
        own, platform = by_province.get(province, {}), by_province.get(PLATFORM, {})
        result[province] = {
            str(code): own.get(code) or platform.get(code) or configured_action(code) for code in CheckCode.values
        }
    return result


def check_action(code: str, province: str = PLATFORM) -> str:
    """The configured action of one check in ``province`` (see ``check_actions``)."""

    return check_actions([province])[province].get(code, configured_action(code))


@dataclass
class Failure:
    """A failed check: ``code`` is the check (its rule decides refuse or flag, and names
    the finding), ``error`` the error code a refusal answers (the check's code unless
    the check tells distinct causes apart)."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def error_code(self) -> str:
        return self.error or str(self.code)


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
    samples: list[str] = field(default_factory=list)
    conclusion: str = ""
    results: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckContext:
    """What the checks read, loaded once for any number of one agency's reports with
    set-wise queries (one per kind of fact), so a batch of N reports costs the same
    handful of queries as one report. ``run_checks`` reads nothing else: a single
    submission and a batch apply exactly the same rules."""

    agency: Agency
    # (site_id, test_item_id, parameter_id) of the agency's site capabilities
    capabilities: set[tuple[int, str, str]] = field(default_factory=set)
    # staff_id -> [(category_id, issued_on, valid_until)]
    certificates: dict[int, list[tuple[str, datetime.date | None, datetime.date]]] = field(default_factory=dict)
    # staff_id -> [(site_id or None, {specialty ids})]
    signatories: dict[int, list[tuple[int | None, set[str]]]] = field(default_factory=dict)
    equipment: dict[str, Equipment] = field(default_factory=dict)
    project_agencies: dict[int, set[int]] = field(default_factory=dict)
    # (project_id, test_item_id) -> agencies with a report or contract for it
    item_agencies: dict[tuple[int, str], set[int]] = field(default_factory=dict)
    # (project_id, test_item_id) this agency has already reported (ProjectItemAgency rows)
    reported_items: set[tuple[int, str]] = field(default_factory=set)
    # (project_id, test_item_id) where this agency's contract allows an additional agency
    allowing_contracts: set[tuple[int, str]] = field(default_factory=set)
    actions: dict[str, dict[str, str]] = field(default_factory=dict)
    # sample code -> (agency_id, project_id, status) of the samples the reports name
    samples: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    # sample code -> (test item, conclusion, parameters) of the agency's test records of it
    test_records: dict[str, list[tuple[str, str, list[dict[str, Any]]]]] = field(default_factory=dict)

    @classmethod
    def load(cls, *, agency: Agency, inputs: Iterable[CheckInput]) -> CheckContext:
        from .models import ProjectItemAgency

        inputs = list(inputs)
        ctx = cls(agency=agency)
        if not inputs:
            return ctx
        item_ids = {c.test_item.pk for c in inputs}
        project_ids = {c.project.pk for c in inputs}
        ctx.capabilities = {
            (site_id, item_id, parameter_id)
            for site_id, item_id, parameter_id in SiteCapability.objects.filter(
                agency=agency, item_parameter__test_item_id__in=item_ids
            ).values_list("site_id", "item_parameter__test_item_id", "item_parameter__parameter_id")
        }
        certificates: dict[int, list[tuple[str, datetime.date | None, datetime.date]]] = defaultdict(list)
        for staff_id, category_id, issued_on, valid_until in PostCertificate.objects.filter(
            staff_id__in={c.tester.pk for c in inputs}
        ).values_list("staff_id", "category_id", "issued_on", "valid_until"):
            certificates[staff_id].append((category_id, issued_on, valid_until))
        ctx.certificates = dict(certificates)
        roles: dict[int, tuple[int, int | None, set[str]]] = {}
        for pk, staff_id, site_id, scope in Signatory.objects.filter(
            agency=agency, staff_id__in={c.signatory.pk for c in inputs}
        ).values_list("pk", "staff_id", "site_id", "scope"):
            role = roles.setdefault(pk, (staff_id, site_id, set()))
            if scope is not None:
                role[2].add(scope)
        signatories: dict[int, list[tuple[int | None, set[str]]]] = defaultdict(list)
        for staff_id, site_id, scopes in roles.values():
            signatories[staff_id].append((site_id, scopes))
        ctx.signatories = dict(signatories)
        assets = {a for c in inputs for a in c.equipment}
        if assets:
            ctx.equipment = {e.asset_no: e for e in Equipment.objects.filter(agency=agency, asset_no__in=assets)}
        project_agencies: dict[int, set[int]] = defaultdict(set)
        for project_id, agency_id in ProjectParty.objects.filter(
            project_id__in=project_ids, role=PartyRole.AGENCY, agency__isnull=False
        ).values_list("project_id", "agency_id"):
            project_agencies[project_id].add(agency_id)
        ctx.project_agencies = dict(project_agencies)
        item_agencies: dict[tuple[int, str], set[int]] = defaultdict(set)
        # one row per (project, item, agency) that has reported, not every report
        reported = list(
            ProjectItemAgency.objects.filter(project_id__in=project_ids, test_item_id__in=item_ids).values_list(
                "project_id", "test_item_id", "agency_id"
            )
        )
        contracted = (
            Contract.objects.filter(project_id__in=project_ids, test_items__in=item_ids)
            .order_by()
            .values_list("project_id", "test_items", "agency_id")
            .distinct()
        )
        for project_id, item_id, agency_id in reported:
            if agency_id == agency.pk:
                ctx.reported_items.add((project_id, item_id))
        for project_id, item_id, agency_id in [*reported, *contracted]:
            item_agencies[(project_id, item_id)].add(agency_id)
        ctx.item_agencies = dict(item_agencies)
        ctx.allowing_contracts = set(
            Contract.objects.filter(
                project_id__in=project_ids, agency=agency, test_items__in=item_ids, allows_additional_agency=True
            ).values_list("project_id", "test_items")
        )
        codes = {code for c in inputs for code in c.samples}
        if codes:
            from inspecta.sampling.models import Sample

            ctx.samples = {
                code: (agency_id, project_id, status)
                for code, agency_id, project_id, status in Sample.objects.filter(code__in=codes).values_list(
                    "code", "agency_id", "project_id", "status"
                )
            }
        if codes:
            from inspecta.testing.models import TestRecord

            for code, item_id, conclusion, parameters in TestRecord.objects.filter(
                agency=agency, sample__code__in=codes
            ).values_list("sample__code", "test_item_id", "conclusion", "parameters"):
                ctx.test_records.setdefault(code, []).append((item_id, conclusion, parameters))
        ctx.actions = check_actions(province_of(c.project.region_id) for c in inputs)
        return ctx

    def action(self, code: str, project: Project) -> str:
        province = province_of(project.region_id)
        if province not in self.actions:
            self.actions.update(check_actions([province]))
        return self.actions[province].get(code, configured_action(code))


CHECKS: RuleBook[Failure] = RuleBook("report_acceptance")
"""The acceptance checks, in the order their failures are reported."""


@CHECKS.rule(CheckCode.AGENCY_NOT_APPROVED, clause="Guangdong 附件2 一(二)", action=CheckAction.REJECT)
def agency_not_approved(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """Only an approved agency may report."""

    if not c.agency.may_operate:
        yield Failure(CheckCode.AGENCY_NOT_APPROVED, _("检测机构未通过审核，不能报送报告。"))


@CHECKS.rule(CheckCode.CAPABILITY_MISSING, clause="T/CECS 4.3.4; 建质〔2023〕1号", action=CheckAction.REJECT)
def capability_missing(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """A site capability for the item and every parameter reported."""

    covered = {
        parameter_id
        for site_id, item_id, parameter_id in ctx.capabilities
        if item_id == c.test_item.pk and (not c.site_id or site_id == c.site_id)
    }
    missing = sorted(set(c.parameters) - covered) if covered else sorted(c.parameters)
    if missing or not covered:
        yield Failure(
            CheckCode.CAPABILITY_MISSING,
            _("检测机构未登记该检测项目/参数的检测能力。"),
            {"test_item": c.test_item.pk, "parameters": missing},
        )


@CHECKS.rule(CheckCode.TESTER_CERTIFICATE_INVALID, clause="T/CECS 4.3.4; Guangxi 第十一条", action=CheckAction.REJECT)
def tester_certificate_invalid(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """The tester holds a post certificate of the category valid on the test date."""

    specialty_id = c.test_item.specialty_id
    certified = any(
        certificate_covers(category_id, issued_on, valid_until, specialty_id=specialty_id, day=c.tested_on)
        for category_id, issued_on, valid_until in ctx.certificates.get(c.tester.pk, ())
    )
    if not c.tester.active or not certified:
        yield Failure(
            CheckCode.TESTER_CERTIFICATE_INVALID,
            _("检测人员在检测日期没有该类别的有效上岗证。"),
            {"tester": c.tester.pk, "category": specialty_id, "tested_on": c.tested_on.isoformat()},
        )


@CHECKS.rule(CheckCode.SIGNATORY_NOT_AUTHORISED, clause="Nanchang 三(一)", action=CheckAction.REJECT)
def signatory_not_authorised(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """The approver is a signatory registered with that scope and site."""

    specialty_id = c.test_item.specialty_id
    authorised = any(
        specialty_id in scopes and (not c.site_id or site_id is None or site_id == c.site_id)
        for site_id, scopes in ctx.signatories.get(c.signatory.pk, ())
    )
    if not authorised:
        yield Failure(
            CheckCode.SIGNATORY_NOT_AUTHORISED,
            _("批准人不是具有该签字范围和检测场所的授权签字人。"),
            {"signatory": c.signatory.pk, "category": specialty_id, "site": c.site_id},
        )


def equipment_failure(eq: Equipment | None, tested_on: datetime.date) -> str:
    """Why a piece of equipment may not be used on ``tested_on`` (an ``ErrorCode``
    value), or ``""``: not registered by the agency, not in service, registered after
    the test date, or without a calibration valid on the test date (T/CECS 4.1.3)."""

    if eq is None:
        return ErrorCode.EQUIPMENT_NOT_REGISTERED
    if eq.status != EquipmentStatus.IN_USE:
        return ErrorCode.EQUIPMENT_NOT_IN_SERVICE
    if timezone.localdate(eq.created_at) > tested_on:
        return ErrorCode.EQUIPMENT_REGISTERED_AFTER_TEST
    if (eq.calibrated_on is not None and eq.calibrated_on > tested_on) or not eq.calibration_valid_on(tested_on):
        return ErrorCode.EQUIPMENT_CALIBRATION_EXPIRED
    return ""


EQUIPMENT_MESSAGES = {
    ErrorCode.EQUIPMENT_NOT_REGISTERED: _("仪器设备未登记（本机构没有该设备编号）：%(e)s。"),
    ErrorCode.EQUIPMENT_NOT_IN_SERVICE: _("仪器设备不在用（停用或报废）：%(e)s。"),
    ErrorCode.EQUIPMENT_REGISTERED_AFTER_TEST: _("仪器设备在检测日期之后才登记：%(e)s。"),
    ErrorCode.EQUIPMENT_CALIBRATION_EXPIRED: _("检测日期不在仪器设备的检定/校准有效期内：%(e)s。"),
}


@CHECKS.rule(CheckCode.EQUIPMENT_NOT_CALIBRATED, clause="T/CECS 4.1.3", action=CheckAction.REJECT)
def equipment_not_calibrated(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """Every piece of equipment named is registered, in use and calibrated on the test
    date; one failure per distinct cause, with its own error code, naming the
    equipment it concerns."""

    by_cause: dict[str, list[str]] = {}
    for asset_no in c.equipment:
        cause = equipment_failure(ctx.equipment.get(asset_no), c.tested_on)
        if cause:
            by_cause.setdefault(cause, []).append(asset_no)
    for cause, message in EQUIPMENT_MESSAGES.items():
        if cause in by_cause:
            yield Failure(
                CheckCode.EQUIPMENT_NOT_CALIBRATED,
                message % {"e": "、".join(by_cause[cause])},
                {"equipment": by_cause[cause], "tested_on": c.tested_on.isoformat()},
                error=cause,
            )


@CHECKS.rule(CheckCode.AGENCY_NOT_PARTY, clause="T/CECS 4.3.2; Guangxi 第八条(四)", action=CheckAction.REJECT)
def agency_not_party(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """The agency is a party of the project."""

    if c.agency.pk not in ctx.project_agencies.get(c.project.pk, set()):
        yield Failure(CheckCode.AGENCY_NOT_PARTY, _("检测机构不是该项目的参建检测机构。"), {"project": c.project.pk})


@CHECKS.rule(CheckCode.TOO_MANY_AGENCIES, clause="Hunan/Hebei interface rule", action=CheckAction.FLAG)
def too_many_agencies(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """At most two agencies per project and item, unless a contract allows another."""

    others = set(ctx.item_agencies.get((c.project.pk, c.test_item.pk), set()))
    others.discard(c.agency.pk)
    if len(others) >= 2 and (c.project.pk, c.test_item.pk) not in ctx.allowing_contracts:
        yield Failure(
            CheckCode.TOO_MANY_AGENCIES,
            _("该项目该检测项目已有两家检测机构，且无合同允许增加。"),
            {"agencies": sorted(others)},
        )


@CHECKS.rule(CheckCode.APPROVAL_TRAIL_INVALID, clause="Nanchang 三(一); Guangxi 第十一条", action=CheckAction.REJECT)
def approval_trail_invalid(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """Tester, reviewer and signatory are three people, in time order."""

    people = {c.tester.pk, c.reviewer.pk, c.signatory.pk}
    in_order = c.tested_at <= c.reviewed_at <= c.approved_at <= timezone.now() + datetime.timedelta(minutes=5)
    if len(people) != 3 or not in_order:
        yield Failure(
            CheckCode.APPROVAL_TRAIL_INVALID,
            _("三级审批须由检测、审核、批准三人依次完成，时间不得倒序。"),
            {"distinct_people": len(people) == 3, "in_order": in_order},
        )


@CHECKS.rule(
    CheckCode.SAMPLE_CHAIN_INCOMPLETE,
    clause="T/CECS 1.0.1, 3.0.3, 4.3.4-3; 57号令 第十八条、第二十条",
    action=CheckAction.REJECT,
)
def sample_chain_incomplete(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """Every sample the report names (by its unique code) was taken on the report's
    project under witness, sealed, and received by the reporting agency: the chain from
    the sample to the report is unbroken (T/CECS 1.0.1, 3.0.3)."""

    from inspecta.sampling.choices import SampleStatus

    problems = []
    for code in c.samples:
        fact = ctx.samples.get(code)
        if fact is None:
            problems.append({"code": code, "problem": "unknown"})
        elif fact[0] != c.agency.pk or fact[1] != c.project.pk:
            problems.append({"code": code, "problem": "other_agency_or_project"})
        elif fact[2] != SampleStatus.RECEIVED:
            problems.append({"code": code, "problem": "not_received"})
    if problems:
        yield Failure(
            CheckCode.SAMPLE_CHAIN_INCOMPLETE,
            _("报告所列样品未完成见证取样、封样和本机构收样：%(codes)s。")
            % {"codes": "、".join(p["code"] for p in problems)},
            {"samples": problems},
        )


def _same_value(reported: Any, uploaded: str) -> bool:
    """A report's value of a parameter equals the test record's result: as numbers when
    both are numbers (``48.40`` is ``48.4``), else as text."""

    if isinstance(reported, dict | list) or reported is None:
        return True  # a structured value (per specimen, per age) is not compared here
    left, right = str(reported).strip(), str(uploaded).strip()
    try:
        return Decimal(left) == Decimal(right)
    except ArithmeticError:
        return left == right


@CHECKS.rule(CheckCode.REPORT_DATA_MISMATCH, clause="Guangxi 第十七条(五)", action=CheckAction.REJECT)
def report_data_mismatch(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """The report agrees with the test data the agency uploaded for its samples: every
    parameter it reports has data, a value it reports for a parameter is the uploaded
    result, and its conclusion is the data's (nonconforming exactly when a record of the
    item is)."""

    records = [r for code in c.samples for r in ctx.test_records.get(code, ()) if r[0] == c.test_item.pk]
    if not records:
        return
    uploaded: dict[str, str] = {}
    for _item, _conclusion, parameters in records:
        for p in parameters:
            uploaded.setdefault(p["parameter"], p.get("result", ""))
    problems: list[dict[str, Any]] = []
    missing = [code for code in c.parameters if code not in uploaded]
    if missing:
        problems.append({"problem": "parameters_without_data", "parameters": missing})
    differing = [
        code for code, value in sorted(c.results.items()) if code in uploaded and not _same_value(value, uploaded[code])
    ]
    if differing:
        problems.append(
            {
                "problem": "results_differ",
                "parameters": differing,
                "uploaded": {code: uploaded[code] for code in differing},
            }
        )
    failed = any(conclusion == Conclusion.NONCONFORMING for _item, conclusion, _p in records)
    if c.conclusion and (c.conclusion == Conclusion.NONCONFORMING) != failed:
        problems.append({"problem": "conclusion_differs", "uploaded": "nonconforming" if failed else "qualified"})
    if problems:
        yield Failure(
            CheckCode.REPORT_DATA_MISMATCH,
            _("检测报告与上传的检测数据不相符：%(what)s。")
            % {"what": "；".join(str(MISMATCH_TEXT[p["problem"]]) for p in problems)},
            {"problems": problems},
        )


MISMATCH_TEXT = {
    "parameters_without_data": gettext_lazy("报告的参数没有上传检测数据"),
    "results_differ": gettext_lazy("报告的检测结果与上传的结果不同"),
    "conclusion_differs": gettext_lazy("报告结论与检测数据的判定不同"),
}


@CHECKS.rule(
    CheckCode.REPORT_DATA_MISSING, clause="Guangdong 附件2 二(十一); Guangxi 第七条(三)", action=CheckAction.FLAG
)
def report_data_missing(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
    """Every sample the report names has the agency's test data of the report's item
    uploaded before the report."""

    bare = [code for code in c.samples if not any(r[0] == c.test_item.pk for r in ctx.test_records.get(code, ()))]
    if bare:
        yield Failure(
            CheckCode.REPORT_DATA_MISSING,
            _("报告所列样品没有上传检测数据：%(codes)s。") % {"codes": "、".join(bare)},
            {"samples": bare},
        )


DEFAULT_ACTIONS: dict[str, str] = CHECKS.defaults()


def run_checks(c: CheckInput, ctx: CheckContext | None = None) -> list[Failure]:
    """Every failed check, in a stable order. ``ctx`` holds the facts (loaded for ``c``
    alone when not given)."""

    if ctx is None:
        ctx = CheckContext.load(agency=c.agency, inputs=[c])
    return CHECKS.run(c, ctx)


def split_failures(failures: Iterable[Failure], actions: Mapping[str, str]) -> tuple[list[Failure], list[Failure]]:
    """``(rejected, flagged)`` by the configured actions."""

    rejected: list[Failure] = []
    flagged: list[Failure] = []
    for failure in failures:
        action = actions.get(failure.code, configured_action(failure.code))
        (rejected if action == CheckAction.REJECT else flagged).append(failure)
    return rejected, flagged
