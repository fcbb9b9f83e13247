"""A project names its samplers and witnesses (Nanchang 一(二)): the party's own admin names
and un-names them, only the named may then sample and witness, and a project that names
nobody still works but every sampling on it is a finding."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from inspecta.accounts.choices import Role
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import UserFactory, authority_tree
from inspecta.projects import services
from inspecta.projects.models import ProjectPerson
from inspecta.projects.selectors import named_people
from inspecta.sampling import permissions as sampling_permissions
from inspecta.sampling import services as sampling_services
from inspecta.sampling.choices import SamplingRule
from inspecta.sampling.testing import record_kwargs, sampling_scene, sealed_sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> dict:
    return authority_tree()


@pytest.fixture
def scene(tree: dict) -> dict:
    return sampling_scene(tree, named=False)


def _party(scene: dict, org_key: str):
    return scene["project"].parties.get(organisation=scene[org_key])


def test_the_admin_names_a_sampler_and_only_the_named_then_record(scene: dict) -> None:
    project, admin = scene["project"], scene["contractor_admin"]
    other = UserFactory(username="other_sampler", organisation=scene["contractor"], roles=[Role.SAMPLER])
    assert sampling_permissions.may_record_on(other, project)  # nobody named: any sampler of a party
    before = type(project).objects.get(pk=project.pk).updated_at

    named = services.project_person_name(
        actor=admin, party=_party(scene, "contractor"), person_id=scene["sampler"].pk, duty="sampler"
    )
    assert named.named_by == admin and named.ended_at is None
    assert type(project).objects.get(pk=project.pk).updated_at > before  # mirrors fetch the project again
    assert named_people(project, "sampler") == {scene["sampler"].pk}
    assert sampling_permissions.may_record_on(scene["sampler"], project)
    assert not sampling_permissions.may_record_on(other, project)
    with pytest.raises(PermissionDenied):
        sampling_services.sample_record(**record_kwargs(scene, actor=other))

    # naming again changes nothing; ending it lets every sampler of the party record again
    again = services.project_person_name(
        actor=admin, party=_party(scene, "contractor"), person_id=scene["sampler"].pk, duty="sampler"
    )
    assert again.pk == named.pk and ProjectPerson.objects.count() == 1
    services.project_person_end(actor=admin, named=named)
    named.refresh_from_db()
    assert named.ended_at is not None and named.ended_by == admin
    assert named_people(project, "sampler") == frozenset()
    assert sampling_permissions.may_record_on(other, project)
    assert named.history.count() == 2  # named, then ended: both audited


def test_only_the_named_witness_witnesses(scene: dict) -> None:
    project = scene["project"]
    services.project_person_name(
        actor=scene["contractor_admin"],
        party=_party(scene, "contractor"),
        person_id=scene["sampler"].pk,
        duty="sampler",
    )
    second = UserFactory(username="second_witness", organisation=scene["firm"], roles=[Role.WITNESS])
    services.project_person_name(
        actor=scene["firm_admin"], party=_party(scene, "firm"), person_id=second.pk, duty="witness"
    )
    sample = sampling_services.sample_record(**record_kwargs(scene))
    sample.status = "confirmed"
    assert sampling_permissions.may_confirm(second, sample)
    assert not sampling_permissions.may_confirm(scene["witness"], sample)
    assert named_people(project.pk, "witness") == {second.pk}


@pytest.mark.parametrize(
    ("who", "duty", "code"),
    [
        ("witness", "sampler", ErrorCode.PERSON_NOT_ELIGIBLE),  # of another organisation
        ("courier", "sampler", ErrorCode.PERSON_NOT_ELIGIBLE),  # of the party, without the role
        ("sampler", "inspector", ErrorCode.VALIDATION_FAILED),  # no such duty
    ],
)
def test_who_cannot_be_named(scene: dict, who: str, duty: str, code: ErrorCode) -> None:
    with pytest.raises(AppError) as exc:
        services.project_person_name(
            actor=scene["contractor_admin"], party=_party(scene, "contractor"), person_id=scene[who].pk, duty=duty
        )
    assert exc.value.code == code
    assert not ProjectPerson.objects.exists()


def test_only_the_partys_own_admin_names(scene: dict, tree: dict) -> None:
    party = _party(scene, "contractor")
    for outsider in (scene["firm_admin"], scene["sampler"], tree["gz_supervisor"], scene["agency_admin"]):
        with pytest.raises(PermissionDenied):
            services.project_person_name(actor=outsider, party=party, person_id=scene["sampler"].pk, duty="sampler")
    assert not ProjectPerson.objects.exists()


def test_a_project_naming_nobody_is_a_finding_and_naming_clears_it(scene: dict, tree: dict) -> None:
    sample = sealed_sample(scene, seed=5)
    rules = {(f.rule, f.details["duty"]) for f in sample.findings.filter(rule=SamplingRule.PEOPLE_NOT_NAMED)}
    assert rules == {(SamplingRule.PEOPLE_NOT_NAMED, "sampler"), (SamplingRule.PEOPLE_NOT_NAMED, "witness")}

    named = sampling_scene(tree, 2)  # names its sampler and witness
    clean = sealed_sample(named, seed=6)
    assert not clean.findings.filter(rule=SamplingRule.PEOPLE_NOT_NAMED).exists()


def test_the_project_page_names_and_ends(scene: dict, tree: dict) -> None:
    project = scene["project"]
    page = reverse("projects:project_detail", args=[project.pk])
    admin = Client()
    admin.force_login(scene["contractor_admin"])
    html = admin.get(page).content.decode()
    assert 'data-testid="name-person"' in html
    assert scene["sampler"].full_name in html and scene["witness"].full_name not in html.split("name-person")[1]

    url = reverse("projects:project_person_name", args=[project.pk])
    response = admin.post(
        url, {"party": _party(scene, "contractor").pk, "person": scene["sampler"].pk, "duty": "sampler"}
    )
    assert response.status_code == 302
    named = ProjectPerson.objects.get()
    # a person of another organisation is not offered and not accepted
    response = admin.post(
        url, {"party": _party(scene, "contractor").pk, "person": scene["witness"].pk, "duty": "witness"}
    )
    assert response.status_code == 400 and ProjectPerson.objects.count() == 1

    # the sampler sees the naming and no form; the firm's admin cannot end the contractor's naming
    sampler = Client()
    sampler.force_login(scene["sampler"])
    html = sampler.get(page).content.decode()
    assert 'data-testid="name-person"' not in html and "解除" not in html
    assert (
        sampler.post(
            url, {"party": _party(scene, "contractor").pk, "person": scene["sampler"].pk, "duty": "sampler"}
        ).status_code
        == 403
    )
    firm_admin = Client()
    firm_admin.force_login(scene["firm_admin"])
    end = reverse("projects:project_person_end", args=[project.pk, named.pk])
    assert firm_admin.post(end).status_code == 403
    named.refresh_from_db()
    assert named.ended_at is None

    # another region's authority and another project's party see nothing of the project
    stranger = login_verified(Client(), tree["sz_supervisor"])
    assert stranger.get(page).status_code == 404
    assert stranger.post(end).status_code == 404

    assert admin.post(end).status_code == 302
    named.refresh_from_db()
    assert named.ended_at is not None


def test_the_project_api_names_the_current_people(tree: dict) -> None:
    scene = sampling_scene(tree)  # names its sampler and witness
    project = scene["project"]
    services.project_person_end(
        actor=scene["firm_admin"], named=ProjectPerson.objects.get(project=project, duty="witness")
    )
    http = login_verified(Client(), scene["contractor_admin"])
    body = http.get(f"/api/v1/projects/{project.pk}").json()
    assert body["people"] == [{"person_id": scene["sampler"].pk, "duty": "sampler", "party_role": "contractor"}]
    listed = http.get("/api/v1/projects/").json()["items"]
    assert [p["people"] for p in listed] == [body["people"]]
