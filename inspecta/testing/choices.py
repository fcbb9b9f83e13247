"""Enumerations of test data (T/CECS 2.0.7-2.0.9; Guangxi 第七条、第十三条)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TestKind(models.TextChoices):
    """Where a test is done: in the agency's laboratory on a received sample (室内), or on
    the site under a filed on-site inspection plan (现场)."""

    __test__ = False  # not a pytest class

    LAB = "lab", _("室内检测")
    ONSITE = "onsite", _("现场检测")


class ValueSource(models.TextChoices):
    """How a parameter's values came in (Guangxi 第七条(二)(六)): collected by the
    instrument itself, or typed in by a person."""

    INSTRUMENT = "instrument", _("仪器自动采集")
    MANUAL = "manual", _("人工录入")


class Judgement(models.TextChoices):
    """单项判定 of one parameter and 检测结论 of a record (the report's values)."""

    QUALIFIED = "qualified", _("合格")
    NONCONFORMING = "nonconforming", _("不合格")
    NO_VERDICT = "no_verdict", _("不作判定")


class MediaKind(models.TextChoices):
    """Key images and clips of a test (T/CECS 2.0.9)."""

    IMAGE = "image", _("关键图像")
    CLIP = "clip", _("视频片段")


class TestingLogKind(models.TextChoices):
    """Kinds the testing app appends to the transparency log (CONTRACT §5); renderers in
    ``testing/kinds.py``."""

    __test__ = False

    TEST_RECORD = "test_record", _("检测数据")


class TestingRule(models.TextChoices):
    """Findings about test data not uploaded in time (Guangdong 附件2 二(十一); T/CECS
    4.3.4-4/-5 自动识别未及时上传的检测数据), turned into warnings by oversight."""

    __test__ = False

    UPLOADED_LATE = "test_uploaded_late", _("检测数据未及时上传")
    SAMPLE_DATA_OVERDUE = "sample_data_overdue", _("收样后逾期未上传检测数据")
    ONSITE_DATA_OVERDUE = "onsite_data_overdue", _("现场检测逾期未上传检测数据")
    MANUAL_ENTRY = "manual_entry_of_auto_data", _("应自动采集的检测数据为人工录入")
