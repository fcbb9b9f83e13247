"""Platform-health alerts (T/CECS 8.2.4): every active operator is told once when a
problem starts and once when it clears, never at every check while it lasts, and again
when it comes back; nobody else is told."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command

from inspecta.core.health import HEARTBEAT_KEY
from inspecta.notifications import services, tasks
from inspecta.notifications.health import health_problems, jobs_problem
from inspecta.notifications.models import HealthIncident, Notification
from inspecta.notifications.notices import HEALTH_DISK, HEALTH_RECOVERED
from inspecta.notifications.testing import operator

pytestmark = pytest.mark.django_db


def _alerts(user: Any, kind: str) -> int:
    return Notification.objects.filter(recipient=user, kind=kind).count()


def test_the_disk_alert_is_sent_once_per_onset(tree, settings, smtp, django_capture_on_commit_callbacks):
    second = operator(tree, "op2", email="op2@example.cn")
    ops = [tree["operator"], second]
    bystander = tree["gd_admin"]

    settings.INSPECTA_ALERT_DISK_FREE_PERCENT = 101.0  # no disk is that empty: the problem starts
    with django_capture_on_commit_callbacks(execute=True):
        assert services.health_alerts_check()["opened"] == ["disk"]
    assert [_alerts(op, HEALTH_DISK) for op in ops] == [1, 1]
    [(to, message)] = smtp.messages()
    assert to == ["op2@example.cn"] and str(message["Subject"]).lstrip() == "【运维告警】磁盘空间不足"
    assert "剩余" in message.get_content()

    for _ in range(3):  # it persists: nothing more
        with django_capture_on_commit_callbacks(execute=True):
            assert services.health_alerts_check() == {"opened": [], "cleared": []}
    assert [_alerts(op, HEALTH_DISK) for op in ops] == [1, 1] and len(smtp.messages()) == 1

    settings.INSPECTA_ALERT_DISK_FREE_PERCENT, settings.INSPECTA_ALERT_DISK_FREE_MB = 0.0, 0  # it clears
    with django_capture_on_commit_callbacks(execute=True):
        assert services.health_alerts_check()["cleared"] == ["disk"]
    assert [_alerts(op, HEALTH_RECOVERED) for op in ops] == [1, 1]
    assert HealthIncident.objects.get().cleared_at is not None

    settings.INSPECTA_ALERT_DISK_FREE_PERCENT = 101.0  # and comes back: told again
    with django_capture_on_commit_callbacks(execute=True):
        services.health_alerts_check()
    assert [_alerts(op, HEALTH_DISK) for op in ops] == [2, 2]
    assert HealthIncident.objects.filter(cleared_at__isnull=True).count() == 1
    assert not Notification.objects.filter(recipient=bystander).exists()


def test_a_silent_job_consumer_is_a_problem(settings):
    settings.HUEY = {**settings.HUEY, "immediate": False}  # as in production: a consumer must beat
    settings.INSPECTA_ALERT_CONSUMER_STALE_SECONDS = 300
    cache.delete(HEARTBEAT_KEY)
    assert "无心跳" in (jobs_problem() or "")
    cache.set(HEARTBEAT_KEY, time.time() - 900)
    assert "900" in (jobs_problem() or "") or "90" in (jobs_problem() or "")
    cache.set(HEARTBEAT_KEY, time.time())
    assert jobs_problem() is None
    settings.INSPECTA_ALERT_JOBS_PENDING = -1  # any queue is a backlog now
    assert "积压" in (jobs_problem() or "")


def test_no_problem_on_a_healthy_node(settings):
    settings.INSPECTA_ALERT_DISK_FREE_PERCENT, settings.INSPECTA_ALERT_DISK_FREE_MB = 0.0, 0
    assert health_problems() == {}


def test_the_check_runs_every_ten_minutes_and_from_cron(tree, settings, capsys):
    import datetime

    task = tasks.notifications_health
    assert task.s().validate_datetime(datetime.datetime(2026, 1, 1, 8, 30))
    assert not task.s().validate_datetime(datetime.datetime(2026, 1, 1, 8, 35))
    settings.INSPECTA_ALERT_DISK_FREE_PERCENT = 101.0
    assert task.call_local()["opened"] == ["disk"]
    assert _alerts(tree["operator"], HEALTH_DISK) == 1
    call_command("health_alerts")
    assert "opened: -" in capsys.readouterr().out
    assert _alerts(tree["operator"], HEALTH_DISK) == 1
