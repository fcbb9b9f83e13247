"""Samples and their tags, witnessed sampling, confirmations and electronic seals
(T/CECS 2.0.5, 2.0.6, 2.0.16, 4.3.4-1/-2; 57号令 第十八条、第十九条; Nanchang 四(一)-(二)).

A sample (or a group of specimens, e.g. three concrete cubes) gets a unique code and
each specimen is bound to its physical tag. The sampler records the sampling on a phone
(photos, place, server time) and confirms it; the witness confirms on their own phone and
thereby seals the sample. Each confirmation is an identity proof (a passkey assertion
whose challenge is the SHA-256 of the record, or the TOTP fallback) kept with the record.

Scoping (DESIGN.md "Who uses it"): the regulators of the project's region and its station,
the agency the sample is sent to, and the parties of the project; nobody else.
"""

from __future__ import annotations

import decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.core.audit import audited
from inspecta.core.fields import latitude_field, longitude_field
from inspecta.core.findings import SEVERITY_CHOICES, Finding
from inspecta.core.permissions import is_agency, is_operator, is_party, is_regulator, signed_in
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import (
    CommissionSource,
    CommissionStatus,
    CommissionStep,
    ConfirmationStep,
    CuringCondition,
    CustodyEventKind,
    CustodyStep,
    PhotoKind,
    ReceiptOutcome,
    SampleStatus,
    SamplingRule,
    TagKind,
)

__all__ = [
    "BATCH_SCOPING",
    "SAMPLE_SCOPING",
    "Commission",
    "CommissionConfirmation",
    "CommissionSample",
    "ConcreteBatch",
    "ConcreteBatchConfirmation",
    "ConcreteBatchFinding",
    "ConcreteBatchPhoto",
    "Confirmation",
    "CustodyConfirmation",
    "CustodyEvent",
    "CustodyPhoto",
    "Handover",
    "HashedPhoto",
    "PersonConfirmation",
    "Receipt",
    "Sample",
    "SamplePhoto",
    "SamplingFinding",
    "Seal",
    "Specimen",
]


SAMPLE_SCOPING = Scoping(
    region="project__region__code",
    station="project__station_id",
    organisation="agency__organisation_id",
    project="project_id",
    grants={
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.STATION, is_regulator),
            Grant(Reach.OWN, is_agency),
            Grant(Reach.PARTY, is_party),
        ),
    },
)
"""Who sees a sample and everything recorded about it."""


class Sample(models.Model):
    """样品 (T/CECS 2.0.5, 4.3.4-1; 57号令 第十九条): one sampling of one test item on one
    project, of ``count`` specimens each bound to its tag, sent to one agency.

    ``code`` is the unique code: the project's region, the year, a sequence per region and
    year and a check character (``sampling.codes``)."""

    code = models.CharField(_("样品唯一性编码"), max_length=24, unique=True)
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="samples"
    )
    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("送检机构"), on_delete=models.PROTECT, related_name="samples"
    )
    test_item = models.ForeignKey(
        "core.TestItem", verbose_name=_("检测项目"), on_delete=models.PROTECT, related_name="+"
    )
    part = models.CharField(_("工程部位"), max_length=200)
    batch = models.CharField(_("批号/代表批量"), max_length=100, blank=True)
    count = models.PositiveSmallIntegerField(
        _("试件数量"), validators=[MinValueValidator(1), MaxValueValidator(settings.INSPECTA_SAMPLE_MAX_SPECIMENS)]
    )
    dimensions = models.CharField(_("规格尺寸"), max_length=100, blank=True)
    description = models.CharField(_("样品描述"), max_length=255, blank=True, help_text=_("如强度等级、品种。"))
    status = models.CharField(
        _("状态"), max_length=16, choices=SampleStatus.choices, default=SampleStatus.RECORDED, db_index=True
    )
    sampler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("取样人"), on_delete=models.PROTECT, related_name="+"
    )
    sampled_at = models.DateTimeField(_("取样时间"), default=timezone.now, db_index=True)
    latitude = latitude_field(_("取样位置纬度"))
    longitude = longitude_field(_("取样位置经度"))
    accuracy_m = models.PositiveIntegerField(_("定位精度（米）"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("距项目位置（米）"), null=True, blank=True)
    record_sha256 = models.CharField(_("取样记录 SHA-256"), max_length=64)
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("见证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    witnessed_at = models.DateTimeField(_("见证时间"), null=True, blank=True)
    concrete_batch = models.ForeignKey(
        "sampling.ConcreteBatch",
        verbose_name=_("取样的混凝土批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="samples",
    )
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now, db_index=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING

    class Meta:
        verbose_name = _("样品")
        verbose_name_plural = _("样品")
        ordering = ["-sampled_at", "-pk"]

    def __str__(self) -> str:
        return self.code


class Specimen(models.Model):
    """试件 and its tag (T/CECS 2.0.6; Nanchang 四(二)1): the id of the printed QR label or
    of the implanted chip, scanned at sampling; unique on the platform."""

    sample = models.ForeignKey(Sample, verbose_name=_("样品"), on_delete=models.CASCADE, related_name="specimens")
    number = models.PositiveSmallIntegerField(_("序号"))
    tag_id = models.CharField(_("样品标识"), max_length=64, unique=True)
    tag_kind = models.CharField(_("标识类型"), max_length=16, choices=TagKind.choices, default=TagKind.LABEL)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("sample")

    class Meta:
        verbose_name = _("试件")
        verbose_name_plural = _("试件")
        ordering = ["sample_id", "number"]
        constraints = [models.UniqueConstraint(fields=["sample", "number"], name="sampling_specimen_number_unique")]

    def __str__(self) -> str:
        return self.tag_id


class HashedPhoto(models.Model):
    """A photo of the chain with its SHA-256 and perceptual hash, the hash split into four
    16-bit bands so that a near-duplicate of any earlier photo on the platform is found
    through an index (``sampling.photos``). Every table of chain photos has this base and
    is searched by ``sampling.photos.near_duplicates``."""

    file = models.ForeignKey("core.StoredFile", verbose_name=_("照片"), on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    phash = models.CharField(_("感知哈希"), max_length=16, blank=True)
    band0 = models.IntegerField(null=True, editable=False)
    band1 = models.IntegerField(null=True, editable=False)
    band2 = models.IntegerField(null=True, editable=False)
    band3 = models.IntegerField(null=True, editable=False)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    owner_field = "sample_id"
    """The column naming what the photo belongs to: photos of the same owner are not
    near-duplicates of each other."""

    class Meta:
        abstract = True


class SamplePhoto(HashedPhoto):
    """A photo of the sampling (T/CECS 4.3.4-2 关键影像; Nanchang 四(一) 举牌验证照片)."""

    sample = models.ForeignKey(Sample, verbose_name=_("样品"), on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("照片类别"), max_length=16, choices=PhotoKind.choices)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("sample")

    class Meta:
        verbose_name = _("取样照片")
        verbose_name_plural = _("取样照片")
        ordering = ["sample_id", "pk"]
        indexes = [models.Index(fields=[f"band{i}"], name=f"sampling_photo_band{i}") for i in range(4)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"


class PersonConfirmation(models.Model):
    """A person's confirmation of a custody record (57号令 第十八条; T/CECS 4.3.4-2;
    Nanchang 四(一)-(四)): ``challenge`` is the SHA-256 of the record confirmed; ``proof``
    the identity proof (``accounts.passkeys.IdentityProof.as_record()``: a passkey
    assertion over that challenge, re-verifiable by anyone with the public key, or the
    TOTP fallback, which ``factor`` names), with a live photo, the place and the server
    time. Never changed once made.

    The one shape of every confirmation in the chain (sampling and witness, commissions,
    custody events): each record kind has its table with this base, and every
    confirmation is made by ``services.confirmation_make``."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), on_delete=models.PROTECT, related_name="+"
    )
    factor = models.CharField(_("身份核验方式"), max_length=16)
    challenge = models.CharField(_("被确认记录 SHA-256"), max_length=64)
    proof = models.JSONField(_("身份核验凭据"))
    live_photo = models.ForeignKey(
        "core.StoredFile", verbose_name=_("现场照片"), on_delete=models.PROTECT, related_name="+"
    )
    live_photo_sha256 = models.CharField(_("现场照片 SHA-256"), max_length=64)
    latitude = latitude_field(_("纬度"))
    longitude = longitude_field(_("经度"))
    accuracy_m = models.PositiveIntegerField(_("定位精度（米）"), null=True, blank=True)
    at = models.DateTimeField(_("确认时间"), default=timezone.now)

    class Meta:
        abstract = True


class Confirmation(PersonConfirmation):
    """The sampler's and the witness's confirmation of a sample (57号令 第十八条)."""

    sample = models.ForeignKey(Sample, verbose_name=_("样品"), on_delete=models.PROTECT, related_name="confirmations")
    step = models.CharField(_("确认环节"), max_length=16, choices=ConfirmationStep.choices)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("sample")

    class Meta:
        verbose_name = _("确认记录")
        verbose_name_plural = _("确认记录")
        ordering = ["sample_id", "at", "pk"]
        constraints = [models.UniqueConstraint(fields=["sample", "step"], name="sampling_confirmation_once")]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.at:%Y-%m-%d %H:%M}"


class Seal(models.Model):
    """电子封志 (T/CECS 2.0.16): the statement the witness's confirmation seals, signed by
    the platform key (COSE_Sign1, Ed25519) and printed as a ``SEAL1:`` QR on the seal
    label (``sampling.seal``); verifiable offline with the published keys."""

    sample = models.OneToOneField(Sample, verbose_name=_("样品"), on_delete=models.PROTECT, related_name="seal")
    text = models.TextField(_("封志编码"))
    kid = models.CharField(_("签名密钥标识"), max_length=16)
    claims = models.JSONField(_("封志内容"))
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("封样人（见证人）"), on_delete=models.PROTECT, related_name="+"
    )
    sealed_at = models.DateTimeField(_("封样时间"), default=timezone.now)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("sample")

    class Meta:
        verbose_name = _("电子封志")
        verbose_name_plural = _("电子封志")
        ordering = ["-sealed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.kid}"


class Handover(models.Model):
    """A deliverer's one-time personal code (Nanchang 四(四)2 "送样人身份核验"): the deliverer
    proves who they are on their own phone (passkey or the TOTP fallback); the platform
    shows a single-use code as a QR that the receiver scans. Only the SHA-256 of the code
    is kept; it expires after ``INSPECTA_HANDOVER_SECONDS`` and is used once."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("送样人"), on_delete=models.PROTECT, related_name="+"
    )
    token_sha256 = models.CharField(_("一次性码 SHA-256"), max_length=64, unique=True)
    factor = models.CharField(_("身份核验方式"), max_length=16)
    challenge = models.CharField(_("核验摘要"), max_length=64)
    proof = models.JSONField(_("身份核验凭据"))
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = Scoping(
        person="person_id",
        grants={"view": (Grant(Reach.ALL, is_operator), Grant(Reach.SELF, signed_in))},
    )

    class Meta:
        verbose_name = _("送样人身份码")
        verbose_name_plural = _("送样人身份码")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.created_at:%Y-%m-%d %H:%M}"


class Receipt(models.Model):
    """收样 (Nanchang 四(四)2; T/CECS 4.3.4-3): the receiver scanned every tag and the
    seal, photographed the specimens, identified the deliverer, and accepted or refused
    the sample with reasons. What each check found is kept with it: the tags scanned,
    the seal's verification, the perceptual-hash distance of each receipt photo to the
    nearest sealed photo. Logged (CONTRACT §5); never changed."""

    sample = models.OneToOneField(Sample, verbose_name=_("样品"), on_delete=models.PROTECT, related_name="receipt")
    outcome = models.CharField(_("收样结果"), max_length=16, choices=ReceiptOutcome.choices)
    reasons = models.TextField(_("拒收理由/说明"), blank=True)
    appearance = models.CharField(_("样品外观"), max_length=255, blank=True)
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收样人"), on_delete=models.PROTECT, related_name="+"
    )
    deliverer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("送样人"), on_delete=models.PROTECT, related_name="+"
    )
    handover = models.OneToOneField(
        Handover, verbose_name=_("送样人身份码"), on_delete=models.PROTECT, related_name="receipt"
    )
    deliverer_photo = models.ForeignKey(
        "core.StoredFile", verbose_name=_("送样人现场照片"), on_delete=models.PROTECT, related_name="+"
    )
    tags_scanned = models.JSONField(_("扫描的样品标识"), default=list)
    tags_ok = models.BooleanField(_("标识一致"))
    seal_ok = models.BooleanField(_("封志核验通过"))
    seal_check = models.JSONField(_("封志核验结果"), default=dict)
    photo_distances = models.JSONField(_("照片相似度（感知哈希距离）"), default=list)
    photos_ok = models.BooleanField(_("照片相符"))
    received_at = models.DateTimeField(_("收样时间"), default=timezone.now, db_index=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("sample")

    class Meta:
        verbose_name = _("收样记录")
        verbose_name_plural = _("收样记录")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.get_outcome_display()}"


class SamplingFinding(Finding):
    """Something wrong in a sample's chain (the issue's point 12): a confirmation window
    exceeded, a place too far from the project, a photo that repeats an earlier one. It
    belongs to the region of the sample's project and is read like its sample."""

    clause = "T/CECS 4.3.4-2; 57号令 第十八条; Nanchang 四(一)-(四)"
    rules = SamplingRule
    subject_paths = {"agency": "sample__agency_id", "project": "sample__project_id"}

    sample = models.ForeignKey(Sample, verbose_name=_("样品"), on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(_("规则"), max_length=64, choices=SamplingRule.choices, db_index=True)
    severity = models.CharField(
        _("严重程度"), max_length=16, choices=SEVERITY_CHOICES, default=Severity.WARNING.value, db_index=True
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("sample")

    class Meta:
        verbose_name = _("取样问题")
        verbose_name_plural = _("取样问题")
        ordering = ["sample_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["sample", "rule", "key"], name="sampling_finding_unique")]

    def __str__(self) -> str:
        return self.rule

    def region_code(self) -> str:
        return self.sample.project.region_id


# ------------------------------------------------------------------- commissions


class Commission(models.Model):
    """检测委托单 (57号令 第二十条、第二十六条; T/CECS 4.3.4-3; Nanchang 四(四)1): the
    deliverer (a person of a project party) fills it for sealed samples of one project
    sent to one agency, then the deliverer and a witness confirm it. ``sequence`` is
    continuous per agency and year (``core.counters``); shown as :attr:`number`.

    The agency's LIMS reads it from the feed and acknowledges it with its own number
    (``lims_number``, ``acknowledged_at``), or pushes the ones it creates
    (``source = lims``). Scoped like a sample (``SAMPLE_SCOPING``)."""

    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="commissions"
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="commissions"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    sequence = models.PositiveIntegerField(_("委托单序号"))
    deliverer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("送样人"), on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("见证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    notes = models.TextField(_("备注"), blank=True, max_length=2000)
    status = models.CharField(
        _("状态"), max_length=24, choices=CommissionStatus.choices, default=CommissionStatus.FILLED, db_index=True
    )
    source = models.CharField(
        _("来源"), max_length=16, choices=CommissionSource.choices, default=CommissionSource.PLATFORM
    )
    record_sha256 = models.CharField(_("委托单记录 SHA-256"), max_length=64)
    lims_number = models.CharField(_("检测机构系统编号"), max_length=64, blank=True)
    acknowledged_at = models.DateTimeField(_("检测机构确认接收时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("填写时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now, db_index=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING

    class Meta:
        verbose_name = _("检测委托单")
        verbose_name_plural = _("检测委托单")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "year", "sequence"], name="sampling_commission_number_unique"),
            models.UniqueConstraint(
                fields=["agency", "lims_number"],
                condition=~models.Q(lims_number=""),
                name="sampling_commission_lims_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The printed number: ``WT-<year>-<sequence, six digits>`` (per agency)."""

        return f"WT-{self.year:04d}-{self.sequence:06d}"


class CommissionSample(models.Model):
    """One sample of a commission with the test item and parameters requested (catalog
    codes). A sample is in at most one commission."""

    commission = models.ForeignKey(Commission, verbose_name=_("委托单"), on_delete=models.CASCADE, related_name="lines")
    sample = models.OneToOneField(
        Sample, verbose_name=_("样品"), on_delete=models.PROTECT, related_name="commission_line"
    )
    test_item = models.ForeignKey(
        "core.TestItem", verbose_name=_("检测项目"), on_delete=models.PROTECT, related_name="+"
    )
    parameters = models.JSONField(_("检测参数"), default=list, blank=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("commission")

    class Meta:
        verbose_name = _("委托样品")
        verbose_name_plural = _("委托样品")
        ordering = ["commission_id", "pk"]

    def __str__(self) -> str:
        return f"{self.commission_id}: {self.sample_id}"


class CommissionConfirmation(PersonConfirmation):
    """The deliverer's and the witness's confirmation of a commission (Nanchang 四(四)1)."""

    commission = models.ForeignKey(
        Commission, verbose_name=_("委托单"), on_delete=models.PROTECT, related_name="confirmations"
    )
    step = models.CharField(_("确认环节"), max_length=16, choices=CommissionStep.choices)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("commission")

    class Meta:
        verbose_name = _("委托单确认记录")
        verbose_name_plural = _("委托单确认记录")
        ordering = ["commission_id", "at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["commission", "step"], name="sampling_commission_confirmation_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.at:%Y-%m-%d %H:%M}"


# ------------------------------------------------------------------ custody events
# Concrete batches on arrival, curing room in and out, transport handovers (the issue's
# point 7; Nanchang 四(一), 四(三); T/CECS 4.3.4-1/-2). Services: ``sampling.custody``.

BATCH_SCOPING = Scoping(
    region="project__region__code",
    station="project__station_id",
    project="project_id",
    grants={
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.STATION, is_regulator),
            Grant(Reach.PARTY, is_party),
            Grant(Reach.PARTY, is_agency),
        ),
    },
)
"""Who sees a concrete batch: the project's regulators, its parties (the agencies among
them included); operators."""


class ConcreteBatch(models.Model):
    """混凝土进场 (Nanchang 四(一); T/CECS 4.3.4-1): a delivery of ready-mixed concrete on
    arrival, recorded by the contractor's sampler (试验员) with the slump test and its
    placard photo, the phone's position and the server's time, then confirmed by the
    sampler and by a witness of the owner or the supervising firm. Samples name the batch
    they were taken from (``Sample.concrete_batch``)."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="concrete_batches"
    )
    part = models.CharField(_("浇筑部位"), max_length=200)
    volume_m3 = models.DecimalField(
        _("方量（m³）"), max_digits=9, decimal_places=2, validators=[MinValueValidator(decimal.Decimal("0.01"))]
    )
    strength_grade = models.CharField(_("强度等级"), max_length=32, help_text=_("如 C30、C35P8。"))
    curing = models.CharField(_("养护条件"), max_length=16, choices=CuringCondition.choices)
    producer = models.CharField(_("生产单位（搅拌站）"), max_length=200)
    delivery_note = models.CharField(_("送货单号"), max_length=64, blank=True)
    produced_at = models.DateTimeField(_("生产（出站）时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("进场时间"), default=timezone.now, db_index=True)
    slump_mm = models.PositiveSmallIntegerField(
        _("实测坍落度（mm）"), null=True, blank=True, validators=[MaxValueValidator(300)]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    latitude = latitude_field(_("纬度"))
    longitude = longitude_field(_("经度"))
    accuracy_m = models.PositiveIntegerField(_("定位精度（米）"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("距项目位置（米）"), null=True, blank=True)
    record_sha256 = models.CharField(_("记录 SHA-256"), max_length=64)
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("见证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("双方确认时间"), null=True, blank=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = BATCH_SCOPING

    class Meta:
        verbose_name = _("混凝土进场批次")
        verbose_name_plural = _("混凝土进场批次")
        ordering = ["-arrived_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.strength_grade} {self.part} {self.arrived_at:%Y-%m-%d %H:%M}"


class ConcreteBatchPhoto(HashedPhoto):
    """A photo of a batch on arrival: the slump test placard (坍落度举牌照片), the
    delivery note, the truck, the confirmers' live photos."""

    batch = models.ForeignKey(
        ConcreteBatch, verbose_name=_("混凝土批次"), on_delete=models.CASCADE, related_name="photos"
    )
    kind = models.CharField(_("照片类别"), max_length=16, choices=PhotoKind.choices)

    owner_field = "batch_id"

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = BATCH_SCOPING.via("batch")

    class Meta:
        verbose_name = _("混凝土进场照片")
        verbose_name_plural = _("混凝土进场照片")
        ordering = ["batch_id", "pk"]
        indexes = [models.Index(fields=[f"band{i}"], name=f"sampling_batchphoto_band{i}") for i in range(4)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"


class ConcreteBatchConfirmation(PersonConfirmation):
    """The recorder's and the witness's confirmation of a batch (57号令 第十八条)."""

    batch = models.ForeignKey(
        ConcreteBatch, verbose_name=_("混凝土批次"), on_delete=models.PROTECT, related_name="confirmations"
    )
    step = models.CharField(_("确认环节"), max_length=16, choices=CustodyStep.choices)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = BATCH_SCOPING.via("batch")

    class Meta:
        verbose_name = _("混凝土进场确认")
        verbose_name_plural = _("混凝土进场确认")
        ordering = ["batch_id", "at", "pk"]
        constraints = [models.UniqueConstraint(fields=["batch", "step"], name="sampling_batch_confirmation_once")]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.at:%Y-%m-%d %H:%M}"


class ConcreteBatchFinding(Finding):
    """Something wrong with a batch's record: the window exceeded, the place too far from
    the project, a photo repeating an earlier one (the issue's point 12)."""

    clause = "Nanchang 四(一)"
    rules = SamplingRule
    subject_paths = {"project": "batch__project_id"}

    batch = models.ForeignKey(
        ConcreteBatch, verbose_name=_("混凝土批次"), on_delete=models.CASCADE, related_name="findings"
    )
    rule = models.CharField(_("规则"), max_length=64, choices=SamplingRule.choices, db_index=True)
    severity = models.CharField(
        _("严重程度"), max_length=16, choices=SEVERITY_CHOICES, default=Severity.WARNING.value, db_index=True
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    scoping = BATCH_SCOPING.via("batch")

    class Meta:
        verbose_name = _("混凝土进场问题")
        verbose_name_plural = _("混凝土进场问题")
        ordering = ["batch_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["batch", "rule", "key"], name="sampling_batch_finding_unique")]

    def __str__(self) -> str:
        return self.rule

    def region_code(self) -> str:
        return self.batch.project.region_id


class CustodyEvent(models.Model):
    """A custody event of a sealed sample before its receipt (Nanchang 四(三); T/CECS
    4.3.4-2): into the curing room, out of it at maturity (``age_days`` reached, counted
    from the sampling), or a transport handover from one person (the recorder) to another
    (``to_person``). Recorded with photos, the position and the server time; confirmed
    first by the recorder, then by the second party (a witness for curing, the person
    taking the sample for a handover). Logged when both have confirmed."""

    sample = models.ForeignKey(Sample, verbose_name=_("样品"), on_delete=models.PROTECT, related_name="custody_events")
    kind = models.CharField(_("事件"), max_length=16, choices=CustodyEventKind.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    to_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    room = models.CharField(_("养护室/地点"), max_length=200, blank=True)
    age_days = models.PositiveSmallIntegerField(_("龄期（天）"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    at = models.DateTimeField(_("发生时间"), default=timezone.now, db_index=True)
    latitude = latitude_field(_("纬度"))
    longitude = longitude_field(_("经度"))
    accuracy_m = models.PositiveIntegerField(_("定位精度（米）"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("距项目位置（米）"), null=True, blank=True)
    record_sha256 = models.CharField(_("记录 SHA-256"), max_length=64)
    confirmed_at = models.DateTimeField(_("双方确认时间"), null=True, blank=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("sample")

    class Meta:
        verbose_name = _("样品流转事件")
        verbose_name_plural = _("样品流转事件")
        ordering = ["sample_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class CustodyPhoto(HashedPhoto):
    """A photo of a custody event (the specimens in the room, the handover)."""

    event = models.ForeignKey(CustodyEvent, verbose_name=_("流转事件"), on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("照片类别"), max_length=16, choices=PhotoKind.choices)

    owner_field = "event__sample_id"

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("event__sample")

    class Meta:
        verbose_name = _("流转事件照片")
        verbose_name_plural = _("流转事件照片")
        ordering = ["event_id", "pk"]
        indexes = [models.Index(fields=[f"band{i}"], name=f"sampling_custodyphoto_band{i}") for i in range(4)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"


class CustodyConfirmation(PersonConfirmation):
    """The two confirmations of a custody event (57号令 第十八条; Nanchang 四(三))."""

    event = models.ForeignKey(
        CustodyEvent, verbose_name=_("流转事件"), on_delete=models.PROTECT, related_name="confirmations"
    )
    step = models.CharField(_("确认环节"), max_length=16, choices=CustodyStep.choices)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = SAMPLE_SCOPING.via("event__sample")

    class Meta:
        verbose_name = _("流转事件确认")
        verbose_name_plural = _("流转事件确认")
        ordering = ["event_id", "at", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "step"], name="sampling_custody_confirmation_once")]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.at:%Y-%m-%d %H:%M}"
