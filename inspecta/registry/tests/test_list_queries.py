"""Every registry list, API and page, does a constant number of queries (STYLE.md 14):
built with ``n`` and ``3n`` rows through the real services, the counts are equal and at
most the stated ceiling."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.registry import services
from inspecta.registry.testing import MATERIALS, approved, fill, id_number, register

pytestmark = pytest.mark.django_db

_numbers = itertools.count(300)


def _approved_agencies(tree):
    def grow(k: int) -> None:
        for _i in range(k):
            approved(tree, next(_numbers))

    return grow


@pytest.fixture
def draft():
    """A filled, not yet submitted agency whose admin may add any record directly."""

    agency, admin = register(290)
    made = fill(agency, admin, seed=290)
    return {"agency": agency, "admin": admin, **made}


def _staff(draft):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            staff = services.staff_save(
                actor=draft["admin"],
                agency=draft["agency"],
                data={"name": f"人员{n}", "id_number": id_number(n), "site": draft["site"].pk},
            )
            services.record_save(
                actor=draft["admin"],
                agency=draft["agency"],
                kind="post_certificate",
                data={
                    "staff": staff.pk,
                    "number": f"SG-{n}",
                    "category": MATERIALS,
                    "valid_until": timezone.localdate() + datetime.timedelta(days=400),
                },
            )

    return grow


def _equipment(draft):
    """Equipment without a calibration date: each also raises a conformity finding."""

    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            services.equipment_save(
                actor=draft["admin"],
                agency=draft["agency"],
                data={
                    "asset_no": f"EQ-G-{n}",
                    "name": "压力试验机",
                    "site": draft["site"].pk,
                    "parameters": ["IP-0001"],
                },
            )

    return grow


def _removed_equipment(draft):
    """Equipment registered, then taken off the register."""

    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            equipment = services.equipment_save(
                actor=draft["admin"],
                agency=draft["agency"],
                data={"asset_no": f"EQ-R-{n}", "name": "天平", "parameters": ["IP-0001"]},
            )
            services.equipment_remove(actor=draft["admin"], agency=draft["agency"], pk=equipment.pk)

    return grow


def _sites(draft):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            site = services.record_save(
                actor=draft["admin"], agency=draft["agency"], kind="site", data={"name": f"场所{n}", "address": "某路"}
            )
            services.capability_set(
                actor=draft["admin"],
                agency=draft["agency"],
                site_id=site.pk,
                test_item="OBJ-SP01-P1",
                parameters=["IP-0001", "IP-0002"],
            )

    return grow


def _signatories(draft):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            staff = services.staff_save(
                actor=draft["admin"], agency=draft["agency"], data={"name": f"批准人{n}", "id_number": id_number(n)}
            )
            services.signatory_save(
                actor=draft["admin"],
                agency=draft["agency"],
                data={"staff": staff.pk, "scope": [MATERIALS], "site": draft["site"].pk},
            )

    return grow


def _qualifications(draft):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            services.qualification_save(
                actor=draft["admin"],
                agency=draft["agency"],
                data={
                    "number": f"粤建检字Q{n}",
                    "specialties": [MATERIALS],
                    "valid_until": timezone.localdate() + datetime.timedelta(days=700),
                },
            )

    return grow


def _certificates(draft):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            services.record_save(
                actor=draft["admin"],
                agency=draft["agency"],
                kind="certificate",
                data={
                    "kind": "cma",
                    "number": f"CMA-{n}",
                    "valid_until": timezone.localdate() + datetime.timedelta(days=500),
                },
            )

    return grow


def _change_requests(agency, admin):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            services.qualification_save(
                actor=admin,
                agency=agency,
                data={
                    "number": f"粤建检字C{n}",
                    "specialties": [MATERIALS],
                    "valid_until": timezone.localdate() + datetime.timedelta(days=700),
                },
            )

    return grow


@guards("inspecta_registry_api_agencies")
def test_agency_list_api(client, tree):
    login_verified(client, tree["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/registry/agencies"), _approved_agencies(tree), limit=12, rows=json_rows("items")
    )


@guards("inspecta_registry_api_public_agencies")
def test_public_agency_list_api(client, tree):
    assert_queries_constant(
        lambda: client.get("/api/v1/public/agencies"), _approved_agencies(tree), limit=12, rows=json_rows("items")
    )


SUBLISTS = {
    "staff": (_staff, "inspecta_registry_api_agency_staff"),
    "equipment": (_equipment, "inspecta_registry_api_agency_equipment"),
    "sites": (_sites, "inspecta_registry_api_agency_sites"),
    "signatories": (_signatories, "inspecta_registry_api_agency_signatories"),
    "qualifications": (_qualifications, "inspecta_registry_api_agency_qualifications"),
    "certificates": (_certificates, "inspecta_registry_api_agency_certificates"),
    "findings": (_equipment, "inspecta_registry_api_agency_findings"),
}


@guards(*(operation for _build, operation in SUBLISTS.values()))
@pytest.mark.parametrize("segment", SUBLISTS)
def test_agency_record_lists_api(client, tree, draft, segment):
    build, _operation = SUBLISTS[segment]
    login_verified(client, draft["admin"])
    url = f"/api/v1/registry/agencies/{draft['agency'].pk}/{segment}"
    assert_queries_constant(lambda: client.get(url), build(draft), limit=14, rows=json_rows())


@guards("inspecta_registry_api_agency_change_requests")
def test_change_request_list_api(client, tree):
    agency, admin = approved(tree, 299)
    login_verified(client, tree["gz_supervisor"])
    url = f"/api/v1/registry/agencies/{agency.pk}/change-requests"
    assert_queries_constant(lambda: client.get(url), _change_requests(agency, admin), limit=12, rows=json_rows())


def _agencies_with_findings(tree):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            agency, admin = approved(tree, n)
            services.equipment_save(
                actor=admin,
                agency=agency,
                data={"asset_no": f"EQ-F-{n}", "name": "未校准设备", "parameters": ["IP-0001"]},
            )

    return grow


def test_agency_list_page(client, tree):
    login_verified(client, tree["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/registry/"), _approved_agencies(tree), limit=20, rows=html_rows("测试检测机构")
    )


def test_findings_page(client, tree):
    login_verified(client, tree["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/registry/findings/"), _agencies_with_findings(tree), limit=20, rows=html_rows("EQ-F-")
    )


def test_public_agency_list_page(client, tree):
    assert_queries_constant(
        lambda: client.get("/agencies/"), _approved_agencies(tree), limit=16, rows=html_rows("测试检测机构")
    )


SECTIONS = {
    "site": _sites,
    "staff": _staff,
    "post_certificate": _staff,
    "equipment": _equipment,
    "signatory": _signatories,
    "qualification": _qualifications,
    "certificate": _certificates,
}


@pytest.mark.parametrize("kind", SECTIONS)
def test_agency_section_pages(client, tree, draft, kind):
    login_verified(client, draft["admin"])
    url = f"/registry/{draft['agency'].pk}/{kind}/"
    assert_queries_constant(lambda: client.get(url), SECTIONS[kind](draft), limit=24, rows=html_rows("<tr"))


FEEDS = {
    "staff": (_staff, "inspecta_registry_api_feed_staff"),
    "post-certificates": (_staff, "inspecta_registry_api_feed_post_certificates"),
    "equipment": (_equipment, "inspecta_registry_api_feed_equipment"),
    "signatories": (_signatories, "inspecta_registry_api_feed_signatories"),
    "sites": (_sites, "inspecta_registry_api_feed_sites"),
    "capabilities": (_sites, "inspecta_registry_api_feed_capabilities"),
    "removed?kind=equipment": (_removed_equipment, "inspecta_registry_api_feed_removed"),
}


@guards(*(operation for _build, operation in FEEDS.values()))
@pytest.mark.parametrize("kind", FEEDS)
def test_change_feeds(client, tree, draft, kind):
    build, _operation = FEEDS[kind]
    login_verified(client, draft["admin"])
    url = f"/api/v1/registry/feed/{kind}"
    assert_queries_constant(lambda: client.get(url), build(draft), limit=14, rows=json_rows("items"))
