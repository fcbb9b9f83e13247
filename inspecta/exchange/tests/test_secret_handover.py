"""The HMAC secret reaches the applying organisation's admin, once, and nobody else
(T/CECS 6.0.5, 6.0.8): not the authority that approves, not the organisation's other
people, not a second time; rotation by the organisation's admin is self-service."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inspecta.accounts.choices import Role
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import UserFactory
from inspecta.core.testing.openapi import assert_documented
from inspecta.exchange import services
from inspecta.exchange.choices import KeyStatus
from inspecta.exchange.crypto import decode_secret, open_secret
from inspecta.exchange.models import ClientKey, ExchangeClient


def post_json(client, url, data, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def _apply(admin, method="hmac-sha256"):
    return services.application_submit(
        actor=admin,
        system_name="LIMS",
        auth_method=method,
        contact_name="张三",
        contact_phone="13800000000",
        scopes=["files:upload"],
    )


@pytest.fixture
def approved(tree, agency):
    client, issued = services.application_approve(actor=tree["gz_admin"], application=_apply(agency["admin"]))
    return client, issued


def test_approval_gives_the_approver_no_secret(approved):
    client, issued = approved
    assert issued.secret is None
    key = ClientKey.objects.get(client=client)
    assert key.secret_pending and key.secret_revealed_at is None


def test_the_applicant_admin_receives_the_secret_once(approved, agency):
    _client, issued = approved
    secret = services.key_secret_reveal(actor=agency["admin"], key=issued.key)
    key = ClientKey.objects.get(pk=issued.key.pk)
    assert decode_secret(secret) == open_secret(key.sealed_secret)
    assert key.secret_revealed_by == agency["admin"] and not key.secret_pending
    # audited: who received it and when
    assert key.history.filter(secret_revealed_by=agency["admin"]).exists()
    with pytest.raises(ValidationError):
        services.key_secret_reveal(actor=agency["admin"], key=key)


def test_nobody_else_receives_the_secret(approved, tree, agency):
    _client, issued = approved
    clerk = UserFactory(username="agency_clerk", organisation=agency["org"], roles=[Role.TESTER])
    for other in (tree["gz_admin"], tree["gz_supervisor"], tree["gd_admin"], clerk):
        with pytest.raises(PermissionDenied):
            services.key_secret_reveal(actor=other, key=issued.key)
    assert ClientKey.objects.get(pk=issued.key.pk).secret_pending


def test_rotation_by_the_authority_leaves_the_secret_for_the_applicant(approved, tree, agency):
    client, _ = approved
    issued = services.key_rotate(actor=tree["gz_admin"], client=client)
    assert issued.secret is None and issued.key.secret_pending
    assert services.key_secret_reveal(actor=agency["admin"], key=issued.key)


def test_self_service_rotation_shows_the_new_secret_to_the_admin_once(approved, agency):
    client, first = approved
    issued = services.key_rotate(actor=agency["admin"], client=client)
    assert issued.secret and decode_secret(issued.secret) == open_secret(issued.key.sealed_secret)
    issued.key.refresh_from_db()
    assert not issued.key.secret_pending and issued.key.secret_revealed_by == agency["admin"]
    assert ClientKey.objects.get(pk=first.key.pk).status == KeyStatus.RETIRING
    with pytest.raises(ValidationError):
        services.key_secret_reveal(actor=agency["admin"], key=issued.key)


def test_revoked_or_ed25519_keys_have_no_secret_to_reveal(tree, agency):
    _client, issued = services.application_approve(
        actor=tree["gz_admin"], application=_apply(agency["admin"], method="ed25519")
    )
    with pytest.raises(ValidationError):
        services.key_secret_reveal(actor=agency["admin"], key=issued.key)
    _, hmac_issued = services.application_approve(actor=tree["gz_admin"], application=_apply(agency["admin"]))
    services.key_revoke(actor=agency["admin"], key=hmac_issued.key, reason="不再使用")
    with pytest.raises(ValidationError):
        services.key_secret_reveal(actor=agency["admin"], key=hmac_issued.key)


def test_api_approval_answers_no_secret_and_the_applicant_reveals_it_once(client, tree, agency):
    application = _apply(agency["admin"])
    login_verified(client, tree["gz_supervisor"])
    approved = post_json(client, f"/api/v1/exchange/applications/{application.pk}/approve", {"reason": "同意"})
    assert approved.status_code == 200, approved.content
    key = approved.json()["key"]
    assert key["secret"] is None and key["secret_pending"] is True
    reveal_url = f"/api/v1/exchange/keys/{key['key_id']}/secret"
    assert post_json(client, reveal_url, {}).status_code == 403

    login_verified(client, agency["admin"])
    first = post_json(client, reveal_url, {})
    assert first.status_code == 200, first.content
    assert_documented(first, "/api/v1/exchange/keys/{key_id}/secret", "post")
    stored = ClientKey.objects.get(key_id=key["key_id"])
    assert decode_secret(first.json()["secret"]) == open_secret(stored.sealed_secret)
    assert first["Cache-Control"].startswith("no-store")
    again = post_json(client, reveal_url, {})
    assert again.status_code == 400 and "secret" not in again.json()
    detail = client.get(f"/api/v1/exchange/clients/{stored.client_id}").json()
    assert detail["keys"][0]["secret_pending"] is False


def test_pages_the_approver_sees_no_secret_the_applicant_admin_once(client, tree, agency):
    application = _apply(agency["admin"])
    login_verified(client, tree["gz_admin"])
    response = client.post(f"/exchange/applications/{application.pk}/approve/", {"reason": "同意"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="secret"' not in page and 'data-testid="reveal"' not in page
    assert 'data-testid="secret-pending"' in page
    pk = ExchangeClient.objects.get().pk
    key = ClientKey.objects.get()
    assert client.post(f"/exchange/clients/{pk}/reveal/", {"key_id": key.key_id}).status_code == 403

    clerk = UserFactory(username="agency_clerk", organisation=agency["org"], roles=[Role.TESTER])
    login_verified(client, clerk)
    page = client.get(f"/exchange/clients/{pk}/").content.decode()
    assert 'data-testid="reveal"' not in page and 'data-testid="secret-pending"' in page

    login_verified(client, agency["admin"])
    page = client.get(f"/exchange/clients/{pk}/").content.decode()
    assert 'data-testid="reveal"' in page and 'data-testid="secret"' not in page
    shown = client.post(f"/exchange/clients/{pk}/reveal/", {"key_id": key.key_id})
    assert shown.status_code == 200
    assert shown["Cache-Control"].startswith("no-store")
    body = shown.content.decode()
    assert 'data-testid="secret"' in body
    secret = body.split('data-testid="secret">', 1)[1].split("<", 1)[0]
    assert decode_secret(secret) == open_secret(ClientKey.objects.get().sealed_secret)
    later = client.get(f"/exchange/clients/{pk}/").content.decode()
    assert secret not in later and 'data-testid="reveal"' not in later
    again = client.post(f"/exchange/clients/{pk}/reveal/", {"key_id": key.key_id})
    assert again.status_code == 400 and secret not in again.content.decode()

    # Self-service rotation: the new secret on the answer page, once.
    rotated = client.post(f"/exchange/clients/{pk}/rotate/", {"overlap_hours": "2"})
    assert rotated.status_code == 200 and 'data-testid="secret"' in rotated.content.decode()
    new_secret = rotated.content.decode().split('data-testid="secret">', 1)[1].split("<", 1)[0]
    assert new_secret not in client.get(f"/exchange/clients/{pk}/").content.decode()
