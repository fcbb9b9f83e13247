"""The states and actions of warnings (预警; T/CECS 4.3.4-6 追踪、定位、确认、预警、处理和汇总)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WarningStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    HANDLED = "handled", _("已处置待审核")
    CLOSED = "closed", _("已办结")


ACTIVE = (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED, WarningStatus.HANDLED)
"""The states of a warning that still asks somebody to act."""

UNHANDLED = (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED)
"""The states in which a warning waits for its handling (and escalates when it waits too long)."""


class WarningAction(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("签收")
    HANDLED = "handled", _("报送处置情况")
    CLOSED = "closed", _("审核办结")
    DISMISSED = "dismissed", _("核实为误报并办结")
    RETURNED = "returned", _("退回重新处置")
    REOPENED = "reopened", _("重新打开")
    ESCALATED = "escalated", _("逾期未处置，升级至上级主管部门")
    RESOLVED = "resolved", _("问题已消除，自动办结")
    RECURRED = "recurred", _("问题再次出现，自动重新打开")


class ClosureStatus(models.TextChoices):
    """A closure's decision (``core.decisions`` values, the station's words)."""

    PENDING = "pending", _("待监督站确认")
    APPROVED = "approved", _("已确认闭环")
    REJECTED = "rejected", _("已退回")


class ClosureAction(models.TextChoices):
    """What the agency did about a nonconforming result (T/CECS 4.3.4-6 处理)."""

    RETEST = "retest", _("加倍取样复检")
    REWORK = "rework", _("返工、返修后复检")
    ENTITY_TEST = "entity_test", _("委托实体检测或鉴定")
    REMOVED = "removed", _("材料退场、不合格部位拆除")
    OTHER = "other", _("其他处理")


class NotifiedParty(models.TextChoices):
    """Who the agency told of the nonconforming result (T/CECS 4.3.4-6 确认、处理)."""

    OWNER = "owner", _("建设单位")
    SUPERVISING_FIRM = "supervising_firm", _("监理单位")
    CONTRACTOR = "contractor", _("施工单位")
    STATION = "station", _("质量安全监督机构")


class OversightRule(models.TextChoices):
    """Rule codes of the findings oversight keeps itself."""

    NONCONFORMANCE_OVERDUE = "nonconformance_overdue", _("不合格检测结果逾期未闭环")


class OversightLogKind(models.TextChoices):
    """Kinds oversight appends to the transparency log (CONTRACT §5); renderers in
    ``oversight/kinds.py``."""

    NONCONFORMANCE_CLOSURE = "nonconformance_closure", _("不合格闭环")
