"""Reads of the chain of custody scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import Confirmation, Sample, SamplePhoto, SamplingFinding, Specimen

__all__ = ["sample_get", "sample_list"]


def sample_list(*, actor: Any) -> QuerySet[Sample]:
    """Samples the actor may see, newest first."""

    return (
        Sample.objects.restrict(actor)
        .select_related("project", "agency", "test_item", "sampler", "witness")
        .order_by("-sampled_at", "-pk")
    )


def sample_get(*, actor: Any, pk: int) -> Sample:
    """One sample in the actor's reach (404 otherwise), with its specimens, photos,
    confirmations and seal."""

    return (
        Sample.objects.select_related("project", "project__region", "agency", "test_item", "sampler", "witness")
        .prefetch_related(Prefetch("specimens", queryset=Specimen.objects.order_by("number")))
        .prefetch_related(Prefetch("photos", queryset=SamplePhoto.objects.select_related("file").order_by("pk")))
        .prefetch_related(
            Prefetch("confirmations", queryset=Confirmation.objects.select_related("person").order_by("at", "pk"))
        )
        .prefetch_related(Prefetch("findings", queryset=SamplingFinding.objects.order_by("pk")))
        .reach(actor, pk=pk)
    )
