"""Reads of the chain of custody scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import (
    Commission,
    CommissionConfirmation,
    CommissionSample,
    Confirmation,
    Sample,
    SamplePhoto,
    SamplingFinding,
    Specimen,
)

__all__ = ["commission_get", "commission_list", "sample_get", "sample_list"]


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


def commission_list(*, actor: Any) -> QuerySet[Commission]:
    """Commissions the actor may see (scoped like their samples), newest first, with their
    samples and confirmations for a page of them."""

    return (
        Commission.objects.restrict(actor)
        .select_related("project", "agency", "deliverer", "witness")
        .prefetch_related(
            Prefetch("lines", queryset=CommissionSample.objects.select_related("sample", "test_item").order_by("pk"))
        )
        .prefetch_related(Prefetch("confirmations", queryset=CommissionConfirmation.objects.order_by("at", "pk")))
        .order_by("-created_at", "-pk")
    )


def commission_get(*, actor: Any, pk: int) -> Commission:
    """One commission in the actor's reach (404 otherwise)."""

    return (
        Commission.objects.select_related("project", "project__region", "agency", "deliverer", "witness")
        .prefetch_related(
            Prefetch("lines", queryset=CommissionSample.objects.select_related("sample", "test_item").order_by("pk"))
        )
        .prefetch_related(
            Prefetch(
                "confirmations", queryset=CommissionConfirmation.objects.select_related("person").order_by("at", "pk")
            )
        )
        .reach(actor, pk=pk)
    )
