"""Nightly recomputation of the conformity findings (issue 6 point 5); the job calls the
service and holds no logic (STYLE.md 7)."""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import conformity


@db_periodic_task(crontab(hour=str(settings.INSPECTA_REGISTRY_CHECK_HOUR), minute="17"))
def registry_findings_nightly() -> dict[str, int]:
    """Calibrations and certificates expire without anyone editing: re-check every agency."""

    return conformity.findings_recompute_all()
