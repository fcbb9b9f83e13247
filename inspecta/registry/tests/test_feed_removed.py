"""The feed of removals, ``GET /api/v1/registry/feed/removed?kind=`` (Guangdong 附件2
一(三)(四), the registry downlink): a platform mirroring an agency's registry learns which
equipment, signatories, sites, post certificates and capabilities were removed (the
change feeds carry created and changed records only), by id and time, in the scope of
the live rows, following ``next_cursor`` like every "sync since" feed."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from inspecta.core.pagination import cursor_decode
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.openapi import assert_documented
from inspecta.core.testing.pagination import paginator_of
from inspecta.exchange.testing import approved_client, signed_call
from inspecta.registry import api as registry_api
from inspecta.registry import services
from inspecta.registry.models import ChangeRequest, Equipment, Signatory, Site, SiteCapability
from inspecta.registry.testing import CEMENT, CEMENT_MANDATORY
from inspecta.reports.testing import approved_agency

pytestmark = pytest.mark.django_db

URL = "/api/v1/registry/feed/removed"


def _url(**query: Any) -> str:
    return f"{URL}?{urlencode(query)}"


def _since(moment: datetime.datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    """Agency A (Guangzhou) with a LIMS key for the feeds; agency B of the same city
    with its own; a Guangzhou and a Shenzhen city platform."""

    agency, admin, made = approved_agency(tree, 861)
    other, other_admin, _other_made = approved_agency(tree, 862)
    scopes = ["registry:read", "sync:pull"]
    return {
        "agency": agency,
        "admin": admin,
        "made": made,
        "other": other,
        "other_admin": other_admin,
        "lims": approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=scopes, name="LIMS-A"),
        "other_lims": approved_client(applicant=other_admin, reviewer=tree["gz_admin"], scopes=scopes, name="LIMS-B"),
        "gz_platform": approved_client(
            applicant=tree["gz_admin"], reviewer=tree["gd_admin"], scopes=scopes, name="广州平台"
        ),
        "sz_platform": approved_client(
            applicant=tree["sz_admin"], reviewer=tree["gd_admin"], scopes=scopes, name="深圳平台"
        ),
    }


def _remove_equipment(scene: dict[str, Any], equipment: Equipment) -> None:
    """Equipment is not a key fact: the agency's admin takes it off the register."""

    services.equipment_remove(actor=scene["admin"], agency=scene["agency"], pk=equipment.pk)
    assert not Equipment.objects.filter(pk=equipment.pk).exists()


def _remove_signatory(tree: dict[str, Any], scene: dict[str, Any], signatory: Signatory) -> None:
    """A signatory is a key fact of an approved agency: the removal is a change request,
    applied when the reviewing authority approves it."""

    change = services.record_delete(actor=scene["admin"], agency=scene["agency"], kind="signatory", pk=signatory.pk)
    assert isinstance(change, ChangeRequest)
    assert Signatory.objects.filter(pk=signatory.pk).exists()
    services.change_request_approve(actor=tree["gz_supervisor"], change=change)
    assert not Signatory.objects.filter(pk=signatory.pk).exists()


def _signed(client: Any, creds: Any, **query: Any) -> dict[str, Any]:
    response = signed_call(client, creds, "GET", _url(**query))
    assert response.status_code == 200, response.content
    return assert_documented(response, URL)


def _removal_time(model: type, pk: int) -> datetime.datetime:
    return model.history.get(id=pk, history_type="-").history_date  # type: ignore[attr-defined]


def _as_sent(moment: datetime.datetime) -> datetime.datetime:
    """A time as the JSON answer states it (to the millisecond; ``updated_since`` is
    inclusive, so sending it back loses nothing)."""

    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_removed_equipment_and_signatory_come_with_their_ids_and_time(client, tree, scene):
    before = timezone.now()
    equipment = scene["made"]["equipment"]
    signatory = Signatory.objects.get(agency=scene["agency"], staff=scene["made"]["approver"])
    _remove_equipment(scene, equipment)
    _remove_signatory(tree, scene, signatory)
    # new and changed records are the change feeds' business, not this one's
    kept = services.equipment_save(
        actor=scene["admin"],
        agency=scene["agency"],
        data={"asset_no": "EQ-NEW", "name": "天平", "parameters": ["IP-0001"]},
    )
    services.equipment_save(
        actor=scene["admin"],
        agency=scene["agency"],
        pk=kept.pk,
        data={"asset_no": "EQ-NEW", "name": "电子天平", "parameters": ["IP-0001"]},
    )
    after = timezone.now()
    agency_id = scene["agency"].pk

    removed = _signed(client, scene["lims"], kind="equipment", updated_since=_since(before))
    assert removed["items"] == [
        {
            "kind": "equipment",
            "id": equipment.pk,
            "agency_id": agency_id,
            "removed_at": removed["items"][0]["removed_at"],
        }
    ]
    moment = datetime.datetime.fromisoformat(removed["items"][0]["removed_at"])
    assert moment == _as_sent(_removal_time(Equipment, equipment.pk)) and _as_sent(before) <= moment <= after
    assert removed["count"] == 1 and removed["next_cursor"] is None

    removed = _signed(client, scene["lims"], kind="signatories", updated_since=_since(before))
    assert [(i["kind"], i["id"], i["agency_id"]) for i in removed["items"]] == [
        ("signatories", signatory.pk, agency_id)
    ]
    moment = datetime.datetime.fromisoformat(removed["items"][0]["removed_at"])
    assert moment == _as_sent(_removal_time(Signatory, signatory.pk))
    # the change feeds no longer carry them; nothing else of the agency was removed
    query = urlencode({"updated_since": _since(before)})
    changed = signed_call(client, scene["lims"], "GET", f"/api/v1/registry/feed/equipment?{query}")
    assert changed.status_code == 200 and equipment.pk not in [e["id"] for e in changed.json()["items"]]
    for kind in ("post-certificates", "sites", "capabilities"):
        assert _signed(client, scene["lims"], kind=kind, updated_since=_since(before))["items"] == [], kind
    # the reviewing authority's session sees the same removals
    login_verified(client, tree["gz_supervisor"])
    session = client.get(_url(kind="equipment", updated_since=_since(before)))
    assert [i["id"] for i in assert_documented(session, URL)["items"]] == [equipment.pk]


def test_every_kind_of_removal_has_its_feed(client, tree, scene):
    """A post certificate and an empty site are removed at once; a capability withdrawn
    from a site (a key fact) once the authority approves it."""

    before = timezone.now()
    agency, admin, made = scene["agency"], scene["admin"], scene["made"]
    certificate = made["staff"].post_certificates.get()
    services.record_delete(actor=admin, agency=agency, kind="post_certificate", pk=certificate.pk)
    site = services.record_save(actor=admin, agency=agency, kind="site", data={"name": "临时场所", "address": "某路"})
    assert services.record_delete(actor=admin, agency=agency, kind="site", pk=site.pk) is None
    withdrawn = SiteCapability.objects.get(site=made["site"], item_parameter__parameter_id="IP-0005")
    change = services.capability_set(
        actor=admin, agency=agency, site_id=made["site"].pk, test_item=CEMENT, parameters=CEMENT_MANDATORY
    )
    assert isinstance(change, ChangeRequest)
    services.change_request_approve(actor=tree["gz_supervisor"], change=change)
    assert not Site.objects.filter(pk=site.pk).exists()

    expected = {
        "post-certificates": [certificate.pk],
        "sites": [site.pk],
        "capabilities": [withdrawn.pk],
        "equipment": [],
        "signatories": [],
    }
    for kind, ids in expected.items():
        items = _signed(client, scene["lims"], kind=kind, updated_since=_since(before))["items"]
        assert [(i["kind"], i["id"], i["agency_id"]) for i in items] == [(kind, pk, agency.pk) for pk in ids], kind
    # staff are never removed: people leave, and the staff feed says so
    unknown = signed_call(client, scene["lims"], "GET", _url(kind="staff"))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "invalid_input")
    missing = signed_call(client, scene["lims"], "GET", URL)
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "invalid_input")


def test_following_next_cursor_yields_each_removal_once(client, tree, scene, monkeypatch):
    """Five removals, three at the same instant (ordered by their audit rows), pages of
    two: each comes once, oldest first; ``updated_since`` after them yields none."""

    monkeypatch.setattr(paginator_of(registry_api.feed_removed), "page_size", 2)
    agency, admin = scene["agency"], scene["admin"]
    extra = [
        services.equipment_save(
            actor=admin, agency=agency, data={"asset_no": f"EQ-RM-{i}", "name": "天平", "parameters": ["IP-0001"]}
        )
        for i in range(4)
    ]
    pieces = [scene["made"]["equipment"], *extra]
    t0 = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=1)
    with monkeypatch.context() as frozen:
        frozen.setattr(timezone, "now", lambda: t0)
        for piece in pieces[:3]:
            _remove_equipment(scene, piece)
    for piece in pieces[3:]:
        _remove_equipment(scene, piece)
    order = list(
        Equipment.history.filter(history_type="-", agency_id=agency.pk)  # type: ignore[attr-defined]
        .order_by("history_date", "history_id")
        .values_list("id", flat=True)
    )
    assert sorted(order) == sorted(p.pk for p in pieces) and len(order) == 5

    page = _signed(client, scene["lims"], kind="equipment", updated_since=_since(t0))
    assert page["count"] == 5 and len(page["items"]) == 2
    moment, _pk = cursor_decode(page["next_cursor"])
    assert moment == t0  # the key is the removal time
    seen: list[int] = []
    for _round in range(10):
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        page = _signed(client, scene["lims"], kind="equipment", cursor=page["next_cursor"])
    assert seen == order

    last = max(_removal_time(Equipment, pk) for pk in order)
    boundary = _signed(client, scene["lims"], kind="equipment", updated_since=_since(last))
    assert [i["id"] for i in boundary["items"]] == [order[-1]]  # inclusive, as every feed
    later = _signed(
        client, scene["lims"], kind="equipment", updated_since=_since(last + datetime.timedelta(microseconds=1))
    )
    assert later == {"items": [], "count": 0, "next_cursor": None}
    # without updated_since and cursor: pages in the same order
    assert [i["id"] for i in _signed(client, scene["lims"], kind="equipment")["items"]] == order[:2]


def test_a_signed_call_without_sync_pull_is_refused(client, tree, scene):
    narrow = approved_client(applicant=scene["admin"], reviewer=tree["gz_admin"], scopes=["registry:read"], name="只读")
    response = signed_call(client, narrow, "GET", _url(kind="equipment"))
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert error["details"]["scope"] == "sync:pull" and error["details"]["granted"] == ["registry:read"]


def test_another_agency_or_region_sees_nothing_of_the_removals(client, tree, scene):
    before = timezone.now()
    _remove_equipment(scene, scene["made"]["equipment"])
    _remove_signatory(tree, scene, Signatory.objects.get(agency=scene["agency"], staff=scene["made"]["approver"]))
    # the other agency removes equipment of its own, which A must not see either
    theirs = Equipment.objects.get(agency=scene["other"])
    services.equipment_remove(actor=scene["other_admin"], agency=scene["other"], pk=theirs.pk)
    mine, other = scene["agency"].pk, scene["other"].pk

    def ids(creds: Any, kind: str) -> set[tuple[int, int]]:
        items = _signed(client, creds, kind=kind, updated_since=_since(before))["items"]
        return {(i["agency_id"], i["id"]) for i in items}

    assert ids(scene["lims"], "equipment") == {(mine, scene["made"]["equipment"].pk)}
    assert ids(scene["other_lims"], "equipment") == {(other, theirs.pk)}
    assert ids(scene["other_lims"], "signatories") == set()
    assert ids(scene["gz_platform"], "equipment") == {(mine, scene["made"]["equipment"].pk), (other, theirs.pk)}
    assert len(ids(scene["gz_platform"], "signatories")) == 1
    for kind in registry_api.REMOVED_KINDS:
        assert ids(scene["sz_platform"], kind) == set(), kind

    def session_ids(user: Any, kind: str) -> set[int]:
        login_verified(client, user)
        response = client.get(_url(kind=kind, updated_since=_since(before)))
        return {i["id"] for i in assert_documented(response, URL)["items"]}

    assert session_ids(scene["other_admin"], "equipment") == {theirs.pk}
    assert session_ids(scene["other_admin"], "signatories") == set()
    assert session_ids(tree["sz_supervisor"], "equipment") == set()
    assert session_ids(tree["sz_supervisor"], "signatories") == set()
