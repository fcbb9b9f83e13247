"""Notifications (消息通知): what the platform tells a person, in their inbox and, as they
choose, by e-mail and SMS (T/CECS 8.2.4: warnings and decisions reach the people who
must act, platform alerts reach the operators "通过短信、邮件等方式").

A :class:`Notification` is one message to one person; each channel it goes out on is a
:class:`Delivery` with its attempts and last error, so that a failing mail server or SMS
gateway shows on the operators' page; :class:`Preference` is a person's choice of
channels for one kind; :class:`HealthIncident` is one onset of a platform-health problem,
so that the operators are alerted once per onset, not every ten minutes.

Notifications and deliveries are not audited: they are messages, not records with legal
weight, and the delivery row is itself the trace of what was sent when. Preferences are
a person's settings and are audited like every setting.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.core.audit import audited
from inspecta.core.permissions import is_operator, signed_in
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import Channel, DeliveryStatus, HealthProblem

__all__ = ["Delivery", "HealthIncident", "Notification", "Preference"]

_OWN = (Grant(Reach.SELF, signed_in),)


class Notification(models.Model):
    """One message in one person's inbox: what it is (``kind``, declared by the app that
    sends it), its ``subject`` and ``body``, the page of the platform it is about
    (``url``, a path), when it came and when the person read it. Only its recipient sees
    it; operators have no wider view (a message is personal)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类别"), max_length=64)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), max_length=4000, blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(person="recipient_id", grants={"view": _OWN})

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the inbox, newest first
            models.Index(fields=["recipient", "-created_at", "-id"], name="notifications_inbox"),
            # the unread count of the navigation bar, on every page
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notifications_unread"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """One channel of one notification: queued when the notification is made, then sent
    or failed by the job (``tasks.delivery_send``), which retries a failure; ``attempts``
    and ``last_error`` say what happened. Operators see every row (a failing gateway must
    be noticed); nobody else does."""

    notification = models.ForeignKey(
        Notification, verbose_name=_("消息"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("方式"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    reference = models.CharField(_("回执编号"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    attempted_at = models.DateTimeField(_("最近尝试时间"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(person="notification__recipient_id", grants={"view": (Grant(Reach.ALL, is_operator),)})

    class Meta:
        verbose_name = _("消息投递")
        verbose_name_plural = _("消息投递")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="notifications_delivery_channel")
        ]
        indexes = [models.Index(fields=["status", "-id"], name="notifications_delivery_status")]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.status}"


class Preference(models.Model):
    """A person's choice of channels for one kind of notification (the inbox always gets
    it); without a row the kind's declared defaults apply. Only the person sees and
    changes their own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类别"), max_length=64)
    email = models.BooleanField(_("电子邮件"), default=False)
    sms = models.BooleanField(_("短信"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    history = audited()
    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(person="user_id", grants={"view": _OWN, "change": _OWN})

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")
        ordering = ["user_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notifications_preference_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class HealthIncident(models.Model):
    """One onset of a platform-health problem (T/CECS 8.2.4), open until the check finds
    it gone: the operators are told when it opens and when it clears, not at every check
    in between. Read by the periodic check only (no page: the alerts carry the detail)."""

    problem = models.CharField(_("问题"), max_length=16, choices=HealthProblem.choices)
    detail = models.CharField(_("说明"), max_length=500)
    opened_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    cleared_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("运行告警")
        verbose_name_plural = _("运行告警")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["problem"], condition=Q(cleared_at__isnull=True), name="notifications_incident_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.problem} {self.opened_at:%Y-%m-%d %H:%M}"
