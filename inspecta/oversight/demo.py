"""Demo warnings and a closure: the findings the other apps' demo data leaves (a plan filed
late, a sampling confirmed after its window...) become warnings assigned to 天河区住房和建设
水务局; 广州建科 (``gz_agency``) signs for one and reports how it handled another, so the
reviewer (``th_admin``, or ``gz_supervisor`` who sees the city) finds one to review; for
the demo's nonconforming report it reports that the batch left the site, waiting for the
station's confirmation. Built through the services. Idempotent."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.models import User

from . import services
from .choices import WarningStatus
from .models import Warning, WarningEvent


def oversight_demo() -> tuple[int, list[Any]]:
    services.warnings_sync()  # the findings the other demos wrote in bulk
    added = _closure_demo()
    agency = User.objects.filter(username="gz_agency").first()
    if agency is None or WarningEvent.objects.filter(by=agency).exists():
        return added, []
    own = list(Warning.objects.restrict(agency, "answer").filter(status=WarningStatus.OPEN).order_by("pk")[:2])
    if own:
        services.warning_step(actor=agency, warning=own[0], step="acknowledge")
        added += 1
    if len(own) > 1:
        services.warning_step(
            actor=agency,
            warning=own[1],
            step="handle",
            note="已核查：该检测方案因施工单位临时调整现场检测时间而补报，已要求项目检测负责人今后提前报送，并组织相关人员学习报送时限要求。",
        )
        added += 1
    return added, []


def _closure_demo() -> int:
    from django.utils import timezone

    from inspecta.reports.models import NonconformanceEntry

    agency = User.objects.filter(username="gz_agency").first()
    if agency is None:
        return 0
    entry = (
        NonconformanceEntry.objects.filter(agency__organisation_id=agency.organisation_id, closed_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if entry is None or entry.closures.exists():
        return 0
    services.closure_submit(
        actor=agency,
        entry=entry,
        parties=["owner", "supervising_firm", "contractor"],
        notified_at=timezone.now(),
        action="removed",
        description="已于当日电话及书面告知建设、监理、施工单位；该批水泥已退场，退场记录及影像见附件，新进场批次另行见证取样送检。",
    )
    return 1
