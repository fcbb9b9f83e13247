"""Jobs of the exchange app; they call services and hold no logic (STYLE.md 7)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import feedback, housekeeping, monitoring
from .idempotency import idempotency_purge


@db_task()
def process_receipt(receipt_id: str) -> None:
    """Long processing behind a receipt (T/CECS 6.0.6)."""
    feedback.receipt_process(receipt_id=receipt_id)


@db_task()
def deliver_callback(delivery_id: int) -> bool | None:
    """One signed callback attempt; on failure the next is scheduled with backoff."""
    outcome = feedback.callback_attempt(delivery_id=delivery_id)
    if outcome is False:
        from .models import CallbackDelivery

        attempts = CallbackDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True).first() or 1
        deliver_callback.schedule((delivery_id,), delay=feedback.retry_delay(attempts))
    return outcome


@db_periodic_task(crontab(minute="*/5"))
@lock_task("exchange-housekeeping")
def exchange_housekeeping() -> dict[str, int]:
    """Expired nonces, idempotency keys and abandoned uploads go; uploads a crash left at
    their length without a file are finished, and partial files a crash left behind go
    (CONTRACT §2-4)."""
    return {
        "nonces": housekeeping.nonces_purge(),
        "idempotency": idempotency_purge(),
        "uploads": housekeeping.uploads_expire(),
        "uploads_recovered": housekeeping.uploads_recover(),
        "uploads_orphaned_removed": housekeeping.uploads_orphans_remove(),
    }


@db_periodic_task(crontab(minute="*/5"))
@lock_task("exchange-anomalies")
def exchange_anomalies() -> int:
    """Error-rate and silence findings (T/CECS 6.0.4)."""
    return len(monitoring.anomalies_scan())
