"""E-mail of a notification through Django's configured backend (``EMAIL_URL``; T/CECS
8.2.4 "通过……邮件等方式"): the subject as it is, a plain-text body ending with the link to
the platform, absolute under ``PUBLIC_BASE_URL``."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import Notification

__all__ = ["absolute_link", "email_message"]


def absolute_link(notification: Notification) -> str:
    """The page the notification is about (its ``url``, else its own page in the inbox),
    as an absolute address a mail or SMS reader can open."""

    path = notification.url or reverse("notifications:detail", args=[notification.pk])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def email_message(notification: Notification, address: str) -> EmailMessage:
    """The mail to ``address``; sending it is the caller's (``services.delivery_attempt``)."""

    preferences = f"{settings.PUBLIC_BASE_URL}{reverse('notifications:preferences')}"
    parts = [
        notification.body.strip(),
        _("详情：%(link)s") % {"link": absolute_link(notification)},
        "——\n"
        + _("本邮件由建设工程检测监管平台自动发送，请勿回复。接收方式可在“通知设置”中调整：%(link)s")
        % {"link": preferences},
    ]
    body = "\n\n".join(part for part in parts if part)
    return EmailMessage(subject=notification.subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[address])
