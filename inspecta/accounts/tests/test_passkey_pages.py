"""The "通行密钥" section of one's own profile: enrol (options, then the phone's answer),
list, remove; nobody else sees or removes my passkey; bad input changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import Passkey, User
from inspecta.accounts.testing import SoftAuthenticator
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

OPTIONS = "/accounts/passkeys/options/"
REGISTER = "/accounts/passkeys/"
PROFILE = "/accounts/profile/"


@pytest.fixture
def sampler(db: Any) -> User:
    org = OrganisationFactory(name="某施工单位", kind=OrganisationKind.CONTRACTOR, level="", region_code="440106")
    return UserFactory(username="sampler", organisation=org, roles=[Role.SAMPLER])


@pytest.fixture
def witness(db: Any) -> User:
    org = OrganisationFactory(name="某监理单位", kind=OrganisationKind.SUPERVISING_FIRM, level="", region_code="440300")
    return UserFactory(username="witness", organisation=org, roles=[Role.WITNESS])


def _enrol(client: Client, name: str = "工地手机", phone: SoftAuthenticator | None = None) -> Any:
    phone = phone or SoftAuthenticator()
    options = client.post(OPTIONS)
    assert options.status_code == 200 and options["Content-Type"] == "application/json"
    body = {"credential": phone.create(options.content.decode()), "name": name}
    return client.post(REGISTER, json.dumps(body), content_type="application/json")


def _error(response: Any) -> dict[str, Any]:
    error = json.loads(response.content)["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return error


def test_a_person_enrols_a_passkey_and_sees_it(sampler: User) -> None:
    client = login_verified(Client(), sampler)
    page = client.get(PROFILE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "通行密钥" in html and "inspecta/passkey.js" in html and 'data-testid="passkey-none"' in html

    answer = _enrol(client)
    assert answer.status_code == 201, answer.content
    passkey = Passkey.objects.get()
    assert json.loads(answer.content) == {"id": passkey.pk, "name": "工地手机"}
    assert passkey.user == sampler
    html = client.get(PROFILE).content.decode()
    assert "工地手机" in html and f"/accounts/passkeys/{passkey.pk}/remove/" in html
    assert "通行密钥“工地手机”已添加。" in html


def test_an_authority_user_enrols_too(tree: dict[str, Any]) -> None:
    client = login_verified(Client(), tree["gz_supervisor"])
    assert _enrol(client, name="").status_code == 201
    assert Passkey.objects.get().name == "我的手机"


def test_bad_input_is_refused_and_keeps_nothing(sampler: User) -> None:
    client = login_verified(Client(), sampler)
    client.post(OPTIONS)
    not_json = client.post(REGISTER, "{oops", content_type="application/json")
    assert not_json.status_code == 400 and _error(not_json)["code"] == "bad_request"
    missing = client.post(REGISTER, json.dumps({"name": "x"}), content_type="application/json")
    assert missing.status_code == 422 and _error(missing)["code"] == "invalid_input"
    wrong_type = client.post(REGISTER, json.dumps({"credential": "x", "name": 3}), content_type="application/json")
    assert wrong_type.status_code == 422

    unverified = _enrol(client, phone=SoftAuthenticator(user_verified=False))
    assert unverified.status_code == 422 and _error(unverified)["code"] == "passkey_invalid"
    too_long = _enrol(client, name="手" * 65)
    assert too_long.status_code == 400 and _error(too_long)["code"] == "validation_failed"
    # an answer without options asked first (or after they were used)
    phone = SoftAuthenticator()
    stale = phone.create(client.post(OPTIONS).content.decode())
    assert _enrol(client).status_code == 201  # asks new options: the stale answer's are gone
    late = client.post(REGISTER, json.dumps({"credential": stale, "name": "x"}), content_type="application/json")
    assert late.status_code == 422 and _error(late)["code"] == "passkey_challenge_expired"
    assert Passkey.objects.count() == 1
    # only POST
    assert client.get(OPTIONS).status_code == 405
    assert client.get(REGISTER).status_code == 405


def test_signed_out_nobody_gets_options_or_enrols() -> None:
    client = Client()
    for url in (OPTIONS, REGISTER):
        answer = client.post(url)
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
    assert not Passkey.objects.exists()


def test_a_person_removes_their_own_passkey(sampler: User) -> None:
    client = login_verified(Client(), sampler)
    _enrol(client)
    passkey = Passkey.objects.get()
    answer = client.post(f"/accounts/passkeys/{passkey.pk}/remove/")
    assert answer.status_code == 302 and answer["Location"] == "/accounts/profile/#passkeys"
    passkey.refresh_from_db()
    assert passkey.removed_at is not None
    html = client.get(PROFILE).content.decode()
    assert "通行密钥“工地手机”已移除。" in html and 'data-testid="passkey-item"' not in html
    # removed is gone for the page as well
    assert client.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 404
    assert client.get(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 405


def test_another_person_neither_sees_nor_removes_my_passkey(sampler: User, witness: User) -> None:
    mine = login_verified(Client(), sampler)
    _enrol(mine, name="取样员的手机")
    passkey = Passkey.objects.get()

    theirs = login_verified(Client(), witness)
    assert "取样员的手机" not in theirs.get(PROFILE).content.decode()
    assert theirs.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 404
    passkey.refresh_from_db()
    assert passkey.removed_at is None
    # and the options they get exclude nothing of mine
    options = json.loads(theirs.post(OPTIONS).content)
    assert options["excludeCredentials"] == [] and options["user"]["name"] == "witness"
