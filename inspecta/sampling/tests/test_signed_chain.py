"""The whole chain of custody over signed calls (issue point 11; 57号令 第十八条; T/CECS
2.0.16, 4.3.4-1/-2/-3, 6.0.7-6.0.8; Nanchang 四(一)-(二), 四(四)2): a contractor's site
app, applied for by its party admin and approved by the region's authority, records and
confirms for its sampler and proves the deliverer; a supervising firm's app confirms for
its witness (passkey, or the TOTP fallback); the agency's LIMS receives for its receiver.
Every step names ``person_id`` and is refused exactly as the session path refuses it."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.services import organisation_create
from inspecta.core.models import StoredFile
from inspecta.core.testing import factories
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.browser import totp_code
from inspecta.core.testing.factories import UserFactory
from inspecta.core.testing.openapi import assert_documented
from inspecta.exchange.choices import Scope
from inspecta.exchange.testing import Credentials, approved_client, prepare, send, sign_prepared, signed_call
from inspecta.ledger.models import Entry
from inspecta.reports.testing import approved_agency
from inspecta.sampling.choices import SampleStatus, SamplingLogKind, SamplingRule
from inspecta.sampling.models import Confirmation, Handover, Receipt, Sample
from inspecta.sampling.seal import seal_decode
from inspecta.sampling.testing import photo_bytes, sampling_scene

pytestmark = pytest.mark.django_db

CUSTODY = [Scope.CUSTODY_WRITE.value, Scope.FILES_UPLOAD.value]
API = "/api/v1/sampling"


def _app(tree: dict[str, Any], org: Any, name: str, *, scopes: list[str] = CUSTODY) -> Credentials:
    """A client of ``org`` applied for by its admin (party admin or agency admin) and
    approved by the authority of its region."""

    role = Role.AGENCY_ADMIN if org.kind == OrganisationKind.AGENCY else Role.PARTY_ADMIN
    admin = UserFactory(username=f"admin-{uuid.uuid4().hex[:8]}", organisation=org, roles=[role])
    reviewer = tree["th_admin"] if org.region_id.startswith("440106") else tree["gz_admin"]
    if org.region_id.startswith("4403"):
        reviewer = tree["sz_admin"]
    return approved_client(applicant=admin, reviewer=reviewer, scopes=scopes, name=name)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = sampling_scene(tree)
    return s | {
        "tree": tree,
        "site_app": _app(tree, s["contractor"], "工地App"),
        "firm_app": _app(tree, s["firm"], "监理App"),
        "lims": _app(tree, s["agency"].organisation, "LIMS"),
    }


def call(creds: Credentials, method: str, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    raw = json.dumps(body).encode() if body is not None else None
    if headers:
        prepared = prepare(method, path, raw, **({"Content-Type": "application/json"} if raw else {}), **headers)
        return send(Client(), sign_prepared(prepared, creds))
    return signed_call(Client(), creds, method, path, raw)


def upload(creds: Credentials, data: bytes, name: str = "photo.png") -> str:
    """A photo through tus (CONTRACT §4) by the client: the id of the stored file."""

    token = call(creds, "POST", "/api/v1/exchange/upload-tokens")
    assert token.status_code == 201, token.content
    bearer = {"Authorization": f"Bearer {token.json()['token']}", "Tus-Resumable": "1.0.0"}
    meta = "filename " + base64.b64encode(name.encode()).decode()
    created = Client().generic(
        "POST",
        "/api/v1/uploads/",
        headers={**bearer, "Upload-Length": str(len(data)), "Upload-Metadata": meta},
    )
    assert created.status_code == 201, created.content
    patched = Client().generic(
        "PATCH",
        urlparse(created["Location"]).path,
        data=data,
        content_type="application/offset+octet-stream",
        headers={**bearer, "Upload-Offset": "0"},
    )
    assert patched.status_code == 204, patched.content
    return patched["Inspecta-File-Id"]


def record_body(scene: dict[str, Any], creds: Credentials, *, seed: int = 1, **over: Any) -> dict[str, Any]:
    body = {
        "project_id": scene["project"].pk,
        "agency_id": scene["agency"].pk,
        "test_item": scene["item"].code,
        "part": "四层梁板",
        "count": 2,
        "dimensions": "150×150×150 mm",
        "tags": [{"tag_id": f"SIG-{seed}-1"}, {"tag_id": f"SIG-{seed}-2", "kind": "chip"}],
        "photos": [
            {"kind": "specimen", "file_id": upload(creds, photo_bytes(seed * 10 + 1))},
            {"kind": "placard", "file_id": upload(creds, photo_bytes(seed * 10 + 2))},
        ],
        "latitude": "23.130050",
        "longitude": "113.330050",
        "accuracy_m": 6,
        "person_id": scene["sampler"].pk,
    }
    return body | over


def confirm(
    scene: dict[str, Any], creds: Credentials, who: str, sample_id: int, *, seed: int, totp: str = "", **headers: str
) -> Any:
    person = scene[who]
    challenge = call(creds, "GET", f"{API}/samples/{sample_id}/challenge?person_id={person.pk}")
    assert challenge.status_code == 200, challenge.content
    body: dict[str, Any] = {
        "live_photo_id": upload(creds, photo_bytes(seed)),
        "latitude": "23.130060",
        "longitude": "113.330060",
        "person_id": person.pk,
    }
    if totp:
        body["totp_code"] = totp
    else:
        body["assertion"] = scene[f"{who}_phone"].get(challenge.json()["options"])
    return call(creds, "POST", f"{API}/samples/{sample_id}/confirmations", body, **headers)


def handover(scene: dict[str, Any]) -> str:
    creds, sampler = scene["site_app"], scene["sampler"]
    asked = call(creds, "GET", f"{API}/handover/challenge?person_id={sampler.pk}")
    assert asked.status_code == 200, asked.content
    issued = call(
        creds,
        "POST",
        f"{API}/handover",
        {
            "nonce": asked.json()["nonce"],
            "assertion": scene["sampler_phone"].get(asked.json()["options"]),
            "person_id": sampler.pk,
        },
    )
    assert issued.status_code == 201, issued.content
    assert issued.json()["factor"] == "passkey"
    return issued.json()["code"]


def sealed_sample(scene: dict[str, Any]) -> int:
    created = call(scene["site_app"], "POST", f"{API}/samples", record_body(scene, scene["site_app"]))
    assert created.status_code == 201, created.content
    sample_id = created.json()["id"]
    assert confirm(scene, scene["site_app"], "sampler", sample_id, seed=901).status_code == 201
    assert confirm(scene, scene["firm_app"], "witness", sample_id, seed=902).status_code == 201
    return sample_id


def test_the_whole_chain_over_signed_calls(scene: dict[str, Any]) -> None:
    site, firm, lims = scene["site_app"], scene["firm_app"], scene["lims"]
    sampler, witness, receiver = scene["sampler"], scene["witness"], scene["receiver"]

    body = record_body(scene, site)
    created = call(site, "POST", f"{API}/samples", body, **{"Idempotency-Key": "rec-1"})
    data = assert_documented(created, f"{API}/samples", method="post")
    assert data["status"] == SampleStatus.RECORDED
    sample = Sample.objects.get(pk=data["id"])
    assert sample.sampler_id == sampler.pk
    # the same Idempotency-Key answers the first response and records nothing new
    again = call(site, "POST", f"{API}/samples", body, **{"Idempotency-Key": "rec-1"})
    assert again.status_code == 201 and again.json()["id"] == sample.pk and Sample.objects.count() == 1
    # the audit trail names both the person and the client that acted for them
    row = sample.history.order_by("history_id").first()
    assert row.history_user_id == sampler.pk and row.acting_client_id == site.client.pk

    first = confirm(scene, site, "sampler", sample.pk, seed=901)
    assert_documented(first, f"{API}/samples/{{sample_id}}/confirmations", method="post")
    assert first.json()["step"] == "sampling" and first.json()["person_id"] == sampler.pk

    second = confirm(scene, firm, "witness", sample.pk, seed=902)
    assert second.status_code == 201, second.content
    assert second.json()["step"] == "witness" and second.json()["factor"] == "passkey"
    sample.refresh_from_db()
    assert sample.status == SampleStatus.SEALED and sample.witness_id == witness.pk
    assert Entry.objects.filter(kind=SamplingLogKind.SEAL, record_id=str(sample.seal.pk)).exists()
    assert Confirmation.objects.get(sample=sample, step="witness").live_photo.client_id == firm.client.pk

    # the LIMS reads the sample with custody:write and receives it for its receiver
    scanned = call(lims, "GET", f"{API}/tags/SIG-1-1")
    seal = assert_documented(scanned, f"{API}/tags/{{tag_id}}")["seal"]
    assert seal_decode(seal).valid
    code = handover(scene)
    received = call(
        lims,
        "POST",
        f"{API}/samples/{sample.pk}/receipt",
        {
            "accept": True,
            "tags": ["SIG-1-1", "SIG-1-2"],
            "seal": seal,
            "handover": code,
            "deliverer_photo_id": upload(lims, photo_bytes(951)),
            "photo_ids": [upload(lims, photo_bytes(11, fmt="JPEG", quality=60), "r.jpg")],
            "appearance": "完好",
            "person_id": receiver.pk,
        },
    )
    out = assert_documented(received, f"{API}/samples/{{sample_id}}/receipt", method="post")
    assert out["outcome"] == "accepted" and out["tags_ok"] and out["seal_ok"] and out["photos_ok"]
    assert out["receiver_id"] == receiver.pk and out["deliverer_id"] == sampler.pk
    assert Entry.objects.filter(kind=SamplingLogKind.RECEIPT, record_id=str(Receipt.objects.get().pk)).exists()
    sample.refresh_from_db()
    assert sample.status == SampleStatus.RECEIVED


def test_the_witness_confirms_with_the_totp_fallback(scene: dict[str, Any]) -> None:
    site, firm, witness = scene["site_app"], scene["firm_app"], scene["witness"]
    sample_id = call(site, "POST", f"{API}/samples", record_body(scene, site)).json()["id"]
    assert confirm(scene, site, "sampler", sample_id, seed=903).status_code == 201
    device = TOTPDevice.objects.create(user=witness, name="phone", confirmed=True)
    wrong = confirm(
        scene, firm, "witness", sample_id, seed=904, totp="000000" if totp_code(device) != "000000" else "111111"
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "totp_invalid"
    assert Sample.objects.get(pk=sample_id).status == SampleStatus.CONFIRMED
    done = confirm(scene, firm, "witness", sample_id, seed=905, totp=totp_code(device))
    assert done.status_code == 201, done.content
    assert done.json()["factor"] == "totp" and done.json()["person_id"] == witness.pk
    assert Sample.objects.get(pk=sample_id).status == SampleStatus.SEALED


def test_a_failed_identity_check_is_refused_yet_kept_as_a_finding(scene: dict[str, Any]) -> None:
    """The refusal rolls the service's writes back (an Idempotency-Key then stores the
    422 for replay, CONTRACT §3); the finding about it is written after the request's
    transactions have ended."""

    site, firm, witness = scene["site_app"], scene["firm_app"], scene["witness"]
    sample_id = call(site, "POST", f"{API}/samples", record_body(scene, site)).json()["id"]
    assert confirm(scene, site, "sampler", sample_id, seed=906).status_code == 201
    device = TOTPDevice.objects.create(user=witness, name="phone", confirmed=True)
    bad = "000000" if totp_code(device) != "000000" else "111111"
    key = {"Idempotency-Key": "witness-1"}
    wrong = confirm(scene, firm, "witness", sample_id, seed=907, totp=bad, **key)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "totp_invalid"
    sample = Sample.objects.get(pk=sample_id)
    assert sample.status == SampleStatus.CONFIRMED and not sample.confirmations.filter(person=witness).exists()
    (finding,) = sample.findings.filter(rule=SamplingRule.IDENTITY_FAILED)
    assert finding.details == {"code": "totp_invalid", "person": witness.pk, "step": "witness"}
    assert witness.full_name in finding.detail and finding.region == sample.project.region_id
    # a second failure by the same person is the same finding; a good code then seals
    assert confirm(scene, firm, "witness", sample_id, seed=908, totp=bad).status_code == 422
    assert sample.findings.filter(rule=SamplingRule.IDENTITY_FAILED).count() == 1
    done = confirm(scene, firm, "witness", sample_id, seed=909, totp=totp_code(device), **{"Idempotency-Key": "w-2"})
    assert done.status_code == 201, done.content
    assert Sample.objects.get(pk=sample_id).status == SampleStatus.SEALED


def _nothing_changed(counts: tuple[int, int, int, int]) -> None:
    assert (
        Sample.objects.count(),
        Confirmation.objects.count(),
        Handover.objects.count(),
        Receipt.objects.count(),
    ) == counts


def _counts() -> tuple[int, int, int, int]:
    return Sample.objects.count(), Confirmation.objects.count(), Handover.objects.count(), Receipt.objects.count()


def test_a_signed_step_must_name_a_person_of_the_client(scene: dict[str, Any]) -> None:
    site, firm = scene["site_app"], scene["firm_app"]
    body = record_body(scene, site)
    missing = call(site, "POST", f"{API}/samples", {k: v for k, v in body.items() if k != "person_id"})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "person_required"
    # the firm's witness is no person of the contractor's app
    foreign = call(site, "POST", f"{API}/samples", body | {"person_id": scene["witness"].pk})
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "person_not_acting"
    # the contractor's admin is its own person, but no sampler
    admin = UserFactory(username="c_viewer", organisation=scene["contractor"], roles=[Role.PROJECT_VIEWER])
    wrong = call(site, "POST", f"{API}/samples", body | {"person_id": admin.pk})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
    _nothing_changed((0, 0, 0, 0))

    sample_id = call(site, "POST", f"{API}/samples", body).json()["id"]
    counts = _counts()
    # a confirmation for no one, for another organisation's person, out of turn
    for creds, person_id, code in (
        (site, None, "person_required"),
        (site, scene["witness"].pk, "person_not_acting"),
        (firm, scene["witness"].pk, "forbidden"),
    ):
        asked = call(
            creds, "GET", f"{API}/samples/{sample_id}/challenge" + (f"?person_id={person_id}" if person_id else "")
        )
        assert asked.json()["error"]["code"] == code, asked.content
    refused = call(
        firm,
        "POST",
        f"{API}/samples/{sample_id}/confirmations",
        {
            "totp_code": "123456",
            "live_photo_id": upload(firm, photo_bytes(906)),
            "latitude": "23.13",
            "longitude": "113.33",
            "person_id": scene["sampler"].pk,
        },
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "person_not_acting"
    asked = call(site, "GET", f"{API}/handover/challenge")
    assert asked.json()["error"]["code"] == "person_required"
    lims_handover = call(scene["lims"], "GET", f"{API}/handover/challenge?person_id={scene['receiver'].pk}")
    assert lims_handover.status_code == 403
    _nothing_changed(counts)


def test_a_signed_receipt_is_for_a_receiver_of_the_agency(scene: dict[str, Any]) -> None:
    sample_id = sealed_sample(scene)
    lims, site = scene["lims"], scene["site_app"]
    code = handover(scene)
    body = {
        "accept": True,
        "tags": ["SIG-1-1", "SIG-1-2"],
        "seal": Sample.objects.get(pk=sample_id).seal.text,
        "handover": code,
        "deliverer_photo_id": upload(lims, photo_bytes(951)),
    }
    counts = _counts()
    assert call(lims, "POST", f"{API}/samples/{sample_id}/receipt", body).json()["error"]["code"] == "person_required"
    tester = UserFactory(username="a_tester", organisation=scene["agency"].organisation, roles=[Role.TESTER])
    not_receiver = call(lims, "POST", f"{API}/samples/{sample_id}/receipt", body | {"person_id": tester.pk})
    assert not_receiver.status_code == 403 and not_receiver.json()["error"]["code"] == "forbidden"
    # the site app may not receive for the receiver: no person of its own
    foreign = call(site, "POST", f"{API}/samples/{sample_id}/receipt", body | {"person_id": scene["receiver"].pk})
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "person_not_acting"
    _nothing_changed(counts)
    assert Handover.objects.get().used_at is None


def test_a_client_without_custody_write_is_refused(scene: dict[str, Any]) -> None:
    site = scene["site_app"]
    reader = _app(scene["tree"], scene["contractor"], "只读", scopes=[Scope.RECORDS_SUBMIT.value, "files:upload"])
    body = record_body(scene, reader)
    refused = call(reader, "POST", f"{API}/samples", body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    assert refused.json()["error"]["details"]["scope"] == Scope.CUSTODY_WRITE.value
    # photos uploaded by another client of the same organisation are its organisation's
    sample_id = call(site, "POST", f"{API}/samples", body).json()["id"]
    asked = call(reader, "GET", f"{API}/samples/{sample_id}/challenge?person_id={scene['sampler'].pk}")
    assert asked.status_code == 403 and asked.json()["error"]["code"] == "insufficient_scope"
    # reading stays open to records:submit
    assert call(reader, "GET", f"{API}/samples/{sample_id}").status_code == 200
    assert Sample.objects.count() == 1


def test_a_signed_in_person_acts_only_as_themself(scene: dict[str, Any]) -> None:
    site = scene["site_app"]
    sample_id = call(site, "POST", f"{API}/samples", record_body(scene, site)).json()["id"]
    browser = login_verified(Client(), scene["witness"])
    other = browser.get(f"{API}/samples/{sample_id}/challenge?person_id={scene['sampler'].pk}")
    assert other.status_code == 403 and other.json()["error"]["code"] == "person_not_acting"
    own = login_verified(Client(), scene["sampler"]).get(
        f"{API}/samples/{sample_id}/challenge?person_id={scene['sampler'].pk}"
    )
    assert own.status_code == 200 and own.json()["step"] == "sampling"


def test_clients_of_another_region_or_agency_see_nothing(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    sample_id = sealed_sample(scene)
    code = Sample.objects.get(pk=sample_id).code
    other_agency, _admin, _made = approved_agency(tree, 77)
    far = organisation_create(
        actor=None, name="深圳施工单位", kind=OrganisationKind.CONTRACTOR, region=factories.region("440305")
    )
    far_sampler = UserFactory(username="far_sampler", organisation=far, roles=[Role.SAMPLER])
    other_lims = _app(tree, other_agency.organisation, "他机构LIMS")
    other_receiver = UserFactory(username="o_recv", organisation=other_agency.organisation, roles=[Role.RECEIVER])
    far_app = _app(tree, far, "深圳工地App")
    for creds, person in ((other_lims, other_receiver), (far_app, far_sampler)):
        listed = call(creds, "GET", f"{API}/samples")
        assert listed.status_code == 200 and listed.json()["count"] == 0
        for path in (f"{API}/samples/{sample_id}", f"{API}/tags/SIG-1-1"):
            response = call(creds, "GET", path)
            assert response.status_code == 404 and code not in response.content.decode()
        asked = call(creds, "GET", f"{API}/samples/{sample_id}/challenge?person_id={person.pk}")
        assert asked.status_code == 404
    refused = call(
        other_lims,
        "POST",
        f"{API}/samples/{sample_id}/receipt",
        {
            "accept": True,
            "tags": [],
            "handover": "HANDOVER1:x",
            "deliverer_photo_id": upload(other_lims, photo_bytes(7)),
            "person_id": other_receiver.pk,
        },
    )
    assert refused.status_code == 404
    assert Sample.objects.get(pk=sample_id).status == SampleStatus.SEALED
    assert StoredFile.objects.filter(client=other_lims.client).count() == 1
