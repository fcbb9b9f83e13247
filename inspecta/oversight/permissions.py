"""Who may do what with warnings: the predicates that the scoping, services, views,
templates and the navigation share (T/CECS 4.3.4-6; Guangdong 附件2 二(十一)(十二))."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import Role
from inspecta.core.permissions import has_role, is_agency, is_client, is_operator, is_party, is_regulator, signed_in
from inspecta.core.scoping import permits

from .choices import UNHANDLED, WarningStatus

__all__ = [
    "may_answer",
    "may_answer_warnings",
    "may_decide",
    "may_decide_closure",
    "may_decide_warnings",
    "may_submit_closure",
    "may_view_warnings",
]

may_view_warnings = signed_in & (is_operator | is_regulator | is_agency | is_party)
"""Has a warning list at all (the navigation)."""

may_decide_warnings = is_operator | (
    is_regulator & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR, Role.STATION_INSPECTOR)
)
"""Reviews warnings of its region: signs for them, handles them itself, closes, dismisses,
returns and reopens them (the competent authority and the station)."""

may_answer_warnings = is_agency & (is_client | has_role(Role.AGENCY_ADMIN))
"""Answers the warnings about its own agency: signs for them and reports how it handled
them (the agency admin, or the agency's LIMS over the signed API)."""


def may_answer(who: Any, warning: Any) -> bool:
    """Signs for or reports the handling of ``warning``: the agency it is about, or a
    reviewer of its region, while it waits for its handling."""

    if warning.status not in UNHANDLED:
        return False
    return permits(who, warning, "answer") or permits(who, warning, "decide")


def may_decide(who: Any, warning: Any, action: str) -> bool:
    """Takes the reviewer's ``action`` (``close``, ``dismiss``, ``return``, ``reopen``) on
    ``warning`` in its present state."""

    allowed = {
        "close": warning.status == WarningStatus.HANDLED,
        "dismiss": warning.status in UNHANDLED,
        "return": warning.status == WarningStatus.HANDLED,
        "reopen": warning.status == WarningStatus.CLOSED,
    }
    return bool(allowed.get(action)) and permits(who, warning, "decide")


def may_submit_closure(who: Any, entry: Any) -> bool:
    """Reports the handling of ledger ``entry``: the agency that issued the report, while
    the entry is open and no handling waits for the station."""

    from inspecta.registry.permissions import acts_for_agency

    from .choices import ClosureStatus

    return (
        entry.closed_at is None
        and acts_for_agency(who, entry.agency)
        and not entry.closures.filter(status=ClosureStatus.PENDING).exists()
    )


def may_decide_closure(who: Any, closure: Any) -> bool:
    """Confirms or sends back ``closure``: the project's station or the authority of its
    region, while it waits."""

    from .choices import ClosureStatus

    return closure.status == ClosureStatus.PENDING and permits(who, closure, "decide")
