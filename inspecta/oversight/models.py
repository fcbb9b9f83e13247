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

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from inspecta.core.audit import audited
from inspecta.core.findings import SEVERITY_CHOICES
from inspecta.core.permissions import is_agency, is_operator, is_party, is_regulator
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import ACTIVE, UNHANDLED, WarningAction, WarningStatus
from .permissions import may_answer_warnings, may_decide_warnings

__all__ = ["WARNING_SCOPING", "Warning", "WarningEvent"]

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
