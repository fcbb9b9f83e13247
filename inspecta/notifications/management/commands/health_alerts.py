"""``manage.py health_alerts``: the platform-health check of the periodic job, for the
system's cron, so that the operators hear of a job consumer that is gone altogether (the
periodic job runs on that consumer; T/CECS 8.2.4)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from inspecta.notifications.services import health_alerts_check


class Command(BaseCommand):
    help = "检查平台运行状态，问题出现或消除时通知运维人员（与每 10 分钟的后台任务相同）。"

    def handle(self, *args: Any, **options: Any) -> None:
        result = health_alerts_check()
        self.stdout.write(f"opened: {','.join(result['opened']) or '-'}; cleared: {','.join(result['cleared']) or '-'}")
