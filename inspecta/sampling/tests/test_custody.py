"""Custody events on the services (Nanchang 四(一), 四(三); T/CECS 4.3.4-1/-2): a concrete
batch on arrival, curing room in and out, a transport handover; each confirmed by two
parties, logged with the SHA-256 of its photos; the refusals and the findings."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from inspecta.accounts.passkeys import identity_proof_verify
from inspecta.core.errors import AppError, ErrorCode
from inspecta.ledger.models import Entry
from inspecta.sampling import custody, services
from inspecta.sampling.choices import CustodyEventKind, CustodyStep, SampleStatus, SamplingLogKind, SamplingRule
from inspecta.sampling.models import (
    ConcreteBatch,
    ConcreteBatchFinding,
    CustodyEvent,
    Sample,
    SamplingFinding,
)
from inspecta.sampling.testing import (
    batch_kwargs,
    batch_sign,
    custody_kwargs,
    custody_sign,
    photo,
    record_kwargs,
    sampling_scene,
    sealed_sample,
)

pytestmark = pytest.mark.django_db

IN, OUT, MOVE = CustodyEventKind.CURING_IN, CustodyEventKind.CURING_OUT, CustodyEventKind.TRANSPORT


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return sampling_scene(tree)


@pytest.fixture
def sealed(scene: dict[str, Any]) -> Sample:
    return sealed_sample(scene)


def _rules(sample: Sample) -> set[str]:
    return set(SamplingFinding.objects.filter(sample=sample).values_list("rule", flat=True))


def _event(scene: dict[str, Any], sample: Sample, kind: str, *, seed: int, **over: Any) -> CustodyEvent:
    return custody.custody_record(**custody_kwargs(scene, sample, kind, seed=seed, **over))


def _both(scene: dict[str, Any], event: CustodyEvent, *, seed: int, second: str = "") -> CustodyEvent:
    first = "sampler" if event.recorded_by_id == scene["sampler"].pk else "courier"
    custody.custody_confirm(**custody_sign(scene, event, first, seed=seed))
    second = second or ("courier" if event.kind == MOVE else "witness")
    custody.custody_confirm(**custody_sign(scene, event, second, seed=seed + 1))
    event.refresh_from_db()
    return event


def _age(sample: Sample, days: int) -> None:
    Sample.objects.filter(pk=sample.pk).update(sampled_at=timezone.now() - datetime.timedelta(days=days))
    sample.refresh_from_db()


# ------------------------------------------------------------------ concrete batches


def test_a_concrete_batch_end_to_end(scene: dict[str, Any]) -> None:
    batch = custody.batch_record(**batch_kwargs(scene))
    assert batch.record_sha256 == custody._digest(custody.batch_record_document(batch))
    assert batch.photos.get().kind == "slump" and batch.distance_m is not None and batch.distance_m < 50
    first = custody.batch_confirm(**batch_sign(scene, batch, "sampler", seed=601))
    assert first.step == CustodyStep.RECORDER and first.challenge == batch.record_sha256
    assert identity_proof_verify(record=first.proof, challenge=bytes.fromhex(first.challenge))
    assert not Entry.objects.filter(kind=SamplingLogKind.CONCRETE_BATCH).exists()
    second = custody.batch_confirm(**batch_sign(scene, batch, "witness", seed=602))
    batch.refresh_from_db()
    assert second.step == CustodyStep.SECOND and batch.witness_id == scene["witness"].pk and batch.confirmed_at
    assert identity_proof_verify(record=second.proof, challenge=bytes.fromhex(second.challenge))
    entry = Entry.objects.get(kind=SamplingLogKind.CONCRETE_BATCH, record_id=str(batch.pk))
    slump = batch.photos.get(kind="slump")
    assert slump.sha256.encode() in bytes(entry.entry)
    assert not ConcreteBatchFinding.objects.filter(batch=batch).exists()
    # a sample names the batch it was taken from
    sample = services.sample_record(**record_kwargs(scene, seed=7, concrete_batch=batch))
    assert sample.concrete_batch == batch and services.sampling_record(sample)["concrete_batch"] == batch.pk


def test_a_failed_identity_check_on_a_batch_or_an_event_is_kept_as_a_finding(
    scene: dict[str, Any], sealed: Sample
) -> None:
    from inspecta.core.errors import AppError, ErrorCode

    batch = custody.batch_record(**batch_kwargs(scene))
    scene["sampler_phone"].tamper_signature = True
    with pytest.raises(AppError) as exc:
        custody.batch_confirm(**batch_sign(scene, batch, "sampler", seed=611))
    assert exc.value.code == ErrorCode.PASSKEY_INVALID and not batch.confirmations.exists()
    (finding,) = ConcreteBatchFinding.objects.filter(batch=batch)
    assert finding.rule == SamplingRule.IDENTITY_FAILED and finding.details["person"] == scene["sampler"].pk

    event = _event(scene, sealed, IN, seed=613)
    with pytest.raises(AppError):
        custody.custody_confirm(**custody_sign(scene, event, "sampler", seed=612))
    assert not event.confirmations.exists()
    assert sealed.findings.filter(rule=SamplingRule.IDENTITY_FAILED, details__event=event.pk).count() == 1


def test_batch_refusals(scene: dict[str, Any], tree: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        custody.batch_record(**batch_kwargs(scene, actor=scene["witness"]))
    kwargs = batch_kwargs(scene)
    kwargs["photos"] = []
    with pytest.raises(AppError) as exc:
        custody.batch_record(**kwargs)
    assert exc.value.code == ErrorCode.PHOTOS_REQUIRED
    with pytest.raises(AppError) as exc:
        custody.batch_record(**batch_kwargs(scene, latitude=None))
    assert exc.value.code == ErrorCode.LOCATION_REQUIRED
    other = sampling_scene(tree, 2)
    with pytest.raises(PermissionDenied):  # a sampler of another project
        custody.batch_record(**batch_kwargs(scene, actor=other["sampler"]))
    assert not ConcreteBatch.objects.exists()

    batch = custody.batch_record(**batch_kwargs(scene))
    with pytest.raises(PermissionDenied):  # the witness cannot confirm first
        custody.batch_confirm(**batch_sign(scene, batch, "witness", seed=603))
    custody.batch_confirm(**batch_sign(scene, batch, "sampler", seed=604))
    with pytest.raises(PermissionDenied):  # nor the recorder twice
        custody.batch_confirm(**batch_sign(scene, batch, "sampler", seed=605))
    with pytest.raises(PermissionDenied):  # nor another project's witness
        custody.batch_confirm(**batch_sign(other, batch, "witness", seed=606))
    # a batch of another project cannot be named by a sample
    with pytest.raises(AppError) as exc:
        services.sample_record(**record_kwargs(other, seed=8, concrete_batch=batch))
    assert exc.value.code == ErrorCode.INVALID_INPUT


@pytest.mark.parametrize(("minutes", "late"), [(59, False), (61, True)])
def test_the_batch_window(scene: dict[str, Any], minutes: int, late: bool) -> None:
    batch = custody.batch_record(**batch_kwargs(scene))
    custody.batch_confirm(**batch_sign(scene, batch, "sampler", seed=611))
    ConcreteBatch.objects.filter(pk=batch.pk).update(arrived_at=timezone.now() - datetime.timedelta(minutes=minutes))
    custody.batch_confirm(**batch_sign(scene, batch, "witness", seed=612))
    rules = set(ConcreteBatchFinding.objects.filter(batch=batch).values_list("rule", flat=True))
    assert (SamplingRule.WINDOW_EXCEEDED in rules) is late


@pytest.mark.parametrize(("latitude", "far"), [("23.135000", False), ("23.140000", True)])
def test_a_batch_far_from_the_project(scene: dict[str, Any], latitude: str, far: bool) -> None:
    batch = custody.batch_record(**batch_kwargs(scene, latitude=latitude, longitude="113.330000"))
    rules = set(ConcreteBatchFinding.objects.filter(batch=batch).values_list("rule", flat=True))
    assert (SamplingRule.LOCATION_FAR in rules) is far


def test_a_batch_photo_repeating_a_sample_photo(scene: dict[str, Any]) -> None:
    sample = services.sample_record(**record_kwargs(scene, seed=1))
    fresh = custody.batch_record(**batch_kwargs(scene, seed=61))
    assert not ConcreteBatchFinding.objects.filter(batch=fresh).exists()
    # the sample's placard photo (seed 12) re-encoded as the slump placard of a batch
    again = services.PhotoIn("slump", photo(scene["sampler"], 12, fmt="JPEG", quality=70))
    batch = custody.batch_record(**batch_kwargs(scene, seed=62, photos=[again]))
    found = ConcreteBatchFinding.objects.get(batch=batch, rule=SamplingRule.PHOTO_DUPLICATE)
    assert found.details["earlier_table"] == "samplephoto"
    assert sample.photos.filter(pk=found.details["earlier_photo"]).exists()


# ------------------------------------------------------------------ custody events


def test_curing_in_out_and_a_handover_end_to_end(scene: dict[str, Any], sealed: Sample) -> None:
    assert custody.custody_actions(scene["sampler"], sealed) == [IN, MOVE]
    into = _event(scene, sealed, IN, seed=71)
    assert into.record_sha256 == custody._digest(custody.custody_record_document(into))
    assert custody.custody_actions(scene["sampler"], sealed) == []  # until both confirmed
    into = _both(scene, into, seed=711)
    assert into.confirmed_at is not None
    assert custody.custody_actions(scene["sampler"], sealed) == [OUT]
    _age(sealed, 28)
    out = _both(scene, _event(scene, sealed, OUT, seed=72, age_days=28), seed=721)
    assert out.age_days == 28
    assert custody.custody_actions(scene["courier"], sealed) == [MOVE]  # the courier does not cure
    move = _event(scene, sealed, MOVE, seed=73)
    # only the named person takes it over
    custody.custody_confirm(**custody_sign(scene, move, "sampler", seed=731))
    with pytest.raises(PermissionDenied):
        custody.custody_confirm(**custody_sign(scene, move, "witness", seed=732))
    second = custody.custody_confirm(**custody_sign(scene, move, "courier", seed=733))
    assert second.person == scene["courier"] and second.step == CustodyStep.SECOND
    assert identity_proof_verify(record=second.proof, challenge=bytes.fromhex(second.challenge))
    # every event is a log entry carrying the SHA-256 of its photos
    for event in (into, out, move):
        entry = Entry.objects.get(kind=SamplingLogKind.CUSTODY_EVENT, record_id=str(event.pk))
        for p in event.photos.all():
            assert p.sha256.encode() in bytes(entry.entry)
    assert not (_rules(sealed) & {r.value for r in SamplingRule if r.value.startswith(("custody", "curing"))})


@pytest.mark.parametrize(
    ("steps", "kind", "message"),
    [
        ((), OUT, "尚未入养护室"),
        ((IN,), IN, "已在养护室中"),
        ((IN,), MOVE, "须先出室"),
    ],
)
def test_wrong_order_is_refused(
    scene: dict[str, Any], sealed: Sample, steps: tuple[str, ...], kind: str, message: str
) -> None:
    for i, step in enumerate(steps):
        _both(scene, _event(scene, sealed, step, seed=80 + i), seed=800 + 10 * i)
    with pytest.raises(AppError) as exc:
        _event(scene, sealed, kind, seed=89)
    assert exc.value.code == ErrorCode.CUSTODY_ORDER and message in exc.value.message
    assert sealed.custody_events.count() == len(steps)


def test_one_event_at_a_time(scene: dict[str, Any], sealed: Sample) -> None:
    _event(scene, sealed, IN, seed=81)
    with pytest.raises(AppError) as exc:
        _event(scene, sealed, MOVE, seed=82)
    assert exc.value.code == ErrorCode.CUSTODY_ORDER and "尚未完成双方确认" in exc.value.message


def test_events_only_between_seal_and_receipt(scene: dict[str, Any]) -> None:
    sample = services.sample_record(**record_kwargs(scene, seed=5))
    with pytest.raises(AppError) as exc:
        _event(scene, sample, IN, seed=83)
    assert exc.value.code == ErrorCode.CUSTODY_ORDER
    assert custody.custody_actions(scene["sampler"], sample) == []
    Sample.objects.filter(pk=sample.pk).update(status=SampleStatus.RECEIVED)
    sample.refresh_from_db()
    with pytest.raises(AppError):
        _event(scene, sample, MOVE, seed=84)
    assert not CustodyEvent.objects.exists()


def test_wrong_people_are_refused(scene: dict[str, Any], sealed: Sample, tree: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):  # curing is the sampler's
        _event(scene, sealed, IN, seed=85, actor=scene["courier"])
    other = sampling_scene(tree, 2)
    with pytest.raises(PermissionDenied):  # another project's sampler
        _event(scene, sealed, IN, seed=86, actor=other["sampler"])
    with pytest.raises(AppError) as exc:  # handed over to someone of another project
        _event(scene, sealed, MOVE, seed=87, to_person=other["courier"])
    assert exc.value.code == ErrorCode.CUSTODY_PERSON_INVALID
    with pytest.raises(AppError) as exc:  # nor to oneself
        _event(scene, sealed, MOVE, seed=88, to_person=scene["sampler"])
    assert exc.value.code == ErrorCode.CUSTODY_PERSON_INVALID
    event = _event(scene, sealed, IN, seed=89)
    with pytest.raises(PermissionDenied):  # the witness cannot confirm first
        custody.custody_confirm(**custody_sign(scene, event, "witness", seed=891))
    custody.custody_confirm(**custody_sign(scene, event, "sampler", seed=892))
    with pytest.raises(PermissionDenied):  # another project's witness
        custody.custody_confirm(**custody_sign(other, event, "witness", seed=893))
    custody.custody_confirm(**custody_sign(scene, event, "witness", seed=894))
    with pytest.raises(AppError) as exc:
        custody.custody_confirm(**custody_sign(scene, event, "witness", seed=895))
    assert exc.value.code == ErrorCode.CUSTODY_NOT_PENDING


@pytest.mark.parametrize(("minutes", "late"), [(59, False), (61, True)])
def test_the_custody_window(scene: dict[str, Any], sealed: Sample, minutes: int, late: bool) -> None:
    event = _event(scene, sealed, IN, seed=90)
    custody.custody_confirm(**custody_sign(scene, event, "sampler", seed=901))
    CustodyEvent.objects.filter(pk=event.pk).update(at=timezone.now() - datetime.timedelta(minutes=minutes))
    custody.custody_confirm(**custody_sign(scene, event, "witness", seed=902))
    assert (SamplingRule.CUSTODY_WINDOW_EXCEEDED in _rules(sealed)) is late


@pytest.mark.parametrize(("latitude", "far"), [("23.135000", False), ("23.140000", True)])
def test_an_event_far_from_the_project(scene: dict[str, Any], sealed: Sample, latitude: str, far: bool) -> None:
    _event(scene, sealed, IN, seed=91, latitude=latitude, longitude="113.330000")
    assert (SamplingRule.CUSTODY_LOCATION_FAR in _rules(sealed)) is far


@pytest.mark.parametrize(("days", "early"), [(28, False), (27, True)])
def test_out_of_the_curing_room_before_the_age(scene: dict[str, Any], sealed: Sample, days: int, early: bool) -> None:
    _both(scene, _event(scene, sealed, IN, seed=92), seed=920)
    _age(sealed, days)
    _event(scene, sealed, OUT, seed=93, age_days=28)
    assert (SamplingRule.CURING_OUT_EARLY in _rules(sealed)) is early


def test_an_event_photo_repeating_an_earlier_one(scene: dict[str, Any], sealed: Sample) -> None:
    other = sealed_sample(scene, seed=5)
    again = photo(scene["sampler"], 41, fmt="JPEG", quality=70)  # the first sample's specimen photo
    _event(scene, other, IN, seed=94, photos=[again])
    found = SamplingFinding.objects.get(sample=other, rule=SamplingRule.PHOTO_DUPLICATE)
    assert found.details["earlier_sample"] == sealed.pk
    _event(scene, sealed, IN, seed=95)
    assert SamplingRule.PHOTO_DUPLICATE not in _rules(sealed)


def _receive(scene: dict[str, Any], sample: Sample) -> None:
    from inspecta.accounts.passkeys import identity_challenge_options

    courier, phone = scene["courier"], scene["courier_phone"]
    nonce, challenge = services.handover_challenge(actor=courier)
    options = identity_challenge_options(user=courier, challenge=bytes.fromhex(challenge))
    _record, code = services.handover_issue(actor=courier, nonce=nonce, assertion=phone.get(options))
    services.sample_receive(
        actor=scene["receiver"],
        sample=sample,
        accept=True,
        tags=list(sample.specimens.values_list("tag_id", flat=True)),
        seal_text=sample.seal.text,
        handover_code=code,
        deliverer_photo=photo(scene["receiver"], 951),
    )


@pytest.mark.parametrize("out", [False, True])
def test_still_curing_at_receipt(scene: dict[str, Any], sealed: Sample, out: bool) -> None:
    _both(scene, _event(scene, sealed, IN, seed=96), seed=960)
    if out:
        _age(sealed, 28)
        _both(scene, _event(scene, sealed, OUT, seed=97), seed=970)
    _receive(scene, sealed)
    assert (SamplingRule.CURING_AT_RECEIPT in _rules(sealed)) is not out
