"""The regional rules that warnings read (``core.regionrules``; T/CECS 4.3.4-6: a warning
handled in time, or taken up by the level above)."""

from django.utils.translation import gettext_lazy as _

from inspecta.core.regionrules import RegionRuleKind

ESCALATION_DAYS = "warning_escalation_days"
CLOSE_DAYS = "nonconformance_close_days"

KINDS = (
    RegionRuleKind(
        name=ESCALATION_DAYS,
        label=_("预警逾期升级天数"),
        clause="T/CECS 4.3.4-6, 8.2.4; Guangxi 第十七条",
        setting="INSPECTA_WARNING_ESCALATION_DAYS",
        unit=_("天"),
        minimum=1,
        maximum=365,
        per_item=False,
        help=_("交办本级主管部门的预警这么多天仍未处置（未报送处置情况）的，升级至上一级主管部门。"),
    ),
    RegionRuleKind(
        name=CLOSE_DAYS,
        label=_("不合格检测结果闭环期限"),
        clause="Guangdong 附件2 二(十二); T/CECS 4.3.4-6",
        setting="INSPECTA_NONCONFORMANCE_CLOSE_DAYS",
        unit=_("天"),
        minimum=1,
        maximum=365,
        help=_(
            "检测结果不合格的报告登记入不合格台账后，检测机构须在这么多天内报送处理情况并经监督站确认闭环，逾期为问题并形成预警。"
        ),
    ),
)
