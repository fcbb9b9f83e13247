"""Shared test helpers for authorisation (STYLE.md 13).

``login_verified`` signs a client in as a user who has passed every login step.
``assert_gets_nothing`` proves, for any page or endpoint, that a user of another region
or organisation gets nothing: a 403/404 (or a redirect to the login page), and none of
the given secrets anywhere in the body.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.accounts.models import User


def login_verified(client: Client, user: User) -> Client:
    client.force_login(user)
    if user.requires_second_factor:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="test", confirmed=True
        )
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def assert_gets_nothing(client: Client, urls: Iterable[str], secrets: Iterable[str] = ()) -> None:
    secrets = [s for s in secrets if s]
    for url in urls:
        response = client.get(url, HTTP_ACCEPT="application/json, text/html")
        assert response.status_code in (403, 404) or (
            response.status_code == 302 and "/accounts/login/" in response["Location"]
        ), f"{url} answered {response.status_code} to an outsider"
        body = response.content.decode("utf-8", errors="replace")
        for secret in secrets:
            assert secret not in body, f"{url} leaked {secret!r} to an outsider"


def assert_list_excludes(client: Client, url: str, present: Iterable[str], absent: Iterable[str]) -> None:
    """A list the user may see shows what is in scope and nothing outside it."""

    response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    body = response.content.decode()
    for item in present:
        assert item in body, f"{item!r} missing from {url}"
    for item in absent:
        assert item not in body, f"{url} leaked {item!r}"
