"""Who may do what in the chain of custody: the predicates that services, views,
templates and the navigation share (57号令 第十八条; Nanchang 一(二), 四(一))."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import Role
from inspecta.core.actors import actor_of
from inspecta.core.permissions import has_role, is_agency, is_operator, is_party, is_regulator, signed_in
from inspecta.projects.choices import ProjectDuty

from .choices import CustodyEventKind, SampleStatus

__all__ = [
    "may_confirm",
    "may_confirm_batch",
    "may_confirm_commission",
    "may_confirm_custody",
    "may_deliver",
    "may_fill_commission_on",
    "may_receive",
    "may_receive_samples",
    "may_record_custody",
    "may_record_on",
    "may_record_samples",
    "may_view_samples",
    "may_witness_samples",
]

may_view_samples = signed_in & (is_operator | is_regulator | is_agency | is_party)
"""Has a sample list at all (the navigation)."""

may_record_samples = is_party & has_role(Role.SAMPLER)
"""A sampler (取样人) of a project party: records samplings (Nanchang 一(二))."""

may_witness_samples = is_party & has_role(Role.WITNESS)
"""A witness (见证人) of the owner or the supervising firm (57号令 第十八条)."""


may_receive_samples = is_agency & has_role(Role.RECEIVER)
"""A receiver (收样人) of an agency (Nanchang 四(四)2)."""

may_deliver = is_party & has_role(Role.SAMPLER, Role.WITNESS, Role.PROJECT_VIEWER)
"""Delivers samples to the agency and proves who they are there (Nanchang 四(四)2)."""


def may_receive(who: Any, sample: Any) -> bool:
    """Receives ``sample`` now: a receiver of the agency it is sent to, once it is sealed."""

    actor = actor_of(who)
    return (
        bool(may_receive_samples(actor))
        and actor.organisation is not None
        and sample.agency.organisation_id == actor.organisation.pk
        and sample.status == SampleStatus.SEALED
    )


def _party_of(actor: Any, project: Any) -> bool:
    org = actor.organisation
    return org is not None and project.parties.filter(organisation_id=org.pk).exists()


def _serves(actor: Any, project: Any, duty: str) -> bool:
    """A person of a party of ``project`` who may act in ``duty`` there: once the project
    names people for the duty (``projects.ProjectPerson``, Nanchang 一(二)), only they;
    while it names nobody, anyone of a party (and the step records a finding,
    ``services.unnamed_finding``)."""

    from inspecta.projects.selectors import named_people

    if not _party_of(actor, project):
        return False
    named = named_people(project, duty)
    return not named or (actor.user is not None and actor.user.pk in named)


def may_record_on(who: Any, project: Any) -> bool:
    """Records a sampling on ``project``: a sampler whose organisation is a party of it and,
    when the project names its samplers, one of them."""

    actor = actor_of(who)
    return bool(may_record_samples(actor)) and _serves(actor, project, ProjectDuty.SAMPLER)


def may_confirm(who: Any, sample: Any) -> bool:
    """Confirms ``sample`` now: its own sampler while it waits for the sampler; then a
    witness of a party of its project (one it names, when it names witnesses) who is not
    the sampler."""

    actor = actor_of(who)
    if actor.user is None:
        return False
    if sample.status == SampleStatus.RECORDED:
        return sample.sampler_id == actor.user.pk
    if sample.status == SampleStatus.CONFIRMED:
        return (
            bool(may_witness_samples(actor))
            and sample.sampler_id != actor.user.pk
            and _serves(actor, sample.project, ProjectDuty.WITNESS)
        )
    return False


def may_fill_commission_on(who: Any, project: Any) -> bool:
    """Fills a commission (委托单) on ``project``: a deliverer (sampler, witness or project
    staff) of a party of it (Nanchang 四(四)1)."""

    actor = actor_of(who)
    return actor.user is not None and bool(may_deliver(actor)) and _party_of(actor, project)


def may_confirm_commission(who: Any, commission: Any) -> bool:
    """Confirms ``commission`` now: its deliverer while it waits for the deliverer; then a
    witness of a party of its project who is not the deliverer (Nanchang 四(四)1)."""

    from .choices import CommissionStatus

    actor = actor_of(who)
    if actor.user is None:
        return False
    if commission.status == CommissionStatus.FILLED:
        return bool(commission.deliverer_id == actor.user.pk and may_deliver(actor))
    if commission.status == CommissionStatus.DELIVERER_CONFIRMED:
        return (
            bool(may_witness_samples(actor))
            and commission.deliverer_id != actor.user.pk
            and _serves(actor, commission.project, ProjectDuty.WITNESS)
        )
    return False


# ------------------------------------------------------------------ custody events


def may_confirm_batch(who: Any, batch: Any) -> bool:
    """Confirms a concrete batch now: its recorder first; then a witness of a party of the
    project who is not the recorder (Nanchang 四(一))."""

    actor = actor_of(who)
    if actor.user is None or batch.confirmed_at is not None:
        return False
    if not batch.confirmations.exists():
        return batch.recorded_by_id == actor.user.pk
    return (
        bool(may_witness_samples(actor))
        and batch.recorded_by_id != actor.user.pk
        and _serves(actor, batch.project, ProjectDuty.WITNESS)
    )


def may_record_custody(who: Any, sample: Any, kind: str) -> bool:
    """Records a custody event of ``kind`` on ``sample`` as a person: curing in and out a
    sampler (试验员) of a party of the project; a transport handover anyone of a party
    who delivers samples (Nanchang 四(三)). The order is checked by
    ``custody.custody_refusal``."""

    actor = actor_of(who)
    if actor.user is None:
        return False
    if kind == CustodyEventKind.TRANSPORT:
        return bool(may_deliver(actor)) and _party_of(actor, sample.project)
    return may_record_on(actor, sample.project)


def may_confirm_custody(who: Any, event: Any) -> bool:
    """Confirms a custody event now: its recorder first; then, for curing, a witness of a
    party of the project who is not the recorder, for a handover the person named as
    taking the sample."""

    actor = actor_of(who)
    if actor.user is None or event.confirmed_at is not None:
        return False
    if not event.confirmations.exists():
        return event.recorded_by_id == actor.user.pk
    if event.kind == CustodyEventKind.TRANSPORT:
        return event.to_person_id == actor.user.pk
    return (
        bool(may_witness_samples(actor))
        and event.recorded_by_id != actor.user.pk
        and _serves(actor, event.sample.project, ProjectDuty.WITNESS)
    )
