"""The regional rules that plans read (``core.regionrules``)."""

from django.utils.translation import gettext_lazy as _

from inspecta.core.regionrules import RegionRuleKind

PLAN_LEAD_HOURS = "plan_lead_hours"

KINDS = (
    RegionRuleKind(
        name=PLAN_LEAD_HOURS,
        label=_("检测方案提前报送时间"),
        clause="Guangxi 第十条; Nanchang 二(三)",
        setting="INSPECTA_PLAN_LEAD_HOURS",
        unit=_("小时"),
        minimum=1,
        maximum=24 * 90,
        help=_("现场检测方案须在计划开始前至少这么多小时报送，晚报为问题。"),
    ),
)
