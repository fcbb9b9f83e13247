"""Exchange clients, their keys and traffic (T/CECS 6.0.1-6.0.8, 8.2.4; CONTRACT §2-4).

* ``AccessApplication`` -> approved -> ``ExchangeClient`` with ``ClientKey`` rows.
* ``SignatureNonce``, ``IdempotencyRecord``: short-lived anti-replay and replay stores.
* ``Upload`` (a tus upload in progress) -> ``core.StoredFile`` (the finished, referenced file).
* ``Receipt``/``CallbackDelivery``: result feedback for long processing (T/CECS 6.0.6).
* ``CallLog`` (append-only, one row per call) and ``AnomalyFinding`` (monitoring).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField

from inspecta.core.audit import AuditRowImmutable, audited
from inspecta.core.decisions import Decision
from inspecta.core.findings import SEVERITY_CHOICES, Finding
from inspecta.core.permissions import is_member, is_operator, is_regulator
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import (
    ApplicationStatus,
    AuthMethod,
    DeliveryStatus,
    FindingKind,
    KeyStatus,
    ReceiptStatus,
    UploadState,
)

__all__ = [
    "AccessApplication",
    "AnomalyFinding",
    "CallLog",
    "CallbackDelivery",
    "ClientKey",
    "ExchangeClient",
    "IdempotencyRecord",
    "PlatformKey",
    "Receipt",
    "SignatureNonce",
    "Upload",
]


EXCHANGE_SCOPING = Scoping(
    region="organisation__region__code",
    organisation="organisation_id",
    grants={
        # operators see everything (they run the node's exchange traffic), regulators the
        # organisations of their region, everyone else their own organisation's only;
        # only the owning organisation acts on its records
        "view": (
            Grant(Reach.ALL, is_operator),
            Grant(Reach.REGION, is_regulator),
            Grant(Reach.OWN, is_member),
        ),
        "change": (Grant(Reach.OWN, is_operator | is_member),),
    },
)
"""Who sees an exchange record owned by an organisation."""


class AccessApplication(Decision):
    """An organisation's application for exchange access (T/CECS 6.0.7-6.0.8): the system,
    its callback endpoint, the auth method, contacts and the scopes it asks for. The
    competent authority of the organisation's region approves or rejects it with reasons."""

    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+"
    )
    system_name = models.CharField(_("系统名称"), max_length=200)
    callback_url = models.URLField(_("回调地址"), max_length=500, blank=True)
    auth_method = models.CharField(_("认证方式"), max_length=16, choices=AuthMethod.choices)
    contact_name = models.CharField(_("联系人"), max_length=64)
    contact_phone = models.CharField(_("联系电话"), max_length=32)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    scopes = models.JSONField(_("申请权限"), default=list)
    reason = models.TextField(_("申请说明"), blank=True)
    status = FSMField(
        _("状态"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING, db_index=True
    )
    history = audited()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("接入申请")
        verbose_name_plural = _("接入申请")
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.system_name}"

    scoping = EXCHANGE_SCOPING


class ExchangeClient(models.Model):
    """A machine that calls the exchange API for an organisation (an agency LIMS, a city
    platform). Created when its application is approved; its scopes are what was granted."""

    application = models.OneToOneField(
        AccessApplication, verbose_name=_("接入申请"), on_delete=models.PROTECT, related_name="client"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("系统名称"), max_length=200)
    callback_url = models.URLField(_("回调地址"), max_length=500, blank=True)
    auth_method = models.CharField(_("认证方式"), max_length=16, choices=AuthMethod.choices)
    scopes = models.JSONField(_("授权范围"), default=list)
    is_active = models.BooleanField(_("启用"), default=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("每分钟调用上限"), default=600)
    expect_calls_every_minutes = models.PositiveIntegerField(
        _("预期调用间隔（分钟）"), default=0, help_text=_("超过该时长无调用即产生异常提示；0 表示不监测。")
    )
    last_seen_at = models.DateTimeField(_("最近调用"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    history = audited(excluded_fields=["last_seen_at"])
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("接入方")
        verbose_name_plural = _("接入方")
        ordering = ["organisation_id", "name", "id"]

    def __str__(self) -> str:
        return self.name

    scoping = EXCHANGE_SCOPING


class ClientKey(models.Model):
    """A signing key of a client (CONTRACT §2). ``key_id`` is the RFC 9421 ``keyid``.

    HMAC secrets are stored sealed (Fernet under a key derived from
    ``INSPECTA_EXCHANGE_KEY_SECRET``), so a database dump does not reveal them; Ed25519
    keys store only the client's public key. A key is valid while not revoked and before
    ``not_after`` (set when a rotation starts the overlap period).

    An HMAC secret is shown once, to an admin of the client's own organisation
    (``services.key_secret_reveal``), never to the authority that approved it; until
    then it is *pending* (``secret_revealed_at`` empty), afterwards it is never shown
    again (``secret_revealed_at``/``secret_revealed_by`` say when and to whom)."""

    client = models.ForeignKey(ExchangeClient, verbose_name=_("接入方"), on_delete=models.PROTECT, related_name="keys")
    key_id = models.CharField(_("密钥标识"), max_length=64, unique=True)
    algorithm = models.CharField(_("算法"), max_length=16, choices=AuthMethod.choices)
    sealed_secret = models.BinaryField(_("加密存储的密钥"), null=True, blank=True, editable=False)
    public_key = models.TextField(_("公钥"), blank=True)
    status = models.CharField(_("状态"), max_length=24, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    not_after = models.DateTimeField(_("失效时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("吊销原因"), max_length=255, blank=True)
    secret_revealed_at = models.DateTimeField(_("密钥领取时间"), null=True, blank=True)
    secret_revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("密钥领取人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = audited(excluded_fields=["sealed_secret"])
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("接入密钥")
        verbose_name_plural = _("接入密钥")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key_id

    scoping = EXCHANGE_SCOPING.via("client")

    @property
    def secret_pending(self) -> bool:
        """An HMAC secret that waits for its one showing to the organisation's admin."""
        return (
            self.algorithm == AuthMethod.HMAC_SHA256
            and self.secret_revealed_at is None
            and self.status in (KeyStatus.ACTIVE, KeyStatus.RETIRING)
        )

    def is_valid_at(self, moment: Any) -> bool:
        if self.status not in (KeyStatus.ACTIVE, KeyStatus.RETIRING):
            return False
        return self.not_after is None or moment < self.not_after


class SignatureNonce(models.Model):
    """A nonce seen in a valid signature, kept until the signature expires (replay store of
    the embedded footprint; Redis keeps them when configured)."""

    key_id = models.CharField(max_length=64)
    nonce = models.CharField(max_length=128)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key_id", "nonce"], name="exchange_nonce_unique")]

    def __str__(self) -> str:
        return f"{self.key_id} {self.nonce}"


class IdempotencyRecord(models.Model):
    """The first response to an ``Idempotency-Key`` (CONTRACT §3), per client or user."""

    owner = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    operation = models.CharField(max_length=255)
    running = models.BooleanField(default=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=128, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="exchange_idempotency_unique")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class PlatformKey(models.Model):
    """The node's own Ed25519 key that signs callbacks (RFC 9421), sealed at rest."""

    key_id = models.CharField(max_length=64, unique=True)
    sealed_private_key = models.BinaryField(editable=False)
    public_key = models.BinaryField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("平台签名密钥")
        verbose_name_plural = _("平台签名密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key_id


class Upload(models.Model):
    """A tus upload in progress (CONTRACT §4). The offset lives here, so a restarted server
    resumes where the client left off; the bytes live in a partial file on local disk."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(ExchangeClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=UploadState.choices, default=UploadState.RECEIVING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    stored_file = models.ForeignKey(
        "core.StoredFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("上传任务")
        verbose_name_plural = _("上传任务")

    def __str__(self) -> str:
        return f"{self.pk} {self.offset}/{self.length}"


class Receipt(models.Model):
    """The receipt of a call whose processing continues after the response (T/CECS 6.0.6):
    the client polls it, or receives a signed callback when it finishes.

    ``operation`` names a receipt operation an app declares
    (``InspectaAppConfig.receipt_operations``); the job runs it as the client and key
    that made the call. ``error`` says why a failed receipt failed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(ExchangeClient, on_delete=models.PROTECT, related_name="receipts")
    key = models.ForeignKey(
        ClientKey, verbose_name=_("签名密钥"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    operation = models.CharField(_("操作"), max_length=64)
    status = models.CharField(_("状态"), max_length=16, choices=ReceiptStatus.choices, default=ReceiptStatus.PENDING)
    request = models.JSONField(_("请求内容"), default=dict)
    results = models.JSONField(_("逐条结果"), default=list)
    error = models.JSONField(_("失败原因"), null=True, blank=True)
    created_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    objects = RestrictedQuerySet.as_manager()

    # reached like its client; the API shows a client its own receipts only
    scoping = EXCHANGE_SCOPING.via("client")

    class Meta:
        verbose_name = _("受理回执")
        verbose_name_plural = _("受理回执")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.operation} {self.pk}"


class CallbackDelivery(models.Model):
    """One signed notification to a client's callback URL, retried with backoff."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField(max_length=500)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.url} #{self.attempts}"


class CallLog(models.Model):
    """One exchange call (T/CECS 6.0.3-6.0.4, 8.2.4). Append-only: the application refuses
    to change or delete rows (retention is a partition drop on PostgreSQL). Indexed for the
    questions asked of it at millions of rows: per client over time, per operation over
    time, and errors over time."""

    at = models.DateTimeField(default=timezone.now)
    client_id = models.BigIntegerField(null=True, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True)
    region = models.CharField(max_length=6, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    operation = models.CharField(max_length=128)
    method = models.CharField(max_length=8)
    status = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=64, blank=True)
    latency_ms = models.FloatField()
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("调用日志")
        verbose_name_plural = _("调用日志")
        indexes = [
            models.Index(fields=["at"], name="exchange_calllog_at"),
            models.Index(fields=["client_id", "at"], name="exchange_calllog_client_at"),
            models.Index(fields=["operation", "at"], name="exchange_calllog_op_at"),
            models.Index(fields=["region", "at"], name="exchange_calllog_region_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.operation} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditRowImmutable("call log rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditRowImmutable("call log rows cannot be deleted")


class AnomalyFinding(Finding):
    """Something the monitoring noticed about a client (T/CECS 6.0.4 异常预警): ``rule``
    is the kind of anomaly, ``measures`` the numbers behind it; it belongs to the region
    of the client's organisation."""

    clause = "T/CECS 6.0.4"
    rules = FindingKind
    subject_paths = {"organisation": "client__organisation_id"}

    client = models.ForeignKey(ExchangeClient, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(_("类型"), max_length=16, choices=FindingKind.choices, db_index=True)
    severity = models.CharField(
        _("严重程度"), max_length=16, choices=SEVERITY_CHOICES, default=Severity.WARNING.value, db_index=True
    )
    measures = models.JSONField(_("详情"), default=dict)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("异常提示")
        verbose_name_plural = _("异常提示")
        ordering = ["-since"]

    def __str__(self) -> str:
        return f"{self.client_id} {self.rule}"

    @classmethod
    def of(cls, client: ExchangeClient, *, rule: str, measures: dict) -> AnomalyFinding:
        """An unsaved finding about ``client``."""

        return cls(
            client=client,
            rule=rule,
            measures=measures,
            subject=client.name[:255],
            key=f"client:{client.pk}",
            detail=str(FindingKind(rule).label),
            region=client.organisation.region_id,
        )

    def region_code(self) -> str:
        return self.client.organisation.region_id

    scoping = EXCHANGE_SCOPING.via("client")
