"""Receipt at the agency (Nanchang 四(四)2; T/CECS 2.0.16, 4.3.4-3): every tag scanned,
the seal verified, the deliverer identified by a one-time code proven with their passkey,
photos compared; accepted, refused with reasons, or refused by the platform."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.accounts.passkeys import identity_challenge_options
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.regionrules import region_rule_add
from inspecta.ledger.models import Entry
from inspecta.sampling import services
from inspecta.sampling.choices import SampleStatus, SamplingLogKind, SamplingRule
from inspecta.sampling.models import Handover, Receipt, Sample, SamplingFinding
from inspecta.sampling.regionrules import SEAL_FAILURE_ACTION
from inspecta.sampling.testing import photo, record_kwargs, sampling_scene

pytestmark = pytest.mark.django_db


def _confirm(scene: dict[str, Any], sample: Sample, who: str, seed: int) -> None:
    user, phone = scene[who], scene[f"{who}_phone"]
    sample.refresh_from_db()
    challenge = (
        sample.record_sha256 if sample.status == SampleStatus.RECORDED else services.witness_digest(sample, user.pk)
    )
    services.sample_confirm(
        actor=user,
        sample=sample,
        live_photo=photo(user, seed),
        assertion=phone.get(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge))),
        latitude="23.130100",
        longitude="113.330100",
    )


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = sampling_scene(tree)
    sample = services.sample_record(**record_kwargs(s, seed=4))
    _confirm(s, sample, "sampler", 941)
    _confirm(s, sample, "witness", 942)
    sample.refresh_from_db()
    return s | {"sample": sample, "tree": tree}


def _handover(scene: dict[str, Any]) -> str:
    sampler, phone = scene["sampler"], scene["sampler_phone"]
    nonce, challenge = services.handover_challenge(actor=sampler)
    options = identity_challenge_options(user=sampler, challenge=bytes.fromhex(challenge))
    _record, code = services.handover_issue(actor=sampler, nonce=nonce, assertion=phone.get(options))
    return code


def _receive(scene: dict[str, Any], **over: Any) -> Receipt:
    sample, receiver = scene["sample"], scene["receiver"]
    kwargs: dict[str, Any] = {
        "actor": receiver,
        "sample": sample,
        "accept": True,
        "tags": list(sample.specimens.values_list("tag_id", flat=True)),
        "seal_text": sample.seal.text,
        "handover_code": _handover(scene) if "handover_code" not in over else over.pop("handover_code"),
        "deliverer_photo": photo(receiver, 951),
        # the sealed specimen photo taken again: the same picture, re-encoded
        "photos": [photo(receiver, 41, fmt="JPEG", quality=60)],
        "appearance": "完好",
    }
    kwargs.update(over)
    return services.sample_receive(**kwargs)


def test_a_sample_is_received_with_every_check_passed(scene: dict[str, Any]) -> None:
    receipt = _receive(scene)
    assert receipt.outcome == "accepted" and receipt.tags_ok and receipt.seal_ok and receipt.photos_ok
    assert receipt.deliverer_id == scene["sampler"].pk and receipt.handover.factor == "passkey"
    scene["sample"].refresh_from_db()
    assert scene["sample"].status == SampleStatus.RECEIVED
    assert Entry.objects.filter(kind=SamplingLogKind.RECEIPT, record_id=str(receipt.pk)).exists()
    assert not SamplingFinding.objects.filter(sample=scene["sample"]).exists()


def test_a_handover_code_is_used_once(scene: dict[str, Any]) -> None:
    code = _handover(scene)
    _receive(scene, handover_code=code)
    assert Handover.objects.get().used_at is not None
    # a second sample of the same project cannot be received with the same code
    other = services.sample_record(**record_kwargs(scene, seed=5))
    _confirm(scene, other, "sampler", 943)
    _confirm(scene, other, "witness", 944)
    with pytest.raises(AppError) as exc:
        _receive(scene | {"sample": Sample.objects.get(pk=other.pk)}, handover_code=code, photos=[])
    assert exc.value.code == ErrorCode.HANDOVER_INVALID


def test_an_expired_handover_code_is_refused(scene: dict[str, Any]) -> None:
    code = _handover(scene)
    Handover.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(AppError) as exc:
        _receive(scene, handover_code=code)
    assert exc.value.code == ErrorCode.HANDOVER_INVALID and not Receipt.objects.exists()


def test_wrong_tags_cannot_be_accepted(scene: dict[str, Any]) -> None:
    tags = [*list(scene["sample"].specimens.values_list("tag_id", flat=True))[:-1], "SOMETHING-ELSE"]
    with pytest.raises(AppError) as exc:
        _receive(scene, tags=tags)
    assert exc.value.code == ErrorCode.TAGS_MISMATCH and not Receipt.objects.exists()
    scene["sample"].refresh_from_db()
    assert scene["sample"].status == SampleStatus.SEALED


def _tampered(text: str) -> str:
    i = len(text) - 5
    return text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1 :]


def test_a_broken_seal_refuses_the_receipt(scene: dict[str, Any]) -> None:
    with pytest.raises(AppError) as exc:
        _receive(scene, seal_text=_tampered(scene["sample"].seal.text))
    assert exc.value.code == ErrorCode.SEAL_INVALID and not Receipt.objects.exists()


@override_settings(INSPECTA_SEAL_FAILURE_ACTION="flag")
def test_a_missing_seal_is_a_finding_where_the_region_flags(scene: dict[str, Any]) -> None:
    receipt = _receive(scene, seal_text="")
    assert receipt.outcome == "accepted" and not receipt.seal_ok
    finding = SamplingFinding.objects.get(sample=scene["sample"], rule=SamplingRule.SEAL_FAILED)
    assert finding.details["reason"] == "seal_missing"


def test_a_city_rule_flags_instead_of_refusing(scene: dict[str, Any]) -> None:
    """Guangzhou sets the seal rule to flag (regional rule ``seal_failure_action``): a
    broken seal of a sample on a project in its district is accepted with a finding."""

    region_rule_add(
        actor=User.objects.get(username="gz_admin"),
        name=SEAL_FAILURE_ACTION,
        region_code="440100",
        test_item=None,
        value="flag",
    )
    with pytest.raises(AppError):
        region_rule_add(
            actor=User.objects.get(username="gz_admin"),
            name=SEAL_FAILURE_ACTION,
            region_code="440106",
            test_item=None,
            value="ignore",
        )
    receipt = _receive(scene, seal_text=_tampered(scene["sample"].seal.text))
    assert receipt.outcome == "accepted" and not receipt.seal_ok
    assert SamplingFinding.objects.filter(sample=scene["sample"], rule=SamplingRule.SEAL_FAILED).exists()


def test_photos_unlike_the_sealed_ones_are_a_finding(scene: dict[str, Any]) -> None:
    receipt = _receive(scene, photos=[photo(scene["receiver"], 777)])
    assert receipt.outcome == "accepted" and not receipt.photos_ok
    assert SamplingFinding.objects.filter(sample=scene["sample"], rule=SamplingRule.RECEIPT_PHOTO_MISMATCH).exists()


def test_a_refusal_needs_reasons(scene: dict[str, Any]) -> None:
    with pytest.raises(AppError) as exc:
        _receive(scene, accept=False, reasons=" ")
    assert exc.value.code == ErrorCode.REASON_REQUIRED
    receipt = _receive(scene, accept=False, reasons="试块缺角")
    assert receipt.outcome == "refused"
    scene["sample"].refresh_from_db()
    assert scene["sample"].status == SampleStatus.REFUSED


def test_only_a_receiver_of_the_agency_receives(scene: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        _receive(scene, actor=scene["agency_admin"], deliverer_photo=photo(scene["agency_admin"], 952), photos=[])
    assert not Receipt.objects.exists()
