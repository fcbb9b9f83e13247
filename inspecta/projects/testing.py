"""Plan scenario builders for tests, browser tests and benchmarks of any app: an agency
party of a project with its contract, and the keyword arguments of a plan that passes
every check (STYLE.md 12)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.projects import services
from inspecta.projects.models import Contract, Project
from inspecta.registry.models import Agency

PILE = "OBJ-SP04-P3"
"""桩身完整性: an on-site test of the catalog."""


def contract_for(admin: User, agency: Agency, project: Project, number: str = "HT-PLAN") -> Contract:
    """A contract of ``agency`` on ``project`` covering the pile tests."""

    from inspecta.reports.testing import pdf_bytes, stored_file

    scan = stored_file(agency.organisation_id, pdf_bytes(number), name="contract.pdf")
    today = timezone.localdate()
    return services.contract_upload(
        actor=admin,
        agency=agency,
        project=project,
        number=number,
        client_name="某建设单位",
        amount="50000.00",
        signed_on=today,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
        test_items=[PILE],
        scan_id=scan.pk,
    )


def plan_kwargs(
    agency: Agency, contract: Contract, made: dict[str, Any], *, ahead: datetime.timedelta | None = None, **over: Any
) -> dict[str, Any]:
    """Keyword arguments of ``plan_file`` for a plan starting ``ahead`` from now (3 days
    by default: in time under every rule)."""

    from inspecta.reports.testing import pdf_bytes, stored_file

    start = timezone.now() + (ahead if ahead is not None else datetime.timedelta(days=3))
    data: dict[str, Any] = {
        "agency": agency,
        "project": contract.project,
        "contract_id": contract.pk,
        "test_item": PILE,
        "tester_ids": [made["staff"].pk],
        "planned_start": start,
        "planned_end": start + datetime.timedelta(hours=8),
        "quantity": 12,
        "quantity_unit": "根",
        "location": "1# 楼桩基",
        "document_id": stored_file(agency.organisation_id, pdf_bytes(f"plan {start}"), name="plan.pdf").pk,
    }
    data.update(over)
    return data
