"""Enumerations of projects and contracts (STYLE.md 11)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PartyRole(models.TextChoices):
    """The parties of a project (T/CECS 4.3.2; DESIGN.md glossary)."""

    OWNER = "owner", _("建设单位")
    CONTRACTOR = "contractor", _("施工单位")
    SUPERVISING_FIRM = "supervising_firm", _("监理单位")
    AGENCY = "agency", _("检测机构")


class ProjectDuty(models.TextChoices):
    """What a person is named on a project for (Nanchang 一(二): the project names its
    samplers and witnesses; 57号令 第十八条: witnesses come from the owner or the
    supervising firm)."""

    SAMPLER = "sampler", _("取样人")
    WITNESS = "witness", _("见证人")


class ProjectLogKind(models.TextChoices):
    """Kinds the projects app appends to the transparency log (CONTRACT §5); renderers in
    ``projects/kinds.py``."""

    CONTRACT = "contract", _("检测合同")
    INSPECTION_PLAN = "inspection_plan", _("现场检测方案")


class PlanStatus(models.TextChoices):
    """The state of an on-site inspection plan (Nanchang 二(三); Guangxi 第十条)."""

    FILED = "filed", _("已报送")
    CANCELLED = "cancelled", _("已取消")


class PlanFindingRule(models.TextChoices):
    """What a plan's finding says (``PlanFinding.rule``)."""

    FILED_LATE = "plan_filed_late", _("检测方案报送不及时")
