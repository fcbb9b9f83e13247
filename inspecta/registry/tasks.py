"""Nightly recomputation of the conformity findings and background
Excel imports; the jobs call the services and hold no logic (STYLE.md 7)."""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import conformity, imports


@db_periodic_task(crontab(hour=str(settings.INSPECTA_REGISTRY_CHECK_HOUR), minute="17"))
def registry_findings_nightly() -> dict[str, int]:
    """Calibrations and certificates expire without anyone editing: re-check every agency."""

    return conformity.findings_recompute_all()


@db_task()
def registry_import_run(job_id: int) -> str:
    """A large staff or equipment import, with its progress recorded on the job."""

    return str(imports.import_job_run(job_id).status)
