"""The sampling demo loads after the reports demo, once: a concrete batch with its slump
placard photo, and the received sample taken from it, cured and handed over, each step
confirmed by both parties and logged (Nanchang 四(一), 四(三))."""

from __future__ import annotations

import pytest

from inspecta.core.demo import demo_load
from inspecta.ledger.models import Entry
from inspecta.registry.demo import registry_demo_load
from inspecta.reports.demo import reports_demo_load
from inspecta.sampling.choices import SampleStatus, SamplingLogKind, SamplingRule
from inspecta.sampling.demo import sampling_demo
from inspecta.sampling.models import ConcreteBatch, Sample

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_batch_and_custody_events():
    demo_load()
    registry_demo_load()
    reports_demo_load()
    added, _logins = sampling_demo()
    assert added > 0
    batch = ConcreteBatch.objects.get()
    assert batch.confirmed_at is not None and batch.photos.filter(kind="slump").exists()
    received = Sample.objects.get(status=SampleStatus.RECEIVED)
    assert received.concrete_batch == batch
    kinds = list(received.custody_events.values_list("kind", flat=True))
    assert kinds == ["curing_in", "curing_out", "transport"]
    assert not received.custody_events.filter(confirmed_at__isnull=True).exists()
    assert Entry.objects.filter(kind=SamplingLogKind.CUSTODY_EVENT).count() == 3
    assert Entry.objects.filter(kind=SamplingLogKind.CONCRETE_BATCH).count() == 1
    rules = set(received.findings.values_list("rule", flat=True))
    assert SamplingRule.CURING_AT_RECEIPT not in rules
    again, _logins = sampling_demo()
    assert again == 0 and ConcreteBatch.objects.count() == 1
