"""Test records (检测数据/原始记录) and their revisions (T/CECS 2.0.7-2.0.9, 3.0.3;
Guangdong 附件2 二(十一); Guangxi 第七条(二)(三)(八), 第十一条, 第十三条).

A test record is what an agency's LIMS (or a tester on the web) uploads about one test:
a lab test of a received sample, or an on-site test under a filed plan. It names the
test item and its parameters with the raw values per specimen, the standard and its
limits, the result and judgement, the equipment (calibrated on the date), the tester
(certified on the date), the times and the environment, and its key images and clips.

The row holds the current values; the first upload and every change after it is an
immutable :class:`TestRecordRevision` with its canonical form, its SHA-256, who, when
and why (Guangxi 第十三条: 修改留痕; the Hunan/Hebei interface's ``Modified_Log``). The
record is appended to the transparency log at each revision with the hashes of all its
revisions and of the row itself, so an edit of either that bypasses the services is
caught by ``inspecta log verify``.

Scoping (DESIGN.md "Who uses it"): the regulators of the project's region and its
station, the agency that tested, and the parties of the project; only the agency
changes its records.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.core.audit import audited
from inspecta.core.fields import latitude_field, longitude_field
from inspecta.core.findings import SEVERITY_CHOICES, Finding
from inspecta.core.permissions import is_agency, is_operator, is_party, is_regulator
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import Judgement, MediaKind, TestingRule, TestKind

__all__ = [
    "FINDING_SCOPING",
    "INSTRUMENT_SCOPING",
    "RECORD_SCOPING",
    "InstrumentRecord",
    "RevisionImmutable",
    "ScanMark",
    "TestRecord",
    "TestRecordFile",
    "TestRecordRevision",
    "TestingFinding",
]


RECORD_SCOPING = Scoping(
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
        "change": (Grant(Reach.OWN, is_agency),),
    },
)
"""Who sees a test record (``view``) and who revises it (``change``: the agency that tested)."""


class TestRecord(models.Model):
    """检测数据: one test of one test item, as its agency recorded it.

    ``number`` is the agency's own number of the record (原始记录编号), unique per agency:
    a LIMS that sends the same record again is told it exists. ``parameters`` holds, per
    catalog parameter, the unit, the raw values per specimen (decimal strings), the
    result, the limit of the standard, the judgement and where the values came from
    (``ValueSource``)."""

    __test__ = False

    # agency, project, item and time are indexed by the composite indexes of Meta
    agency = models.ForeignKey(
        "registry.Agency",
        verbose_name=_("检测机构"),
        on_delete=models.PROTECT,
        related_name="test_records",
        db_index=False,
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("工程项目"),
        on_delete=models.PROTECT,
        related_name="test_records",
        db_index=False,
    )
    number = models.CharField(_("原始记录编号"), max_length=64)
    kind = models.CharField(_("检测类别"), max_length=8, choices=TestKind.choices)
    sample = models.ForeignKey(
        "sampling.Sample",
        verbose_name=_("样品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="test_records",
    )
    plan = models.ForeignKey(
        "projects.InspectionPlan",
        verbose_name=_("现场检测方案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="test_records",
    )
    test_item = models.ForeignKey(
        "core.TestItem", verbose_name=_("检测项目"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    site = models.ForeignKey(
        "registry.Site", verbose_name=_("检测场所"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tester = models.ForeignKey(
        "registry.Staff", verbose_name=_("检测人员"), on_delete=models.PROTECT, related_name="test_records"
    )
    equipment = models.JSONField(_("所用仪器设备编号"), default=list)
    started_at = models.DateTimeField(_("检测开始时间"))
    ended_at = models.DateTimeField(_("检测结束时间"))
    temperature_c = models.DecimalField(_("环境温度（℃）"), max_digits=4, decimal_places=1, null=True, blank=True)
    humidity_pct = models.DecimalField(_("相对湿度（%）"), max_digits=4, decimal_places=1, null=True, blank=True)
    latitude = latitude_field(_("检测位置纬度"))
    longitude = longitude_field(_("检测位置经度"))
    standard = models.CharField(_("检测依据（标准）"), max_length=255)
    parameters = models.JSONField(_("检测参数及原始数据"), default=list)
    conclusion = models.CharField(_("检测结论"), max_length=16, choices=Judgement.choices)
    revision = models.PositiveSmallIntegerField(_("当前修订号"), default=1)
    sha256 = models.CharField(_("当前内容 SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("首次上传时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now, db_index=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = RECORD_SCOPING

    class Meta:
        verbose_name = _("检测数据")
        verbose_name_plural = _("检测数据")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="testing_record_number_unique"),
            models.CheckConstraint(
                condition=Q(kind=TestKind.LAB, sample__isnull=False, plan__isnull=True)
                | Q(kind=TestKind.ONSITE, plan__isnull=False, sample__isnull=True),
                name="testing_record_lab_or_onsite",
            ),
            models.CheckConstraint(condition=Q(ended_at__gte=models.F("started_at")), name="testing_record_ends_after"),
        ]
        indexes = [
            # the list's order after each filter, with the id: a page's ids are read from
            # the index alone (``core.pagination.PagePaginator``)
            models.Index(fields=["agency", "-started_at", "-id"], name="testing_record_agency_at_idx"),
            models.Index(fields=["project", "-started_at", "-id"], name="testing_record_project_at_idx"),
            models.Index(fields=["test_item", "-started_at", "-id"], name="testing_record_item_at_idx"),
            models.Index(fields=["conclusion", "-started_at", "-id"], name="testing_record_result_at_idx"),
            models.Index(fields=["-started_at", "-id"], name="testing_record_at_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class RevisionImmutable(Exception):
    """A revision is never changed or deleted; a change is a new revision."""


class TestRecordRevision(models.Model):
    """One immutable revision of a test record (Guangxi 第七条(八), 第十三条): its canonical
    form (``body``, RFC 8785 JSON), that form's SHA-256, the fields changed from the
    revision before, who (a person or the agency's LIMS), when (server time) and why,
    and, once a report names the record's sample, the approved report amendment it
    follows. Revision 1 is the first upload."""

    __test__ = False

    record = models.ForeignKey(
        TestRecord, verbose_name=_("检测数据"), on_delete=models.PROTECT, related_name="revisions"
    )
    number = models.PositiveSmallIntegerField(_("修订号"))
    body = models.JSONField(_("内容"))
    sha256 = models.CharField(_("内容 SHA-256"), max_length=64)
    changed = models.JSONField(_("修改的字段"), default=list)
    reason = models.CharField(_("修改原因"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
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
    at = models.DateTimeField(_("时间"), default=timezone.now)
    amendment = models.ForeignKey(
        "reports.Amendment",
        verbose_name=_("依据的报告变更"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("报告出具后，检测数据只能依据已批准的报告变更修订。"),
    )

    objects = RestrictedQuerySet.as_manager()

    scoping = RECORD_SCOPING.via("record")

    class Meta:
        verbose_name = _("检测数据修订")
        verbose_name_plural = _("检测数据修订")
        ordering = ["record_id", "number"]
        constraints = [models.UniqueConstraint(fields=["record", "number"], name="testing_revision_unique")]

    def __str__(self) -> str:
        return f"{self.record_id} r{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RevisionImmutable("revisions of test records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RevisionImmutable("revisions of test records cannot be deleted")


class TestRecordFile(models.Model):
    """A key image or clip of a test (T/CECS 2.0.9), uploaded through tus or the page and
    kept as a ``core.StoredFile``; its SHA-256 is part of the record's canonical form."""

    __test__ = False

    record = models.ForeignKey(TestRecord, verbose_name=_("检测数据"), on_delete=models.CASCADE, related_name="files")
    file = models.ForeignKey("core.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=8, choices=MediaKind.choices)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    revision = models.PositiveSmallIntegerField(_("加入的修订号"), default=1)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    scoping = RECORD_SCOPING.via("record")

    class Meta:
        verbose_name = _("检测图像/视频")
        verbose_name_plural = _("检测图像/视频")
        ordering = ["record_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["record", "file"], name="testing_file_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"


FINDING_SCOPING = Scoping(
    region="project__region__code",
    station="project__station_id",
    organisation="agency__organisation_id",
    project="project_id",
    grants={"view": RECORD_SCOPING.grants["view"]},
)
"""Who sees a finding about test data: whoever sees the project's test records."""


class TestingFinding(Finding):
    """Test data not uploaded in time (Guangdong 附件2 二(十一); T/CECS 4.3.4-4/-5): a
    record uploaded later than its region's time after the test ended, a received sample
    or an on-site plan with no data after its due time (``testing.overdue``). It belongs
    to the region of its project and is resolved once the data is there."""

    clause = "Guangdong 附件2 二(十一); T/CECS 4.3.4-4/-5"
    rules = TestingRule
    subject_paths = {"agency": "agency_id", "project": "project_id"}

    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("工程项目"), on_delete=models.CASCADE, related_name="+"
    )
    sample = models.ForeignKey(
        "sampling.Sample", verbose_name=_("样品"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    plan = models.ForeignKey(
        "projects.InspectionPlan",
        verbose_name=_("现场检测方案"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    record = models.ForeignKey(
        TestRecord, verbose_name=_("检测数据"), null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    rule = models.CharField(_("规则"), max_length=64, choices=TestingRule.choices, db_index=True)
    severity = models.CharField(
        _("严重程度"), max_length=16, choices=SEVERITY_CHOICES, default=Severity.WARNING.value, db_index=True
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    scoping = FINDING_SCOPING

    class Meta:
        verbose_name = _("检测数据问题")
        verbose_name_plural = _("检测数据问题")
        ordering = ["-since", "-pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="testing_finding_unique")]

    def __str__(self) -> str:
        return self.rule

    def region_code(self) -> str:
        return self.project.region_id


INSTRUMENT_SCOPING = Scoping(
    region="agency__region__code",
    organisation="agency__organisation_id",
    grants={
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.OWN, is_agency),
        ),
    },
)
"""Who sees instrument data: the agency that collected it, the regulators of the agency's
region, operators (a record is tied to a project only through its test record)."""


class InstrumentRecord(models.Model):
    """仪器自动采集数据 (Guangxi 第七条(二)(三), 第十一条; the Hunan/Hebei interface's
    ``Acsrecord``): one reading an instrument collected itself, sent by the agency's LIMS
    or a collector in real time: the parameter and specimen, the peak value, and the
    curve (e.g. a compression machine's force-time curve, thousands of points).

    The platform's highest-volume path: rows are written once (``append_only``: the
    database refuses UPDATE, DELETE and TRUNCATE) and, on PostgreSQL, the table is
    partitioned by month of ``collected_at`` (``testing/partitions.py``). A curve is
    stored compactly: the float32 values (``x`` then ``y`` when both are given, else ``y``
    at a fixed step ``dt``), little-endian, zlib-compressed (``testing.curves``), with its
    SHA-256. ``source_id`` is the sender's own id of the reading: the same reading sent
    again is acknowledged as a duplicate and stored once. ``record_number`` names the
    test record it belongs to (which may arrive later)."""

    append_only = True

    id = models.BigAutoField(primary_key=True)
    agency = models.ForeignKey(
        "registry.Agency", verbose_name=_("检测机构"), on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.CharField(_("采集记录编号"), max_length=64)
    record_number = models.CharField(_("原始记录编号"), max_length=64)
    equipment = models.CharField(_("仪器设备编号"), max_length=64)
    parameter = models.CharField(_("参数编码"), max_length=32)
    specimen = models.PositiveSmallIntegerField(_("试件序号"))
    collected_at = models.DateTimeField(_("采集时间"))
    value = models.CharField(_("采集结果"), max_length=64, blank=True)
    unit = models.CharField(_("单位"), max_length=32, blank=True)
    curve_meta = models.JSONField(_("曲线说明"), default=dict, blank=True)
    curve = models.BinaryField(_("曲线数据"), null=True, blank=True)
    curve_sha256 = models.CharField(_("曲线 SHA-256"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    client = models.ForeignKey(
        "exchange.ExchangeClient",
        verbose_name=_("接入方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    scoping = INSTRUMENT_SCOPING

    class Meta:
        verbose_name = _("仪器采集数据")
        verbose_name_plural = _("仪器采集数据")
        ordering = ["collected_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "source_id", "collected_at"], name="testing_instrument_source_unique"
            )
        ]
        indexes = [models.Index(fields=["agency", "record_number"], name="testing_instrument_record_idx")]

    def __str__(self) -> str:
        return f"{self.record_number} {self.parameter} #{self.specimen}"


class ScanMark(models.Model):
    """How far the overdue scan of a rule has got (``testing.overdue``): every candidate
    due at or before ``until`` has been examined under the rules whose fingerprint is
    ``rules_sha256``, so the next scan under the same rules reads only what can have
    become due since. Changed rules (another fingerprint) mean one full scan."""

    rule = models.CharField(_("规则"), max_length=64, choices=TestingRule.choices, unique=True)
    until = models.DateTimeField(_("已检查至"))
    rules_sha256 = models.CharField(_("规则指纹"), max_length=64)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("超期扫描进度")
        verbose_name_plural = _("超期扫描进度")

    def __str__(self) -> str:
        return f"{self.rule} {self.until:%Y-%m-%d %H:%M}"
