"""Result feedback (T/CECS 6.0.6).

* Every batch call answers per record: ``{"index", "status": "accepted", "id"}`` or
  ``{"index", "status": "rejected", "code", "message"}``.
* Long processing answers 202 with a ``Receipt`` the client polls
  (``GET /api/v1/exchange/receipts/{id}``); a job runs the receipt's operation, declared
  by its app (``InspectaAppConfig.receipt_operations``, e.g. ``reports.batch``), as the
  calling client; when it finishes, the platform POSTs the receipt to the client's
  callback URL, signed per RFC 9421 with the platform's Ed25519 key
  (``GET /api/v1/exchange/platform-keys``), retried with exponential backoff.
"""

from __future__ import annotations

import base64
import json
import logging
import random
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.actors import Actor, actor_of
from inspecta.core.appconfig import receipt_handler
from inspecta.core.audit import current_client, current_request_id
from inspecta.core.errors import AppError, ErrorCode

from .choices import DeliveryStatus, ReceiptStatus
from .crypto import new_platform_key, open_platform_key
from .models import CallbackDelivery, PlatformKey, Receipt
from .signatures import sign_message

logger = logging.getLogger("inspecta.exchange")

__all__ = [
    "callback_attempt",
    "platform_key_active",
    "platform_public_keys",
    "receipt_create",
    "receipt_document",
    "receipt_process",
    "retry_delay",
]


@transaction.atomic
def receipt_create(*, actor: Any, operation: str, request: dict[str, Any]) -> Receipt:
    """Accept ``request`` for the receipt operation ``operation``, to run later as the
    client and key of ``actor`` (the signed caller); the job is queued after commit."""

    actor = actor_of(actor)
    if not actor.is_client:
        raise AppError(ErrorCode.FORBIDDEN, _("异步受理仅适用于签名调用的接入系统。"))
    receipt = Receipt.objects.create(client=actor.client, key=actor.key, operation=operation, request=request)
    from . import tasks

    transaction.on_commit(lambda: tasks.process_receipt(str(receipt.pk)))
    return receipt


def _receipt_finish(receipt: Receipt, *, results: list[dict[str, Any]], error: dict[str, Any] | None) -> Receipt:
    receipt.results = results
    receipt.error = error
    receipt.status = ReceiptStatus.FAILED if error is not None else ReceiptStatus.SUCCEEDED
    receipt.finished_at = timezone.now()
    receipt.save(update_fields=["results", "error", "status", "finished_at"])
    if receipt.client.callback_url:
        delivery = CallbackDelivery.objects.create(receipt=receipt, url=receipt.client.callback_url)
        from . import tasks

        transaction.on_commit(lambda: tasks.deliver_callback(delivery.pk))
    return receipt


def _run(receipt: Receipt) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The declared handler of the receipt's operation, run as the client and key that
    made the call: ``(results, None)``, or ``([], error)`` when it refused or failed (its
    writes then undone)."""

    handler = receipt_handler(receipt.operation)
    if handler is None:
        message = _("平台不支持操作“%(operation)s”，该回执无法处理。") % {"operation": receipt.operation}
        return [], {"code": ErrorCode.UNKNOWN_OPERATION.value, "message": message}
    actor = Actor.for_client(receipt.client, receipt.key)
    # every audit row the job writes names the client, and the receipt as its request
    client_token = current_client.set(receipt.client)
    request_token = current_request_id.set(f"receipt:{receipt.pk}")
    try:
        with transaction.atomic():
            return handler(request=receipt.request, actor=actor), None
    except AppError as exc:
        return [], {"code": exc.code.value, "message": exc.message}
    except PermissionDenied as exc:
        return [], {"code": ErrorCode.FORBIDDEN.value, "message": str(exc) or _("无权执行该操作。")}
    except Exception:
        logger.exception("receipt %s: operation %s failed", receipt.pk, receipt.operation)
        return [], {"code": ErrorCode.INTERNAL_ERROR.value, "message": _("处理时发生内部错误，请稍后重新提交。")}
    finally:
        current_request_id.reset(request_token)
        current_client.reset(client_token)


@transaction.atomic
def receipt_process(*, receipt_id: str) -> Receipt:
    """Do the work behind a receipt, dispatched by its ``operation`` to the handler an
    app declares (``InspectaAppConfig.receipt_operations``), and queue the callback. An
    operation no app declares, a refusal or an error fails the receipt with a message;
    the receipt always finishes."""

    receipt = (
        Receipt.objects.select_for_update(of=("self",))  # the key is an outer join: lock the receipt alone
        .select_related("client__organisation__region", "key")
        .get(pk=receipt_id)
    )
    if receipt.status in (ReceiptStatus.SUCCEEDED, ReceiptStatus.FAILED):
        return receipt
    results, error = _run(receipt)
    return _receipt_finish(receipt, results=results, error=error)


def receipt_document(receipt: Receipt) -> dict[str, Any]:
    return {
        "event": "receipt.finished",
        "receipt_id": str(receipt.pk),
        "operation": receipt.operation,
        "status": receipt.status,
        "finished_at": receipt.finished_at.isoformat() if receipt.finished_at else None,
        "results": receipt.results,
        "error": receipt.error,
    }


# --------------------------------------------------------------- platform key


def platform_key_active() -> PlatformKey:
    key = PlatformKey.objects.filter(is_active=True).order_by("-created_at").first()
    if key is not None:
        return key
    with transaction.atomic():
        existing = PlatformKey.objects.select_for_update().filter(is_active=True).first()
        if existing is not None:
            return existing
        sealed, public = new_platform_key()
        origin = settings.PUBLIC_BASE_URL.split("://", 1)[-1].replace("/", "_")
        return PlatformKey.objects.create(
            key_id=f"inspecta-platform-{origin}-{timezone.now():%Y%m%d%H%M%S}",
            sealed_private_key=sealed,
            public_key=public,
        )


def platform_public_keys() -> list[dict[str, Any]]:
    platform_key_active()
    return [
        {
            "keyid": key.key_id,
            "alg": "ed25519",
            "public_key": base64.b64encode(bytes(key.public_key)).decode("ascii"),
            "active": key.is_active,
            "created_at": key.created_at.isoformat(),
        }
        for key in PlatformKey.objects.order_by("-created_at")
    ]


# ------------------------------------------------------------------ callbacks


def retry_delay(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1-based): doubling from the base, with jitter."""

    base = settings.INSPECTA_CALLBACK_RETRY_DELAY * (2 ** max(0, attempt - 1))
    return int(min(base, 6 * 3600) * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret


def callback_attempt(*, delivery_id: int) -> bool | None:
    """One attempt; ``True`` delivered, ``False`` retry later, ``None`` gave up or nothing to do."""

    delivery = CallbackDelivery.objects.select_related("receipt").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    body = json.dumps(receipt_document(delivery.receipt), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    key = platform_key_active()
    headers = sign_message(
        method="POST",
        url=delivery.url,
        body=body,
        key_id=key.key_id,
        private_key=open_platform_key(key.sealed_private_key),
        headers={"Content-Type": "application/json"},
    )
    status_code: int | None = None
    error = ""
    try:
        response = requests.post(delivery.url, data=body, headers=headers, timeout=10, allow_redirects=False)
        status_code = response.status_code
        ok = 200 <= response.status_code < 300
        if not ok:
            error = f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        ok = False
        error = str(exc)[:255]
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {"attempts": attempts, "last_status_code": status_code, "last_error": error[:255]}
    if ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now())
    elif attempts >= settings.INSPECTA_CALLBACK_MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED)
    CallbackDelivery.objects.filter(pk=delivery.pk).update(**fields)
    if ok:
        return True
    return None if attempts >= settings.INSPECTA_CALLBACK_MAX_ATTEMPTS else False
