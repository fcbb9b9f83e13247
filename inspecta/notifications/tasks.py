"""Jobs of notifications (huey); they call services and hold no logic (STYLE.md 7)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import services


@db_task(retries=3, retry_delay=60)
def delivery_send(delivery_id: int) -> str:
    """Send one e-mail or SMS of a notification (T/CECS 8.2.4). A failure is recorded on
    the delivery and raised, so huey tries again a minute later, three times at most."""

    return services.delivery_attempt(delivery_id=delivery_id)


# Ahead of the queue (priority): when the queue is clogged, the check still runs and sees it.
@db_periodic_task(crontab(minute="*/10"), priority=100)
@lock_task("notifications-health")
def notifications_health() -> dict[str, list[str]]:
    """Every ten minutes: the platform-health facts against the alert thresholds; the
    operators are told once when a problem starts and once when it clears (T/CECS 8.2.4)."""

    return services.health_alerts_check()
