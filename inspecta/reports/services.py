"""Every write of reports (STYLE.md 4): submission with checks, numbering and logging;
amendments; revocation; printed date; check configuration.

Sources: T/CECS 4.1.2 (verification, e-signatures), 4.3.3 (logged records); Nanchang
三(一) (report fields, three-level approval, city-wide serial numbers after approval),
三(二) (printed date, no editing, amendments approved by the authority), 三(三);
Guangxi 第十一条-第十三条 (real-time upload, approval trail, change audit trail);
Guangdong 附件2 二(十四) (unified report codes, QR verification).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.choices import OrganisationKind
from inspecta.accounts.models import User
from inspecta.core.models import TestItem, TestItemParameter
from inspecta.core.scoping import region_within
from inspecta.exchange.models import StoredFile
from inspecta.ledger.services import log_append
from inspecta.projects.errors import DomainError
from inspecta.projects.models import Project
from inspecta.registry.models import Agency, Staff

from . import codes, pdfsig
from .checks import CheckInput, check_action, run_checks
from .choices import AmendmentStatus, CheckAction, CheckCode, Conclusion, ReportStatus
from .models import (
    Amendment,
    CheckRule,
    NonconformanceEntry,
    Report,
    ReportFinding,
    ReportVersion,
    SerialCounter,
)

__all__ = [
    "AMENDABLE_FIELDS",
    "amendment_apply",
    "amendment_approve",
    "amendment_reject",
    "check_rule_set",
    "issuing_region",
    "report_print",
    "report_revoke",
    "report_submit",
    "serial_issue",
]

AMENDABLE_FIELDS = frozenset(
    {
        "report_number",
        "commissioning_unit",
        "commission_number",
        "contractor",
        "deliverer",
        "project_part",
        "test_basis",
        "parameters",
        "environment",
        "delivered_on",
        "tested_on",
        "reported_on",
        "results",
        "conclusion",
        "equipment",
    }
)


def _organisation(actor: Any) -> Any:
    return getattr(actor, "organisation", None)


def _require_agency_actor(actor: Any, agency: Agency) -> None:
    org = _organisation(actor)
    if org is None or org.pk != agency.organisation_id:
        raise PermissionDenied(_("只能报送本机构的检测报告。"))


def _require_competent_authority(actor: User, report: Report) -> None:
    """The authority of the project's region decides amendments and revokes (Nanchang 三(二))."""

    if actor.is_operator:
        return
    org = actor.organisation
    if (
        org is None
        or org.kind != OrganisationKind.AUTHORITY
        or not actor.has_role("authority_admin", "authority_supervisor")
        or not region_within(report.project.region_id, org.region_id)
    ):
        raise PermissionDenied(_("只有项目所在地的主管部门可以审批报告变更或撤销报告。"))


def issuing_region(project: Project) -> str:
    """The region whose counter numbers the report: the project's city (Nanchang 三(一)
    city-wide numbers) or, with ``INSPECTA_REPORT_SERIAL_SCOPE = "province"``, its
    province (Guangdong 附件2 二(十四) province-wide codes)."""

    code = project.region_id
    if getattr(settings, "INSPECTA_REPORT_SERIAL_SCOPE", "city") == "province":
        return code[:2] + "0000"
    return code[:4] + "00"


def serial_issue(*, region_code: str, year: int) -> int:
    """The next serial number of ``region_code`` and ``year`` (CONTRACT §6).

    Must run inside the accepting transaction: the counter row is locked with
    ``SELECT ... FOR UPDATE`` (PostgreSQL; SQLite serialises writers) until commit, so
    concurrent acceptances queue, and a rollback returns the number: no gap, no reuse.
    """

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("serial_issue must run inside the accepting transaction")
    SerialCounter.objects.get_or_create(region_code=region_code, year=year)
    counter = SerialCounter.objects.select_for_update().get(region_code=region_code, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _read_file(stored: StoredFile) -> bytes:
    with default_storage.open(stored.storage_path, "rb") as handle:
        return handle.read()


def _pdf_of(agency: Agency, pdf_id: Any) -> tuple[StoredFile, list[dict[str, Any]]]:
    stored = StoredFile.objects.filter(pk=pdf_id, organisation_id=agency.organisation_id).first()
    if stored is None:
        raise DomainError(400, "unknown_file", _("报告文件不存在或不属于本机构：%(f)s。") % {"f": pdf_id})
    if stored.content_type != "application/pdf":
        raise DomainError(415, "not_a_pdf", _("报告文件须为 PDF。"))
    try:
        content = _read_file(stored)
    except OSError as exc:
        raise DomainError(400, "file_unavailable", _("报告文件无法读取。")) from exc
    return stored, pdfsig.signature_check(content)


def _staff(agency: Agency, pk: Any, label: str) -> Staff:
    staff = Staff.objects.filter(pk=pk, agency=agency).first() if pk is not None else None
    if staff is None:
        raise DomainError(400, "unknown_staff", _("%(l)s不是本机构登记的人员。") % {"l": label}, {"staff": pk})
    return staff


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _finish_failures(failures: Iterable[Any]) -> list[Any]:
    """Split failures by configured action; refuse with the first rejecting code."""

    flagged: list[Any] = []
    rejected: list[Any] = []
    for failure in failures:
        (rejected if check_action(failure.code) == CheckAction.REJECT else flagged).append(failure)
    if rejected:
        first = rejected[0]
        raise DomainError(
            422,
            str(first.code),
            first.message,
            {"failures": [{"code": str(f.code), "message": f.message, **f.details} for f in rejected]},
        )
    return flagged


def report_submit(
    *,
    actor: Any,
    agency: Agency,
    project_id: int,
    report_number: str,
    test_item: str,
    parameters: list[str],
    conclusion: str,
    tested_on: datetime.date,
    reported_on: datetime.date,
    pdf_id: Any,
    tester_id: int,
    tested_at: datetime.datetime,
    reviewer_id: int,
    reviewed_at: datetime.datetime,
    signatory_id: int,
    approved_at: datetime.datetime,
    delivered_on: datetime.date | None = None,
    commissioning_unit: str = "",
    commission_number: str = "",
    contractor: str = "",
    deliverer: str = "",
    project_part: str = "",
    test_basis: list[str] | None = None,
    environment: str = "",
    results: Any = None,
    equipment: list[str] | None = None,
    site_id: int | None = None,
) -> Report:
    """Accept a report from an agency's LIMS (signed API) or web form (Nanchang 三(一)):
    validate, run the acceptance checks (``checks.py``), then in one transaction issue
    the serial number and verification code, store version 1, record findings, log the
    version and open a nonconformance entry for a nonconforming conclusion.

    Refusals raise ``DomainError`` (4xx with a stable code) and change nothing.
    """

    _require_agency_actor(actor, agency)
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise DomainError(400, "unknown_project", _("工程项目不存在：%(p)s。") % {"p": project_id})
    item = TestItem.objects.filter(pk=test_item).first()
    if item is None:
        raise DomainError(400, "unknown_test_item", _("检测项目不存在：%(i)s。") % {"i": test_item})
    parameters = list(dict.fromkeys(parameters))
    known = set(
        TestItemParameter.objects.filter(test_item=item, parameter_id__in=parameters).values_list(
            "parameter_id", flat=True
        )
    )
    unknown = [p for p in parameters if p not in known]
    if not parameters or unknown:
        raise DomainError(400, "unknown_parameter", _("检测参数不属于该检测项目或为空。"), {"parameters": unknown})
    if conclusion not in Conclusion.values:
        raise DomainError(400, "invalid_conclusion", _("检测结论不合法：%(c)s。") % {"c": conclusion})
    if Report.objects.filter(agency=agency, report_number=report_number).exists():
        raise DomainError(409, "report_number_taken", _("本机构已报送该报告编号：%(n)s。") % {"n": report_number})
    if reported_on < tested_on:
        raise DomainError(400, "invalid_dates", _("报告日期不能早于检测日期。"))
    tester = _staff(agency, tester_id, _("检测人"))
    reviewer = _staff(agency, reviewer_id, _("审核人"))
    signatory = _staff(agency, signatory_id, _("批准人"))
    equipment = list(equipment or [])
    stored, signatures = _pdf_of(agency, pdf_id)
    flagged = _finish_failures(
        run_checks(
            CheckInput(
                agency=agency,
                project=project,
                test_item=item,
                parameters=parameters,
                tested_on=tested_on,
                site_id=site_id,
                tester=tester,
                reviewer=reviewer,
                signatory=signatory,
                tested_at=tested_at,
                reviewed_at=reviewed_at,
                approved_at=approved_at,
                equipment=equipment,
            )
        )
    )
    data = {
        "report_number": report_number,
        "commissioning_unit": commissioning_unit,
        "commission_number": commission_number,
        "contractor": contractor,
        "deliverer": deliverer,
        "project_part": project_part,
        "test_basis": list(test_basis or []),
        "category": item.specialty_id,
        "test_item": item.pk,
        "parameters": parameters,
        "environment": environment,
        "delivered_on": _date(delivered_on),
        "tested_on": tested_on.isoformat(),
        "reported_on": reported_on.isoformat(),
        "results": results if results is not None else {},
        "conclusion": conclusion,
        "equipment": equipment,
        "site_id": site_id,
    }
    with transaction.atomic():
        now = timezone.now()
        region = issuing_region(project)
        year = timezone.localdate(now).year
        serial_no = serial_issue(region_code=region, year=year)
        report = Report.objects.create(
            agency=agency,
            project=project,
            issuing_region=region,
            year=year,
            serial_no=serial_no,
            serial_number=codes.serial_number(region, year, serial_no),
            verification_code=codes.new_verification_code(),
            report_number=report_number,
            test_item=item,
            conclusion=conclusion,
            tested_on=tested_on,
            reported_on=reported_on,
            issued_at=now,
            submitted_by=actor if isinstance(actor, User) else None,
            client=getattr(actor, "client", None),
        )
        version = ReportVersion.objects.create(
            report=report,
            number=1,
            data=data,
            pdf=stored,
            pdf_sha256=stored.sha256,
            tester=tester,
            tested_at=tested_at,
            reviewer=reviewer,
            reviewed_at=reviewed_at,
            signatory=signatory,
            approved_at=approved_at,
            signatures=signatures,
            created_at=now,
        )
        ReportFinding.objects.bulk_create(
            [ReportFinding(report=report, code=f.code, message=f.message[:500], details=f.details) for f in flagged]
        )
        log_append(kind="report_version", record=version)
        if conclusion == Conclusion.NONCONFORMING:
            _nonconformance_open(report)
    return report


def _nonconformance_open(report: Report) -> None:
    """不合格台账 (issue 5 point 10): one entry per nonconforming report."""

    NonconformanceEntry.objects.get_or_create(
        report=report,
        defaults={"project_id": report.project_id, "agency_id": report.agency_id, "test_item_id": report.test_item_id},
    )


@transaction.atomic
def report_print(*, actor: Any, report: Report, printed_at: datetime.datetime | None = None) -> Report:
    """The agency reports when it printed the report (Nanchang 三(二)). Audited."""

    _require_agency_actor(actor, report.agency)
    if report.status == ReportStatus.REVOKED:
        raise DomainError(409, "report_revoked", _("报告已撤销。"))
    moment = printed_at or timezone.now()
    if moment < report.issued_at or moment > timezone.now() + datetime.timedelta(minutes=5):
        raise DomainError(400, "invalid_printed_at", _("打印时间须在发号之后且不晚于当前时间。"))
    report.printed_at = moment
    report.save(update_fields=["printed_at"])
    return report


@transaction.atomic
def amendment_apply(
    *, actor: Any, report: Report, reason: str, data: dict[str, Any] | None = None, pdf_id: Any = None
) -> Amendment:
    """The agency applies to amend an accepted report (Nanchang 三(二); Guangxi 第十三条):
    reasons plus new data and/or a new file. Logged as ``report_amendment``."""

    _require_agency_actor(actor, report.agency)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.REVOKED:
        raise DomainError(409, "report_revoked", _("报告已撤销，不能变更。"))
    if report.amendments.filter(status=AmendmentStatus.PENDING).exists():
        raise DomainError(409, "amendment_pending", _("该报告已有待审批的变更申请。"))
    if not reason or not reason.strip():
        raise DomainError(400, "reason_required", _("请填写变更理由。"))
    data = dict(data or {})
    unknown = sorted(set(data) - AMENDABLE_FIELDS)
    if unknown:
        raise DomainError(400, "field_not_amendable", _("以下字段不可变更：%(f)s。") % {"f": "、".join(unknown)})
    if "conclusion" in data and data["conclusion"] not in Conclusion.values:
        raise DomainError(400, "invalid_conclusion", _("检测结论不合法。"))
    if not data and pdf_id is None:
        raise DomainError(400, "nothing_to_amend", _("请提供变更后的内容或报告文件。"))
    stored = _pdf_of(report.agency, pdf_id)[0] if pdf_id is not None else None
    amendment = Amendment.objects.create(
        report=report,
        reason=reason.strip(),
        data=data,
        pdf=stored,
        pdf_sha256=stored.sha256 if stored else "",
        applied_by=actor if isinstance(actor, User) else None,
    )
    log_append(kind="report_amendment", record=amendment)
    return amendment


@transaction.atomic
def amendment_approve(*, actor: User, amendment: Amendment, reason: str = "") -> ReportVersion:
    """The competent authority approves: a new version (same serial number, next version
    number); the old version stays readable, marked superseded (Nanchang 三(二))."""

    amendment = Amendment.objects.select_for_update().select_related("report__project").get(pk=amendment.pk)
    report = amendment.report
    _require_competent_authority(actor, report)
    if amendment.status != AmendmentStatus.PENDING:
        raise DomainError(409, "amendment_decided", _("该变更申请已审批。"))
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.REVOKED:
        raise DomainError(409, "report_revoked", _("报告已撤销。"))
    old = report.versions.order_by("-number").first()
    assert old is not None
    now = timezone.now()
    data = {**old.data, **amendment.data}
    signatures = old.signatures
    pdf, pdf_sha = old.pdf, old.pdf_sha256
    if amendment.pdf is not None:
        pdf, pdf_sha = amendment.pdf, amendment.pdf_sha256
        signatures = pdfsig.signature_check(_read_file(amendment.pdf))
    version = ReportVersion.objects.create(
        report=report,
        number=old.number + 1,
        data=data,
        pdf=pdf,
        pdf_sha256=pdf_sha,
        tester_id=old.tester_id,
        tested_at=old.tested_at,
        reviewer_id=old.reviewer_id,
        reviewed_at=old.reviewed_at,
        signatory_id=old.signatory_id,
        approved_at=old.approved_at,
        signatures=signatures,
        amendment=amendment,
        created_at=now,
    )
    ReportVersion.objects.filter(pk=old.pk).update(superseded_at=now)
    amendment.status = AmendmentStatus.APPROVED
    amendment.decided_by = actor
    amendment.decided_at = now
    amendment.decision_reason = reason
    amendment.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    report.status = ReportStatus.AMENDED
    report.version_count = version.number
    report.report_number = data.get("report_number", report.report_number)
    report.conclusion = data.get("conclusion", report.conclusion)
    if data.get("tested_on"):
        report.tested_on = datetime.date.fromisoformat(data["tested_on"])
    if data.get("reported_on"):
        report.reported_on = datetime.date.fromisoformat(data["reported_on"])
    report.save(update_fields=["status", "version_count", "report_number", "conclusion", "tested_on", "reported_on"])
    log_append(kind="report_version", record=version)
    log_append(kind="report_amendment", record=amendment)
    if report.conclusion == Conclusion.NONCONFORMING:
        _nonconformance_open(report)
    return version


@transaction.atomic
def amendment_reject(*, actor: User, amendment: Amendment, reason: str) -> Amendment:
    """The competent authority rejects, with reasons; the report is unchanged."""

    amendment = Amendment.objects.select_for_update().select_related("report__project").get(pk=amendment.pk)
    _require_competent_authority(actor, amendment.report)
    if amendment.status != AmendmentStatus.PENDING:
        raise DomainError(409, "amendment_decided", _("该变更申请已审批。"))
    if not reason or not reason.strip():
        raise DomainError(400, "reason_required", _("驳回须填写理由。"))
    amendment.status = AmendmentStatus.REJECTED
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.decision_reason = reason.strip()
    amendment.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    log_append(kind="report_amendment", record=amendment)
    return amendment


@transaction.atomic
def report_revoke(*, actor: User, report: Report, reason: str) -> Report:
    """An authority revokes a report with reasons (Nanchang 三(二); Guangxi 第十三条).
    Logged as ``report_revocation``."""

    report = Report.objects.select_for_update().select_related("project").get(pk=report.pk)
    _require_competent_authority(actor, report)
    if report.status == ReportStatus.REVOKED:
        raise DomainError(409, "report_revoked", _("报告已撤销。"))
    if not reason or not reason.strip():
        raise DomainError(400, "reason_required", _("撤销须填写理由。"))
    report.status = ReportStatus.REVOKED
    report.revoked_at = timezone.now()
    report.revoke_reason = reason.strip()
    report.revoked_by = actor
    report.save(update_fields=["status", "revoked_at", "revoke_reason", "revoked_by"])
    from inspecta.ledger.services import format_time

    log_append(
        kind="report_revocation",
        record={
            "type": "reports.revocation",
            "id": str(report.pk),
            "report": report.pk,
            "serial_number": report.serial_number,
            "revoked_at": format_time(report.revoked_at),
            "authority": actor.organisation_id,
        },
    )
    return report


@transaction.atomic
def check_rule_set(*, actor: User, code: str, action: str) -> CheckRule:
    """The province decides whether a check rejects or flags (issue 5 point 4)."""

    org = actor.organisation
    if not actor.is_operator and not (
        org is not None
        and org.kind == OrganisationKind.AUTHORITY
        and org.level == "province"
        and actor.has_role("authority_admin")
    ):
        raise PermissionDenied(_("只有省级主管部门管理员可以配置报告接收检查规则。"))
    if code not in CheckCode.values or action not in CheckAction.values:
        raise DomainError(400, "invalid_check_rule", _("检查项或处理方式不合法。"))
    rule, _created = CheckRule.objects.update_or_create(code=code, defaults={"action": action, "updated_by": actor})
    return rule
