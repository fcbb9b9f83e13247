"""Refused or invalid actions on the exchange pages re-render the page with the bound
form and its errors (status 400) and change nothing; success redirects."""

from __future__ import annotations

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.exchange import services
from inspecta.exchange.choices import ApplicationStatus, KeyStatus
from inspecta.exchange.models import ClientKey, ExchangeClient

pytestmark = pytest.mark.django_db


def _keys(client_obj: ExchangeClient) -> list[tuple[str, str]]:
    return sorted(ClientKey.objects.filter(client=client_obj).values_list("key_id", "status"))


def test_refused_application_decision_re_renders_with_400(client, tree, agency):
    application = services.application_submit(
        actor=agency["admin"],
        system_name="检测管理系统",
        auth_method="hmac-sha256",
        contact_name="张三",
        contact_phone="13800000000",
        scopes=["files:upload"],
    )
    url = f"/exchange/applications/{application.pk}"
    login_verified(client, agency["admin"])
    assert client.post(f"{url}/approve/", {"reason": "自己批准"}).status_code == 403
    login_verified(client, tree["gz_admin"])
    page = client.post(f"{url}/reject/", {"reason": " "})
    html = page.content.decode()
    assert page.status_code == 400 and "驳回须填写理由" in html and 'data-testid="decision-error"' in html
    page = client.post(f"{url}/approve/", {"reason": "长" * 2001})
    assert page.status_code == 400 and "2000" in page.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING and not ExchangeClient.objects.exists()
    assert client.post(f"{url}/defer/", {"reason": "x"}).status_code == 404
    assert client.post(f"{url}/reject/", {"reason": "材料不全"}).status_code == 302
    page = client.post(f"{url}/approve/", {"reason": "同意"})
    assert page.status_code == 400 and "该申请已审核" in page.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED and not ExchangeClient.objects.exists()


def test_refused_client_actions_re_render_with_400_and_change_nothing(client, tree, agency, hmac_creds):
    client_obj = hmac_creds.client
    url = f"/exchange/clients/{client_obj.pk}"
    before = _keys(client_obj)
    login_verified(client, agency["admin"])
    settings = {"is_active": "on", "rate_limit_per_minute": "5", "expect_calls_every_minutes": "0"}
    assert client.post(f"{url}/settings/", settings).status_code == 403
    page = client.post(f"{url}/revoke/", {"key_id": hmac_creds.key_id, "reason": ""})
    assert page.status_code == 400 and 'data-testid="key-error"' in page.content.decode()
    page = client.post(f"{url}/rotate/", {"overlap_hours": "-1"})
    assert page.status_code == 400 and 'data-testid="rotate-error"' in page.content.decode()
    page = client.post(f"{url}/public-key/", {"key_id": hmac_creds.key_id, "public_key": "abc"})
    assert page.status_code == 400 and "该密钥不需要登记公钥" in page.content.decode()
    assert _keys(client_obj) == before

    login_verified(client, tree["gz_admin"])
    rate = ExchangeClient.objects.get(pk=client_obj.pk).rate_limit_per_minute
    page = client.post(f"{url}/settings/", {**settings, "rate_limit_per_minute": "-1"})
    assert page.status_code == 400 and "invalid-feedback" in page.content.decode()
    assert ExchangeClient.objects.get(pk=client_obj.pk).rate_limit_per_minute == rate
    assert client.post(f"{url}/settings/", {**settings, "is_active": ""}).status_code == 302
    page = client.post(f"{url}/rotate/", {"overlap_hours": "1"})
    html = page.content.decode()
    assert page.status_code == 400 and "接入方已停用" in html and 'data-testid="rotate"' not in html
    assert _keys(client_obj) == before
    assert client.post(f"{url}/unknown/").status_code == 404


def test_refused_public_key_registration_re_renders_next_to_the_key(client, tree, agency, ed_creds):
    client_obj = ed_creds.client
    login_verified(client, agency["admin"])
    assert client.post(f"/exchange/clients/{client_obj.pk}/rotate/", {"overlap_hours": "1"}).status_code == 302
    awaiting = ClientKey.objects.get(client=client_obj, status=KeyStatus.AWAITING_PUBLIC_KEY)
    page = client.post(
        f"/exchange/clients/{client_obj.pk}/public-key/", {"key_id": awaiting.key_id, "public_key": "不是公钥"}
    )
    html = page.content.decode()
    assert page.status_code == 400 and "公钥须为 Ed25519 公钥" in html and "不是公钥" in html
    awaiting.refresh_from_db()
    assert awaiting.status == KeyStatus.AWAITING_PUBLIC_KEY and not awaiting.public_key
