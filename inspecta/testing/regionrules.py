"""The regional rules that test data reads (``core.regionrules``; Guangdong 附件2 二(十一):
超过一定时间未上传，省检测监管平台会触发预警)."""

from django.utils.translation import gettext_lazy as _

from inspecta.core.regionrules import RegionRuleKind

UPLOAD_HOURS = "test_upload_hours"
DUE_DAYS = "test_due_days"
ONSITE_HOURS = "onsite_upload_hours"
AUTO_COLLECT = "auto_collect_required"

KINDS = (
    RegionRuleKind(
        name=UPLOAD_HOURS,
        label=_("检测数据上传时限"),
        clause="Guangdong 附件2 二(十一); Guangxi 第七条(三)",
        setting="INSPECTA_TEST_UPLOAD_HOURS",
        unit=_("小时"),
        minimum=1,
        maximum=30 * 24,
        help=_("检测结束后须在这么多小时内上传检测数据，上传晚于时限为问题。"),
    ),
    RegionRuleKind(
        name=DUE_DAYS,
        label=_("收样后上传检测数据的期限"),
        clause="Guangdong 附件2 二(十一); T/CECS 4.3.4-4",
        setting="INSPECTA_TEST_DUE_DAYS",
        unit=_("天"),
        minimum=1,
        maximum=365,
        help=_(
            "样品收样后这么多天仍没有检测数据为问题；须养护的试件按龄期加宽限设置（如混凝土试块 28 天龄期加 3 天）。"
        ),
    ),
    RegionRuleKind(
        name=ONSITE_HOURS,
        label=_("现场检测数据上传时限"),
        clause="Guangdong 附件2 二(十一); T/CECS 4.3.4-5",
        setting="INSPECTA_ONSITE_UPLOAD_HOURS",
        unit=_("小时"),
        minimum=1,
        maximum=30 * 24,
        help=_("现场检测方案计划结束后这么多小时内仍没有检测数据为问题。"),
    ),
    RegionRuleKind(
        name=AUTO_COLLECT,
        label=_("检测数据须仪器自动采集"),
        clause="Guangxi 第七条(二)(六), 第十七条(一)",
        setting="INSPECTA_AUTO_COLLECT_REQUIRED",
        choices=(("no", _("不要求")), ("yes", _("要求：人工录入为问题"))),
        help=_("要求自动采集的检测项目，检测数据中有人工录入的参数时记为问题。"),
    ),
)
