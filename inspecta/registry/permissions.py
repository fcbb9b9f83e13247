"""Who may do what with an agency's registry records: the predicates that services,
views, templates and the API share (Guangdong 附件2 一(一)-(二); T/CECS 4.1.1).

Row questions read ``AGENCY_SCOPING`` (``inspecta.registry.models``) through
:func:`inspecta.core.scoping.permits`."""

from __future__ import annotations

from typing import Any

from inspecta.core.actors import actor_of
from inspecta.core.permissions import is_agency
from inspecta.core.scoping import permits

__all__ = ["acts_for_agency", "may_change", "may_review"]


def acts_for_agency(who: Any, agency: Any) -> bool:
    """Acts for ``agency``: one of its people or its LIMS (an agency's own reports,
    contracts and uploads)."""

    actor = actor_of(who)
    return bool(is_agency(actor) and agency is not None and actor.organisation_id == agency.organisation_id)


def may_review(who: Any, agency: Any) -> bool:
    """Reviews ``agency``: the authority of its registration region below province level."""

    return permits(who, agency, "review")


def may_change(who: Any, agency: Any) -> bool:
    """Changes ``agency``'s records: its admin (operators too)."""

    return permits(who, agency, "change")
