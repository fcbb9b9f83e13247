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
