"""Regions and code tables (T/CECS 4.1.1, 5.x; 建质〔2023〕1号 attachment 2)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.accounts.choices import Role

from .audit import audited
from .choices import ParameterLevel, RegionLevel
from .permissions import (
    has_role,
    is_authority,
    is_member,
    is_operator,
    is_province_level,
    is_regulator,
    may_manage_region_rules,
    signed_in,
)
from .scoping import Grant, Reach, RestrictedQuerySet, Scoping

is_province_admin = is_authority & is_province_level & has_role(Role.AUTHORITY_ADMIN)
"""Corrects the code tables of its province (Guangdong 附件2 一(一))."""

__all__ = [
    "Parameter",
    "Region",
    "RegionRule",
    "SequenceCounter",
    "Specialty",
    "StoredFile",
    "TestItem",
    "TestItemParameter",
]


class Region(models.Model):
    """A GB/T 2260 administrative division; every person and record belongs to one."""

    code = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    enabled = models.BooleanField(_("启用"), default=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    # Everyone signed in sees every region (they are public codes); the province admin
    # of the region, and operators, correct them.
    scoping = Scoping(
        region="code",
        grants={
            "view": (Grant(Reach.ALL, signed_in),),
            "change": (Grant(Reach.ALL, is_operator), Grant(Reach.REGION, is_province_admin)),
        },
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def full_name(self) -> str:
        names = []
        node: Region | None = self
        while node is not None:
            if node.name != "市辖区":
                names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class CatalogQuerySet(RestrictedQuerySet):
    pass


class CatalogModel(models.Model):
    """Base of the qualification catalog: public to read, corrected by province admins."""

    enabled = models.BooleanField(_("启用"), default=True)

    objects = CatalogQuerySet.as_manager()

    scoping = Scoping(
        grants={
            "view": (Grant(Reach.ALL, signed_in),),
            "change": (Grant(Reach.ALL, is_operator | is_province_admin),),
        },
    )

    class Meta:
        abstract = True


class Specialty(CatalogModel):
    """检测专项: one of the nine specialties of the qualification standard."""

    code = models.CharField(_("编码"), max_length=16, primary_key=True)
    official_no = models.CharField(_("序号"), max_length=8, blank=True)
    name = models.CharField(_("名称"), max_length=128)
    is_official = models.BooleanField(_("标准所列"), default=True)

    history = audited()

    class Meta:
        verbose_name = _("检测专项")
        verbose_name_plural = _("检测专项")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TestItem(CatalogModel):
    """检测项目 under a specialty; ``optional_for_qualification`` marks the starred rows."""

    code = models.CharField(_("编码"), max_length=64, primary_key=True)
    specialty = models.ForeignKey(
        Specialty, verbose_name=_("检测专项"), on_delete=models.PROTECT, related_name="test_items"
    )
    source_no = models.CharField(_("标准序号"), max_length=16, blank=True)
    source_name = models.CharField(_("标准所列名称"), max_length=255, blank=True)
    name = models.CharField(_("名称"), max_length=255)
    optional_for_qualification = models.BooleanField(_("资质可选项目"), default=False)
    is_official = models.BooleanField(_("标准所列"), default=True)
    parameters: models.ManyToManyField = models.ManyToManyField(
        "Parameter", through="TestItemParameter", related_name="test_items", verbose_name=_("参数")
    )

    history = audited()

    class Meta:
        verbose_name = _("检测项目")
        verbose_name_plural = _("检测项目")
        ordering = ["specialty_id", "code"]

    def __str__(self) -> str:
        return self.name


class Parameter(CatalogModel):
    """检测参数 (a measured property, e.g. 抗压强度)."""

    code = models.CharField(_("编码"), max_length=16, primary_key=True)
    name = models.CharField(_("名称"), max_length=255)
    raw_name = models.CharField(_("原始名称"), max_length=255, blank=True)
    canonical_name = models.CharField(_("规范名称"), max_length=255, blank=True)
    method_text = models.CharField(_("检测方法"), max_length=255, blank=True)
    unit = models.CharField(_("计量单位"), max_length=32, blank=True)
    source_type = models.CharField(_("来源"), max_length=32, blank=True)

    history = audited()

    class Meta:
        verbose_name = _("检测参数")
        verbose_name_plural = _("检测参数")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TestItemParameter(CatalogModel):
    """Whether a parameter is mandatory (必备) or optional (可选) for a test item."""

    test_item = models.ForeignKey(
        TestItem, verbose_name=_("检测项目"), on_delete=models.CASCADE, related_name="item_parameters"
    )
    parameter = models.ForeignKey(
        Parameter, verbose_name=_("检测参数"), on_delete=models.PROTECT, related_name="item_links"
    )
    level = models.CharField(_("要求"), max_length=16, choices=ParameterLevel.choices)

    history = audited()

    class Meta:
        verbose_name = _("项目参数")
        verbose_name_plural = _("项目参数")
        ordering = ["test_item_id", "parameter_id"]
        constraints = [models.UniqueConstraint(fields=["test_item", "parameter"], name="core_item_parameter_unique")]

    def __str__(self) -> str:
        return f"{self.test_item} / {self.parameter}（{self.get_level_display()}）"


class StoredFile(models.Model):
    """A stored file that records reference (CONTRACT §4; T/CECS 6.0.2): the bytes in the
    default storage (local folder or S3-compatible object storage), the SHA-256, the size
    and the type sniffed from the content, never from the name. Scans and photos of the
    registry, contract scans, report PDFs and every tus upload are rows of this model;
    they are written only by ``inspecta.core.files.file_store``.

    Who may see a file is who may see its owner organisation's records: the owner, the
    regulators of its region, the operators; only the owner changes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    client = models.ForeignKey(
        "exchange.ExchangeClient",
        verbose_name=_("接入方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    purpose = models.CharField(_("用途"), max_length=64, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=128)
    file = models.FileField(_("文件"), max_length=500)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    # A file is seen by whoever sees its owner organisation's records, and by whoever
    # sees a record that references it (a contract's scan for the project's supervisors,
    # station and parties, a report's PDF likewise).
    scoping = Scoping(
        region="organisation__region__code",
        organisation="organisation_id",
        records=(
            ("projects.Contract", "scan"),
            ("projects.InspectionPlanVersion", "document"),
            ("reports.Report", "versions__pdf"),
            ("sampling.SamplePhoto", "file"),
            ("sampling.Confirmation", "live_photo"),
            ("sampling.Receipt", "deliverer_photo"),
            ("sampling.CommissionConfirmation", "live_photo"),
            ("sampling.ConcreteBatchPhoto", "file"),
            ("sampling.ConcreteBatchConfirmation", "live_photo"),
            ("sampling.CustodyPhoto", "file"),
            ("sampling.CustodyConfirmation", "live_photo"),
            ("oversight.WarningEvent", "files"),
        ),
        grants={
            "view": (
                Grant(Reach.ALL, is_operator),
                Grant(Reach.REGION, is_regulator),
                Grant(Reach.OWN, is_member),
                Grant(Reach.RECORD, signed_in),
            ),
            "change": (Grant(Reach.OWN, is_operator | is_member),),
        },
    )

    class Meta:
        verbose_name = _("文件")
        verbose_name_plural = _("文件")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name or self.id} ({self.sha256[:12]})"


class RegionRule(models.Model):
    """One value of a regional rule (``core.regionrules``): how many hours ahead an
    on-site test's plan is filed (Guangxi 第十条; Nanchang 二(三)), the window for the
    two confirmations of a sampling (Nanchang 四(一)), how far from the project a sampling
    may be, what a broken seal does at receipt (T/CECS 2.0.16)... set for a region (a
    province, city or district) and one test item or, without one, every item. For a
    project the most specific value wins: the region nearest the project's (district,
    then city, then province), then the item's own before the any-item one; without a
    value the rule's setting applies. Changes are audited."""

    name = models.CharField(_("规则"), max_length=48, db_index=True)
    region = models.ForeignKey(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    test_item = models.ForeignKey(
        TestItem,
        verbose_name=_("检测项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("不选则适用于所有检测项目。"),
    )
    value = models.CharField(_("取值"), max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设置人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("设置时间"), default=timezone.now)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    # everyone signed in reads the rules (an agency must know how early to file, a
    # sampler how long the witness has); the authority admins of a region set the rules
    # of their region and below
    scoping = Scoping(
        region="region__code",
        grants={
            "view": (Grant(Reach.ALL, signed_in),),
            "change": (Grant(Reach.ALL, is_operator), Grant(Reach.REGION, may_manage_region_rules)),
        },
    )

    class Meta:
        verbose_name = _("地区规则")
        verbose_name_plural = _("地区规则")
        ordering = ["name", "region_id", "test_item_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["name", "region", "test_item"], name="core_regionrule_unique_item"),
            models.UniqueConstraint(
                fields=["name", "region"], condition=models.Q(test_item__isnull=True), name="core_regionrule_unique_any"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.region_id} {self.test_item_id or '*'}: {self.value}"


class SequenceCounter(models.Model):
    """The last number issued of one numbering (``name``: report serial numbers, sample
    codes, commission numbers) per ``scope`` (a region code, an agency id) and year: the
    platform's one counter (CONTRACT §6; T/CECS 2.0.5; Nanchang 三(一)、四(四)1). Taken
    only through ``core.counters.sequence_next``, under the row lock of the caller's
    transaction: no gap, no reuse; a rolled-back transaction gives its number back."""

    name = models.CharField(_("编号类别"), max_length=32)
    scope = models.CharField(_("编号范围"), max_length=32)
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(_("已发最大序号"), default=0)

    class Meta:
        verbose_name = _("编号计数器")
        verbose_name_plural = _("编号计数器")
        constraints = [models.UniqueConstraint(fields=["name", "scope", "year"], name="core_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.name}:{self.scope}/{self.year}: {self.last}"
