"""Every write of notifications (T/CECS 8.2.4).

:func:`notify` is the one entry point of every app: it puts a message into each
recipient's inbox in the caller's transaction, with a queued :class:`Delivery` per channel
the recipient's preferences ask for, and once that transaction commits enqueues one job
per delivery (``tasks.delivery_send``), which sends it (:func:`delivery_attempt`) and is
retried by huey when the mail server or the SMS gateway fails. Nothing of the sending can
fail the caller: a refused mail is a failed delivery row, never an exception in a request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.choices import Role
from inspecta.accounts.models import User
from inspecta.core.audit import audit_stamp

from .catalog import NotificationKind, kinds, kinds_for
from .choices import Channel, DeliveryStatus, HealthProblem
from .mail import email_message
from .models import Delivery, HealthIncident, Notification, Preference
from .notices import HEALTH_RECOVERED, KIND_OF_PROBLEM
from .permissions import has_inbox
from .sms import SmsError, sms_backend, sms_enabled

__all__ = [
    "DeliveryFailed",
    "channels_available",
    "delivery_attempt",
    "health_alerts_check",
    "notification_read",
    "notifications_read_all",
    "notify",
    "operators",
    "preferences_set",
]

logger = logging.getLogger(__name__)

SUBJECT_MAX = 200
BODY_MAX = 4000


class DeliveryFailed(Exception):
    """A delivery attempt failed in a way a later attempt may not (the job retries)."""


class _Undeliverable(Exception):
    """A delivery that no retry can send (no address any more, the channel switched off)."""


# --- channels ------------------------------------------------------------------------


def channels_available(user: Any) -> set[Channel]:
    """The channels a person can be reached on besides the inbox: e-mail when they have
    an address, SMS when a gateway is configured and they have a mobile number."""

    found = set()
    if user.email:
        found.add(Channel.EMAIL)
    if user.mobile and sms_enabled():
        found.add(Channel.SMS)
    return found


def _wanted(user: Any, kind: NotificationKind, preference: Preference | None) -> list[Channel]:
    if preference is None:
        chosen = set(kind.channels)
    else:
        chosen = {c for c, on in ((Channel.EMAIL, preference.email), (Channel.SMS, preference.sms)) if on}
    available = channels_available(user)
    return [c for c in (Channel.EMAIL, Channel.SMS) if c in chosen and c in available]


# --- notify ----------------------------------------------------------------------------


def _check_url(url: str) -> None:
    """A notification links to a page of the platform: a path, never another site (the
    inbox follows it)."""

    if url and (not url.startswith("/") or url.startswith("//") or "\\" in url):
        raise ValueError(f"a notification links to a path of the platform, not {url!r}")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@transaction.atomic
def notify(
    *, recipients: Iterable[User | int], kind: str, subject: str, body: str, url: str = ""
) -> list[Notification]:
    """Tell ``recipients`` (users or their ids; the inactive are skipped) about something:
    one inbox message each, in the caller's transaction, and the e-mail and SMS their
    preferences for ``kind`` ask for, sent by a job once the transaction commits (none if
    it rolls back). ``kind`` is a code an app declares (``notification_kinds`` on its
    ``AppConfig``; an undeclared one is a ``ValueError``); ``url`` is the path of the page
    it is about. Returns the inbox messages made."""

    declared = kinds().get(kind)
    if declared is None:
        raise ValueError(f"notification kind {kind!r} is declared by no app")
    _check_url(url)
    ids = {r if isinstance(r, int) else r.pk for r in recipients}
    users = list(User.objects.filter(pk__in=ids, is_active=True).only("pk", "email", "mobile").order_by("pk"))
    if not users:
        return []
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=[u.pk for u in users], kind=kind)}
    now = timezone.now()
    subject, body = _cut(subject.strip(), SUBJECT_MAX), _cut(body.strip(), BODY_MAX)
    made = Notification.objects.bulk_create(
        [Notification(recipient=u, kind=kind, subject=subject, body=body, url=url, created_at=now) for u in users]
    )
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(notification=n, channel=channel, created_at=now)
            for n, user in zip(made, users, strict=True)
            for channel in _wanted(user, declared, preferences.get(user.pk))
        ]
    )
    if deliveries:
        transaction.on_commit(partial(_enqueue, [d.pk for d in deliveries]), robust=True)
    return made


def _enqueue(delivery_ids: list[int]) -> None:
    """After the commit: one job per delivery. A job queue that cannot take it leaves the
    delivery failed with the reason (the caller's request goes on)."""

    from .tasks import delivery_send

    for pk in delivery_ids:
        try:
            delivery_send(pk)
        except Exception as exc:  # the queue is unreachable: say so on the row, not in the request
            logger.warning("notification delivery %s not queued: %r", pk, exc)
            Delivery.objects.filter(pk=pk, status=DeliveryStatus.QUEUED).update(
                status=DeliveryStatus.FAILED,
                last_error=_cut(_("任务队列不可用：%(error)s") % {"error": repr(exc)}, 500),
                attempted_at=timezone.now(),
            )


# --- sending (the job) -----------------------------------------------------------------


def _send(delivery: Delivery) -> str:
    notification = delivery.notification
    user = notification.recipient
    if delivery.channel == Channel.EMAIL:
        if not user.email:
            raise _Undeliverable(_("收件人未登记电子邮箱。"))
        email_message(notification, user.email).send(fail_silently=False)
        return ""
    if delivery.channel == Channel.SMS:
        backend = sms_backend()
        if backend is None:
            raise _Undeliverable(_("平台未配置短信通道。"))
        if not user.mobile:
            raise _Undeliverable(_("收件人未登记手机号码。"))
        return backend.send(phone=user.mobile, subject=notification.subject, kind=notification.kind)
    raise _Undeliverable(f"unknown channel {delivery.channel!r}")


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one delivery (the job ``tasks.delivery_send`` calls this): ``sent`` with the
    time and the gateway's receipt id, or ``failed`` with the error and one more attempt
    counted. A failure a retry may cure raises :class:`DeliveryFailed` after it is
    recorded, so that huey retries; one it cannot (no address any more) does not. A
    delivery already sent is left alone (a job run twice sends once). Returns the status."""

    delivery = Delivery.objects.select_related("notification__recipient").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == DeliveryStatus.SENT:
        return delivery.status if delivery is not None else ""
    rows = Delivery.objects.filter(pk=delivery_id)
    try:
        reference = _send(delivery)
    except _Undeliverable as exc:
        rows.update(
            status=DeliveryStatus.FAILED,
            attempts=F("attempts") + 1,
            last_error=_cut(str(exc), 500),
            attempted_at=timezone.now(),
        )
        return DeliveryStatus.FAILED
    except (SmsError, Exception) as exc:  # SMTP, network, gateway: recorded, then retried
        error = str(exc) if isinstance(exc, SmsError) else f"{exc.__class__.__name__}: {exc}"
        rows.update(
            status=DeliveryStatus.FAILED,
            attempts=F("attempts") + 1,
            last_error=_cut(error, 500),
            attempted_at=timezone.now(),
        )
        logger.warning("notification delivery %s (%s) failed: %s", delivery_id, delivery.channel, error)
        raise DeliveryFailed(error) from exc
    now = timezone.now()
    rows.update(
        status=DeliveryStatus.SENT,
        attempts=F("attempts") + 1,
        last_error="",
        reference=_cut(reference, 128),
        attempted_at=now,
        sent_at=now,
    )
    return DeliveryStatus.SENT


# --- the inbox -------------------------------------------------------------------------


def notification_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of the actor's own messages read (opening it does); reading it again
    changes nothing."""

    if notification.read_at is None:
        notification.read_at = timezone.now()
        # only unread rows: a second tab opening it at once does not move the time
        Notification.objects.restrict(actor).filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_read_all(*, actor: Any) -> int:
    """Mark every unread message of the actor read; returns how many."""

    return Notification.objects.restrict(actor).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- preferences -----------------------------------------------------------------------


@transaction.atomic
def preferences_set(*, actor: Any, choices: Mapping[str, Mapping[str, bool]]) -> int:
    """Set the actor's channels per kind: ``{kind: {"email": bool, "sms": bool}}``, a
    channel left out keeps its value (or the kind's default). A kind not offered to the
    actor, or a channel switched on that cannot reach them (no address, no gateway), is a
    ``ValidationError`` naming the field ``<kind>__<channel>``; then nothing changes.
    Returns the number of preferences written."""

    if not has_inbox(actor):
        raise PermissionDenied(_("无权修改通知设置。"))
    offered = {kind.code: kind for kind in kinds_for(actor)}
    available = channels_available(actor)
    refusals = {
        Channel.EMAIL: _("您未登记电子邮箱，不能选择邮件通知；请先在个人中心填写电子邮箱。"),
        Channel.SMS: _("平台未开通短信通道或您未登记手机号码，不能选择短信通知。")
        if not sms_enabled()
        else _("您未登记手机号码，不能选择短信通知；请先在个人中心填写手机号码。"),
    }
    errors: dict[str, list[str]] = {}
    for code, wanted in choices.items():
        if code not in offered:
            errors.setdefault("__all__", []).append(_("没有这类通知：%(code)s。") % {"code": code})
            continue
        for name, on in wanted.items():
            if name not in (Channel.EMAIL, Channel.SMS):
                errors.setdefault("__all__", []).append(_("没有这种通知方式：%(name)s。") % {"name": name})
            elif on and name not in available:
                errors.setdefault(f"{code}__{name}", []).append(str(refusals[Channel(name)]))
    if errors:
        raise ValidationError(errors)
    existing = {p.kind: p for p in Preference.objects.restrict(actor, "change").filter(kind__in=list(choices))}
    written = 0
    for code, wanted in choices.items():
        kind = offered[code]
        preference = existing.get(code) or Preference(
            user=actor, kind=code, email=Channel.EMAIL in kind.channels, sms=Channel.SMS in kind.channels
        )
        email = bool(wanted.get(Channel.EMAIL, preference.email))
        sms = bool(wanted.get(Channel.SMS, preference.sms))
        if preference.pk is not None and (preference.email, preference.sms) == (email, sms):
            continue
        preference.email, preference.sms, preference.updated_at = email, sms, timezone.now()
        preference.full_clean(validate_unique=False)
        audit_stamp(preference, actor)
        preference.save()
        written += 1
    return written


# --- platform-health alerts (T/CECS 8.2.4) ----------------------------------------------


def operators() -> Any:
    """The active operators (the platform's 运维人员): people holding the operator role,
    and superusers."""

    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(role_grants__role=Role.OPERATOR))
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def health_alerts_check(*, problems: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Compare what is wrong now (``problems``: code → sentence, by default
    ``health.health_problems()``) with the incidents still open: a problem that was not
    open opens an incident and alerts every active operator; an open incident whose
    problem is gone is closed with a "recovered" notice; a problem that persists says
    nothing more. Returns the codes ``opened`` and ``cleared``."""

    if problems is None:
        from .health import health_problems

        problems = health_problems()
    now = timezone.now()
    open_ = {i.problem: i for i in HealthIncident.objects.select_for_update().filter(cleared_at__isnull=True)}
    recipients = list(operators().values_list("pk", flat=True))
    opened, cleared = [], []
    for code, detail in problems.items():
        if code in open_:
            continue
        HealthIncident.objects.create(problem=code, detail=_cut(detail, 500), opened_at=now)
        label = HealthProblem(code).label
        notify(
            recipients=recipients,
            kind=KIND_OF_PROBLEM[HealthProblem(code)],
            subject=_("【运维告警】%(problem)s") % {"problem": label},
            body=_("%(detail)s\n发现时间：%(at)s。问题消除后将另行通知。")
            % {"detail": detail, "at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
        )
        opened.append(code)
    for code, incident in open_.items():
        if code in problems:
            continue
        incident.cleared_at = now
        incident.save(update_fields=["cleared_at"])
        minutes = int((now - incident.opened_at).total_seconds() // 60)
        notify(
            recipients=recipients,
            kind=HEALTH_RECOVERED,
            subject=_("【已恢复】%(problem)s") % {"problem": HealthProblem(code).label},
            body=_("%(detail)s\n该问题已消除，持续约 %(minutes)d 分钟。")
            % {"detail": incident.detail, "minutes": minutes},
        )
        cleared.append(code)
    return {"opened": opened, "cleared": cleared}
