"""Sample lists, API and page, do a constant number of queries (STYLE.md 14), built with
``n`` and ``3n`` samples recorded through the real services."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.ledger.services import signing_key_rotate
from inspecta.sampling import services
from inspecta.sampling.testing import record_kwargs, sampling_scene

pytestmark = pytest.mark.django_db

_seeds = itertools.count(100)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return sampling_scene(tree) | {"tree": tree}


def _samples(scene: dict[str, Any]) -> Any:
    def grow(k: int) -> None:
        for _i in range(k):
            services.sample_record(**record_kwargs(scene, seed=next(_seeds), count=1))

    return grow


@guards("inspecta_sampling_api_sample_list")
def test_sample_list_api(client: Any, scene: dict[str, Any]) -> None:
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/sampling/samples"), _samples(scene), limit=12, rows=json_rows("items")
    )


def test_sample_list_page(client: Any, scene: dict[str, Any]) -> None:
    login_verified(client, scene["agency_admin"])
    assert_queries_constant(
        lambda: client.get("/sampling/"), _samples(scene), limit=20, rows=html_rows('href="/sampling/')
    )


@guards("inspecta_sampling_api_seal_key_list")
def test_seal_key_list(client: Any) -> None:
    def grow(k: int) -> None:
        for _i in range(k):
            signing_key_rotate()

    assert_queries_constant(lambda: client.get("/api/v1/sampling/seal-keys"), grow, limit=6, rows=json_rows())


@guards("inspecta_sampling_api_commission_list", "inspecta_sampling_api_commission_feed")
def test_commission_lists(client: Any, scene: dict[str, Any]) -> None:
    from inspecta.exchange.testing import approved_client, signed_call
    from inspecta.sampling.commissions import LineIn, commission_fill
    from inspecta.sampling.testing import sealed_sample

    def grow(k: int) -> None:
        for _i in range(k):
            sample = sealed_sample(scene, seed=next(_seeds), count=1)
            commission_fill(
                actor=scene["sampler"], project=scene["project"], agency=scene["agency"], lines=[LineIn(sample)]
            )

    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(lambda: client.get("/api/v1/sampling/commissions"), grow, limit=16, rows=json_rows("items"))
    client.logout()
    creds = approved_client(
        applicant=scene["agency_admin"], reviewer=scene["tree"]["gz_admin"], scopes=["records:submit"]
    )
    assert_queries_constant(
        lambda: signed_call(client, creds, "GET", "/api/v1/sampling/commissions/feed"),
        grow,
        limit=24,
        rows=json_rows("items"),
    )


@guards("inspecta_sampling_api_batch_list")
def test_concrete_batch_list(client: Any, scene: dict[str, Any]) -> None:
    from inspecta.sampling.custody import batch_record
    from inspecta.sampling.testing import batch_kwargs

    def grow(k: int) -> None:
        for _i in range(k):
            batch_record(**batch_kwargs(scene, seed=next(_seeds)))

    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/sampling/concrete-batches"), grow, limit=12, rows=json_rows("items")
    )


@guards("inspecta_sampling_api_custody_list")
def test_custody_event_list(client: Any, scene: dict[str, Any]) -> None:
    from inspecta.sampling.custody import custody_confirm, custody_record
    from inspecta.sampling.testing import custody_kwargs, custody_sign, sealed_sample

    sample = sealed_sample(scene, seed=next(_seeds))
    kinds = itertools.cycle(["curing_in", "curing_out"])

    def grow(k: int) -> None:
        for _i in range(k):
            event = custody_record(**custody_kwargs(scene, sample, next(kinds), seed=next(_seeds)))
            custody_confirm(**custody_sign(scene, event, "sampler", seed=next(_seeds)))
            custody_confirm(**custody_sign(scene, event, "witness", seed=next(_seeds)))

    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get(f"/api/v1/sampling/samples/{sample.pk}/custody-events"), grow, limit=20, rows=json_rows()
    )
