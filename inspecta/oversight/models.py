"""Warnings (预警): every finding of every app, as one thing a competent authority follows
to its end (T/CECS 4.3.4-6 "追踪、定位、确认、预警、处理和汇总", 8.2.4; Guangdong 附件2
二(十一)(十二); Guangxi 第十七条).

A finding (``core.findings.Finding``) says that a check found something wrong and whether
it still holds; a :class:`Warning` is the supervision of it: assigned to the authority of
the region it belongs to, signed for and answered by the agency it is about, reviewed and
closed by the authority, escalated to the level above when it waits too long, reopened
when its problem comes back. One warning per finding (``source``, ``finding_id``): a
re-scan finds the warning it raised.
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from inspecta.accounts.choices import Role
from inspecta.core.audit import audited
from inspecta.core.decisions import Decision
from inspecta.core.findings import SEVERITY_CHOICES, Finding
from inspecta.core.permissions import has_role, is_agency, is_authority, is_operator, is_party, is_regulator, is_station
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping
from inspecta.reports.models import REPORT_SCOPING

from .choices import (
    ACTIVE,
    UNHANDLED,
    ClosureAction,
    ClosureStatus,
    OversightRule,
    WarningAction,
    WarningStatus,
)
from .permissions import may_answer_warnings, may_decide_warnings

__all__ = ["WARNING_SCOPING", "NonconformanceClosure", "NonconformanceFinding", "Warning", "WarningEvent"]

WARNING_SCOPING = Scoping(
    region="region",
    organisation="organisation_id",
    grants={
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.OWN, is_agency | is_party),
        ),
        # the agency signs for the warnings about it and reports its handling
        "answer": (Grant(Reach.OWN, may_answer_warnings),),
        # the authorities and stations of the region review, close, return and reopen
        "decide": (Grant(Reach.ALL, is_operator), Grant(Reach.REGION, is_regulator & may_decide_warnings)),
    },
)


class Warning(models.Model):  # the glossary's name (预警), not the built-in exception
    """A warning raised from one finding: what (``rule``, ``subject``, ``detail``,
    ``severity``), where (``region``, the finding's), about whom (``agency``,
    ``project``, ``organisation``: the party that answers), with whom it lies
    (``assigned_region``: the authority of that region or of a level above after an
    escalation, since ``assigned_at``), and where it stands (``status``). Changes are
    audited and each step is a :class:`WarningEvent`."""

    source = models.CharField(_("来源"), max_length=64)
    finding_id = models.BigIntegerField(_("问题编号"))
    rule = models.CharField(_("预警规则"), max_length=64, db_index=True)
    subject = models.CharField(_("对象"), max_length=255, blank=True)
    key = models.CharField(_("对象标识"), max_length=255, blank=True)
    severity = models.CharField(_("严重程度"), max_length=16, choices=SEVERITY_CHOICES, db_index=True)
    detail = models.CharField(_("说明"), max_length=500, blank=True)
    region = models.CharField(_("所属地区"), max_length=12, blank=True)
    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("工程项目"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    created_at = models.DateTimeField(_("预警时间"), default=timezone.now)
    assigned_region = models.CharField(_("承办主管部门所在地区"), max_length=12, blank=True)
    assigned_at = models.DateTimeField(_("交办时间"), default=timezone.now)
    escalations = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    status = FSMField(
        _("状态"), max_length=16, choices=WarningStatus.choices, default=WarningStatus.OPEN, protected=False
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), default=timezone.now)
    resolved = models.BooleanField(_("问题已消除"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    history = audited()
    objects = RestrictedQuerySet.as_manager()
    scoping = WARNING_SCOPING

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "finding_id"], name="oversight_warning_finding")]
        indexes = [
            # a reviewer's queue: the warnings lying with their region, by state, newest first
            models.Index(fields=["assigned_region", "status", "-created_at", "-id"], name="oversight_warning_queue"),
            models.Index(fields=["region", "-created_at", "-id"], name="oversight_warning_region"),
            models.Index(fields=["organisation", "status", "-created_at"], name="oversight_warning_org"),
            models.Index(fields=["status", "assigned_at"], name="oversight_warning_due"),
            models.Index(fields=["rule", "status"], name="oversight_warning_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.rule}：{self.subject}"

    @property
    def age_days(self) -> int:
        return (timezone.now() - self.raised_at).days

    # the lifecycle (services.warning_step takes the steps, with who, when and why)

    @transition(field=status, source=WarningStatus.OPEN, target=WarningStatus.ACKNOWLEDGED)
    def acknowledge(self) -> None:
        """The agency (or the reviewer) signs for it."""

    @transition(field=status, source=list(UNHANDLED), target=WarningStatus.HANDLED)
    def handle(self) -> None:
        """What was done about it is reported, with evidence; the reviewer looks at it next."""

    @transition(field=status, source=WarningStatus.HANDLED, target=WarningStatus.CLOSED)
    def close(self) -> None:
        """The reviewer accepts the handling."""

    @transition(field=status, source=list(UNHANDLED), target=WarningStatus.CLOSED)
    def dismiss(self) -> None:
        """The reviewer finds it a false positive (a reason is required)."""

    @transition(field=status, source=WarningStatus.HANDLED, target=WarningStatus.OPEN)
    def send_back(self) -> None:
        """The reviewer returns the handling to be done again."""

    @transition(field=status, source=WarningStatus.CLOSED, target=WarningStatus.OPEN)
    def reopen(self) -> None:
        """The reviewer opens a closed warning again."""

    @transition(field=status, source=list(ACTIVE), target=WarningStatus.CLOSED)
    def resolve(self) -> None:
        """Its finding no longer holds: closed by the platform."""

    @transition(field=status, source=WarningStatus.CLOSED, target=WarningStatus.OPEN)
    def recur(self) -> None:
        """Its finding holds again after it was closed as resolved."""


class WarningEvent(models.Model):
    """One step of a warning: who did what, when, with which words and evidence (files),
    and for an escalation from which region's authority to which. Only added, never
    changed: the warning's timeline."""

    warning = models.ForeignKey(Warning, verbose_name=_("预警"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=16, choices=WarningAction.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.TextField(_("说明"), blank=True)
    from_status = models.CharField(_("原状态"), max_length=16, choices=WarningStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=WarningStatus.choices, blank=True)
    from_region = models.CharField(_("原承办地区"), max_length=12, blank=True)
    to_region = models.CharField(_("新承办地区"), max_length=12, blank=True)
    files = models.ManyToManyField("core.StoredFile", verbose_name=_("佐证材料"), blank=True, related_name="+")

    history = audited()
    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(
        region="warning__region",
        organisation="warning__organisation_id",
        grants={"view": WARNING_SCOPING.grants["view"]},
    )

    class Meta:
        verbose_name = _("预警处理记录")
        verbose_name_plural = _("预警处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.warning_id} {self.action}"


# --------------------------------------------------------------- nonconformance closure


class NonconformanceClosure(Decision):
    """不合格闭环 (Guangdong 附件2 二(十二) 及时对不合格数据进行闭环; T/CECS 4.3.4-6
    "追踪、定位、确认、预警、处理和汇总"; 57号令 第二十六条 不合格项目台账): what the agency
    did about one entry of the nonconformance ledger (``reports.NonconformanceEntry``):
    whom it told and when, what was done, the re-test report and its result, in words and
    evidence. The project's station (or the authority of its region) confirms it, which
    closes the entry and appends the closure to the transparency log, or sends it back
    with the reason; the agency then submits a new one (``number`` 1, 2...). Never
    changed after its decision."""

    entry = models.ForeignKey(
        "reports.NonconformanceEntry", verbose_name=_("不合格台账"), on_delete=models.PROTECT, related_name="closures"
    )
    number = models.PositiveSmallIntegerField(_("报送次序"))
    parties = models.JSONField(_("已告知单位"), default=list)
    notified_at = models.DateTimeField(_("告知时间"))
    action = models.CharField(_("处理措施"), max_length=16, choices=ClosureAction.choices)
    retest_report = models.ForeignKey(
        "reports.Report",
        verbose_name=_("复检报告"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("处理情况"))
    files = models.ManyToManyField("core.StoredFile", verbose_name=_("佐证材料"), blank=True, related_name="+")
    status = FSMField(
        _("状态"), max_length=16, choices=ClosureStatus.choices, default=ClosureStatus.PENDING, db_index=True
    )

    history = audited()
    objects = RestrictedQuerySet.as_manager()
    scoping = replace(
        REPORT_SCOPING.via("entry"),
        grants={
            "view": REPORT_SCOPING.grants["view"],
            # the project's station confirms (T/CECS 4.3.4-6), or the authority of its region
            "decide": (
                Grant(Reach.ALL, is_operator),
                Grant(Reach.STATION, is_station & has_role(Role.STATION_INSPECTOR)),
                Grant(Reach.REGION, is_authority & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR)),
            ),
        },
    )

    class Meta:
        verbose_name = _("不合格闭环")
        verbose_name_plural = _("不合格闭环")
        ordering = ["entry_id", "number"]
        constraints = [models.UniqueConstraint(fields=["entry", "number"], name="oversight_closure_number")]

    def __str__(self) -> str:
        return f"{self.entry_id}#{self.number} {self.get_status_display()}"

    @property
    def retest_result(self) -> str:
        """The re-test report's conclusion (its display), or empty."""

        return self.retest_report.get_conclusion_display() if self.retest_report is not None else ""


class NonconformanceFinding(Finding):
    """A nonconforming result not closed within its region's days (Guangdong 附件2
    二(十二): 超过一定时间未处理，将会触发平台预警): rule ``nonconformance_overdue``, key
    ``nonconformance:<entry id>``; resolved when the entry is closed. Read like its
    report."""

    clause = "Guangdong 附件2 二(十二); T/CECS 4.3.4-6"
    rules = OversightRule
    subject_paths = {"agency": "entry__agency_id", "project": "entry__project_id"}

    entry = models.ForeignKey(
        "reports.NonconformanceEntry", verbose_name=_("不合格台账"), on_delete=models.CASCADE, related_name="+"
    )
    rule = models.CharField(_("规则"), max_length=64, choices=OversightRule.choices, db_index=True)
    severity = models.CharField(
        _("严重程度"), max_length=16, choices=SEVERITY_CHOICES, default=Severity.WARNING.value, db_index=True
    )

    objects = RestrictedQuerySet.as_manager()
    scoping = replace(REPORT_SCOPING.via("entry"), grants={"view": REPORT_SCOPING.grants["view"]})

    class Meta:
        verbose_name = _("不合格闭环问题")
        verbose_name_plural = _("不合格闭环问题")
        ordering = ["-since", "-pk"]
        constraints = [models.UniqueConstraint(fields=["entry", "rule"], name="oversight_nc_finding_unique")]

    def __str__(self) -> str:
        return self.rule

    def region_code(self) -> str:
        return self.entry.project.region_id
