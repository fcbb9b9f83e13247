"""The regional rules that the chain of custody reads (``core.regionrules``)."""

from django.utils.translation import gettext_lazy as _

from inspecta.core.regionrules import RegionRuleKind

WINDOW_MINUTES = "sampling_window_minutes"
MAX_DISTANCE_M = "sampling_max_distance_m"
RECEIPT_PHOTO_DISTANCE = "receipt_photo_distance"
SEAL_FAILURE_ACTION = "seal_failure_action"
COMMISSION_WINDOW_MINUTES = "commission_window_minutes"
CURING_AGE_DAYS = "curing_age_days"

KINDS = (
    RegionRuleKind(
        name=WINDOW_MINUTES,
        label=_("取样见证确认时限"),
        clause="Nanchang 四(一)",
        setting="INSPECTA_SAMPLING_WINDOW_MINUTES",
        unit=_("分钟"),
        minimum=5,
        maximum=24 * 60,
        help=_("取样后取样人和见证人须在这么多分钟内完成确认，超时为问题。"),
    ),
    RegionRuleKind(
        name=COMMISSION_WINDOW_MINUTES,
        label=_("委托单确认时限"),
        clause="Nanchang 四(四)1",
        setting="INSPECTA_COMMISSION_WINDOW_MINUTES",
        unit=_("分钟"),
        minimum=5,
        maximum=7 * 24 * 60,
        per_item=False,
        help=_("委托单填写后送样人和见证人须在这么多分钟内完成确认，超时为问题。"),
    ),
    RegionRuleKind(
        name=CURING_AGE_DAYS,
        label=_("标准养护龄期"),
        clause="Nanchang 四(三); GB/T 50081",
        setting="INSPECTA_CURING_AGE_DAYS",
        unit=_("天"),
        minimum=1,
        maximum=365,
        help=_("试件出养护室时未填写龄期的，按这个天数计；未到龄期出养护室为问题。"),
    ),
    RegionRuleKind(
        name=MAX_DISTANCE_M,
        label=_("取样位置与项目的最大距离"),
        clause="T/CECS 4.3.4-2",
        setting="INSPECTA_SAMPLING_MAX_DISTANCE_M",
        unit=_("米"),
        minimum=50,
        maximum=100_000,
        help=_("取样或确认的位置离项目登记坐标超过这个距离为问题。"),
    ),
    RegionRuleKind(
        name=RECEIPT_PHOTO_DISTANCE,
        label=_("收样照片与封样照片的最大差异"),
        clause="T/CECS 2.0.16",
        setting="INSPECTA_RECEIPT_PHOTO_DISTANCE",
        unit=_("位（感知哈希）"),
        minimum=0,
        maximum=64,
        help=_("收样时拍的照片与封样时照片的感知哈希差异超过这个位数，视为照片不符。"),
    ),
    RegionRuleKind(
        name=SEAL_FAILURE_ACTION,
        label=_("封志核验失败的处理"),
        clause="T/CECS 2.0.16",
        setting="INSPECTA_SEAL_FAILURE_ACTION",
        choices=(("reject", _("拒绝收样")), ("flag", _("允许收样并记为问题"))),
        help=_("收样时封志缺失、损坏或与样品不符时的处理方式。"),
    ),
)
