"""The enumerations of notifications (STYLE.md 11)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """How a notification leaves the platform besides the inbox, which always gets it
    (T/CECS 8.2.4: "通过短信、邮件等方式")."""

    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class HealthProblem(models.TextChoices):
    """What the platform-health check watches (T/CECS 8.2.4: platform running, data
    storage, data exchange)."""

    JOBS = "jobs", _("后台任务停滞")
    SEQUENCER = "sequencer", _("存证日志排序滞后")
    DISK = "disk", _("磁盘空间不足")
