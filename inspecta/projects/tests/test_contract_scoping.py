"""Who sees which testing contracts of a project (T/CECS 4.3.3; Guangxi 第九条): one row
per relation to the project. A contract is the business of the agency that signed it, its
project's other parties and the regulators of the project's region; a second agency on
the same project is a competitor and sees only its own."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.core.actors import Actor
from inspecta.core.scoping import permits
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import OrganisationFactory, UserFactory
from inspecta.exchange.testing import approved_client
from inspecta.projects import services
from inspecta.projects.models import Contract
from inspecta.registry.testing import CEMENT
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file

pytestmark = pytest.mark.django_db


def _contract(admin: Any, agency: Any, project: Any, number: str) -> Contract:
    scan = stored_file(agency.organisation_id, pdf_bytes(number))
    return services.contract_upload(
        actor=admin,
        agency=agency,
        project=project,
        number=number,
        client_name="业主",
        amount="1000.00",
        signed_on=datetime.date(2026, 1, 1),
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 12, 31),
        test_items=[CEMENT],
        scan_id=scan.pk,
    )


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    """One Tianhe project with two agency parties (A and B), an owner and a contractor
    with accounts, each agency's contract; agency C is a party of another project only."""

    agency_a, admin_a, _ = approved_agency(tree, 961)
    agency_b, admin_b, _ = approved_agency(tree, 962)
    agency_c, admin_c, _ = approved_agency(tree, 963)
    owner = OrganisationFactory(name="业主单位", kind=OrganisationKind.OWNER, level="", region_code="440106")
    contractor = OrganisationFactory(name="施工单位", kind=OrganisationKind.CONTRACTOR, level="", region_code="440106")
    stranger = OrganisationFactory(name="他人业主", kind=OrganisationKind.OWNER, level="", region_code="440106")
    project = project_with(tree, [agency_a, agency_b], code="P-LEAK")
    project.parties.filter(role="owner").update(organisation=owner)
    project.parties.filter(role="contractor").update(organisation=contractor)
    other = project_with(tree, [agency_c], code="P-OTHER")
    other.parties.filter(role="owner").update(organisation=stranger)
    lims_a = approved_client(applicant=admin_a, reviewer=tree["gz_admin"], scopes=["reports:submit"])
    return {
        "project": project,
        "a": _contract(admin_a, agency_a, project, "HT-A"),
        "b": _contract(admin_b, agency_b, project, "HT-B"),
        "c": _contract(admin_c, agency_c, other, "HT-C"),
        "admin_a": admin_a,
        "admin_b": admin_b,
        "admin_c": admin_c,
        "owner": UserFactory(username="owner_user", organisation=owner, roles=[Role.PROJECT_VIEWER]),
        "contractor": UserFactory(username="contractor_user", organisation=contractor, roles=[Role.PROJECT_VIEWER]),
        "stranger": UserFactory(username="stranger_user", organisation=stranger, roles=[Role.PROJECT_VIEWER]),
        "lims_a": Actor.for_client(lims_a.client, None),
    }


# relation to project P-LEAK -> the contracts of P-LEAK (HT-A, HT-B) it sees
RELATIONS = {
    "operator": {"HT-A", "HT-B"},
    "gd_admin": {"HT-A", "HT-B"},  # the province above the project's city
    "gz_supervisor": {"HT-A", "HT-B"},  # the project's city authority
    "gz_inspector": {"HT-A", "HT-B"},  # the city's supervision station
    "th_admin": {"HT-A", "HT-B"},  # the project's district
    "sz_supervisor": set(),  # a sibling city
    "admin_a": {"HT-A"},  # an agency party: its own contract only
    "admin_b": {"HT-B"},  # the other agency party: its own contract only
    "lims_a": {"HT-A"},  # agency A's LIMS, as agency A
    "admin_c": set(),  # an agency of another project
    "owner": {"HT-A", "HT-B"},  # the owner (委托方) of the project
    "contractor": {"HT-A", "HT-B"},  # another non-agency party
    "stranger": set(),  # the owner of another project
}


@pytest.mark.parametrize("who", sorted(RELATIONS))
def test_each_relation_sees_its_contracts(tree: dict[str, Any], scene: dict[str, Any], who: str) -> None:
    actor = scene.get(who) or tree[who]
    project = scene["project"]
    seen = set(Contract.objects.restrict(actor).filter(project=project).values_list("number", flat=True))
    assert seen == RELATIONS[who]
    for key in ("a", "b"):
        assert permits(actor, scene[key], "view") == (scene[key].number in RELATIONS[who])


@pytest.mark.parametrize("who", ["admin_a", "admin_b", "owner"])
def test_api_and_project_page_list_only_visible_contracts(
    client: Any, tree: dict[str, Any], scene: dict[str, Any], who: str
) -> None:
    login_verified(client, scene[who])
    project = scene["project"]
    listed = {c["number"] for c in client.get(f"/api/v1/projects/{project.pk}/contracts").json()}
    assert listed == RELATIONS[who]
    page = client.get(f"/projects/{project.pk}/").content.decode()
    for number in ("HT-A", "HT-B"):
        assert (number in page) == (number in RELATIONS[who])
