"""Reports, their versions, numbering, amendments and the nonconformance ledger
(T/CECS 4.1.2, 4.3.4; Nanchang 三(一)-(三); Guangxi 第十一条-第十三条; Guangdong 附件2 二(十四)).

A ``Report`` is the stable identity a QR points at (serial number, verification code,
status); its content lives in immutable ``ReportVersion`` rows: an amendment adds a
version, the old one stays readable and is marked superseded (Nanchang 三(二)).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField

from inspecta.accounts.choices import Role
from inspecta.core.audit import audited
from inspecta.core.decisions import Decision
from inspecta.core.findings import SEVERITY_CHOICES, Finding
from inspecta.core.permissions import (
    has_role,
    is_agency,
    is_authority,
    is_operator,
    is_party,
    is_person,
    is_regulator,
)
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import AmendmentStatus, CheckAction, CheckCode, Conclusion, DraftStatus, ReportStatus

__all__ = [
    "REPORT_SCOPING",
    "Amendment",
    "CheckRule",
    "NonconformanceEntry",
    "ProjectItemAgency",
    "Report",
    "ReportDraft",
    "ReportFinding",
    "ReportVersion",
]


REPORT_SCOPING = Scoping(
    region="project__region__code",
    station="project__station_id",
    organisation="agency__organisation_id",
    project="project_id",
    grants={
        # authorities and stations: reports of projects inside their region, and a
        # station the projects it supervises; the agency its own reports; the other
        # parties (owner, contractor, supervising firm) the reports of their projects
        # (DESIGN.md "Who uses it"; Guangxi 第八条(四))
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.STATION, is_regulator),
            Grant(Reach.OWN, is_agency),
            Grant(Reach.PARTY, is_party),
        ),
        # amendments and revocation are decided by the authority of the project's
        # region (Nanchang 三(二))
        "decide": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_authority & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR)),
        ),
    },
)
"""Who sees a report and who acts on it."""


class CheckRule(models.Model):
    """Province configuration of one acceptance check: reject or accept with a finding. A rule applies to reports on projects of its ``province``; an
    empty ``province`` is a platform-wide rule (operators). Without a row the setting or
    the default in ``checks.DEFAULT_ACTIONS`` applies. Changes are audited (history)."""

    province = models.CharField(_("省级行政区划"), max_length=6, blank=True, default="", db_index=True)
    code = models.CharField(_("检查项"), max_length=64, choices=CheckCode.choices)
    action = models.CharField(_("处理方式"), max_length=16, choices=CheckAction.choices)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    history = audited()

    class Meta:
        verbose_name = _("报告接收检查规则")
        verbose_name_plural = _("报告接收检查规则")
        constraints = [models.UniqueConstraint(fields=["province", "code"], name="reports_checkrule_unique")]

    def __str__(self) -> str:
        return f"{self.province or '*'} {self.code}: {self.action}"


class Report(models.Model):
    """检测报告: the identity behind the serial number and verification code (CONTRACT §6).
    List fields (number, item, conclusion, dates) mirror the current version."""

    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="reports"
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="reports"
    )
    issuing_region = models.CharField(_("发号行政区划"), max_length=6, db_index=True)
    year = models.PositiveSmallIntegerField(_("年度"))
    serial_no = models.PositiveIntegerField(_("流水号（序号）"))
    serial_number = models.CharField(_("统一流水号"), max_length=32, unique=True)
    verification_code = models.CharField(_("防伪监管码"), max_length=32, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.VALID)
    report_number = models.CharField(_("报告编号"), max_length=64, db_index=True)
    test_item = models.ForeignKey(
        "core.TestItem", verbose_name=_("检测项目"), on_delete=models.PROTECT, related_name="+"
    )
    conclusion = models.CharField(_("检测结论"), max_length=16, choices=Conclusion.choices)
    tested_on = models.DateField(_("检测日期"))
    reported_on = models.DateField(_("报告日期"))
    version_count = models.PositiveSmallIntegerField(_("版本数"), default=1)
    issued_at = models.DateTimeField(_("接收发号时间"), default=timezone.now, db_index=True)
    printed_at = models.DateTimeField(_("打印时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    # the last change of the report or of its amendments (``/api/v1/reports/feed``); set
    # by every save and written explicitly where a report changes by ``update()``
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    revoke_reason = models.TextField(_("撤销理由"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    client = models.ForeignKey(
        "exchange.ExchangeClient",
        verbose_name=_("报送接入方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("检测报告")
        verbose_name_plural = _("检测报告")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["issuing_region", "year", "serial_no"], name="reports_serial_unique"),
            # One report number per agency (Nanchang 三(一)): decided by the database, so
            # concurrent submissions cannot both pass a look before the insert.
            models.UniqueConstraint(fields=["agency", "report_number"], name="reports_agency_number_unique"),
        ]
        # the change feed's order (``core.pagination.Keyset``: ``updated_at``, then pk)
        indexes = [models.Index(fields=["updated_at", "id"], name="reports_report_feed_idx")]

    def __str__(self) -> str:
        return f"{self.serial_number} {self.report_number}"

    scoping = REPORT_SCOPING

    def current_version(self) -> ReportVersion:
        return self.versions.order_by("-number").first()  # type: ignore[return-value]


class ReportVersion(models.Model):
    """One immutable version of a report's content (Nanchang 三(一)-(二); Guangxi 第十三条):
    the submitted fields, the PDF (stored upload + SHA-256), the three-level approval
    trail with times (Nanchang 三(一); Guangxi 第十一条), the PDF signature checks
    (T/CECS 4.1.2) and the platform-stamped copy (Guangdong 附件2 二(十四) QR on the
    report). Logged as kind ``report_version``; only ``superseded_at`` is set later."""

    report = models.ForeignKey(Report, verbose_name=_("报告"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("版本号"))
    data = models.JSONField(_("报告内容"))
    pdf = models.ForeignKey("core.StoredFile", verbose_name=_("报告文件"), on_delete=models.PROTECT, related_name="+")
    pdf_sha256 = models.CharField(_("报告文件 SHA-256"), max_length=64, db_index=True)
    # the platform-stamped copy (serial number and QR on page 1, ``codes.stamp_pdf``), made
    # once when the version is created and logged with it; empty for versions created
    # before stamped copies were registered, and for a PDF that cannot be stamped
    stamped_pdf = models.ForeignKey(
        "core.StoredFile",
        verbose_name=_("加盖流水号和二维码的副本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    stamped_sha256 = models.CharField(_("加盖副本 SHA-256"), max_length=64, blank=True, db_index=True)
    tester = models.ForeignKey("registry.Staff", verbose_name=_("检测人"), on_delete=models.PROTECT, related_name="+")
    tested_at = models.DateTimeField(_("检测完成时间"))
    reviewer = models.ForeignKey("registry.Staff", verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"))
    signatory = models.ForeignKey(
        "registry.Staff", verbose_name=_("批准人（授权签字人）"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("批准时间"))
    signatures = models.JSONField(_("PDF 电子签名校验"), default=list, blank=True)
    amendment = models.ForeignKey(
        "Amendment", verbose_name=_("变更申请"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    superseded_at = models.DateTimeField(_("被替代时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报告版本")
        verbose_name_plural = _("报告版本")
        ordering = ["report_id", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="reports_version_unique")]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"


class ReportFinding(Finding):
    """A failed acceptance check configured as accept-with-finding:
    ``rule`` is the check code, ``detail`` its message; it belongs to the region of the
    report's project and is read like its report."""

    clause = "T/CECS 4.3.4; Nanchang 三(一)"
    rules = CheckCode
    subject_paths = {"agency": "report__agency_id", "project": "report__project_id"}

    report = models.ForeignKey(Report, verbose_name=_("报告"), on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(_("检查项"), max_length=64, choices=CheckCode.choices, db_index=True)
    severity = models.CharField(
        _("严重程度"), max_length=16, choices=SEVERITY_CHOICES, default=Severity.WARNING.value, db_index=True
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("报告接收问题")
        verbose_name_plural = _("报告接收问题")
        ordering = ["report_id", "pk"]

    def __str__(self) -> str:
        return self.rule

    @classmethod
    def of(cls, report: Report, *, rule: str, detail: str, details: dict | None = None) -> ReportFinding:
        """An unsaved finding on ``report`` (``report.project`` is read for the region)."""

        return cls(
            report=report,
            rule=rule,
            detail=detail[:500],
            details=details or {},
            subject=report.report_number[:255],
            key=f"report:{report.pk}",
            region=report.project.region_id,
        )

    def region_code(self) -> str:
        return self.report.project.region_id

    scoping = REPORT_SCOPING.via("report")


class Amendment(Decision):
    """报告变更申请 (Nanchang 三(二); Guangxi 第十三条): the agency gives reasons and the new
    data and/or file; the competent authority approves (a new version) or rejects."""

    report = models.ForeignKey(Report, verbose_name=_("报告"), on_delete=models.PROTECT, related_name="amendments")
    reason = models.TextField(_("变更理由"))
    data = models.JSONField(_("变更内容"), default=dict, blank=True)
    pdf = models.ForeignKey(
        "core.StoredFile",
        verbose_name=_("新报告文件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    pdf_sha256 = models.CharField(_("新报告文件 SHA-256"), max_length=64, blank=True)
    status = FSMField(_("状态"), max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING)

    history = audited()

    class Meta:
        verbose_name = _("报告变更申请")
        verbose_name_plural = _("报告变更申请")
        ordering = ["-applied_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.get_status_display()}"


class NonconformanceEntry(models.Model):
    """不合格台账 entry created when a report concludes nonconforming;
    the oversight app builds the closure workflow on it. Visible to the project's
    station and the authorities of the project's region."""

    report = models.OneToOneField(
        Report, verbose_name=_("报告"), on_delete=models.PROTECT, related_name="nonconformance"
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="+"
    )
    test_item = models.ForeignKey(
        "core.TestItem", verbose_name=_("检测项目"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("闭环时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("不合格台账")
        verbose_name_plural = _("不合格台账")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return str(self.report)

    scoping = REPORT_SCOPING


class ProjectItemAgency(models.Model):
    """Which agencies have reported which test item on which project: the fact the
    "too many agencies" check reads (Hunan/Hebei rule, ``checks.CheckContext.load``),
    kept as one row per (project, test item, agency) instead of reading every report of
    the project. Written with the reports in ``services._accept`` (same transaction);
    the rows of reports accepted before it existed come from migration 0003."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("工程项目"), on_delete=models.CASCADE, related_name="+"
    )
    test_item = models.ForeignKey(
        "core.TestItem", verbose_name=_("检测项目"), on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.CASCADE, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    scoping = REPORT_SCOPING

    class Meta:
        verbose_name = _("项目检测项目的检测机构")
        verbose_name_plural = _("项目检测项目的检测机构")
        constraints = [
            models.UniqueConstraint(fields=["project", "test_item", "agency"], name="reports_item_agency_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.test_item_id} {self.agency_id}"


def _user_fk(label: Any) -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=label, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


class ReportDraft(models.Model):
    """报告草稿: a report prepared on the web (the submission form's fields and PDF) that
    is not yet a report: no serial number, no log entry. The tester, the reviewer and
    the authorised signatory it names each sign it off in turn with their own account
    (``Staff.user``), the server recording who and when (Nanchang 三(一) three-level
    approval; Guangxi 第十一条 "经授权签字人批准"); any of them may return it to the
    preparer with a reason. The signatory's approval issues it through
    ``services.report_submit`` with the trail of the three sign-offs
    (``signoff.draft_approve``). Only the agency's own people see it."""

    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="report_drafts"
    )
    report_number = models.CharField(_("报告编号"), max_length=64)
    data = models.JSONField(_("报告内容"))
    pdf = models.ForeignKey("core.StoredFile", verbose_name=_("报告文件"), on_delete=models.PROTECT, related_name="+")
    tester = models.ForeignKey("registry.Staff", verbose_name=_("检测人"), on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey("registry.Staff", verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+")
    signatory = models.ForeignKey(
        "registry.Staff", verbose_name=_("批准人（授权签字人）"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=DraftStatus.choices, default=DraftStatus.TESTING, db_index=True
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("编制人"), on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(_("编制时间"), default=timezone.now)
    tested_by = _user_fk(_("检测人签署账号"))
    tested_at = models.DateTimeField(_("检测人签署时间"), null=True, blank=True)
    reviewed_by = _user_fk(_("审核人签署账号"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    approved_by = _user_fk(_("批准人签署账号"))
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    returned_by = _user_fk(_("退回人"))
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    report = models.OneToOneField(
        Report, verbose_name=_("签发的报告"), null=True, blank=True, on_delete=models.PROTECT, related_name="draft"
    )

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("报告草稿")
        verbose_name_plural = _("报告草稿")
        ordering = ["-prepared_at", "-pk"]

    def __str__(self) -> str:
        return self.report_number

    # the agency's own people only (not its LIMS: drafts are the web path's)
    scoping = Scoping(
        organisation="agency__organisation_id", grants={"view": (Grant(Reach.OWN, is_agency & is_person),)}
    )

    def awaiting(self) -> Any:
        """The registry person whose sign-off the draft waits for, or ``None``."""

        return {
            DraftStatus.TESTING: self.tester,
            DraftStatus.REVIEWING: self.reviewer,
            DraftStatus.APPROVING: self.signatory,
        }.get(DraftStatus(self.status))
