"""A report names its samples; the platform accepts it only when each was witnessed,
sealed and received by the reporting agency on the report's project, and the public
verification shows the chain, masked (T/CECS 1.0.1, 3.0.3, 4.1.2; CONTRACT §6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from inspecta.core.errors import AppError, ErrorCode
from inspecta.ledger.services import sequence_pending
from inspecta.reports import services as report_services
from inspecta.reports.models import Report
from inspecta.reports.testing import submission
from inspecta.sampling import codes, services
from inspecta.sampling.models import Sample
from inspecta.sampling.testing import confirm_sample, received_sample, record_kwargs, sampling_scene

pytestmark = pytest.mark.django_db


def _confirm(scene: dict[str, Any], sample: Sample, who: str, seed: int) -> None:
    confirm_sample(scene, sample, who, seed)


def _received(scene: dict[str, Any], seed: int) -> Sample:
    return received_sample(scene, seed)  # type: ignore[no-any-return]


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
