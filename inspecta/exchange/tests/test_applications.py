"""Access applications, review by the competent authority, keys."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.exchange import permissions, services
from inspecta.exchange.choices import ApplicationStatus, KeyStatus
from inspecta.exchange.models import AccessApplication, ClientKey, ExchangeClient
from inspecta.exchange.testing import agency_with_admin

APPLY = {
    "system_name": "检测管理系统",
    "callback_url": "https://lims.example.cn/callback",
    "auth_method": "hmac-sha256",
    "contact_name": "李四",
    "contact_phone": "13900000000",
    "scopes": ["files:upload", "records:submit"],
}


def post_json(client, url, data, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def test_apply_review_and_key_over_api(client, tree, agency):
    login_verified(client, agency["admin"])
    response = post_json(client, "/api/v1/exchange/applications", APPLY)
    assert response.status_code == 201, response.content
    application_id = response.json()["id"]
    assert response.json()["status"] == "pending"

    # The applicant cannot approve its own application.
    assert post_json(client, f"/api/v1/exchange/applications/{application_id}/approve", {}).status_code == 403

    # Another city's authority sees nothing.
    login_verified(client, tree["sz_admin"])
    assert client.get(f"/api/v1/exchange/applications/{application_id}").status_code == 404
    assert client.get("/api/v1/exchange/applications").json()["count"] == 0
    assert post_json(client, f"/api/v1/exchange/applications/{application_id}/approve", {}).status_code == 404

    # The competent authority (city of the agency) approves; the secret is not shown to it
    # but once to the applying agency's admin.
    login_verified(client, tree["gz_supervisor"])
    assert client.get("/api/v1/exchange/applications?status=pending").json()["count"] == 1
    approved = post_json(client, f"/api/v1/exchange/applications/{application_id}/approve", {"reason": "材料齐全"})
    assert approved.status_code == 200, approved.content
    data = approved.json()
    assert data["key"]["secret"] is None and data["key"]["key_id"].startswith("ik_")
    login_verified(client, agency["admin"])
    secret = post_json(client, f"/api/v1/exchange/keys/{data['key']['key_id']}/secret", {}).json()["secret"]
    assert secret
    assert data["client"]["scopes"] == ["files:upload", "records:submit"]
    key = ClientKey.objects.get(key_id=data["key"]["key_id"])
    assert secret.encode() not in bytes(key.sealed_secret)
    assert not key.history.filter(public_key__contains=secret).exists()
    detail = client.get(f"/api/v1/exchange/clients/{data['client']['id']}")
    assert detail.status_code == 200
    assert secret not in detail.content.decode()

    # Deciding twice is refused.
    login_verified(client, tree["gz_supervisor"])
    again = post_json(client, f"/api/v1/exchange/applications/{application_id}/approve", {})
    assert again.status_code == 400
    assert AccessApplication.objects.get(pk=application_id).history.count() == 2


def test_reject_needs_reason_and_bad_input_changes_nothing(client, tree, agency):
    login_verified(client, agency["admin"])
    bad = post_json(client, "/api/v1/exchange/applications", {**APPLY, "scopes": ["no-such-scope"]})
    assert bad.status_code == 422
    bad = post_json(client, "/api/v1/exchange/applications", {**APPLY, "auth_method": "rsa"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_input"
    assert AccessApplication.objects.count() == 0
    application_id = post_json(client, "/api/v1/exchange/applications", APPLY).json()["id"]
    login_verified(client, tree["gz_admin"])
    refused = post_json(client, f"/api/v1/exchange/applications/{application_id}/reject", {"reason": " "})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_failed"
    rejected = post_json(client, f"/api/v1/exchange/applications/{application_id}/reject", {"reason": "缺少资质证书"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "缺少资质证书"
    assert not ExchangeClient.objects.exists()


def test_competence_rules(tree):
    _agency, admin = agency_with_admin("440106", name="天河检测")
    application = services.application_submit(
        actor=admin,
        system_name="x",
        auth_method="ed25519",
        contact_name="a",
        contact_phone="12345",
        scopes=["registry:read"],
    )
    assert permissions.may_review(tree["gz_admin"], application)
    assert permissions.may_review(tree["gd_admin"], application)
    assert permissions.may_review(tree["th_admin"], application)
    assert not permissions.may_review(tree["sz_admin"], application)
    assert not permissions.may_review(tree["gz_inspector"], application)
    assert not permissions.may_review(tree["operator"], application)
    # A city platform applies to the province; it cannot approve itself.
    city = services.application_submit(
        actor=tree["gz_admin"],
        system_name="广州市平台",
        auth_method="hmac-sha256",
        contact_name="a",
        contact_phone="12345",
        scopes=["sync:push"],
    )
    assert not permissions.may_review(tree["gz_admin"], city)
    assert permissions.may_review(tree["gd_admin"], city)
    with pytest.raises(PermissionDenied):
        services.application_approve(actor=tree["gz_admin"], application=city)
    with pytest.raises(ValidationError):
        services.application_approve(actor=tree["gd_admin"], application=city, scopes=["files:upload"])
    with pytest.raises(PermissionDenied):
        services.application_submit(
            actor=tree["gz_supervisor"],
            system_name="x",
            auth_method="ed25519",
            contact_name="a",
            contact_phone="12345",
            scopes=["registry:read"],
        )


def test_ed25519_key_registration_and_rotation(tree, agency):
    application = services.application_submit(
        actor=agency["admin"],
        system_name="LIMS",
        auth_method="ed25519",
        contact_name="a",
        contact_phone="12345",
        scopes=["registry:read"],
    )
    client, issued = services.application_approve(actor=tree["gz_admin"], application=application)
    assert issued.secret is None
    assert issued.key.status == KeyStatus.AWAITING_PUBLIC_KEY
    with pytest.raises(ValidationError):
        services.key_register_public(actor=agency["admin"], key=issued.key, public_key="not a key")
    with pytest.raises(PermissionDenied):
        services.key_register_public(actor=tree["sz_admin"], key=issued.key, public_key="x")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    import base64

    key = services.key_register_public(actor=agency["admin"], key=issued.key, public_key=base64.b64encode(raw).decode())
    assert key.status == KeyStatus.ACTIVE and key.public_key.startswith("-----BEGIN PUBLIC KEY-----")
    rotated = services.key_rotate(actor=agency["admin"], client=client)
    key.refresh_from_db()
    assert key.status == KeyStatus.RETIRING and key.not_after is not None
    assert rotated.key.status == KeyStatus.AWAITING_PUBLIC_KEY
    assert key.history.count() == 3


def test_pages_apply_approve_rotate_revoke(client, tree, agency):
    login_verified(client, agency["admin"])
    assert client.get("/exchange/").status_code == 200
    form = {**APPLY, "scopes": ["files:upload"]}
    response = client.post("/exchange/applications/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    application = AccessApplication.objects.get()
    assert client.get(f"/exchange/applications/{application.pk}/").status_code == 200
    assert client.post("/exchange/applications/new/", {**form, "scopes": []}).status_code == 400

    login_verified(client, tree["gz_admin"])
    page = client.get(f"/exchange/applications/{application.pk}/")
    assert 'data-testid="approve"' in page.content.decode()
    response = client.post(f"/exchange/applications/{application.pk}/approve/", {"reason": "同意"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    client_obj = ExchangeClient.objects.get()
    first = client.get(f"/exchange/clients/{client_obj.pk}/").content.decode()
    assert 'data-testid="secret"' not in first  # the approver never sees it
    assert client.get(f"/exchange/clients/{client_obj.pk}/history/").status_code == 200
    assert client.get("/exchange/monitoring/").status_code == 200
    data = client.get(f"/exchange/monitoring/data/?client={client_obj.pk}").json()
    assert "series" in data and data["calls"] == 0
    assert client.get("/exchange/monitoring/data/?hours=x").status_code == 400

    # Rotate on the page: the old key is retiring; the new secret awaits the agency's admin.
    client.post(f"/exchange/clients/{client_obj.pk}/rotate/", {"overlap_hours": "2"})
    assert ClientKey.objects.filter(client=client_obj, status=KeyStatus.RETIRING).count() == 1
    assert 'data-testid="secret"' not in client.get(f"/exchange/clients/{client_obj.pk}/").content.decode()
    key = ClientKey.objects.filter(client=client_obj, status=KeyStatus.ACTIVE).get()
    client.post(f"/exchange/clients/{client_obj.pk}/revoke/", {"key_id": key.key_id, "reason": "测试"})
    key.refresh_from_db()
    assert key.status == KeyStatus.REVOKED


def test_outsiders_get_nothing(client, tree, agency, hmac_creds):
    pk = hmac_creds.client.pk
    application_pk = hmac_creds.client.application_id
    _other_agency, other_admin = agency_with_admin("440300", name="深圳检测", username="sz_agency")
    urls = [
        f"/exchange/clients/{pk}/",
        f"/exchange/clients/{pk}/history/",
        f"/exchange/applications/{application_pk}/",
        f"/exchange/monitoring/data/?client={pk}",
        f"/api/v1/exchange/clients/{pk}",
        f"/api/v1/exchange/applications/{application_pk}",
    ]
    for outsider in (tree["sz_admin"], tree["sz_supervisor"], other_admin):
        login_verified(client, outsider)
        assert_gets_nothing(client, urls, secrets=[hmac_creds.key_id, hmac_creds.client.name + "x"])
        listing = client.get("/api/v1/exchange/clients").json()
        assert listing["count"] == 0
        assert hmac_creds.key_id not in client.get("/exchange/").content.decode()
    for url in urls[:1]:
        assert client.post(url.replace("/clients/", "/clients/") + "rotate/").status_code in (403, 404)
    assert ClientKey.objects.filter(client=hmac_creds.client).count() == 1
    client.logout()
    assert client.get(f"/api/v1/exchange/clients/{pk}").status_code == 401
