"""Enumerations of projects and contracts (STYLE.md 11)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PartyRole(models.TextChoices):
    """The parties of a project (T/CECS 4.3.2; DESIGN.md glossary)."""

    OWNER = "owner", _("建设单位")
    CONTRACTOR = "contractor", _("施工单位")
    SUPERVISING_FIRM = "supervising_firm", _("监理单位")
    AGENCY = "agency", _("检测机构")


class ProjectLogKind(models.TextChoices):
    """Kinds the projects app appends to the transparency log (CONTRACT §5); renderers in
    ``projects/kinds.py``."""

    CONTRACT = "contract", _("检测合同")
