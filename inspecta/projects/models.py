"""Projects, their parties and testing contracts (T/CECS 4.3.2, 4.3.3; Nanchang 二(二);
Guangxi 第八条(四), 第九条).

Scoping (DESIGN.md "Who uses it"): authorities and stations see the projects located in
their region; every party organisation (agency, owner, contractor, supervising firm)
sees the projects it is a party of; operators see everything.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.accounts.choices import OrganisationKind
from inspecta.core.audit import audited
from inspecta.core.fields import latitude_field, longitude_field
from inspecta.core.findings import SEVERITY_CHOICES, Finding
from inspecta.core.permissions import is_agency, is_operator, is_party, is_regulator, is_station
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import PartyRole, PlanFindingRule, PlanStatus, ProjectDuty
from .permissions import may_register_projects

__all__ = [
    "PLAN_SCOPING",
    "PROJECT_SCOPING",
    "Contract",
    "InspectionPlan",
    "InspectionPlanVersion",
    "PlanFinding",
    "Project",
    "ProjectParty",
]


PROJECT_SCOPING = Scoping(
    region="region__code",
    project="pk",
    grants={
        # authorities and stations: projects located inside their region; any other
        # organisation the projects it is a party of (Guangxi 第八条(四)), view only
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.PARTY, is_agency | is_party),
        ),
        "change": (Grant(Reach.ALL, is_operator), Grant(Reach.REGION, may_register_projects)),
    },
)
"""Who may see (``view``) or change (``change``) a project's records."""


class Project(models.Model):
    """工程项目 (T/CECS 4.3.2): code, name, location, supervision registration number and
    the supervising station. The project page aggregates its contracts and reports."""

    code = models.CharField(_("项目编号"), max_length=64, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    region = models.ForeignKey(
        "core.Region", verbose_name=_("所在行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("项目地址"), max_length=255)
    longitude = longitude_field(_("经度"))
    latitude = latitude_field(_("纬度"))
    supervision_number = models.CharField(_("监督登记号"), max_length=64, blank=True, db_index=True)
    station = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("监督站"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_projects",
        limit_choices_to={"kind": OrganisationKind.STATION},
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        "exchange.ExchangeClient",
        verbose_name=_("创建接入方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("通过数据交换接口登记项目的接入方（T/CECS 4.3.2）。"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now, db_index=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("工程项目")
        verbose_name_plural = _("工程项目")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    scoping = PROJECT_SCOPING

    @property
    def external_id(self) -> str:
        """The identity another platform mirrors the project by: region and project code
        (T/CECS 4.3.2 shared projects); neither changes after registration."""

        return f"{self.region_id}:{self.code}"

    def agency_ids(self) -> set[int]:
        return set(self.parties.filter(role=PartyRole.AGENCY, agency__isnull=False).values_list("agency_id", flat=True))


class ProjectParty(models.Model):
    """A party of a project (owner, contractor, supervising firm, testing agency) with
    its people (T/CECS 4.3.2). ``organisation`` links a party that has accounts here, so
    its users see the project; ``agency`` links a registered testing agency."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("参建角色"), max_length=32, choices=PartyRole.choices)
    name = models.CharField(_("单位名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("平台单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project_parties",
    )
    agency = models.ForeignKey(
        "registry.Agency",
        verbose_name=_("检测机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project_parties",
    )
    people = models.JSONField(
        _("人员"), default=list, blank=True, help_text=_("[{name, role, mobile}]：项目负责人、取样人、见证人等。")
    )

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("参建单位")
        verbose_name_plural = _("参建单位")
        ordering = ["project_id", "role", "pk"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    scoping = PROJECT_SCOPING.via("project")


class ProjectPerson(models.Model):
    """A person of a party named on a project for a duty (Nanchang 一(二): "项目应明确
    取样人、见证人"). Once a project names people for a duty, only they may act in it
    (``sampling.permissions``); ending a naming keeps the row, with who ended it and when.
    """

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="people")
    party = models.ForeignKey(
        ProjectParty, verbose_name=_("参建单位"), on_delete=models.CASCADE, related_name="named_people"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="project_duties"
    )
    duty = models.CharField(_("职责"), max_length=16, choices=ProjectDuty.choices)
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("指定人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    named_at = models.DateTimeField(_("指定时间"), default=timezone.now)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目指定人员")
        verbose_name_plural = _("项目指定人员")
        ordering = ["project_id", "duty", "named_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "person", "duty"],
                condition=Q(ended_at__isnull=True),
                name="projects_person_named_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_duty_display()} {self.person}"

    scoping = PROJECT_SCOPING.via("project")


class Contract(models.Model):
    """检测合同 uploaded by the agency (T/CECS 4.3.3; Nanchang 二(二); Guangxi 第九条):
    parties, amount, signing and validity dates, number, project, test items and the
    scan (a stored upload, by id and SHA-256). Logged in the transparency log; never
    edited in place. Visible to the agency that signed it (not to another agency of the
    project), the project's other parties and the regulators of the project's region (its
    station included)."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="contracts")
    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="contracts"
    )
    number = models.CharField(_("合同编号"), max_length=64)
    client_name = models.CharField(_("委托方"), max_length=200)
    parties = models.JSONField(_("合同各方"), default=list, blank=True)
    amount = models.DecimalField(
        _("合同金额（元）"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    signed_on = models.DateField(_("签订日期"))
    valid_from = models.DateField(_("有效期自"))
    valid_until = models.DateField(_("有效期至"))
    test_items = models.ManyToManyField("core.TestItem", verbose_name=_("检测项目"), related_name="+")
    allows_additional_agency = models.BooleanField(
        _("允许增加检测机构"),
        default=False,
        help_text=_("同一项目同一检测项目已有两家检测机构时，本合同允许本机构继续承接。"),
    )
    scan = models.ForeignKey(
        "core.StoredFile", verbose_name=_("合同扫描件"), on_delete=models.PROTECT, related_name="+"
    )
    scan_sha256 = models.CharField(_("扫描件 SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("检测合同")
        verbose_name_plural = _("检测合同")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["agency", "number"], name="projects_contract_number_unique")]

    def __str__(self) -> str:
        return self.number

    # the project's regulators and its non-agency parties (owner, contractor, supervising
    # firm) see every contract of it; an agency sees only the contracts it signed, never a
    # competitor's on the same project (T/CECS 4.3.3: the contract is between the agency
    # and its client); the agency alone may add to its own
    scoping = Scoping(
        region="project__region__code",
        project="project_id",
        organisation="agency__organisation_id",
        grants={
            "view": (
                Grant(Reach.ALL, is_operator),
                Grant(Reach.REGION, is_regulator),
                Grant(Reach.PARTY, is_party),
                Grant(Reach.OWN, is_agency),
            ),
            "change": (Grant(Reach.ALL, is_operator), Grant(Reach.OWN, is_agency)),
        },
    )


PLAN_SCOPING = Scoping(
    region="project__region__code",
    project="project_id",
    station="project__station_id",
    organisation="agency__organisation_id",
    grants={
        # as a contract: the project's regulators (its station too, wherever it sits) and
        # its non-agency parties see every plan of it; an agency only the plans it filed;
        # only the filing agency changes or cancels its plan
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.STATION, is_station),
            Grant(Reach.PARTY, is_party),
            Grant(Reach.OWN, is_agency),
        ),
        "change": (Grant(Reach.OWN, is_agency),),
    },
)
"""Who may see (``view``) or change (``change``) an on-site inspection plan."""


class InspectionPlan(models.Model):
    """现场检测方案 (Nanchang 二(三): pile and concrete-structure on-site tests filed at
    least 3 days ahead, with the contract, the testers, the planned dates and the plan's
    scan; Guangxi 第十条: every on-site test at least 24 hours ahead, with the plan, the
    planned start and end times and the quantity).

    The row holds the current values; every filing, change and cancellation is an
    immutable :class:`InspectionPlanVersion`, logged in the transparency log. A version
    filed less than the lead time (:class:`PlanLeadRule`) before its planned start is a
    :class:`PlanFinding`."""

    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="inspection_plans"
    )
    project = models.ForeignKey(
        Project, verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="inspection_plans"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("检测合同"), on_delete=models.PROTECT, related_name="inspection_plans"
    )
    test_item = models.ForeignKey(
        "core.TestItem", verbose_name=_("检测项目"), on_delete=models.PROTECT, related_name="+"
    )
    testers = models.ManyToManyField("registry.Staff", verbose_name=_("检测人员"), related_name="+")
    planned_start = models.DateTimeField(_("计划开始时间"), db_index=True)
    planned_end = models.DateTimeField(_("计划结束时间"))
    quantity = models.PositiveIntegerField(_("检测数量"), validators=[MinValueValidator(1)])
    quantity_unit = models.CharField(_("数量单位"), max_length=16)
    location = models.CharField(_("检测部位"), max_length=255)
    document = models.ForeignKey(
        "core.StoredFile", verbose_name=_("检测方案文件"), on_delete=models.PROTECT, related_name="+"
    )
    document_sha256 = models.CharField(_("检测方案文件 SHA-256"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.FILED, db_index=True
    )
    version = models.PositiveSmallIntegerField(_("当前版本"), default=1)
    filed_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now, db_index=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("现场检测方案")
        verbose_name_plural = _("现场检测方案")
        ordering = ["planned_start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")), name="projects_plan_end_after_start"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="projects_plan_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project.name} {self.test_item.name} {timezone.localtime(self.planned_start):%Y-%m-%d %H:%M}"

    scoping = PLAN_SCOPING

    def clean(self) -> None:
        super().clean()
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValidationError({"planned_end": _("计划结束时间须晚于计划开始时间。")})

    @property
    def is_filed(self) -> bool:
        return self.status == PlanStatus.FILED


class PlanVersionImmutable(Exception):
    """A version of a plan is never changed or deleted; a change is a new version."""


class InspectionPlanVersion(models.Model):
    """One immutable version of a plan: a snapshot of its fields (``data``), the plan's
    document, who filed it (a person or the agency's LIMS), when (server time) and why
    (the reason of a change or cancellation). Logged as kind ``inspection_plan``."""

    plan = models.ForeignKey(
        InspectionPlan, verbose_name=_("检测方案"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("版本号"))
    data = models.JSONField(_("方案内容"))
    document = models.ForeignKey(
        "core.StoredFile", verbose_name=_("检测方案文件"), on_delete=models.PROTECT, related_name="+"
    )
    document_sha256 = models.CharField(_("检测方案文件 SHA-256"), max_length=64)
    filed_by = models.ForeignKey(
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
    filed_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    reason = models.CharField(_("变更原因"), max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("检测方案版本")
        verbose_name_plural = _("检测方案版本")
        ordering = ["plan_id", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="projects_planversion_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.number}"

    scoping = PLAN_SCOPING.via("plan")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PlanVersionImmutable("plan versions cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PlanVersionImmutable("plan versions cannot be deleted")

    @property
    def status(self) -> str:
        return str(self.data.get("status", PlanStatus.FILED))

    @property
    def planned_start(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.data["planned_start"])

    @property
    def planned_end(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.data["planned_end"])

    def get_status_display(self) -> str:
        return str(PlanStatus(self.status).label)


class PlanFinding(Finding):
    """A plan version filed later than its lead time allows (rule ``plan_filed_late``,
    key ``plan:<id>:v<n>``): it belongs to the project's region and is read like its
    plan (Nanchang 二(三); Guangxi 第十条)."""

    clause = "Nanchang 二(三); Guangxi 第十条"
    rules = PlanFindingRule
    subject_paths = {"agency": "plan__agency_id", "project": "plan__project_id"}

    plan = models.ForeignKey(
        InspectionPlan, verbose_name=_("检测方案"), on_delete=models.PROTECT, related_name="findings"
    )
    version = models.ForeignKey(
        InspectionPlanVersion, verbose_name=_("检测方案版本"), on_delete=models.PROTECT, related_name="findings"
    )
    severity = models.CharField(
        _("严重程度"), max_length=16, choices=SEVERITY_CHOICES, default=Severity.WARNING.value, db_index=True
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("检测方案问题")
        verbose_name_plural = _("检测方案问题")
        ordering = ["plan_id", "pk"]

    def __str__(self) -> str:
        return self.rule

    def region_code(self) -> str:
        return self.plan.project.region_id

    # read like its plan; nobody changes a finding by hand
    scoping = replace(PLAN_SCOPING.via("plan"), grants={"view": PLAN_SCOPING.grants["view"]})
