"""Real-name registration of the people of agencies and project parties from a phone,
confirmed by their own organisation's admin (Nanchang 一(二) 人员注册; 57号令 第十八条)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inspecta.accounts import services
from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import Registration, User
from inspecta.accounts.permissions import person_audience
from inspecta.core.identifiers import credit_code_check_char, id_number_check_char
from inspecta.core.imaging import picture_bytes
from inspecta.core.masking import Audience, mask_id_number, mask_mobile
from inspecta.core.testing import factories
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ID_FIRST17 = "44010619900307123"
ID_NUMBER = ID_FIRST17 + id_number_check_char(ID_FIRST17)
MOBILE = "13912345678"
CREDIT_FIRST17 = "91440101MA59ABCD8"
CREDIT_CODE = CREDIT_FIRST17 + credit_code_check_char(CREDIT_FIRST17)


def _org(kind, name, credit_code=""):
    return services.organisation_create(
        actor=None, name=name, kind=kind, region=factories.region("440106"), credit_code=credit_code
    )


@pytest.fixture
def parties(db):
    contractor = _org(OrganisationKind.CONTRACTOR, "广州建工第一公司", CREDIT_CODE)
    firm = _org(OrganisationKind.SUPERVISING_FIRM, "广州监理公司")
    return {
        "contractor": contractor,
        "firm": firm,
        "contractor_admin": UserFactory(username="c_admin", organisation=contractor, roles=[Role.PARTY_ADMIN]),
        "firm_admin": UserFactory(username="f_admin", organisation=firm, roles=[Role.PARTY_ADMIN]),
    }


def _form(**overrides):
    data = {
        "full_name": "李取样",
        "id_number": ID_NUMBER,
        "mobile": MOBILE,
        "email": "li@example.com",
        "employer": "广州建工第一公司",
        "role": Role.SAMPLER,
        "username": "li_sampler",
        "password": PASSWORD,
        "password2": PASSWORD,
        "photo": SimpleUploadedFile("me.png", picture_bytes(3), content_type="image/png"),
    }
    data.update(overrides)
    return data


def _submit(org, **overrides):
    fields = {
        "organisation": org,
        "full_name": "李取样",
        "id_number": ID_NUMBER,
        "mobile": MOBILE,
        "email": "li@example.com",
        "photo": picture_bytes(3),
        "role": Role.SAMPLER,
        "username": "li_sampler",
        "password": PASSWORD,
    }
    fields.update(overrides)
    return services.registration_submit(**fields)


@pytest.mark.parametrize(
    "bad",
    [
        ID_FIRST17 + str((int(ID_NUMBER[-1], 36) + 1) % 10),  # wrong check character
        "44010619901307123X",  # no 13th month
        "4401061990030712",  # too short
    ],
)
def test_id_number_checksum_refused_in_chinese(client, parties, bad):
    if bad[-1] == ID_NUMBER[-1]:
        pytest.skip("the altered check character happens to be right")
    response = client.post("/accounts/register/", _form(id_number=bad))
    assert response.status_code == 400
    assert "身份证号码不正确" in response.content.decode()
    assert not Registration.objects.exists()


def test_refusals_name_each_field_and_store_nothing(parties):
    with pytest.raises(ValidationError) as caught:
        _submit(parties["firm"], mobile="12345", role=Role.SAMPLER, username="c_admin", password="abc")
    errors = caught.value.message_dict
    assert set(errors) >= {"mobile", "role", "username", "password"}
    assert "监理单位的人员不能申请该岗位。" in errors["role"]
    assert not Registration.objects.exists()


def test_employer_found_by_name_or_credit_code_among_active_parties(parties):
    assert services.employer_find(CREDIT_CODE.lower()) == parties["contractor"]
    assert services.employer_find("第一公司") == parties["contractor"]
    with pytest.raises(ValidationError):
        services.employer_find("广州")  # two organisations match
    parties["contractor"].is_active = False
    parties["contractor"].save()
    with pytest.raises(ValidationError):
        services.employer_find(CREDIT_CODE)
    with pytest.raises(ValidationError):
        services.employer_find("没有这家公司")


def test_registration_approval_then_sign_in(client, parties, django_capture_on_commit_callbacks):
    response = client.post("/accounts/register/", _form())
    assert response.status_code == 302, response.context["form"].errors
    registration = Registration.objects.get()
    assert response.status_code == 302 and registration.token in response["Location"]
    assert registration.id_number == ID_NUMBER and registration.photo.organisation_id == parties["contractor"].pk
    assert not User.objects.filter(username="li_sampler").exists()
    client.post("/accounts/login/", {"username": "li_sampler", "password": PASSWORD})
    assert "_auth_user_id" not in client.session  # nothing can sign in yet
    status_page = client.get(response["Location"]).content.decode()
    assert "待单位确认" in status_page

    admin = login_verified(client, parties["contractor_admin"])
    listing = admin.get("/accounts/registrations/").content.decode()
    assert "李取样" in listing and ID_NUMBER not in listing  # masked in the queue
    detail = admin.get(f"/accounts/registrations/{registration.pk}/").content.decode()
    assert ID_NUMBER in detail and MOBILE in detail  # whole to the person's own admin
    with django_capture_on_commit_callbacks(execute=True):  # the notice goes out after the commit
        answer = admin.post(f"/accounts/registrations/{registration.pk}/approve/", {"reason": ""})
    assert answer.status_code == 302

    registration.refresh_from_db()
    user = registration.user
    assert registration.status == "approved" and registration.decided_by == parties["contractor_admin"]
    assert user.is_active and user.roles == {Role.SAMPLER} and user.organisation == parties["contractor"]
    assert user.created_by == parties["contractor_admin"] and not user.must_change_password
    assert registration.history.count() >= 2  # audited
    assert [m.to for m in mail.outbox] == [["li@example.com"]] and "已确认" in mail.outbox[0].subject
    client.logout()
    signed_in = client.post("/accounts/login/", {"username": "li_sampler", "password": PASSWORD})
    assert signed_in.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_rejection_needs_a_reason_and_creates_no_account(client, parties):
    registration = _submit(parties["contractor"], email="")
    admin = login_verified(client, parties["contractor_admin"])
    refused = admin.post(f"/accounts/registrations/{registration.pk}/reject/", {"reason": " "})
    assert refused.status_code == 400 and "驳回须填写理由" in refused.content.decode()
    admin.post(f"/accounts/registrations/{registration.pk}/reject/", {"reason": "照片看不清"})
    registration.refresh_from_db()
    assert registration.status == "rejected" and registration.decision_reason == "照片看不清"
    assert registration.user is None and not User.objects.filter(username="li_sampler").exists()
    assert mail.outbox == []  # no address given: the status page tells it
    client.logout()
    page = client.get(f"/accounts/register/{registration.token}/").content.decode()
    assert "已驳回" in page and "照片看不清" in page
    with pytest.raises(ValidationError):  # decided once
        services.registration_approve(actor=parties["contractor_admin"], registration=registration)


def test_another_organisations_admin_gets_nothing(client, parties, tree):
    registration = _submit(parties["contractor"])
    with pytest.raises(PermissionDenied):
        services.registration_approve(actor=parties["firm_admin"], registration=registration)
    photo = reverse("core:file", args=[registration.photo_id])
    for outsider, urls in (
        (parties["firm_admin"], [f"/accounts/registrations/{registration.pk}/", photo]),
        (tree["gz_admin"], [f"/accounts/registrations/{registration.pk}/"]),
    ):
        login_verified(client, outsider)
        listing = client.get("/accounts/registrations/")
        assert listing.status_code in (403, 404) or "李取样" not in listing.content.decode()
        assert_gets_nothing(client, urls, secrets=[ID_NUMBER, MOBILE])
        answer = client.post(f"/accounts/registrations/{registration.pk}/approve/", {"reason": ""})
        assert answer.status_code in (403, 404)
    registration.refresh_from_db()
    assert registration.status == "pending"


def test_party_admin_manages_own_people_only(parties):
    own = UserFactory(username="own_sampler", organisation=parties["contractor"], roles=[Role.SAMPLER])
    other = UserFactory(username="other_witness", organisation=parties["firm"], roles=[Role.WITNESS])
    admin = parties["contractor_admin"]
    visible = set(User.objects.restrict(admin).values_list("username", flat=True))
    assert visible == {"c_admin", "own_sampler"}
    services.user_disable(actor=admin, user=own)
    with pytest.raises(PermissionDenied):
        services.user_disable(actor=admin, user=other)
    with pytest.raises(PermissionDenied):  # an admin role is not allocated by a peer
        services.user_create(
            actor=admin,
            username="second_admin",
            full_name="二管",
            organisation=parties["contractor"],
            roles=[Role.PARTY_ADMIN],
            password=PASSWORD,
        )


def test_submissions_are_rate_limited_per_address(client, parties, settings):
    settings.INSPECTA_REGISTRATION_RATE_PER_HOUR = 2
    for n in range(2):
        client.post("/accounts/register/", _form(username=f"person{n}", id_number="bad"), REMOTE_ADDR="10.9.8.7")
    answer = client.post("/accounts/register/", _form(), REMOTE_ADDR="10.9.8.7")
    assert answer.status_code == 429 and "提交过于频繁" in answer.content.decode()
    assert not Registration.objects.exists()
    assert client.post("/accounts/register/", _form(), REMOTE_ADDR="10.9.8.8").status_code == 302


def test_personal_numbers_masked_outside_their_owners_scope(client, parties, tree):
    registration = _submit(parties["contractor"])
    admin = parties["contractor_admin"]
    services.registration_approve(actor=admin, registration=registration)
    registration.refresh_from_db()
    person = registration.user

    def audience(who):
        return person_audience(who, registration.organisation_id, person.pk)

    assert audience(person) == Audience.FULL and audience(admin) == Audience.FULL
    assert audience(tree["gz_admin"]) == Audience.AUTHORITY
    assert audience(parties["firm_admin"]) == Audience.PUBLIC
    assert mask_id_number(registration.id_number, audience(parties["firm_admin"])) == "4" + "*" * 15 + ID_NUMBER[-2:]
    assert mask_mobile(MOBILE, audience(tree["gz_admin"])) == "139****5678"
    login_verified(client, tree["operator"])  # operators see the queue, masked
    page = client.get(f"/accounts/registrations/{registration.pk}/").content.decode()
    assert ID_NUMBER not in page and ID_NUMBER[:6] + "********" + ID_NUMBER[-4:] in page
    assert MOBILE not in page and "139****5678" in page
