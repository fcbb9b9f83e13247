"""Custody events over the API (people signed in, and site apps signing their calls for a
person of their organisation) and on the phone pages; outsiders get nothing (Nanchang
四(一), 四(三); T/CECS 4.3.4-2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import OrganisationFactory, UserFactory
from inspecta.exchange.choices import Scope
from inspecta.exchange.testing import approved_client, signed_call
from inspecta.ledger.models import Entry
from inspecta.reports.testing import approved_agency
from inspecta.sampling import custody
from inspecta.sampling.models import ConcreteBatch, CustodyEvent
from inspecta.sampling.testing import batch_kwargs, custody_kwargs, photo, sampling_scene, sealed_sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = sampling_scene(tree)
    return s | {"tree": tree, "sample": sealed_sample(s)}


def _client(user: Any) -> Client:
    return login_verified(Client(enforce_csrf_checks=False), user)


def _post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def _event_body(scene: dict[str, Any], who: str, seed: int, **over: Any) -> dict[str, Any]:
    body = {
        "kind": "curing_in",
        "photo_ids": [str(photo(scene[who], seed).pk)],
        "room": "现场标准养护室",
        "latitude": "23.130050",
        "longitude": "113.330050",
    }
    body.update(over)
    return body


def _confirm(scene: dict[str, Any], who: str, base: str, seed: int) -> Any:
    user, phone = scene[who], scene[f"{who}_phone"]
    client = _client(user)
    challenge = client.get(f"{base}/challenge")
    assert challenge.status_code == 200, challenge.content
    body = {
        "assertion": phone.get(challenge.json()["options"]),
        "live_photo_id": str(photo(user, seed).pk),
        "latitude": "23.130060",
        "longitude": "113.330060",
    }
    return _post(client, f"{base}/confirmations", body)


def test_custody_events_and_batches_over_the_api(scene: dict[str, Any]) -> None:
    sample = scene["sample"]
    sampler = _client(scene["sampler"])
    created = _post(sampler, f"/api/v1/sampling/samples/{sample.pk}/custody-events", _event_body(scene, "sampler", 301))
    assert created.status_code == 201, created.content
    event = created.json()
    assert event["kind"] == "curing_in" and event["confirmed_at"] is None and len(event["photos"]) == 1
    base = f"/api/v1/sampling/custody-events/{event['id']}"
    # the witness cannot confirm before the recorder
    assert _client(scene["witness"]).get(f"{base}/challenge").status_code == 403
    first = _confirm(scene, "sampler", base, 302)
    assert first.status_code == 201 and first.json()["step"] == "recorder"
    second = _confirm(scene, "witness", base, 303)
    assert second.status_code == 201 and second.json()["step"] == "second"
    listed = _client(scene["agency_admin"]).get(f"/api/v1/sampling/samples/{sample.pk}/custody-events")
    assert listed.status_code == 200 and listed.json()[0]["confirmed_at"] is not None
    assert Entry.objects.filter(kind="custody_event", record_id=str(event["id"])).exists()
    # out of order: a handover while in the curing room
    refused = _post(
        sampler,
        f"/api/v1/sampling/samples/{sample.pk}/custody-events",
        _event_body(scene, "sampler", 304, kind="transport", to_person_id=scene["courier"].pk),
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "custody_order"
    assert CustodyEvent.objects.count() == 1

    body = {
        "project_id": scene["project"].pk,
        "part": "三层梁板",
        "volume_m3": "12.50",
        "strength_grade": "C30",
        "curing": "standard",
        "producer": "广州某混凝土有限公司",
        "slump_mm": 180,
        "photos": [{"kind": "slump", "file_id": str(photo(scene["sampler"], 305).pk)}],
        "latitude": "23.130050",
        "longitude": "113.330050",
    }
    made = _post(sampler, "/api/v1/sampling/concrete-batches", body, **{"Idempotency-Key": "batch-1"})
    again = _post(sampler, "/api/v1/sampling/concrete-batches", body, **{"Idempotency-Key": "batch-1"})
    assert made.status_code == 201 and again.json()["id"] == made.json()["id"] and ConcreteBatch.objects.count() == 1
    base = f"/api/v1/sampling/concrete-batches/{made.json()['id']}"
    assert _confirm(scene, "sampler", base, 306).status_code == 201
    assert _confirm(scene, "witness", base, 307).status_code == 201
    detail = _client(scene["witness"]).get(base).json()
    assert detail["confirmed_at"] and detail["photos"][0]["kind"] == "slump"
    assert Entry.objects.filter(kind="concrete_batch", record_id=str(detail["id"])).exists()
    missing = _post(sampler, "/api/v1/sampling/concrete-batches", {**body, "photos": []})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "photos_required"


def test_a_site_app_acts_for_a_person_of_its_organisation(scene: dict[str, Any]) -> None:
    contractor = scene["contractor"]
    admin = UserFactory(username="c_admin", organisation=contractor, roles=[Role.PARTY_ADMIN])
    creds = approved_client(applicant=admin, reviewer=scene["tree"]["th_admin"], scopes=[Scope.CUSTODY_WRITE.value])
    url = f"/api/v1/sampling/samples/{scene['sample'].pk}/custody-events"
    client = Client()

    def call(**over: Any) -> Any:
        body = json.dumps(_event_body(scene, "sampler", 311, **over)).encode()
        return signed_call(client, creds, "POST", url, body)

    no_person = call()
    assert no_person.status_code == 422 and no_person.json()["error"]["code"] == "person_required"
    stranger = call(person_id=scene["witness"].pk)  # of the supervising firm, not the app's organisation
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "person_not_acting"
    assert not CustodyEvent.objects.exists()
    done = call(person_id=scene["sampler"].pk)
    assert done.status_code == 201, done.content
    assert CustodyEvent.objects.get().recorded_by == scene["sampler"]


def test_outsiders_get_nothing(scene: dict[str, Any]) -> None:
    tree, sample = scene["tree"], scene["sample"]
    batch = custody.batch_record(**batch_kwargs(scene))
    event = custody.custody_record(**custody_kwargs(scene, sample, "curing_in", seed=32))
    _other, other_admin, _made = approved_agency(tree, 77)
    stranger_org = OrganisationFactory(
        name="他项目施工单位", kind=OrganisationKind.CONTRACTOR, level="", region_code="440106"
    )
    stranger = UserFactory(username="stranger", organisation=stranger_org, roles=[Role.SAMPLER])
    urls = [
        f"/api/v1/sampling/concrete-batches/{batch.pk}",
        f"/api/v1/sampling/samples/{sample.pk}/custody-events",
        f"/api/v1/sampling/custody-events/{event.pk}/challenge",
        f"/sampling/batches/{batch.pk}/",
        f"/sampling/{sample.pk}/custody/transport/",
    ]
    for outsider in (tree["sz_supervisor"], other_admin, stranger):
        client = _client(outsider)
        assert_gets_nothing(client, urls, secrets=[batch.producer, "现场标准养护室"])
        listed = client.get("/api/v1/sampling/concrete-batches")
        assert listed.status_code == 200 and listed.json()["count"] == 0
        assert batch.producer not in client.get("/sampling/batches/").content.decode()
    refused = _post(
        _client(stranger), f"/api/v1/sampling/samples/{sample.pk}/custody-events", _event_body(scene, "sampler", 321)
    )
    assert refused.status_code == 404 and CustodyEvent.objects.count() == 1
    for insider in (tree["gz_supervisor"], scene["witness"]):
        assert _client(insider).get(f"/sampling/batches/{batch.pk}/").status_code == 200


def test_the_phone_pages(scene: dict[str, Any]) -> None:
    sample, sampler = scene["sample"], scene["sampler"]
    client = _client(sampler)
    page = client.get(f"/sampling/batches/new/?project={scene['project'].pk}")
    assert page.status_code == 200 and 'capture="environment"' in page.content.decode()
    form = {
        "project": scene["project"].pk,
        "part": "三层梁板",
        "volume_m3": "12.5",
        "strength_grade": "C30",
        "curing": "standard",
        "producer": "广州某混凝土有限公司",
        "slump_mm": "180",
        "slump_photos": str(photo(sampler, 331).pk),
        "latitude": "23.130000",
        "longitude": "113.330000",
    }
    missing = client.post("/sampling/batches/new/", {**form, "slump_photos": ""})
    assert missing.status_code == 400 and "坍落度" in missing.content.decode()
    done = client.post("/sampling/batches/new/", form)
    assert done.status_code == 302, done.content.decode()[:2000]
    assert "记录人确认" in client.get(done["Location"]).content.decode()
    assert _client(scene["witness"]).get("/sampling/batches/new/").status_code == 403

    detail = client.get(f"/sampling/{sample.pk}/").content.decode()
    assert "养护入室" in detail and "运输交接" in detail and "养护出室" not in detail
    assert client.get(f"/sampling/{sample.pk}/custody/curing_out/").status_code == 403
    courier_page = _client(scene["courier"]).get(f"/sampling/{sample.pk}/").content.decode()
    assert 'data-testid="custody-transport"' in courier_page and 'data-testid="custody-curing_in"' not in courier_page
    posted = client.post(
        f"/sampling/{sample.pk}/custody/curing_in/",
        {"room": "现场标准养护室", "photos": str(photo(sampler, 332).pk), "latitude": "23.13", "longitude": "113.33"},
    )
    assert posted.status_code == 302
    timeline = client.get(f"/sampling/{sample.pk}/").content.decode()
    assert "现场标准养护室" in timeline and "confirm-card" in timeline and "custody-events/" in timeline
    # the witness sees no card until the recorder confirmed, and no new action while one is pending
    witness_page = _client(scene["witness"]).get(f"/sampling/{sample.pk}/").content.decode()
    assert "confirm-card" not in witness_page and 'data-testid="custody-transport"' not in witness_page
