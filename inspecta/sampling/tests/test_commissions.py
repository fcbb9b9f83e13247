"""Commissions (检测委托单; 57号令 第二十条; T/CECS 4.3.4-3; Nanchang 四(四)1) on the
services: filled by the deliverer for sealed samples of one project sent to one agency,
numbered continuously per agency and year, confirmed by the deliverer then a witness,
logged; the refusals change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import override_settings

from inspecta.accounts.passkeys import identity_challenge_options, identity_proof_verify
from inspecta.core.counters import sequence_last
from inspecta.core.errors import AppError, ErrorCode
from inspecta.ledger.models import Entry
from inspecta.sampling import commissions, services
from inspecta.sampling.choices import CommissionStatus, CommissionStep, SampleStatus, SamplingLogKind, SamplingRule
from inspecta.sampling.commissions import LineIn
from inspecta.sampling.models import Commission, CommissionConfirmation, CommissionSample, Sample, SamplingFinding
from inspecta.sampling.testing import photo, record_kwargs, sampling_scene

pytestmark = pytest.mark.django_db


def sealed(scene: dict[str, Any], seed: int) -> Sample:
    """A sample of the scene recorded, confirmed by its sampler and sealed by the witness."""

    sample = services.sample_record(**record_kwargs(scene, seed=seed, count=1))
    for who, n in (("sampler", 1), ("witness", 2)):
        user, phone = scene[who], scene[f"{who}_phone"]
        sample.refresh_from_db()
        challenge = (
            sample.record_sha256 if sample.status == SampleStatus.RECORDED else services.witness_digest(sample, user.pk)
        )
        services.sample_confirm(
            actor=user,
            sample=sample,
            live_photo=photo(user, seed * 100 + n),
            assertion=phone.get(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge))),
            latitude="23.130100",
            longitude="113.330100",
        )
    sample.refresh_from_db()
    assert sample.status == SampleStatus.SEALED
    return sample


def fill(scene: dict[str, Any], samples: list[Sample], **over: Any) -> Commission:
    kwargs: dict[str, Any] = {
        "actor": scene["sampler"],
        "project": scene["project"],
        "agency": scene["agency"],
        "lines": [LineIn(s) for s in samples],
        "notes": "加急",
    }
    kwargs.update(over)
    return commissions.commission_fill(**kwargs)


def confirm(scene: dict[str, Any], commission: Commission, who: str, seed: int, **over: Any) -> CommissionConfirmation:
    user, phone = scene[who], scene[f"{who}_phone"]
    commission.refresh_from_db()
    _step, challenge = commissions.commission_challenge(commission, user.pk)
    kwargs: dict[str, Any] = {
        "actor": user,
        "commission": commission,
        "live_photo": photo(user, seed),
        "assertion": phone.get(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge))),
        "latitude": "23.130200",
        "longitude": "113.330200",
    }
    kwargs.update(over)
    return commissions.commission_confirm(**kwargs)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = sampling_scene(tree)
    return s | {"tree": tree, "samples": [sealed(s, 61), sealed(s, 62)]}


def test_filled_confirmed_by_deliverer_then_witness_and_logged(scene: dict[str, Any]) -> None:
    commission = fill(scene, scene["samples"])
    assert commission.status == CommissionStatus.FILLED and commission.deliverer == scene["sampler"]
    assert commission.sequence == 1 and commission.number.endswith("-000001")
    assert commission.record_sha256 == commissions.commission_digest(commission)
    assert set(commission.lines.values_list("sample_id", flat=True)) == {s.pk for s in scene["samples"]}
    assert not commissions.eligible_samples(project=scene["project"], agency=scene["agency"]).exists()

    first = confirm(scene, commission, "sampler", 701)
    commission.refresh_from_db()
    assert first.step == CommissionStep.DELIVERER and first.challenge == commission.record_sha256
    assert commission.status == CommissionStatus.DELIVERER_CONFIRMED
    assert identity_proof_verify(record=first.proof, challenge=bytes.fromhex(first.challenge))
    assert not Entry.objects.filter(kind=SamplingLogKind.COMMISSION).exists()

    second = confirm(scene, commission, "witness", 702)
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.CONFIRMED and commission.witness == scene["witness"]
    assert second.challenge != first.challenge
    assert identity_proof_verify(record=second.proof, challenge=bytes.fromhex(second.challenge))
    entry = Entry.objects.get(kind=SamplingLogKind.COMMISSION, record_id=str(commission.pk))
    logged = bytes(entry.entry).decode()
    assert first.live_photo_sha256 in logged and second.live_photo_sha256 in logged
    assert commission.record_sha256 in logged
    with pytest.raises(AppError) as again:
        confirm(scene, commission, "witness", 703)
    assert again.value.code is ErrorCode.COMMISSION_NOT_PENDING


def test_numbers_are_continuous_per_agency_with_no_gap_after_a_rollback(scene: dict[str, Any]) -> None:
    a, b = scene["samples"]
    first = fill(scene, [a])
    with pytest.raises(RuntimeError, match="after numbering"), transaction.atomic():
        fill(scene, [b])
        raise RuntimeError("after numbering")
    assert not CommissionSample.objects.filter(sample=b).exists()
    second = fill(scene, [b])
    assert (first.sequence, second.sequence) == (1, 2)
    assert sequence_last(commissions.COUNTER, str(scene["agency"].pk), first.year) == 2
    # another agency counts on its own
    other = sampling_scene(scene["tree"], 2)
    theirs = fill(other, [sealed(other, 63)])
    assert theirs.sequence == 1 and theirs.agency != first.agency


def test_confirmations_go_in_order_by_the_right_people(scene: dict[str, Any]) -> None:
    commission = fill(scene, scene["samples"][:1])
    with pytest.raises(PermissionDenied, match="送样人本人先确认"):
        confirm(scene, commission, "witness", 711)
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.FILLED and not commission.confirmations.exists()
    confirm(scene, commission, "sampler", 712)
    with pytest.raises(PermissionDenied, match="不能是送样人本人"):
        confirm(scene, commission, "sampler", 713)
    receiver = scene["receiver"]
    with pytest.raises(PermissionDenied):
        commissions.commission_confirm(
            actor=receiver,
            commission=commission,
            live_photo=photo(receiver, 714),
            totp_code="000000",
            latitude="23.13",
            longitude="113.33",
        )
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.DELIVERER_CONFIRMED and commission.confirmations.count() == 1


def test_samples_refused(scene: dict[str, Any]) -> None:
    a, b = scene["samples"]
    fill(scene, [a])
    with pytest.raises(AppError) as taken:
        fill(scene, [a, b])
    assert taken.value.code is ErrorCode.SAMPLE_IN_COMMISSION and taken.value.details["samples"] == [a.code]

    other = sampling_scene(scene["tree"], 2)
    foreign = sealed(other, 64)
    with pytest.raises(AppError) as wrong:
        fill(scene, [b, foreign])
    assert wrong.value.code is ErrorCode.COMMISSION_SAMPLE_INVALID and wrong.value.details["samples"] == [foreign.code]

    unsealed = services.sample_record(**record_kwargs(scene, seed=65, count=1))
    with pytest.raises(AppError) as pending:
        fill(scene, [unsealed])
    assert pending.value.code is ErrorCode.COMMISSION_SAMPLE_INVALID

    with pytest.raises(AppError) as twice:
        fill(scene, [b, b])
    assert twice.value.code is ErrorCode.COMMISSION_SAMPLE_INVALID

    with pytest.raises(AppError) as parameter:
        fill(scene, [], lines=[LineIn(b, ("NO-SUCH-PARAMETER",))])
    assert parameter.value.code is ErrorCode.COMMISSION_SAMPLE_INVALID

    # a receiver of the agency is no deliverer of the project
    with pytest.raises(PermissionDenied):
        fill(scene, [b], actor=scene["receiver"])
    assert Commission.objects.count() == 1 and not CommissionSample.objects.filter(sample=b).exists()


@override_settings(INSPECTA_COMMISSION_WINDOW_MINUTES=0)
def test_a_late_confirmation_is_a_finding(scene: dict[str, Any]) -> None:
    commission = fill(scene, scene["samples"])
    confirm(scene, commission, "sampler", 721)
    confirm(scene, commission, "witness", 722)
    found = SamplingFinding.objects.filter(rule=SamplingRule.COMMISSION_WINDOW_EXCEEDED)
    assert {f.sample_id for f in found} == {s.pk for s in scene["samples"]}
    assert all(f.key == f"commission:{commission.pk}" for f in found)
