"""Enumerations of the core app (STYLE.md 11)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    """GB/T 2260 levels; a node's authorities sit at the first three."""

    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("区县级")


class ParameterLevel(models.TextChoices):
    """建质〔2023〕1号 attachment 2: 必备参数 / 可选参数."""

    MANDATORY = "mandatory", _("必备")
    OPTIONAL = "optional", _("可选")
