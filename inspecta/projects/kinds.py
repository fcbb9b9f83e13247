"""The ``contract`` log kind (CONTRACT §5; T/CECS 4.3.3-2): ids, dates, amount, items and
the scan's SHA-256; no names of people (the log is public)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.ledger.registry import Rendered, Subject, register_kind

from .choices import ProjectLogKind
from .models import Contract


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


register_kind(ProjectLogKind.CONTRACT, render=render_contract, describe=describe_contract)
