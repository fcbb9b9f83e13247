"""The agency registry: every field list of T/CECS 4.1.1 and Guangdong 附件2 二(一)-(十).

An ``Agency`` is the registry record of an ``accounts.Organisation`` of kind agency
(one to one). Its people, equipment, sites, capabilities, signatories and certificates
hang off it. Who may see or change them is declared once in ``AGENCY_SCOPING`` (and, for
the child records, the same declaration through ``agency``): the agency itself, the authorities whose
region contains the agency's registration region, the operator.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from inspecta.accounts.choices import Role
from inspecta.core.audit import AuditRowImmutable, audited
from inspecta.core.decisions import Decision
from inspecta.core.fields import latitude_field, longitude_field
from inspecta.core.findings import Finding as FindingBase
from inspecta.core.identifiers import (
    validate_credit_code,
    validate_id_number,
    validate_mobile,
    validate_not_future,
    validate_phone,
    validate_postcode,
)
from inspecta.core.models import Parameter, Region, Specialty, TestItem, TestItemParameter
from inspecta.core.permissions import has_role, is_agency, is_authority, is_operator, is_province_level, is_regulator
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import (
    AgencyCertificateKind,
    AgencyStatus,
    BranchKind,
    CalibrationKind,
    ChangeRequestStatus,
    Education,
    EquipmentStatus,
    FindingRule,
    FindingSeverity,
    Gender,
    HeadRole,
    ImportJobStatus,
    OtherCertificateKind,
    ReviewAction,
    TitleLevel,
)

__all__ = [
    "Agency",
    "AgencyCertificate",
    "AgencyHead",
    "AgencyReview",
    "AgencyVersion",
    "ChangeRequest",
    "Equipment",
    "Finding",
    "ImportJob",
    "OtherCertificate",
    "OutputValue",
    "PostCertificate",
    "QualificationCertificate",
    "Signatory",
    "Site",
    "SiteCapability",
    "Staff",
    "certificate_covers",
]


is_reviewer = is_authority & ~is_province_level & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR)
"""Reviews agencies: the authority of the registration region below province level
(Guangdong 附件2 一(一)-(二))."""

AGENCY_SCOPING = Scoping(
    region="region__code",
    organisation="organisation_id",
    grants={
        # operators everything; authorities and stations the agencies registered inside
        # their region; an agency its own records, changed only by its admin
        "view": (Grant(Reach.ALL, is_operator), Grant(Reach.REGION, is_regulator), Grant(Reach.OWN, is_agency)),
        "change": (Grant(Reach.ALL, is_operator), Grant(Reach.OWN, is_agency & has_role(Role.AGENCY_ADMIN))),
        "review": (Grant(Reach.ALL, is_operator), Grant(Reach.REGION, is_reviewer)),
    },
)
"""Who may see (``view``), change (``change``) or review (``review``) an agency's records."""


def clean_fields_with(obj: models.Model, checks: dict[str, Any]) -> None:
    """Run ``checks`` (field name -> validator) on ``obj`` and raise every refusal at
    once, by field (the forms show them all together)."""

    from django.core.exceptions import ValidationError

    errors: dict[str, list[Any]] = {}
    for name, check in checks.items():
        try:
            check(getattr(obj, name))
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)


def check_validity_period(obj: models.Model, issued: str = "issued_on", until: str = "valid_until") -> None:
    """A certificate cannot expire before it is issued, nor be issued in the future."""

    from django.core.exceptions import ValidationError

    errors: dict[str, list[Any]] = {}
    start, end = getattr(obj, issued), getattr(obj, until)
    try:
        validate_not_future(start)
    except ValidationError as exc:
        errors[issued] = list(exc.messages)
    if start and end and end < start:
        errors[until] = [_("有效期至不能早于发证日期。")]
    if errors:
        raise ValidationError(errors)


class AgencyChildQuerySet(RestrictedQuerySet):
    pass


class AgencyOwned(models.Model):
    """Base of every record that belongs to one agency; scoped through the agency."""

    agency = models.ForeignKey(
        "Agency", verbose_name=_("检测机构"), on_delete=models.CASCADE, related_name="%(class)s_set"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = AgencyChildQuerySet.as_manager()

    class Meta:
        abstract = True

    scoping = AGENCY_SCOPING.via("agency")


def _attachment(label: Any) -> models.ForeignKey:
    """A scan or photo of a registry record: a ``core.StoredFile`` of the agency's
    organisation, stored for purpose ``scan`` (``inspecta.core.files``)."""

    return models.ForeignKey(
        "core.StoredFile", verbose_name=label, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


class Agency(models.Model):
    """检测机构 basic information (T/CECS 4.1.1-1; Guangdong 附件2 二(二); Nanchang 二(一)1).

    ``status`` is the review state machine (Guangdong 附件2 一(一)-(二)); only an
    approved agency may operate. ``parent`` links a branch to its parent agency
    (Guangdong 附件2 二(十)).
    """

    organisation = models.OneToOneField(
        "accounts.Organisation", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="agency"
    )
    name = models.CharField(_("单位名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code])
    region = models.ForeignKey(
        Region,
        verbose_name=_("注册地行政区划"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("外省进粤检测机构填写其在本省分支机构所在地。"),
    )
    out_of_province = models.BooleanField(_("外省进粤检测机构"), default=False)
    status = FSMField(_("审核状态"), default=AgencyStatus.DRAFT, choices=AgencyStatus.choices, db_index=True)
    # --- basic information (4.1.1-1) ----------------------------------------------
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    registered_address = models.CharField(_("登记地址（住所）"), max_length=255, blank=True)
    office_address = models.CharField(_("办公场所地址"), max_length=255, blank=True)
    office_longitude = longitude_field(_("办公场所经度"))
    office_latitude = latitude_field(_("办公场所纬度"))
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    postcode = models.CharField(_("邮政编码"), max_length=6, blank=True)
    fax = models.CharField(_("传真"), max_length=32, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_mobile = models.CharField(_("联系人手机"), max_length=11, blank=True, validators=[validate_mobile])
    registration_authority = models.CharField(_("登记机关"), max_length=128, blank=True)
    registered_capital = models.DecimalField(
        _("注册资本（万元）"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    registration_type = models.CharField(_("登记类型"), max_length=64, blank=True)
    agency_type = models.CharField(_("机构类型"), max_length=64, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)
    investors = models.TextField(
        _("投资人及投资比例"), blank=True, help_text=_("每行一位：投资人，比例（%），如“张三，60”。")
    )
    social_insurance_count = models.PositiveIntegerField(_("社保人员总数"), null=True, blank=True)
    technical_staff_count = models.PositiveIntegerField(_("专业技术人员总数"), null=True, blank=True)
    intermediate_title_count = models.PositiveIntegerField(_("中级职称人数"), null=True, blank=True)
    senior_title_count = models.PositiveIntegerField(_("高级职称人数"), null=True, blank=True)
    equipment_count = models.PositiveIntegerField(_("仪器设备总台套数"), null=True, blank=True)
    equipment_value = models.DecimalField(
        _("仪器设备固定资产原值（万元）"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    premises_area = models.DecimalField(
        _("固定场所建筑面积（㎡）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    testing_area = models.DecimalField(
        _("检测场所面积（㎡）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    business_licence = _attachment(_("营业执照扫描件"))
    # --- branches (Guangdong 二(十)) -----------------------------------------------
    parent = models.ForeignKey(
        "self", verbose_name=_("上级机构"), null=True, blank=True, on_delete=models.SET_NULL, related_name="branches"
    )
    branch_kind = models.CharField(_("分支机构类型"), max_length=32, choices=BranchKind.choices, blank=True)
    # --- review ------------------------------------------------------------------------
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("通过时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("检测机构")
        verbose_name_plural = _("检测机构")
        ordering = ["region_id", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Postcode, telephone and fax numbers, a founding date not ahead of today, all
        refused together."""

        clean_fields_with(
            self,
            {
                "postcode": validate_postcode,
                "phone": validate_phone,
                "fax": validate_phone,
                "founded_on": validate_not_future,
            },
        )

    scoping = AGENCY_SCOPING

    @property
    def may_operate(self) -> bool:
        """Only an approved agency may do business (Guangdong 附件2 一(二))."""

        return self.status == AgencyStatus.APPROVED

    # --- state machine (django-fsm-2); services record who and why ----------------
    @transition(field=status, source=[AgencyStatus.DRAFT, AgencyStatus.RETURNED], target=AgencyStatus.SUBMITTED)
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @transition(field=status, source=AgencyStatus.SUBMITTED, target=AgencyStatus.APPROVED)
    def approve(self) -> None:
        self.approved_at = timezone.now()
        self.return_reason = ""

    @transition(field=status, source=AgencyStatus.SUBMITTED, target=AgencyStatus.RETURNED)
    def return_for_changes(self, reason: str) -> None:
        self.return_reason = reason


class AgencyReview(models.Model):
    """One step of the review trail: who did what, when and why. Append-only."""

    agency = models.ForeignKey(Agency, verbose_name=_("检测机构"), on_delete=models.CASCADE, related_name="reviews")
    action = models.CharField(_("操作"), max_length=16, choices=ReviewAction.choices)
    actor = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("意见"), blank=True)
    change_request = models.ForeignKey(
        "ChangeRequest",
        verbose_name=_("变更申请"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reviews",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("审核记录")
        verbose_name_plural = _("审核记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.get_action_display()}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise AuditRowImmutable("review records cannot be changed")
        super().save(*args, **kwargs)


class AgencyVersion(models.Model):
    """An approved version of an agency's key facts (heads, qualifications, capabilities,
    signatories): the snapshot in force, numbered from 1. Never changed; each approval
    (first review or a later change request) adds one and logs it (CONTRACT §5)."""

    agency = models.ForeignKey(Agency, verbose_name=_("检测机构"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    snapshot = models.JSONField(_("关键信息快照"))
    snapshot_sha256 = models.CharField(_("快照摘要"), max_length=64)
    approved_by = models.ForeignKey(
        "accounts.User", verbose_name=_("审核人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(_("通过时间"), default=timezone.now)

    class Meta:
        verbose_name = _("机构信息版本")
        verbose_name_plural = _("机构信息版本")
        ordering = ["agency_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["agency", "number"], name="registry_version_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} v{self.number}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise AuditRowImmutable("approved versions cannot be changed")
        super().save(*args, **kwargs)


class ChangeRequest(Decision, AgencyOwned):
    """A change to key facts of an approved agency, waiting for re-review. ``operation`` names the write and ``payload`` its JSON arguments; the
    approved data stays in force until the reviewer approves, which applies the write
    and records a new ``AgencyVersion``; a rejection returns it for changes."""

    operation = models.CharField(_("变更类型"), max_length=64)
    summary = models.CharField(_("变更内容"), max_length=255)
    payload = models.JSONField(_("变更数据"))
    status = FSMField(_("状态"), default=ChangeRequestStatus.PENDING, choices=ChangeRequestStatus.choices)

    history = audited()

    class Meta:
        verbose_name = _("关键信息变更申请")
        verbose_name_plural = _("关键信息变更申请")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary


class AgencyHead(AgencyOwned):
    """法定代表人 / 技术负责人 / 质量负责人 (T/CECS 4.1.1-2). Key fact."""

    role = models.CharField(_("职责"), max_length=32, choices=HeadRole.choices)
    name = models.CharField(_("姓名"), max_length=64)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    birth_month = models.DateField(_("出生年月"), null=True, blank=True)
    position = models.CharField(_("职务"), max_length=64, blank=True)
    title = models.CharField(_("职称"), max_length=64, blank=True)
    education = models.CharField(_("学历"), max_length=16, choices=Education.choices, blank=True)
    photo = _attachment(_("照片"))
    id_number = models.CharField(_("身份证号"), max_length=18, validators=[validate_id_number])
    years_in_testing = models.PositiveSmallIntegerField(_("从事检测工作相关年限"), null=True, blank=True)
    office_phone = models.CharField(_("办公室电话"), max_length=32, blank=True)
    mobile = models.CharField(_("移动电话"), max_length=11, blank=True, validators=[validate_mobile])
    resume = models.TextField(_("工作简历"), blank=True)

    history = audited()

    class Meta:
        verbose_name = _("机构负责人")
        verbose_name_plural = _("机构负责人")
        ordering = ["agency_id", "role"]
        constraints = [models.UniqueConstraint(fields=["agency", "role"], name="registry_head_unique")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    def clean(self) -> None:
        clean_fields_with(self, {"office_phone": validate_phone})


class Site(AgencyOwned):
    """检测场所 (T/CECS 4.1.1-6): where tests are done; capabilities are offered per site."""

    name = models.CharField(_("场所名称"), max_length=128)
    address = models.CharField(_("检测场所地址"), max_length=255)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    area = models.DecimalField(_("面积（㎡）"), max_digits=12, decimal_places=2, null=True, blank=True)

    history = audited()

    class Meta:
        verbose_name = _("检测场所")
        verbose_name_plural = _("检测场所")
        ordering = ["agency_id", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="registry_site_unique")]

    def __str__(self) -> str:
        return self.name


class SiteCapability(AgencyOwned):
    """One (test item, parameter) offered at a site, chosen from the qualification catalog;
    the specialty and whether the parameter is mandatory come from the catalog
    (T/CECS 4.1.1-6; 建质〔2023〕1号 附件2). Key fact."""

    site = models.ForeignKey(Site, verbose_name=_("检测场所"), on_delete=models.CASCADE, related_name="capabilities")
    item_parameter = models.ForeignKey(
        TestItemParameter, verbose_name=_("检测项目/参数"), on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    class Meta:
        verbose_name = _("检测能力")
        verbose_name_plural = _("检测能力")
        ordering = ["site_id", "item_parameter_id"]
        constraints = [models.UniqueConstraint(fields=["site", "item_parameter"], name="registry_capability_unique")]

    def __str__(self) -> str:
        return str(self.item_parameter)


class Staff(AgencyOwned):
    """注册人员 and 质量检测人员 (T/CECS 4.1.1-3, -4; Guangdong 附件2 二(六); Nanchang
    二(一)2). ``active`` is false once the person has left; the record stays."""

    name = models.CharField(_("姓名"), max_length=64)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    id_number = models.CharField(_("身份证号码"), max_length=18, validators=[validate_id_number], db_index=True)
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True, validators=[validate_mobile])
    photo = _attachment(_("照片"))
    education = models.CharField(_("学历"), max_length=16, choices=Education.choices, blank=True)
    major = models.CharField(_("专业"), max_length=64, blank=True)
    title = models.CharField(_("职称"), max_length=64, blank=True)
    title_level = models.CharField(_("职称等级"), max_length=16, choices=TitleLevel.choices, default=TitleLevel.NONE)
    title_major = models.CharField(_("职称专业"), max_length=64, blank=True)
    title_certificate_no = models.CharField(_("职称证书号"), max_length=64, blank=True)
    post = models.CharField(_("职务/岗位"), max_length=64, blank=True)
    hired_on = models.DateField(_("入职日期"), null=True, blank=True)
    social_insurance_no = models.CharField(_("社保号"), max_length=32, blank=True)
    years_in_testing = models.PositiveSmallIntegerField(_("从事检测工作年限"), null=True, blank=True)
    training = models.TextField(_("培训经历"), blank=True)
    site = models.ForeignKey(
        Site, verbose_name=_("所在检测场所"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    specialties = models.ManyToManyField(Specialty, verbose_name=_("从事检测专项"), blank=True, related_name="+")
    is_registered_person = models.BooleanField(_("注册人员"), default=False)
    practice_certificate_no = models.CharField(_("执业资格证书号"), max_length=64, blank=True)
    social_insurance_proof = _attachment(_("社保证明"))
    title_certificate_scan = _attachment(_("最高职称证书"))
    active = models.BooleanField(_("在职"), default=True, db_index=True)
    left_on = models.DateField(_("离职日期"), null=True, blank=True)
    # The person's own account on the platform, bound by the agency admin: the account
    # with which the person signs off a report as tester, reviewer or authorised
    # signatory (Nanchang 三(一); Guangxi 第十一条).
    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("平台账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_records",
        help_text=_("本机构的平台账号；本人在平台上签署报告（检测、审核、批准）时以此认定。"),
    )

    history = audited(m2m_fields=[specialties])

    class Meta:
        verbose_name = _("检测人员")
        verbose_name_plural = _("检测人员")
        ordering = ["agency_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(active=True, user__isnull=False),
                name="registry_staff_user_unique",
                violation_error_message=_("该账号已绑定另一名在职人员。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class PostCertificate(AgencyOwned):
    """上岗证 (Guangdong 附件2 二(七)): number, validity, issuer, category, level, items."""

    staff = models.ForeignKey(Staff, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="post_certificates")
    number = models.CharField(_("证书编号"), max_length=64, db_index=True)
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"))
    issuer = models.CharField(_("发证机关"), max_length=128, blank=True)
    category = models.ForeignKey(Specialty, verbose_name=_("检测类别"), on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("检测等级"), max_length=32, blank=True)
    test_items = models.ManyToManyField(TestItem, verbose_name=_("检测项目"), blank=True, related_name="+")
    scan = _attachment(_("上岗证附件"))

    history = audited(m2m_fields=[test_items])

    class Meta:
        verbose_name = _("上岗证")
        verbose_name_plural = _("上岗证")
        ordering = ["staff_id", "number"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        check_validity_period(self)

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.valid_until >= day


def certificate_covers(
    category_id: str,
    issued_on: datetime.date | None,
    valid_until: datetime.date,
    *,
    specialty_id: str,
    day: datetime.date,
) -> bool:
    """A post certificate of ``category_id`` issued and valid on ``day`` lets its holder
    test items of ``specialty_id`` that day (T/CECS 4.3.4; Guangxi 第十一条): the one
    reading of it, for report checks and test records alike."""

    return category_id == specialty_id and valid_until >= day and (issued_on is None or issued_on <= day)


class OtherCertificate(AgencyOwned):
    """Other certificates of a person: registered geotechnical or structural engineer
    (Guangdong 附件2 二(八), optional)."""

    staff = models.ForeignKey(
        Staff, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="other_certificates"
    )
    kind = models.CharField(_("证书类别"), max_length=32, choices=OtherCertificateKind.choices)
    number = models.CharField(_("证书编号"), max_length=64)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    scan = _attachment(_("证书附件"))

    history = audited()

    class Meta:
        verbose_name = _("其他证书")
        verbose_name_plural = _("其他证书")
        ordering = ["staff_id", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Equipment(AgencyOwned):
    """主要仪器设备 (T/CECS 4.1.1-5; Guangdong 附件2 二(九); Nanchang 二(一)3) with its
    current verification/calibration. ``parameters`` are the catalog parameters the
    equipment serves; conformity checks that every mandatory parameter offered at a site
    has in-use equipment with valid calibration there (T/CECS 4.1.3)."""

    asset_no = models.CharField(_("设备编号"), max_length=64)
    name = models.CharField(_("设备名称"), max_length=128)
    equipment_type = models.CharField(_("设备类型"), max_length=64, blank=True)
    model = models.CharField(_("规格型号"), max_length=128, blank=True)
    serial_no = models.CharField(_("出厂编号"), max_length=64, blank=True)
    manufacturer = models.CharField(_("生产厂家"), max_length=128, blank=True)
    measuring_range = models.CharField(_("测量范围"), max_length=128, blank=True)
    accuracy = models.CharField(_("准确度等级/不确定度"), max_length=128, blank=True)
    calibration_kind = models.CharField(
        _("溯源方式"), max_length=16, choices=CalibrationKind.choices, default=CalibrationKind.VERIFICATION
    )
    calibration_body = models.CharField(_("检定/校准机构"), max_length=128, blank=True)
    calibration_interval_months = models.PositiveSmallIntegerField(
        _("检定/校准周期（月）"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    calibrated_on = models.DateField(_("检定/校准日期"), null=True, blank=True)
    calibration_valid_until = models.DateField(_("检定/校准有效期至"), null=True, blank=True)
    self_check_items = models.CharField(_("自检/校项目"), max_length=255, blank=True)
    self_check_standard = models.CharField(_("自检/校规范名称及编号"), max_length=255, blank=True)
    site = models.ForeignKey(
        Site, verbose_name=_("检测场所"), null=True, blank=True, on_delete=models.SET_NULL, related_name="equipment"
    )
    test_items = models.ManyToManyField(TestItem, verbose_name=_("检测项目"), blank=True, related_name="+")
    parameters = models.ManyToManyField(Parameter, verbose_name=_("检测参数"), blank=True, related_name="+")
    status = models.CharField(
        _("设备状态"), max_length=16, choices=EquipmentStatus.choices, default=EquipmentStatus.IN_USE
    )
    certificate_scan = _attachment(_("计量检定证书"))

    history = audited(m2m_fields=[test_items, parameters])

    class Meta:
        verbose_name = _("仪器设备")
        verbose_name_plural = _("仪器设备")
        ordering = ["agency_id", "asset_no"]
        constraints = [models.UniqueConstraint(fields=["agency", "asset_no"], name="registry_equipment_unique")]

    def __str__(self) -> str:
        return f"{self.asset_no} {self.name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.calibrated_on and self.calibration_valid_until and self.calibration_valid_until < self.calibrated_on:
            raise ValidationError({"calibration_valid_until": _("有效期不能早于检定/校准日期。")})

    def calibration_valid_on(self, day: datetime.date) -> bool:
        return self.calibration_valid_until is not None and self.calibration_valid_until >= day


class Signatory(AgencyOwned):
    """报告批准人（授权签字人）with signing scope and site (T/CECS 4.1.1-7). Key fact."""

    staff = models.ForeignKey(Staff, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="signatory_roles")
    position = models.CharField(_("职务"), max_length=64, blank=True)
    title = models.CharField(_("职称"), max_length=64, blank=True)
    scope = models.ManyToManyField(Specialty, verbose_name=_("签字范围（检测专项）"), related_name="+")
    scope_note = models.CharField(_("签字范围说明"), max_length=255, blank=True)
    site = models.ForeignKey(
        Site, verbose_name=_("对应检测场所"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = audited(m2m_fields=[scope])

    class Meta:
        verbose_name = _("报告批准人")
        verbose_name_plural = _("报告批准人")
        ordering = ["agency_id", "id"]

    def __str__(self) -> str:
        return str(self.staff)


class QualificationCertificate(AgencyOwned):
    """建设工程质量检测机构资质证书 and its annexes (T/CECS 4.1.1-8; Guangdong 附件2 二(三)).
    Key fact."""

    number = models.CharField(_("证书编号"), max_length=64)
    grade = models.CharField(_("资质类别"), max_length=64, blank=True, help_text=_("综合资质或专项资质。"))
    specialties = models.ManyToManyField(Specialty, verbose_name=_("检测类别（专项）"), related_name="+")
    test_items = models.ManyToManyField(TestItem, verbose_name=_("检测项目"), blank=True, related_name="+")
    issuer = models.CharField(_("发证机关"), max_length=128, blank=True)
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"))
    scan = _attachment(_("资质证书附件"))
    capability_annex = _attachment(_("检测能力附表"))
    signatory_annex = _attachment(_("报告批准人附表"))

    history = audited(m2m_fields=[specialties, test_items])

    class Meta:
        verbose_name = _("资质证书")
        verbose_name_plural = _("资质证书")
        ordering = ["agency_id", "number"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        check_validity_period(self)


class AgencyCertificate(AgencyOwned):
    """CMA (required) and CNAS certificates (Guangdong 附件2 二(四))."""

    kind = models.CharField(_("证书类别"), max_length=16, choices=AgencyCertificateKind.choices)
    number = models.CharField(_("证书编号"), max_length=64)
    issuer = models.CharField(_("发证机关"), max_length=128, blank=True)
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"))
    scan = _attachment(_("证书附件"))

    history = audited()

    class Meta:
        verbose_name = _("认证认可证书")
        verbose_name_plural = _("认证认可证书")
        ordering = ["agency_id", "kind", "-valid_until"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def clean(self) -> None:
        check_validity_period(self)


class OutputValue(AgencyOwned):
    """Output value per quarter, in yuan (Guangdong 附件2 二(五), optional)."""

    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(_("季度"), validators=[MinValueValidator(1), MaxValueValidator(4)])
    amount = models.DecimalField(_("产值（元）"), max_digits=16, decimal_places=2, validators=[MinValueValidator(0)])

    history = audited()

    class Meta:
        verbose_name = _("产值")
        verbose_name_plural = _("产值")
        ordering = ["agency_id", "-year", "-quarter"]
        constraints = [models.UniqueConstraint(fields=["agency", "year", "quarter"], name="registry_output_unique")]

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"


class Finding(FindingBase, AgencyOwned):
    """A stored result of the conformity and certificate-hanging checks (T/CECS 4.1.3,
    4.1.1-8, 7.2.2-1): what is wrong (``rule``), about what (``subject``), how serious,
    since when. ``key`` identifies the subject so that a recomputation keeps ``since``;
    it is resolved when the condition no longer holds. Belongs to the agency's region."""

    clause = "T/CECS 4.1.3, 4.1.1-8, 7.2.2-1"
    rules = FindingRule
    subject_paths = {"agency": "agency_id"}

    rule = models.CharField(_("规则"), max_length=48, choices=FindingRule.choices, db_index=True)
    severity = models.CharField(_("严重程度"), max_length=16, choices=FindingSeverity.choices)
    key = models.CharField(_("对象标识"), max_length=255)
    subject = models.CharField(_("对象"), max_length=255)
    since = models.DateTimeField(_("发现时间"), default=timezone.now)
    last_seen = models.DateTimeField(_("最近确认"), default=timezone.now)
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True, db_index=True)

    history = audited()

    class Meta:
        verbose_name = _("资质符合性问题")
        verbose_name_plural = _("资质符合性问题")
        ordering = ["severity", "-since", "id"]
        indexes = [models.Index(fields=["agency", "rule", "key"], name="registry_finding_key")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}：{self.subject}"

    def region_code(self) -> str:
        return self.agency.region_id


class ImportJob(AgencyOwned):
    """A large Excel import run in the background: the uploaded workbook (a
    ``core.StoredFile`` of purpose ``workbook``, with its SHA-256), the progress, and the
    result or the errors by row and column. Scoped like its agency."""

    kind = models.CharField(_("导入类型"), max_length=16)
    workbook = models.ForeignKey(
        "core.StoredFile", verbose_name=_("导入文件"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED, db_index=True
    )
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增条数"), default=0)
    updated_count = models.PositiveIntegerField(_("更新条数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", verbose_name=_("导入人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    history = audited()

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (ImportJobStatus.SUCCEEDED, ImportJobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ImportJobStatus.SUCCEEDED:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)
