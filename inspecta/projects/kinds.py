"""The log kinds of projects (CONTRACT §5; no names of people: the log is public):

- ``contract`` (T/CECS 4.3.3-2): ids, dates, amount, items and the scan's SHA-256;
- ``inspection_plan`` (Nanchang 二(三); Guangxi 第十条): each version of an on-site
  inspection plan, read from the version's own snapshot: ids (plan, version, agency,
  project, contract, testers as staff ids), the test item's code, the planned times, the
  quantity, the status, the filing time and the document's SHA-256.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.ledger.registry import Rendered, Subject, register_kind

from .choices import ProjectLogKind
from .models import Contract, InspectionPlanVersion


def render_contract(contract: Contract) -> Rendered:
    return Rendered(
        {
            "project": contract.project_id,
            "agency": contract.agency_id,
            "number": contract.number,
            "amount": str(contract.amount),
            "signed_on": contract.signed_on.isoformat(),
            "valid_from": contract.valid_from.isoformat(),
            "valid_until": contract.valid_until.isoformat(),
            "test_items": sorted(contract.test_items.values_list("code", flat=True)),
            "allows_additional_agency": contract.allows_additional_agency,
            "scan": str(contract.scan_id),
        },
        files=(("contract_scan", {"sha256": contract.scan_sha256}),),
    )


def describe_contract(contract: Contract) -> Subject:
    """A contract by its number, on its project's page (the log explorer)."""
    return Subject(
        _("合同 %(number)s（%(project)s）") % {"number": contract.number, "project": contract.project.name},
        reverse("projects:project_detail", args=[contract.project_id]),
        by=contract.uploaded_by,  # None over the API: the history names the client
    )


def render_plan_version(v: InspectionPlanVersion) -> Rendered:
    from inspecta.ledger.services import format_time

    data = v.data
    return Rendered(
        {
            "plan": v.plan_id,
            "version": v.number,
            "agency": data["agency"],
            "project": data["project"],
            "contract": data["contract"],
            "test_item": data["test_item"],
            "testers": data["testers"],
            "planned_start": data["planned_start"],
            "planned_end": data["planned_end"],
            "quantity": data["quantity"],
            "quantity_unit": data["quantity_unit"],
            "status": data["status"],
            "filed_at": format_time(v.filed_at),
            "document": str(v.document_id),
        },
        files=(("plan_document", {"sha256": v.document_sha256}),),
    )


def describe_plan_version(v: InspectionPlanVersion) -> Subject:
    """A plan version on the plan's page (the log explorer)."""
    return Subject(
        _("检测方案 %(id)s 第 %(n)s 版（%(project)s）")
        % {"id": v.plan_id, "n": v.number, "project": v.plan.project.name},
        reverse("projects:plan_detail", args=[v.plan_id]),
        by=v.filed_by or v.client,
    )


register_kind(ProjectLogKind.CONTRACT, render=render_contract, describe=describe_contract)
register_kind(ProjectLogKind.INSPECTION_PLAN, render=render_plan_version, describe=describe_plan_version)
