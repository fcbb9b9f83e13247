"""Regions and the qualification catalog: loading, correction by province admins, audit."""

import pytest

from inspecta.core import services
from inspecta.core.models import Parameter, Region, Specialty, TestItem, TestItemParameter
from inspecta.core.testing.access import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(tree):
    return tree


def test_regions_load_is_complete_and_idempotent(db):
    assert Region.objects.count() == 3348  # loaded once for the test database
    assert services.regions_load() == 0
    tianhe = Region.objects.get(pk="440106")
    assert tianhe.parent_id == "440100" and tianhe.parent.parent_id == "440000"
    assert tianhe.full_name == "广东省广州市天河区"
    assert Region.objects.get(pk="441900").level == "city"  # 东莞: a city without districts
    assert Region.objects.filter(level="province").count() == 31


def test_catalog_load_counts_and_levels(db):
    assert (Specialty.objects.count(), TestItem.objects.count(), Parameter.objects.count()) == (9, 111, 543)
    assert TestItemParameter.objects.count() == 858
    assert services.catalog_load() == {"specialties": 0, "test_items": 0, "parameters": 0, "links": 0}
    cement = TestItem.objects.get(pk="OBJ-SP01-P1")
    mandatory = set(cement.item_parameters.filter(level="mandatory").values_list("parameter__name", flat=True))
    assert {"凝结时间", "安定性", "胶砂强度"} <= mandatory
    assert TestItemParameter.objects.filter(level="optional").exists()
    assert Specialty.objects.get(pk="SP01").history.count() == 1


def test_province_admin_corrects_a_region_and_history_shows_it(client, seeded):
    login_verified(client, seeded["gd_admin"])
    response = client.post("/reference/region/440106/edit/", {"name": "天河区（更正）", "enabled": "on"})
    assert response.status_code == 302
    region = Region.objects.get(pk="440106")
    assert region.name == "天河区（更正）"
    record = region.history.latest()
    assert record.history_user == seeded["gd_admin"] and record.history_type == "~" and record.request_id
    page = client.get("/reference/region/440106/history/").content.decode()
    assert "天河区（更正）" in page and "天河区" in page


def test_city_admin_cannot_correct_reference_data(client, seeded):
    login_verified(client, seeded["gz_admin"])
    assert client.post("/reference/region/440106/edit/", {"name": "篡改", "enabled": "on"}).status_code == 403
    assert client.post("/reference/item/OBJ-SP01-P1/edit/", {"name": "篡改"}).status_code == 403
    assert Region.objects.get(pk="440106").name == "天河区"
    assert TestItem.objects.get(pk="OBJ-SP01-P1").name == "水泥"


def test_province_admin_of_another_province_cannot_correct(client, seeded):
    login_verified(client, seeded["gd_admin"])
    assert client.post("/reference/region/110101/edit/", {"name": "篡改", "enabled": "on"}).status_code == 403
    assert Region.objects.get(pk="110101").name == "东城区"


def test_bad_input_changes_nothing(client, seeded):
    login_verified(client, seeded["gd_admin"])
    response = client.post("/reference/parameter/IP-0001/edit/", {"name": "", "unit": "x" * 100})
    assert response.status_code == 400
    assert Parameter.objects.get(pk="IP-0001").name == "凝结时间"
    assert client.post("/reference/nothing/1/edit/", {}).status_code == 404


def test_catalog_page_and_api(client, seeded):
    login_verified(client, seeded["gz_supervisor"])
    page = client.get("/catalog/?specialty=SP01").content.decode()
    assert "水泥" in page and "胶砂强度" in page
    items = client.get("/api/v1/core/catalog/specialties/SP01/items").json()
    cement = next(i for i in items if i["code"] == "OBJ-SP01-P1")
    assert {"code": "IP-0003", "name": "胶砂强度", "level": "mandatory"} in cement["parameters"]
    assert client.get("/api/v1/core/catalog/specialties/NOPE/items").status_code == 404
    regions = client.get("/api/v1/core/regions?parent=440100").json()
    assert any(r["code"] == "440106" for r in regions["items"])
