"""What waits for a person in the chain of custody (the home page): samples to confirm
as sampler, to witness, to receive; and the samples in their scope."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.core.actors import actor_of
from inspecta.core.appconfig import HomeFigure, WorkItem
from inspecta.core.permissions import is_member, is_operator

from . import permissions
from .choices import SampleStatus
from .models import Sample

__all__ = ["home_figures", "work_queue"]


def _list(status: str) -> str:
    return f"{reverse('sampling:sample_list')}?status={status}"


def work_queue(actor: Any) -> list[WorkItem]:
    a = actor_of(actor)
    items: list[WorkItem] = []
    if permissions.may_record_samples(a) and a.user is not None:
        mine = Sample.objects.restrict(a).filter(status=SampleStatus.RECORDED, sampler_id=a.user.pk).count()
        items.append(WorkItem(_("待本人确认的取样"), mine, _list(SampleStatus.RECORDED), "red"))
    if permissions.may_witness_samples(a):
        count = Sample.objects.restrict(a).filter(status=SampleStatus.CONFIRMED).count()
        items.append(WorkItem(_("待见证封样的样品"), count, _list(SampleStatus.CONFIRMED), "red"))
    if permissions.may_receive_samples(a):
        org = a.organisation
        count = Sample.objects.restrict(a).filter(status=SampleStatus.SEALED, agency__organisation=org).count()
        items.append(WorkItem(_("待收样的样品"), count, _list(SampleStatus.SEALED), "red"))
    return items


def home_figures(actor: Any) -> list[HomeFigure]:
    if not (is_member(actor) or is_operator(actor)) or not permissions.may_view_samples(actor_of(actor)):
        return []
    count = Sample.objects.restrict(actor).count()
    return [HomeFigure("samples", _("样品"), count, reverse("sampling:sample_list"))]
