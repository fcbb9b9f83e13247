"""The kinds of notification this app sends itself: the platform-health alerts to the
operators (T/CECS 8.2.4: "当监测数据超过预警值时，应通过短信、邮件等方式自动通知运维人员")."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from inspecta.core.permissions import is_operator

from .catalog import NotificationKind
from .choices import Channel, HealthProblem

HEALTH_JOBS = "health_jobs_stuck"
HEALTH_SEQUENCER = "health_sequencer_behind"
HEALTH_DISK = "health_disk_low"
HEALTH_RECOVERED = "health_recovered"

KIND_OF_PROBLEM = {
    HealthProblem.JOBS: HEALTH_JOBS,
    HealthProblem.SEQUENCER: HEALTH_SEQUENCER,
    HealthProblem.DISK: HEALTH_DISK,
}

_ALERT = (Channel.EMAIL, Channel.SMS)

KINDS = (
    NotificationKind(
        HEALTH_JOBS, _("运维告警：后台任务停滞"), _ALERT, is_operator, _("任务处理进程无心跳或待办任务积压。")
    ),
    NotificationKind(
        HEALTH_SEQUENCER, _("运维告警：存证日志排序滞后"), _ALERT, is_operator, _("存证日志条目长时间未排序。")
    ),
    NotificationKind(
        HEALTH_DISK, _("运维告警：磁盘空间不足"), _ALERT, is_operator, _("数据目录所在磁盘剩余空间过低。")
    ),
    NotificationKind(HEALTH_RECOVERED, _("运维告警：已恢复"), (Channel.EMAIL,), is_operator, _("告警的问题已消除。")),
)
