"""The public log explorer: no login, Chinese, no personal data."""

from __future__ import annotations

import pytest

from inspecta.accounts import services as account_services
from inspecta.accounts.choices import Role
from inspecta.core.testing.factories import PASSWORD
from inspecta.ledger import services
from inspecta.ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_user(tree):
    user = account_services.user_create(
        actor=tree["gz_admin"],
        username="explorer_user",
        full_name="李四光",
        organisation=tree["gz"],
        roles=[Role.AUTHORITY_SUPERVISOR],
        password=PASSWORD,
        mobile="13912345678",
        email="lisi@example.com",
    )
    services.sequence_pending()
    services.checkpoint_publish()
    return user


SECRETS = ("李四光", "13912345678", "lisi@example.com", "explorer_user")


def test_explorer_home_is_public_and_chinese(client, logged_user):
    response = client.get("/log/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "存证日志" in body and "当前检查点" in body and "最新条目" in body
    assert "账号分配" in body
    for secret in SECRETS:
        assert secret not in body
    assert "public" in response["Cache-Control"]


def test_entry_page_shows_a_verified_inclusion_proof_without_personal_data(client, logged_user):
    entry = Entry.objects.get(record_type="accounts.user", record_id=str(logged_user.pk))
    response = client.get(f"/log/entries/{entry.index}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "已验证" in body and "authority_supervisor" in body
    for secret in SECRETS:
        assert secret not in body
    api = client.get(f"/api/v1/log/entries/{entry.index}").content.decode()
    listing = client.get("/api/v1/log/entries?start=0&end=100").content.decode()
    import base64

    decoded = b"".join(
        base64.b64decode(e["entry"]) for e in client.get("/api/v1/log/entries?start=0&end=100").json()["items"]
    )
    for secret in SECRETS:
        assert secret not in api and secret not in listing and secret.encode() not in decoded


def test_search_by_index_and_record_links(client, logged_user):
    entry = Entry.objects.get(record_type="accounts.user", record_id=str(logged_user.pk))
    response = client.get("/log/", {"index": str(entry.index)})
    assert response.status_code == 302 and response["Location"] == f"/log/entries/{entry.index}/"
    response = client.get("/log/", {"index": "abc"})
    assert response.status_code == 400 and "请输入非负整数序号" in response.content.decode()
    for bad in ("-1", "1.5", str(2**63)):
        response = client.get("/log/", {"index": bad})
        html = response.content.decode()
        assert response.status_code == 400 and 'data-testid="index-error"' in html and "请输入非负整数序号" in html
    assert client.get("/log/", {"index": " "}).status_code == 200
    assert client.get("/log/entries/999999/").status_code == 404
    response = client.get(f"/log/records/accounts.user/{logged_user.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/log/entries/{entry.index}/"


def test_pending_record_page(client, tree):
    user = account_services.user_create(
        actor=tree["gz_admin"],
        username="pending_user",
        full_name="王五",
        organisation=tree["gz"],
        roles=[Role.AUTHORITY_SUPERVISOR],
        password=PASSWORD,
    )
    response = client.get(f"/log/records/accounts.user/{user.pk}/")
    assert response.status_code == 200 and "待入树" in response.content.decode()


def test_entries_read_as_the_records_they_log(client, tree, logged_user):
    """Kind in Chinese, the record by its name and linked, who and when; the raw JSON
    folded. The record's name, link and the person acting are shown only to those who
    may view the record; the public sees the kind, the acting organisation and the time."""
    from inspecta.core.testing.access import login_verified

    entry = Entry.objects.get(record_type="accounts.user", record_id=str(logged_user.pk))
    public = client.get(f"/log/entries/{entry.index}/").content.decode()
    summary = public[public.index('data-testid="entry-summary"') : public.index('data-testid="entry-raw"')]
    assert "账号分配" in summary and f"#{logged_user.pk}" in summary and "广州局" in summary
    assert "<details" in public and public.index('data-testid="entry-json"') > public.index("<details")
    for secret in SECRETS:
        assert secret not in public
    login_verified(client, tree["gz_admin"])
    response = client.get(f"/log/entries/{entry.index}/")
    assert "public" not in response["Cache-Control"] and "private" in response["Cache-Control"]
    body = response.content.decode()
    summary = body[body.index('data-testid="entry-summary"') : body.index('data-testid="entry-raw"')]
    assert "账号 李四光" in summary and f'href="/accounts/users/{logged_user.pk}/"' in summary
    assert "广州局" in summary and (tree["gz_admin"].full_name or tree["gz_admin"].username) in summary
    home = client.get("/log/").content.decode()
    latest = home[home.index('data-testid="latest-entries"') :]
    assert f'<a href="/accounts/users/{logged_user.pk}/">账号 李四光</a>' in latest
    client.logout()
    login_verified(client, tree["sz_admin"])  # another city's admin may not view the account
    other = client.get(f"/log/entries/{entry.index}/").content.decode()
    assert "李四光" not in other and f"/accounts/users/{logged_user.pk}/" not in other
