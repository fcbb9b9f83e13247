"""The chain of custody over the API and on the pages: the sampler records and confirms,
the witness confirms and seals, with passkeys; outsiders (another region, another agency,
another project's party) get nothing; bad input changes nothing (57号令 第十八条;
T/CECS 2.0.16, 4.3.4-2; Nanchang 四(一))."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import OrganisationFactory, UserFactory
from inspecta.reports.testing import approved_agency
from inspecta.sampling.choices import SampleStatus
from inspecta.sampling.models import Sample
from inspecta.sampling.seal import seal_decode
from inspecta.sampling.testing import photo, sampling_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return sampling_scene(tree) | {"tree": tree}


def _client(user: Any) -> Client:
    return login_verified(Client(enforce_csrf_checks=False), user)


def _body(scene: dict[str, Any], **over: Any) -> dict[str, Any]:
    sampler = scene["sampler"]
    body = {
        "project_id": scene["project"].pk,
        "agency_id": scene["agency"].pk,
        "test_item": scene["item"].code,
        "part": "二层柱",
        "count": 2,
        "dimensions": "150×150×150 mm",
        "tags": [{"tag_id": "API-1"}, {"tag_id": "API-2", "kind": "chip"}],
        "photos": [
            {"kind": "specimen", "file_id": str(photo(sampler, 501).pk)},
            {"kind": "placard", "file_id": str(photo(sampler, 502).pk)},
        ],
        "latitude": "23.130050",
        "longitude": "113.330050",
        "accuracy_m": 12,
    }
    body.update(over)
    return body


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _confirm(scene: dict[str, Any], who: str, sample_id: int, seed: int) -> Any:
    user, phone = scene[who], scene[f"{who}_phone"]
    client = _client(user)
    challenge = client.get(f"/api/v1/sampling/samples/{sample_id}/challenge")
    assert challenge.status_code == 200, challenge.content
    assertion = phone.get(challenge.json()["options"])
    return _post(
        client,
        f"/api/v1/sampling/samples/{sample_id}/confirmations",
        {
            "assertion": assertion,
            "live_photo_id": str(photo(user, seed).pk),
            "latitude": "23.130060",
            "longitude": "113.330060",
        },
    )


def test_the_chain_over_the_api(scene: dict[str, Any]) -> None:
    created = _post(_client(scene["sampler"]), "/api/v1/sampling/samples", _body(scene))
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == SampleStatus.RECORDED and [t["tag_id"] for t in data["tags"]] == ["API-1", "API-2"]
    sample_id = data["id"]

    first = _confirm(scene, "sampler", sample_id, 511)
    assert first.status_code == 201, first.content
    assert first.json()["step"] == "sampling" and first.json()["factor"] == "passkey"
    second = _confirm(scene, "witness", sample_id, 512)
    assert second.status_code == 201, second.content
    assert second.json()["step"] == "witness"

    detail = _client(scene["agency_admin"]).get(f"/api/v1/sampling/samples/{sample_id}")
    assert detail.status_code == 200
    sealed = detail.json()
    assert sealed["status"] == SampleStatus.SEALED and sealed["seal"].startswith("SEAL1:")
    assert seal_decode(sealed["seal"]).valid and len(sealed["confirmations"]) == 2

    keys = Client().get("/api/v1/sampling/seal-keys")
    assert keys.status_code == 200 and keys.json()[0]["crv"] == "Ed25519"


def test_a_confirmation_out_of_turn_is_refused(scene: dict[str, Any]) -> None:
    sample_id = _post(_client(scene["sampler"]), "/api/v1/sampling/samples", _body(scene)).json()["id"]
    response = _client(scene["witness"]).get(f"/api/v1/sampling/samples/{sample_id}/challenge")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert Sample.objects.get(pk=sample_id).status == SampleStatus.RECORDED


@pytest.mark.parametrize(
    ("over", "status", "code"),
    [
        ({"tags": [{"tag_id": "ONLY-ONE"}]}, 422, "tags_mismatch"),
        ({"test_item": "NO-SUCH-ITEM"}, 400, "unknown_test_item"),
        ({"latitude": "123"}, 422, "invalid_input"),
    ],
)
def test_bad_recordings_over_the_api(scene: dict[str, Any], over: dict[str, Any], status: int, code: str) -> None:
    response = _post(_client(scene["sampler"]), "/api/v1/sampling/samples", _body(scene, **over))
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Sample.objects.exists()


def test_outsiders_get_nothing(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    sample_id = _post(_client(scene["sampler"]), "/api/v1/sampling/samples", _body(scene)).json()["id"]
    _other, other_admin, _made = approved_agency(tree, 77)
    stranger_org = OrganisationFactory(
        name="他项目施工单位", kind=OrganisationKind.CONTRACTOR, level="", region_code="440106"
    )
    stranger = UserFactory(username="stranger", organisation=stranger_org, roles=[Role.SAMPLER])
    urls = [
        f"/api/v1/sampling/samples/{sample_id}",
        f"/sampling/{sample_id}/",
        f"/sampling/{sample_id}/tags.pdf",
    ]
    code = Sample.objects.get(pk=sample_id).code
    for outsider in (tree["sz_supervisor"], other_admin, stranger):
        client = _client(outsider)
        assert_gets_nothing(client, urls, secrets=[code])
        listed = client.get("/api/v1/sampling/samples")
        assert listed.status_code == 200 and listed.json()["count"] == 0
    # the stranger may not record on a project it is no party of
    refused = _post(
        _client(stranger), "/api/v1/sampling/samples", _body(scene, tags=[{"tag_id": "S-1"}, {"tag_id": "S-2"}])
    )
    assert refused.status_code == 404 and Sample.objects.count() == 1
    # those in scope see it
    for insider in (tree["gz_supervisor"], tree["gz_inspector"], scene["agency_admin"], scene["witness"]):
        assert _client(insider).get(f"/sampling/{sample_id}/").status_code == 200


def test_the_sampler_records_on_the_page(scene: dict[str, Any]) -> None:
    sampler = scene["sampler"]
    client = _client(sampler)
    page = client.get("/sampling/new/")
    assert page.status_code == 200 and scene["project"].name in page.content.decode()
    form = {
        "project": scene["project"].pk,
        "agency": scene["agency"].pk,
        "test_item": scene["item"].code,
        "part": "三层梁",
        "count": 2,
        "tags": "PG-1\nPG-2\n",
        "specimen_photos": str(photo(sampler, 521).pk),
        "placard_photos": str(photo(sampler, 522).pk),
        "latitude": "23.130000",
        "longitude": "113.330000",
        "accuracy_m": "9",
    }
    missing = client.post("/sampling/new/", {**form, "latitude": "", "longitude": ""})
    assert missing.status_code == 400 and "定位" in missing.content.decode()
    assert not Sample.objects.exists()
    done = client.post("/sampling/new/", form)
    assert done.status_code == 302
    sample = Sample.objects.get()
    assert done["Location"] == f"/sampling/{sample.pk}/"
    detail = client.get(done["Location"]).content.decode()
    assert "取样人确认" in detail and "PG-1" in detail
    labels = client.get(f"/sampling/{sample.pk}/tags.pdf")
    assert labels.status_code == 200 and labels["Content-Type"] == "application/pdf"


def test_the_record_page_is_only_for_samplers(scene: dict[str, Any]) -> None:
    assert _client(scene["witness"]).get("/sampling/new/").status_code == 403
    assert _client(scene["agency_admin"]).get("/sampling/new/").status_code == 403
