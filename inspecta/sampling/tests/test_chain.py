"""Witnessed sampling end to end on the services: record, the sampler's and the witness's
confirmations with passkeys, the seal, the log entries, the findings and the refusals
(57号令 第十八条; T/CECS 2.0.16, 4.3.4-1/-2; Nanchang 四(一))."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.accounts.passkeys import identity_challenge_options, identity_proof_verify
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.regionrules import region_rule_add
from inspecta.core.testing.factories import authority_tree
from inspecta.ledger.models import Entry
from inspecta.sampling import codes, services
from inspecta.sampling.choices import ConfirmationStep, SampleStatus, SamplingLogKind, SamplingRule
from inspecta.sampling.models import Confirmation, Sample, SamplingFinding, Specimen
from inspecta.sampling.regionrules import WINDOW_MINUTES
from inspecta.sampling.seal import seal_decode
from inspecta.sampling.testing import photo, record_kwargs, sampling_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene() -> dict:
    return sampling_scene(authority_tree())


def _confirm(scene: dict, sample: Sample, who: str, *, seed: int, **over: object) -> Confirmation:
    user = scene[who]
    phone = scene[f"{who}_phone"]
    sample.refresh_from_db()
    if sample.status == SampleStatus.RECORDED:
        challenge = sample.record_sha256
    else:
        challenge = services.witness_digest(sample, user.pk)
    options = identity_challenge_options(user=user, challenge=bytes.fromhex(challenge))
    kwargs = {
        "actor": user,
        "sample": sample,
        "live_photo": photo(user, seed),
        "assertion": phone.get(options),
        "latitude": "23.130200",
        "longitude": "113.330200",
        "accuracy_m": 10,
    }
    kwargs.update(over)
    return services.sample_confirm(**kwargs)


def test_the_chain_from_recording_to_seal(scene: dict) -> None:
    sample = services.sample_record(**record_kwargs(scene))
    assert codes.is_well_formed(sample.code) and sample.code.startswith("440106" + str(timezone.localtime().year))
    assert sample.status == SampleStatus.RECORDED
    assert list(sample.specimens.values_list("tag_id", flat=True)) == ["TAG-1-0", "TAG-1-1", "TAG-1-2"]
    assert sample.record_sha256 == services.record_digest(sample)
    assert sample.distance_m is not None and sample.distance_m < 50

    first = _confirm(scene, sample, "sampler", seed=901)
    sample.refresh_from_db()
    assert sample.status == SampleStatus.CONFIRMED and first.step == ConfirmationStep.SAMPLING
    assert first.factor == "passkey" and first.challenge == sample.record_sha256
    assert identity_proof_verify(record=first.proof, challenge=bytes.fromhex(first.challenge))

    second = _confirm(scene, sample, "witness", seed=902)
    sample.refresh_from_db()
    assert sample.status == SampleStatus.SEALED and sample.witness_id == scene["witness"].pk
    assert second.challenge == services.witness_digest(sample, scene["witness"].pk)
    assert identity_proof_verify(record=second.proof, challenge=bytes.fromhex(second.challenge))
    # a proof does not verify against another record's digest
    assert not identity_proof_verify(record=second.proof, challenge=bytes.fromhex(first.challenge))

    check = seal_decode(sample.seal.text)
    assert check.valid, check.message
    assert check.claims.code == sample.code
    assert check.claims.tags == ("TAG-1-0", "TAG-1-1", "TAG-1-2") and check.claims.count == 3
    assert check.claims.photo_hashes == tuple(sample.photos.filter(kind="specimen").values_list("phash", flat=True))
    kinds = set(Entry.objects.filter(record_id=str(sample.pk)).values_list("kind", flat=True)) | set(
        Entry.objects.filter(record_id=str(sample.seal.pk), kind=SamplingLogKind.SEAL).values_list("kind", flat=True)
    )
    assert {SamplingLogKind.WITNESS_RECORD, SamplingLogKind.SEAL} <= kinds
    assert not SamplingFinding.objects.filter(sample=sample).exists()


def test_codes_are_sequential_per_region_and_year(scene: dict) -> None:
    a = services.sample_record(**record_kwargs(scene, seed=1))
    b = services.sample_record(**record_kwargs(scene, seed=2))
    assert int(b.code[10:16]) == int(a.code[10:16]) + 1
    assert not codes.is_well_formed(b.code[:-1] + ("0" if b.code[-1] != "0" else "1"))


def test_the_witness_must_not_be_the_sampler_nor_confirm_first(scene: dict) -> None:
    sample = services.sample_record(**record_kwargs(scene))
    with pytest.raises(PermissionDenied):
        _confirm(scene, sample, "witness", seed=903, assertion=None, totp_code="000000")
    _confirm(scene, sample, "sampler", seed=904)
    with pytest.raises(PermissionDenied):
        _confirm(scene, sample, "sampler", seed=905)
    sample.refresh_from_db()
    assert sample.status == SampleStatus.CONFIRMED and sample.confirmations.count() == 1


def test_a_tampered_assertion_is_refused_and_kept_as_a_finding(scene: dict) -> None:
    sample = services.sample_record(**record_kwargs(scene))
    scene["sampler_phone"].tamper_signature = True
    with pytest.raises(AppError) as exc:
        _confirm(scene, sample, "sampler", seed=906)
    assert exc.value.code == ErrorCode.PASSKEY_INVALID
    sample.refresh_from_db()
    assert sample.status == SampleStatus.RECORDED and not sample.confirmations.exists()
    assert not sample.photos.filter(kind="live").exists()  # the refused confirmation kept nothing
    finding = SamplingFinding.objects.get(sample=sample, rule=SamplingRule.IDENTITY_FAILED)
    assert finding.details["person"] == scene["sampler"].pk and finding.details["step"] == "sampling"


def test_a_missing_proof_is_refused_without_a_finding(scene: dict) -> None:
    sample = services.sample_record(**record_kwargs(scene))
    with pytest.raises(AppError) as exc:
        _confirm(scene, sample, "sampler", seed=907, assertion=None)
    assert exc.value.code == ErrorCode.IDENTITY_FACTOR_MISSING
    assert not SamplingFinding.objects.filter(sample=sample, rule=SamplingRule.IDENTITY_FAILED).exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"count": 2, "tags": [services.TagIn("A"), services.TagIn("B"), services.TagIn("C")]},
            ErrorCode.TAGS_MISMATCH,
        ),
        ({"count": 2, "tags": [services.TagIn("A"), services.TagIn("A")]}, ErrorCode.TAGS_MISMATCH),
        ({"latitude": None}, ErrorCode.LOCATION_REQUIRED),
    ],
)
def test_bad_recordings_are_refused_and_store_nothing(scene: dict, change: dict, code: str) -> None:
    with pytest.raises(AppError) as exc:
        services.sample_record(**record_kwargs(scene, **change))
    assert exc.value.code == code
    assert not Sample.objects.exists() and not Specimen.objects.exists()


def test_a_placard_photo_is_required(scene: dict) -> None:
    kwargs = record_kwargs(scene)
    kwargs["photos"] = [p for p in kwargs["photos"] if p.kind == "specimen"]
    with pytest.raises(AppError) as exc:
        services.sample_record(**kwargs)
    assert exc.value.code == ErrorCode.PHOTOS_REQUIRED


def test_a_tag_is_bound_once(scene: dict) -> None:
    services.sample_record(**record_kwargs(scene, seed=1))
    kwargs = record_kwargs(scene, seed=2)
    kwargs["tags"] = [services.TagIn("TAG-1-0"), services.TagIn("X-1"), services.TagIn("X-2")]
    with pytest.raises(AppError) as exc:
        services.sample_record(**kwargs)
    assert exc.value.code == ErrorCode.TAG_TAKEN and Sample.objects.count() == 1


def test_only_a_sampler_of_the_project_records(scene: dict) -> None:
    with pytest.raises(PermissionDenied):
        services.sample_record(**record_kwargs(scene, actor=scene["witness"]))
    assert not Sample.objects.exists()


def _rules(sample: Sample) -> set[str]:
    return set(SamplingFinding.objects.filter(sample=sample).values_list("rule", flat=True))


@pytest.mark.parametrize(("minutes", "late"), [(59, False), (61, True)])
def test_the_confirmation_window(scene: dict, minutes: int, late: bool) -> None:
    sample = services.sample_record(**record_kwargs(scene))
    _confirm(scene, sample, "sampler", seed=907)
    Sample.objects.filter(pk=sample.pk).update(sampled_at=timezone.now() - datetime.timedelta(minutes=minutes))
    _confirm(scene, sample, "witness", seed=908)
    assert (SamplingRule.WINDOW_EXCEEDED in _rules(sample)) is late


@pytest.mark.parametrize(("region", "late"), [("440106", True), ("440300", False)])
def test_a_district_sets_its_own_window(scene: dict, region: str, late: bool) -> None:
    """The project's district allows 30 minutes (regional rule); 45 minutes is late there
    and not under another region's rule or the 60-minute default."""

    region_rule_add(
        actor=User.objects.get(username="operator"), name=WINDOW_MINUTES, region_code=region, test_item=None, value=30
    )
    sample = services.sample_record(**record_kwargs(scene))
    _confirm(scene, sample, "sampler", seed=917)
    Sample.objects.filter(pk=sample.pk).update(sampled_at=timezone.now() - datetime.timedelta(minutes=45))
    _confirm(scene, sample, "witness", seed=918)
    assert (SamplingRule.WINDOW_EXCEEDED in _rules(sample)) is late
    if late:
        finding = SamplingFinding.objects.get(sample=sample, rule=SamplingRule.WINDOW_EXCEEDED)
        assert finding.details["window_minutes"] == 30


@pytest.mark.parametrize(("latitude", "far"), [("23.135000", False), ("23.140000", True)])
def test_a_sampling_far_from_the_project(scene: dict, latitude: str, far: bool) -> None:
    # 0.005 degrees of latitude are about 556 m, 0.01 about 1,112 m (limit 1,000 m)
    sample = services.sample_record(**record_kwargs(scene, latitude=latitude, longitude="113.330000"))
    assert (SamplingRule.LOCATION_FAR in _rules(sample)) is far


def test_a_photo_repeating_an_earlier_one(scene: dict) -> None:
    first = services.sample_record(**record_kwargs(scene, seed=1))
    assert SamplingRule.PHOTO_DUPLICATE not in _rules(first)
    # the same picture re-encoded as JPEG for the specimen photo of a later sampling
    kwargs = record_kwargs(scene, seed=2)
    kwargs["photos"][0] = services.PhotoIn("specimen", photo(scene["sampler"], 11, fmt="JPEG", quality=70))
    second = services.sample_record(**kwargs)
    found = SamplingFinding.objects.get(sample=second, rule=SamplingRule.PHOTO_DUPLICATE)
    assert found.details["earlier_sample"] == first.pk
    # fresh pictures are not flagged
    third = services.sample_record(**record_kwargs(scene, seed=3))
    assert SamplingRule.PHOTO_DUPLICATE not in _rules(third)
