"""Account and organisation lists, API and pages, do a constant number of queries
(STYLE.md 14), built with ``n`` and ``3n`` rows through the real services."""

from __future__ import annotations

import itertools

import pytest

from inspecta.accounts.choices import AuthorityLevel, Role
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import OrganisationFactory, UserFactory
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def _users(tree):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            UserFactory(username=f"qc_user{n}", organisation=tree["gz"], roles=[Role.AUTHORITY_SUPERVISOR])

    return grow


def _organisations(tree):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            OrganisationFactory(
                name=f"查询计数区局{n}",
                level=AuthorityLevel.DISTRICT,
                region_code=f"4401{10 + n:02d}",
                parent=tree["gz"],
            )

    return grow


@guards("inspecta_accounts_api_users")
def test_user_list_api(client, tree):
    login_verified(client, tree["gz_admin"])
    assert_queries_constant(
        lambda: client.get("/api/v1/accounts/users"), _users(tree), limit=12, rows=json_rows("items")
    )


@guards("inspecta_accounts_api_organisations")
def test_organisation_list_api(client, tree):
    login_verified(client, tree["gz_admin"])
    assert_queries_constant(
        lambda: client.get("/api/v1/accounts/organisations"), _organisations(tree), limit=11, rows=json_rows("items")
    )


def test_user_list_page(client, tree):
    login_verified(client, tree["gz_admin"])
    assert_queries_constant(lambda: client.get("/accounts/users/"), _users(tree), limit=16, rows=html_rows("qc_user"))


def test_organisation_list_page(client, tree):
    login_verified(client, tree["gz_admin"])
    assert_queries_constant(
        lambda: client.get("/accounts/organisations/"), _organisations(tree), limit=16, rows=html_rows("查询计数区局")
    )


def test_organisation_list_page_shows_the_admins_subtree_only(client, tree):
    login_verified(client, tree["gz_admin"])
    page = client.get("/accounts/organisations/").content.decode()
    assert 'data-testid="organisation-table"' in page
    assert tree["th"].name in page and tree["sz"].name not in page
    login_verified(client, tree["gz_supervisor"])
    assert client.get("/accounts/organisations/").status_code == 403


def test_profile_page_with_passkeys(client, tree):
    from inspecta.accounts.passkeys import passkey_register, passkey_registration_options
    from inspecta.accounts.testing import SoftAuthenticator

    user = tree["gz_supervisor"]
    login_verified(client, user)

    def grow(k: int) -> None:
        for _i in range(k):
            phone = SoftAuthenticator()
            credential = phone.create(passkey_registration_options(user=user))
            passkey_register(actor=user, user=user, credential=credential, name=f"查询计数手机{next(_numbers)}")

    assert_queries_constant(lambda: client.get("/accounts/profile/"), grow, limit=14, rows=html_rows("查询计数手机"))
