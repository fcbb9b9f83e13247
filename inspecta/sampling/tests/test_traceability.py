"""A report names its samples; the platform accepts it only when each was witnessed,
sealed and received by the reporting agency on the report's project, and the public
verification shows the chain, masked (T/CECS 1.0.1, 3.0.3, 4.1.2; CONTRACT §6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from inspecta.accounts.passkeys import identity_challenge_options
from inspecta.core.errors import AppError, ErrorCode
from inspecta.ledger.services import sequence_pending
from inspecta.reports import services as report_services
from inspecta.reports.models import Report
from inspecta.reports.testing import submission
from inspecta.sampling import codes, services
from inspecta.sampling.choices import SampleStatus
from inspecta.sampling.models import Sample
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


def _received(scene: dict[str, Any], seed: int) -> Sample:
    sample = services.sample_record(**record_kwargs(scene, seed=seed))
    _confirm(scene, sample, "sampler", seed * 100 + 1)
    _confirm(scene, sample, "witness", seed * 100 + 2)
    sample.refresh_from_db()
    nonce, challenge = services.handover_challenge(actor=scene["sampler"])
    options = identity_challenge_options(user=scene["sampler"], challenge=bytes.fromhex(challenge))
    _handover, code = services.handover_issue(
        actor=scene["sampler"], nonce=nonce, assertion=scene["sampler_phone"].get(options)
    )
    services.sample_receive(
        actor=scene["receiver"],
        sample=sample,
        accept=True,
        tags=list(sample.specimens.values_list("tag_id", flat=True)),
        seal_text=sample.seal.text,
        handover_code=code,
        deliverer_photo=photo(scene["receiver"], seed * 100 + 3),
    )
    sample.refresh_from_db()
    return sample


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = sampling_scene(tree)
    return s | {"tree": tree}


def _submit(scene: dict[str, Any], number: str, samples: list[str]) -> Report:
    return report_services.report_submit(
        actor=scene["agency_admin"],
        **submission(scene["agency"], scene["made"], scene["project"], number=number, samples=samples),
    )


def test_a_report_on_received_samples_shows_its_chain(scene: dict[str, Any]) -> None:
    sample = _received(scene, 6)
    report = _submit(scene, "R-TRACE-1", [codes.display(sample.code)])  # printed form, with hyphens
    assert report.versions.get().data["samples"] == [sample.code]
    sequence_pending()
    body = Client().get(f"/api/v1/public/reports/{report.verification_code}").json()
    steps = [s for s in body["chain"] if s.get("sample") == sample.code]
    assert [s["step"] for s in steps] == ["witnessed_sampling", "seal", "receipt"]
    sampling_step = steps[0]
    assert sampling_step["district"] and sampling_step["sampler"] != scene["sampler"].full_name
    assert "*" in sampling_step["sampler"] and "*" in sampling_step["witness"]
    assert steps[1]["verified"] is True and all(s["log_index"] is not None for s in steps)
    page = Client().get(f"/v/{report.verification_code}").content.decode()
    assert sample.code in page and scene["witness"].full_name not in page


def test_a_report_on_a_sample_not_received_is_refused(scene: dict[str, Any]) -> None:
    pending = services.sample_record(**record_kwargs(scene, seed=7))
    with pytest.raises(AppError) as exc:
        _submit(scene, "R-TRACE-2", [pending.code])
    assert exc.value.code == ErrorCode.SAMPLE_CHAIN_INCOMPLETE
    assert not Report.objects.filter(report_number="R-TRACE-2").exists()
    with pytest.raises(AppError) as unknown:
        _submit(scene, "R-TRACE-3", ["4401062026999999X"])
    assert unknown.value.code == ErrorCode.SAMPLE_CHAIN_INCOMPLETE


def test_a_report_naming_no_sample_is_accepted_as_before(scene: dict[str, Any]) -> None:
    report = _submit(scene, "R-TRACE-4", [])
    assert "samples" not in report.versions.get().data
