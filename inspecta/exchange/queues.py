"""What waits for a person in the exchange (the home page's work queues, ``WorkItem``):
the access applications this authority decides (T/CECS 6.0.7-6.0.8)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.core.appconfig import WorkItem

from .permissions import may_review
from .selectors import application_list


def work_queue(actor: Any) -> list[WorkItem]:
    pending = application_list(actor=actor).filter(status="pending").exclude(organisation_id=actor.organisation_id)
    count = sum(1 for application in pending if may_review(actor, application))
    url = reverse("exchange:application_list") + "?status=pending"
    return [WorkItem(_("待审批的接入申请"), count, url, "red")]
