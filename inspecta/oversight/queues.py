"""What waits for a person among warnings (the home page's work queues and figures):
for a reviewer, the warnings lying with their own authority unhandled and the handlings
to review; for an agency, the warnings about it to sign for and answer."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.core.actors import actor_of
from inspecta.core.appconfig import HomeFigure, WorkItem

from .choices import ACTIVE, UNHANDLED, WarningStatus
from .models import Warning
from .permissions import may_answer_warnings, may_decide_warnings


def work_queue(actor: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    url = reverse("oversight:warning_list")
    region = actor_of(actor).region_code
    if may_decide_warnings(actor) and region:
        mine = Warning.objects.restrict(actor, "decide").filter(assigned_region=region)
        items += [
            WorkItem(
                _("交办本级、待处置的预警"),
                mine.filter(status__in=UNHANDLED).count(),
                f"{url}?mine=true&state=unhandled",
                "red",
            ),
            WorkItem(
                _("待审核的预警处置情况"),
                mine.filter(status=WarningStatus.HANDLED).count(),
                f"{url}?mine=true&state={WarningStatus.HANDLED}",
                "red",
            ),
        ]
    if may_answer_warnings(actor):
        own = Warning.objects.restrict(actor, "answer").filter(status__in=UNHANDLED)
        items.append(WorkItem(_("待签收、处置的预警"), own.count(), f"{url}?state=unhandled", "red"))
    return items


def home_figures(actor: Any) -> list[HomeFigure]:
    """The active warnings of the person's scope (regulators and agencies)."""

    if not (may_decide_warnings(actor) or may_answer_warnings(actor)):
        return []
    url = reverse("oversight:warning_list")
    active = Warning.objects.restrict(actor).filter(status__in=ACTIVE).count()
    return [HomeFigure("warnings", _("未办结预警"), active, f"{url}?state=active")]
