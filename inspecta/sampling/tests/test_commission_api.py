"""Commissions over the API (57号令 第二十条; Nanchang 四(四)1): the deliverer fills and
confirms from a session, a site app confirms for its person (signed, ``custody:write``),
the witness confirms; the agency's LIMS pulls the feed, acknowledges, pushes its own, and
both sides end with the same set, replays changing nothing; outsiders get nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from inspecta.accounts.choices import Role
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import UserFactory
from inspecta.exchange.testing import approved_client, prepare, send, sign_prepared, signed_call
from inspecta.sampling.choices import CommissionStatus
from inspecta.sampling.models import Commission, CommissionSample
from inspecta.sampling.testing import photo, sampling_scene

from .test_commissions import sealed

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sampling/commissions"


def _client(user: Any) -> Client:
    return login_verified(Client(enforce_csrf_checks=False), user)


def _post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def _signed(client: Client, creds: Any, method: str, path: str, body: Any = None, key: str = "") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if key:
        headers["Idempotency-Key"] = key
    prepared = prepare(method, path, data, **headers)
    sign_prepared(prepared, creds)
    return send(client, prepared)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = sampling_scene(tree)
    return s | {"tree": tree, "samples": [sealed(s, 81), sealed(s, 82), sealed(s, 83)]}


def _confirm_body(scene: dict[str, Any], http: Client, commission_id: int, who: str, seed: int, **extra: Any) -> Any:
    user, phone = scene[who], scene[f"{who}_phone"]
    challenge = http.get(f"{BASE}/{commission_id}/challenge")
    assert challenge.status_code == 200, challenge.content
    data = challenge.json()
    return {
        "assertion": phone.get(json.dumps(data["options"])),
        "live_photo_id": str(photo(user, seed).pk),
        "latitude": "23.130300",
        "longitude": "113.330300",
        **extra,
    }


def test_fill_and_confirm_over_the_api(scene: dict[str, Any]) -> None:
    deliverer, witness = _client(scene["sampler"]), _client(scene["witness"])
    body = {
        "project_id": scene["project"].pk,
        "agency_id": scene["agency"].pk,
        "samples": [{"sample_code": s.code} for s in scene["samples"][:2]],
        "notes": "请按标准检测",
    }
    made = _post(deliverer, BASE, body)
    assert made.status_code == 201, made.content
    data = made.json()
    assert data["status"] == "filled" and data["number"].endswith("-000001")
    assert [line["sample_code"] for line in data["samples"]] == [s.code for s in scene["samples"][:2]]

    again = _post(deliverer, BASE, body | {"samples": [{"sample_code": scene["samples"][0].code}]})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "sample_in_commission")
    stranger_sample = _post(deliverer, BASE, body | {"samples": [{"sample_code": "440106-2026-999999-0"}]})
    assert (stranger_sample.status_code, stranger_sample.json()["error"]["code"]) == (
        422,
        "commission_sample_invalid",
    )
    # the witness may not confirm first
    early = witness.get(f"{BASE}/{data['id']}/challenge")
    assert early.status_code == 403
    url = f"{BASE}/{data['id']}/confirmations"
    first = _post(deliverer, url, _confirm_body(scene, deliverer, data["id"], "sampler", 801))
    assert first.status_code == 201, first.content
    second = _post(witness, url, _confirm_body(scene, witness, data["id"], "witness", 802))
    assert second.status_code == 201, second.content
    done = deliverer.get(f"{BASE}/{data['id']}").json()
    assert done["status"] == "confirmed" and done["witness_id"] == scene["witness"].pk
    assert [c["step"] for c in done["confirmations"]] == ["deliverer", "witness"]
    # naming someone else from a session is refused
    other = _post(deliverer, BASE, body | {"samples": [{"sample_code": scene["samples"][2].code}], "person_id": 1})
    assert (other.status_code, other.json()["error"]["code"]) == (403, "person_not_acting")
    assert Commission.objects.count() == 1


def test_outsiders_get_nothing(scene: dict[str, Any]) -> None:
    made = _post(
        _client(scene["sampler"]),
        BASE,
        {
            "project_id": scene["project"].pk,
            "agency_id": scene["agency"].pk,
            "samples": [{"sample_code": scene["samples"][0].code}],
        },
    )
    commission_id = made.json()["id"]
    other = sampling_scene(scene["tree"], 2)
    tree = scene["tree"]
    for outsider in (other["receiver"], other["sampler"], other["witness"], tree["sz_admin"]):
        http = _client(outsider)
        assert_gets_nothing(
            http,
            [
                f"{BASE}/{commission_id}",
                f"{BASE}/{commission_id}/challenge",
                f"/sampling/commissions/{commission_id}/",
                f"/sampling/commissions/{commission_id}/form.pdf",
            ],
        )
        assert http.get(BASE).json()["count"] == 0
        page = http.get("/sampling/commissions/")
        assert page.status_code in (200, 403) and made.json()["number"] not in page.content.decode()
    for insider in (scene["receiver"], scene["witness"], tree["gz_admin"]):
        assert _client(insider).get(f"{BASE}/{commission_id}").status_code == 200
    # another agency's LIMS: not in its feed, not acknowledgeable
    lims = approved_client(applicant=other["agency_admin"], reviewer=tree["gz_admin"], scopes=["records:submit"])
    http = Client()
    feed = signed_call(http, lims, "GET", f"{BASE}/feed?updated_since=2000-01-01T00:00:00Z").json()
    assert feed["count"] == 0
    ack = _signed(http, lims, "POST", f"{BASE}/{commission_id}/acknowledge", {"lims_number": "X-1"})
    assert ack.status_code == 404
    assert Commission.objects.get(pk=commission_id).lims_number == ""


class Lims:
    """The agency's LIMS as the test sees it: its own dict of commissions by platform id,
    synchronised through the signed API only."""

    def __init__(self, http: Client, creds: Any) -> None:
        self.http, self.creds = http, creds
        self.commissions: dict[int, dict[str, Any]] = {}
        self.since = "2000-01-01T00:00:00Z"
        self.next = 0

    def pull(self) -> int:
        """Read the feed to its end; acknowledge each commission not yet numbered here.
        Returns the number of acknowledgements sent."""

        sent = 0
        query = f"updated_since={self.since}"
        while True:
            page = signed_call(self.http, self.creds, "GET", f"{BASE}/feed?{query}")
            assert page.status_code == 200, page.content
            data = page.json()
            for item in data["items"]:
                mine = self.commissions.get(item["id"])
                if mine is None or not item["lims_number"]:
                    self.next += 1
                    number = mine["lims_number"] if mine else f"LIMS-{self.next:04d}"
                    ack = _signed(
                        self.http, self.creds, "POST", f"{BASE}/{item['id']}/acknowledge", {"lims_number": number}
                    )
                    assert ack.status_code == 200, ack.content
                    item = ack.json()
                    sent += 1
                self.commissions[item["id"]] = {
                    "number": item["number"],
                    "lims_number": item["lims_number"],
                    "samples": sorted(line["sample_code"] for line in item["samples"]),
                }
            if not data["next_cursor"]:
                return sent
            query = f"cursor={data['next_cursor']}"

    def push(self, body: dict[str, Any], key: str) -> Any:
        made = _signed(self.http, self.creds, "POST", f"{BASE}/lims", body, key=key)
        if made.status_code == 201:
            item = made.json()
            self.commissions[item["id"]] = {
                "number": item["number"],
                "lims_number": item["lims_number"],
                "samples": sorted(line["sample_code"] for line in item["samples"]),
            }
        return made


def _platform_set(agency: Any) -> set[tuple[int, str, str, tuple[str, ...]]]:
    return {
        (
            c.pk,
            c.number,
            c.lims_number,
            tuple(sorted(CommissionSample.objects.filter(commission=c).values_list("sample__code", flat=True))),
        )
        for c in Commission.objects.filter(agency=agency)
    }


def _lims_set(lims: Lims) -> set[tuple[int, str, str, tuple[str, ...]]]:
    return {(pk, c["number"], c["lims_number"], tuple(c["samples"])) for pk, c in lims.commissions.items()}


def test_the_lims_and_the_platform_end_with_the_same_set(scene: dict[str, Any]) -> None:
    tree, a, b, c = scene["tree"], *scene["samples"]
    creds = approved_client(applicant=scene["agency_admin"], reviewer=tree["gz_admin"], scopes=["records:submit"])
    lims = Lims(Client(), creds)
    deliverer = _client(scene["sampler"])
    for sample in (a, b):
        made = _post(
            deliverer,
            BASE,
            {
                "project_id": scene["project"].pk,
                "agency_id": scene["agency"].pk,
                "samples": [{"sample_code": sample.code}],
            },
        )
        assert made.status_code == 201, made.content

    assert lims.pull() == 2
    assert _lims_set(lims) == _platform_set(scene["agency"])
    assert all(c.acknowledged_at for c in Commission.objects.all())

    push = {
        "project_id": scene["project"].pk,
        "lims_number": "LIMS-9001",
        "deliverer_id": scene["sampler"].pk,
        "samples": [{"sample_code": c.code}],
        "notes": "机构系统录入",
    }
    key = str(uuid.uuid4())
    pushed = lims.push(push, key)
    assert pushed.status_code == 201, pushed.content
    data = pushed.json()
    assert data["number"].endswith("-000003") and data["source"] == "lims" and data["status"] == "filled"
    assert _lims_set(lims) == _platform_set(scene["agency"])

    # replays change nothing: the same push, the same acknowledgements, the feed again
    before = _platform_set(scene["agency"])
    replay = lims.push(push, key)
    assert replay.status_code == 201 and replay.json()["id"] == data["id"]
    other_key = lims.push(push, str(uuid.uuid4()))
    assert (other_key.status_code, other_key.json()["error"]["code"]) in ((409, "lims_number_taken"),)
    for pk, mine in lims.commissions.items():
        ack = _signed(lims.http, creds, "POST", f"{BASE}/{pk}/acknowledge", {"lims_number": mine["lims_number"]})
        assert ack.status_code == 200
    assert lims.pull() == 0
    assert _platform_set(scene["agency"]) == before == _lims_set(lims)
    assert Commission.objects.count() == 3

    # a changed number for an acknowledged commission is refused
    first = min(lims.commissions)
    changed = _signed(lims.http, creds, "POST", f"{BASE}/{first}/acknowledge", {"lims_number": "LIMS-OTHER"})
    assert (changed.status_code, changed.json()["error"]["code"]) == (409, "lims_number_taken")

    # the pushed commission is confirmed on the platform: the contractor's site app for
    # its deliverer (signed, custody:write), then the witness from a session
    admin = UserFactory(username="contractor_admin", organisation=scene["contractor"], roles=[Role.PARTY_ADMIN])
    site = approved_client(applicant=admin, reviewer=tree["th_admin"], scopes=["custody:write", "files:upload"])
    http = Client()
    person = scene["sampler"].pk
    missing = _signed(http, site, "GET", f"{BASE}/{data['id']}/challenge")
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "person_required")
    challenge = _signed(http, site, "GET", f"{BASE}/{data['id']}/challenge?person_id={person}")
    assert challenge.status_code == 200, challenge.content
    options = challenge.json()["options"]
    body = {
        "person_id": person,
        "assertion": scene["sampler_phone"].get(json.dumps(options)),
        "live_photo_id": str(photo(scene["sampler"], 901).pk),
        "latitude": "23.130300",
        "longitude": "113.330300",
    }
    confirmed = _signed(http, site, "POST", f"{BASE}/{data['id']}/confirmations", body)
    assert confirmed.status_code == 201, confirmed.content
    witness = _client(scene["witness"])
    second = _post(
        witness, f"{BASE}/{data['id']}/confirmations", _confirm_body(scene, witness, data["id"], "witness", 902)
    )
    assert second.status_code == 201, second.content
    assert Commission.objects.get(pk=data["id"]).status == CommissionStatus.CONFIRMED
    # the LIMS sees the change in its feed; its set stays equal
    lims.pull()
    assert _lims_set(lims) == _platform_set(scene["agency"])
