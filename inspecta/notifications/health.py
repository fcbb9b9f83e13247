"""The facts the platform-health alerts watch (T/CECS 8.2.4 "实时监测平台运行、数据存储、
数据交换……等状态"), read as ``/readyz`` reads them (``core.health``) but against the
alert thresholds of the settings:

* jobs: the job consumer's heartbeat (written every minute into the shared cache) older
  than ``INSPECTA_ALERT_CONSUMER_STALE_SECONDS``, or more than
  ``INSPECTA_ALERT_JOBS_PENDING`` jobs waiting in the queue;
* sequencer: a transparency-log entry waiting for its index longer than
  ``INSPECTA_ALERT_SEQUENCER_LAG_SECONDS``;
* disk: less than ``INSPECTA_ALERT_DISK_FREE_MB`` megabytes or
  ``INSPECTA_ALERT_DISK_FREE_PERCENT`` per cent free on the disk of ``INSPECTA_VAR_DIR``
  (the SQLite databases, the job queue, the media files of the embedded footprint).

Each check answers what is wrong in one sentence, or ``None``; a check that cannot read
its fact says so (that is a problem too).
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.health import HEARTBEAT_KEY

from .choices import HealthProblem

__all__ = ["disk_problem", "health_problems", "jobs_problem", "sequencer_problem"]


def jobs_problem() -> str | None:
    if settings.HUEY.get("immediate"):
        return None  # jobs run inside the request: there is no consumer to watch
    try:
        from huey.contrib.djhuey import HUEY

        beat = cache.get(HEARTBEAT_KEY)
        pending = HUEY.pending_count()
    except Exception as exc:  # an unreadable fact is itself the problem to report
        return _("无法读取任务队列状态：%(error)s") % {"error": exc.__class__.__name__}
    stale = settings.INSPECTA_ALERT_CONSUMER_STALE_SECONDS
    if beat is None:
        return _("没有正在运行的任务处理进程（无心跳）。")
    age = int(time.time() - float(beat))
    if age > stale:
        return _("任务处理进程已 %(age)d 秒无心跳（阈值 %(limit)d 秒）。") % {"age": age, "limit": stale}
    if pending > settings.INSPECTA_ALERT_JOBS_PENDING:
        return _("待处理任务积压 %(n)d 个（阈值 %(limit)d 个）。") % {
            "n": pending,
            "limit": settings.INSPECTA_ALERT_JOBS_PENDING,
        }
    return None


def sequencer_problem() -> str | None:
    from inspecta.ledger.models import Entry

    lag = settings.INSPECTA_ALERT_SEQUENCER_LAG_SECONDS
    try:
        behind = Entry.objects.filter(
            index__isnull=True, created_at__lt=timezone.now() - timedelta(seconds=lag)
        ).count()
    except Exception as exc:  # an unreadable fact is itself the problem to report
        return _("无法读取存证日志：%(error)s") % {"error": exc.__class__.__name__}
    if behind:
        return _("%(n)d 条存证日志超过 %(limit)d 秒未排序。") % {"n": behind, "limit": lag}
    return None


def disk_problem() -> str | None:
    try:
        usage = shutil.disk_usage(settings.VAR_DIR)
    except OSError as exc:
        return _("无法读取数据目录所在磁盘：%(error)s") % {"error": exc.__class__.__name__}
    free_mb = usage.free // (1024 * 1024)
    percent = 100 * usage.free / usage.total if usage.total else 0.0
    if free_mb < settings.INSPECTA_ALERT_DISK_FREE_MB or percent < settings.INSPECTA_ALERT_DISK_FREE_PERCENT:
        return _("数据目录所在磁盘剩余 %(mb)d MB（%(pct).1f%%），低于阈值 %(limit_mb)d MB 或 %(limit_pct)s%%。") % {
            "mb": free_mb,
            "pct": percent,
            "limit_mb": settings.INSPECTA_ALERT_DISK_FREE_MB,
            "limit_pct": settings.INSPECTA_ALERT_DISK_FREE_PERCENT,
        }
    return None


CHECKS = {
    HealthProblem.JOBS: jobs_problem,
    HealthProblem.SEQUENCER: sequencer_problem,
    HealthProblem.DISK: disk_problem,
}


def health_problems() -> dict[str, str]:
    """What is wrong now: the problem's code and its sentence, for each check that finds one."""

    found = {}
    for code, check in CHECKS.items():
        detail = check()
        if detail:
            found[str(code)] = detail
    return found
