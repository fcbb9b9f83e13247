"""Exchange lists, API and pages, do a constant number of queries (STYLE.md 14), built
with ``n`` and ``3n`` rows through the real services."""

from __future__ import annotations

import itertools

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.exchange import services
from inspecta.exchange.testing import approved_client, signed_call

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def _applications(agency):
    def grow(k: int) -> None:
        for _i in range(k):
            services.application_submit(
                actor=agency["admin"],
                system_name=f"QC-LIMS-{next(_numbers)}",
                auth_method="hmac-sha256",
                contact_name="张三",
                contact_phone="13800000000",
                scopes=["registry:read"],
                callback_url="",
            )

    return grow


def _clients(tree, agency):
    def grow(k: int) -> None:
        for _i in range(k):
            approved_client(applicant=agency["admin"], reviewer=tree["gz_admin"], name=f"QC-LIMS-{next(_numbers)}")

    return grow


def _platform_keys(k: int) -> None:
    from inspecta.exchange.crypto import new_platform_key
    from inspecta.exchange.models import PlatformKey

    for _i in range(k):
        sealed, public = new_platform_key()
        PlatformKey.objects.create(
            key_id=f"qc-platform-{next(_numbers)}", sealed_private_key=sealed, public_key=public, is_active=False
        )


def _calls(client, creds):
    def grow(k: int) -> None:
        for _i in range(k):
            assert signed_call(client, creds, "GET", f"/api/v1/exchange/ping?n={next(_numbers)}").status_code == 200

    return grow


@guards("inspecta_exchange_api_application_list")
def test_application_list_api(client, agency):
    login_verified(client, agency["admin"])
    assert_queries_constant(
        lambda: client.get("/api/v1/exchange/applications"), _applications(agency), limit=12, rows=json_rows("items")
    )


@guards("inspecta_exchange_api_client_list")
def test_client_list_api(client, tree, agency):
    login_verified(client, tree["gz_admin"])
    assert_queries_constant(
        lambda: client.get("/api/v1/exchange/clients"), _clients(tree, agency), limit=12, rows=json_rows("items")
    )


@guards("inspecta_exchange_api_platform_keys")
def test_platform_key_list_api(client):
    assert_queries_constant(
        lambda: client.get("/api/v1/exchange/platform-keys"), _platform_keys, limit=4, rows=json_rows("keys")
    )


def test_application_list_page(client, agency):
    login_verified(client, agency["admin"])
    assert_queries_constant(
        lambda: client.get("/exchange/applications/"), _applications(agency), limit=20, rows=html_rows("QC-LIMS-")
    )


def test_client_list_page(client, tree, agency):
    login_verified(client, tree["gz_admin"])
    assert_queries_constant(
        lambda: client.get("/exchange/"), _clients(tree, agency), limit=20, rows=html_rows("QC-LIMS-")
    )


def test_monitoring_page_over_the_call_log(client, tree, hmac_creds):
    """The call log is read as aggregates: more calls, the same queries."""

    login_verified(client, tree["gz_supervisor"])
    assert_queries_constant(lambda: client.get("/exchange/monitoring/"), _calls(client, hmac_creds), limit=20)
