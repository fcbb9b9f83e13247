"""TOTP enrolment keeps one secret until it is confirmed or expires; asset requests are
never redirected to the 2FA pages; the session id changes when the second factor is
passed (GB/T 22239 level 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.accounts.models import ActiveSession
from inspecta.core.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db

SETUP = "/accounts/otp/setup/"


def _code(device: TOTPDevice) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)


def _login(client: Client, username: str = "gz_supervisor") -> None:
    assert client.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code == 302


def _secret(client: Client) -> str:
    response = client.get(SETUP)
    assert response.status_code == 200
    return str(response.context["secret"])


def test_the_setup_page_shows_one_secret_until_confirmed(client: Client, tree: dict[str, Any]) -> None:
    _login(client)
    first = _secret(client)
    # the browser's own favicon request, then a reload: the secret scanned stays valid
    icon = client.get("/favicon.ico", HTTP_ACCEPT="image/avif,image/webp,image/*,*/*;q=0.8")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/x-icon" and icon.content[:4] == b"\0\0\1\0"
    assert _secret(client) == first
    devices = TOTPDevice.objects.filter(user=tree["gz_supervisor"], confirmed=False)
    assert devices.count() == 1
    assert client.post(SETUP, {"token": _code(devices.get())}).status_code == 302
    assert TOTPDevice.objects.get(user=tree["gz_supervisor"]).confirmed


def test_an_expired_pending_secret_is_replaced(client: Client, tree: dict[str, Any]) -> None:
    _login(client)
    first = _secret(client)
    device = TOTPDevice.objects.get(user=tree["gz_supervisor"], confirmed=False)
    TOTPDevice.objects.filter(pk=device.pk).update(created_at=timezone.now() - timedelta(minutes=20))
    with override_settings(INSPECTA_TOTP_ENROL_SECONDS=900):
        refused = client.post(SETUP, {"token": _code(device)})
        assert refused.status_code == 400 and "失效" in refused.content.decode()
        assert refused.context["secret"] != first  # a fresh QR to scan
    assert not TOTPDevice.objects.filter(user=tree["gz_supervisor"], confirmed=True).exists()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/favicon.ico", {"HTTP_SEC_FETCH_DEST": "image"}),
        ("/reports/", {"HTTP_SEC_FETCH_DEST": "image"}),
        ("/reports/", {"HTTP_SEC_FETCH_DEST": "script"}),
        ("/reports/", {"HTTP_SEC_FETCH_DEST": "empty", "HTTP_ACCEPT": "application/json"}),
        ("/reports/", {"HTTP_ACCEPT": "image/png"}),
    ],
)
def test_assets_are_never_redirected_to_the_2fa_pages(
    client: Client, tree: dict[str, Any], path: str, headers: dict[str, str]
) -> None:
    _login(client)
    response = client.get(path, **headers)  # type: ignore[arg-type]
    assert response.status_code != 302
    assert not TOTPDevice.objects.filter(user=tree["gz_supervisor"]).exists()  # no secret was issued
    page = client.get("/reports/", HTTP_SEC_FETCH_DEST="document", HTTP_ACCEPT="text/html")
    assert page.status_code == 302 and page["Location"] == SETUP


def test_the_session_id_changes_when_enrolment_completes(client: Client, tree: dict[str, Any]) -> None:
    _login(client)
    _secret(client)
    before = client.session.session_key
    device = TOTPDevice.objects.get(user=tree["gz_supervisor"], confirmed=False)
    assert client.post(SETUP, {"token": _code(device)}).status_code == 302
    after = client.session.session_key
    assert after != before
    assert list(ActiveSession.objects.filter(user=tree["gz_supervisor"]).values_list("session_key", flat=True)) == [
        after
    ]
    assert client.get("/").status_code == 200


def test_the_session_id_changes_when_the_code_is_verified(client: Client, tree: dict[str, Any]) -> None:
    device = TOTPDevice.objects.create(user=tree["gz_supervisor"], name="phone", confirmed=True)
    _login(client)
    before = client.session.session_key
    stolen = Client()
    stolen.cookies["sessionid"] = before  # someone who saw the id before the second factor
    assert client.post("/accounts/otp/", {"token": _code(device)}).status_code == 302
    assert client.session.session_key != before
    assert client.get("/").status_code == 200
    assert stolen.get("/").status_code == 302  # the old id is signed out
