"""Enumerations of the chain of custody (STYLE.md 11; DESIGN.md glossary)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SampleStatus(models.TextChoices):
    """Where a sample stands in the chain (DESIGN.md "The chain that everything hangs on")."""

    RECORDED = "recorded", _("待取样人确认")
    CONFIRMED = "confirmed", _("待见证人确认")
    SEALED = "sealed", _("已见证封样")
    RECEIVED = "received", _("已收样")
    REFUSED = "refused", _("已拒收")


class TagKind(models.TextChoices):
    """The physical tag a specimen carries (Nanchang 四(二)1)."""

    LABEL = "label", _("二维码标签")
    CHIP = "chip", _("植入式芯片")


class PhotoKind(models.TextChoices):
    SPECIMEN = "specimen", _("试件照片（含标识）")
    PLACARD = "placard", _("举牌验证照片")
    LIVE = "live", _("确认人现场照片")
    RECEIPT = "receipt", _("收样照片")
    SLUMP = "slump", _("坍落度检测举牌照片")
    OTHER = "other", _("其他现场照片")
    CUSTODY = "custody", _("流转现场照片")


class ConfirmationStep(models.TextChoices):
    """Who confirms what (57号令 第十八条; Nanchang 四(一))."""

    SAMPLING = "sampling", _("取样人确认")
    WITNESS = "witness", _("见证人确认")


class SamplingRule(models.TextChoices):
    """Rule codes of the chain's findings (core.findings; the issue's point 12)."""

    WINDOW_EXCEEDED = "sampling_window_exceeded", _("双方确认超过时限")
    LOCATION_FAR = "sampling_location_far", _("取样位置距项目过远")
    PHOTO_DUPLICATE = "photo_near_duplicate", _("照片与平台已有照片近似重复")
    SEAL_FAILED = "seal_check_failed", _("电子封志核验未通过")
    RECEIPT_PHOTO_MISMATCH = "receipt_photo_mismatch", _("收样照片与封样照片不符")
    COMMISSION_WINDOW_EXCEEDED = "commission_window_exceeded", _("委托单确认超过时限")
    CUSTODY_WINDOW_EXCEEDED = "custody_window_exceeded", _("流转事件双方确认超过时限")
    CUSTODY_LOCATION_FAR = "custody_location_far", _("流转事件位置距项目过远")
    CURING_OUT_EARLY = "curing_out_early", _("未到龄期出养护室")
    CURING_AT_RECEIPT = "curing_at_receipt", _("收样时样品仍在养护室")
    PEOPLE_NOT_NAMED = "people_not_named", _("项目未指定取样人或见证人")
    IDENTITY_FAILED = "identity_check_failed", _("确认人身份核验未通过")


class ReceiptOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("收样")
    REFUSED = "refused", _("拒收")


class SamplingLogKind(models.TextChoices):
    """Kinds the sampling app appends to the transparency log (CONTRACT §5); renderers in
    ``sampling/kinds.py``."""

    WITNESS_RECORD = "witness_record", _("见证取样记录")
    SEAL = "seal", _("电子封志")
    RECEIPT = "receipt", _("收样记录")
    COMMISSION = "commission", _("检测委托单")
    CONCRETE_BATCH = "concrete_batch", _("混凝土进场记录")
    CUSTODY_EVENT = "custody_event", _("样品流转记录")


class CommissionStatus(models.TextChoices):
    """Where a commission (委托单) stands (57号令 第二十条; Nanchang 四(四)1): filled by the
    deliverer, confirmed by the deliverer, then by the witness."""

    FILLED = "filled", _("待送样人确认")
    DELIVERER_CONFIRMED = "deliverer_confirmed", _("待见证人确认")
    CONFIRMED = "confirmed", _("已确认")


class CommissionStep(models.TextChoices):
    """Who confirms a commission (Nanchang 四(四)1 "送样人、见证人确认")."""

    DELIVERER = "deliverer", _("送样人确认")
    WITNESS = "witness", _("见证人确认")


class CommissionSource(models.TextChoices):
    PLATFORM = "platform", _("平台填写")
    LIMS = "lims", _("检测机构系统推送")


class CuringCondition(models.TextChoices):
    """How the specimens of a batch are cured (GB/T 50081; Nanchang 四(三))."""

    STANDARD = "standard", _("标准养护")
    SAME_CONDITION = "same_condition", _("同条件养护")


class CustodyEventKind(models.TextChoices):
    """Custody events between seal and receipt (Nanchang 四(三); the issue's point 7)."""

    CURING_IN = "curing_in", _("养护入室")
    CURING_OUT = "curing_out", _("养护出室")
    TRANSPORT = "transport", _("运输交接")


class CustodyStep(models.TextChoices):
    """The two parties confirming a batch or a custody event."""

    RECORDER = "recorder", _("记录人确认")
    SECOND = "second", _("第二方确认")
