"""The generic list and history views: one FilterSet gives the same rows on a page and
on the API, an invalid filter is a 400 naming it, and history stays in the actor's scope."""

from __future__ import annotations

import re

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.reports import services
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree):
    agency, admin, made = approved_agency(tree, 771)
    project = project_with(tree, [agency], code="GL-P1")
    other = project_with(tree, [agency], code="GL-P2")
    services.report_submit(actor=admin, **submission(agency, made, project, "GL-R1"))
    services.report_submit(actor=admin, **submission(agency, made, other, "GL-R2", conclusion="nonconforming"))
    return {"tree": tree, "agency": agency, "admin": admin}


@pytest.mark.parametrize(
    "query",
    [{"project_q": "GL-P1"}, {"project_q": "GL-P2"}, {"conclusion": "nonconforming"}, {"q": "GL-R"}, {}],
)
def test_the_report_filterset_gives_the_same_rows_on_page_and_api(client, scene, query):
    login_verified(client, scene["tree"]["gz_supervisor"])
    api = client.get("/api/v1/reports/", query)
    assert api.status_code == 200
    from_api = {item["report_number"] for item in api.json()["items"]}
    page = client.get("/reports/", query)
    assert page.status_code == 200
    from_page = set(re.findall(r"GL-R\d", page.content.decode()))
    assert from_api and from_page == from_api


def test_an_invalid_filter_is_a_400_naming_it_on_the_page(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    page = client.get("/reports/", {"date_from": "not-a-date", "project_q": "GL-P2"})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'data-testid="filter-errors"' in html and "报告日期自" in html
    assert "GL-R2" in html and "GL-R1" not in html  # the valid filter still applies
    api = client.get("/api/v1/reports/", {"date_from": "not-a-date"})
    assert 400 <= api.status_code < 500 and "GL-R" not in api.content.decode()


def test_the_generic_history_view_stays_in_scope(client, scene):
    agency = scene["agency"]
    login_verified(client, scene["admin"])
    own = client.get(f"/registry/{agency.pk}/history/")
    assert own.status_code == 200 and agency.name in own.content.decode()
    client.logout()
    login_verified(client, scene["tree"]["sz_admin"])  # another city's authority
    assert client.get(f"/registry/{agency.pk}/history/").status_code == 404
    assert client.get(f"/accounts/users/{scene['admin'].pk}/history/").status_code == 404


def test_the_agency_filterset_gives_the_same_rows_on_page_and_api(client, scene):
    other, _admin, _made = approved_agency(scene["tree"], 772)
    login_verified(client, scene["tree"]["gz_supervisor"])
    for query in ({"q": scene["agency"].name}, {"q": other.credit_code}, {"region": "440100"}):
        api = client.get("/api/v1/registry/agencies", query)
        assert api.status_code == 200
        from_api = {item["name"] for item in api.json()["items"]}
        html = client.get("/registry/", query).content.decode()
        from_page = {name for name in (scene["agency"].name, other.name) if name in html}
        assert from_api and from_page == from_api


def test_an_invalid_choice_is_a_400_on_every_generic_list(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    for url in ("/registry/findings/?rule=nope", "/registry/?status=nope", "/exchange/applications/?status=nope"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert 'data-testid="filter-errors"' in response.content.decode(), url


def test_the_generic_detail_view_stays_in_scope(client, scene):
    """A project page through ``ObjectDetailView``: its own city's supervisor sees the
    project and its reports; another city's supervisor gets 404, not the page."""

    from inspecta.projects.models import Project

    project = Project.objects.get(code="GL-P1")
    login_verified(client, scene["tree"]["gz_supervisor"])
    own = client.get(f"/projects/{project.pk}/")
    assert own.status_code == 200
    assert project.name in own.content.decode() and "GL-R1" in own.content.decode()
    client.logout()
    login_verified(client, scene["tree"]["sz_supervisor"])
    assert client.get(f"/projects/{project.pk}/").status_code == 404
