"""The inbox, its badge, one message, the preferences page and the operators' delivery
list, on the pages and the API: a person sees only their own messages (another's is a
404 and is never listed), opening one marks it read, bad preferences are a 400 that
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.notifications import services
from inspecta.notifications.choices import DeliveryStatus
from inspecta.notifications.models import Delivery, Notification, Preference
from inspecta.notifications.notices import HEALTH_DISK, HEALTH_RECOVERED, HEALTH_SEQUENCER
from inspecta.notifications.testing import operator, person

pytestmark = pytest.mark.django_db


def _say(user: Any, subject: str, url: str = "/oversight/warnings/1/", kind: str = HEALTH_RECOVERED) -> Notification:
    [made] = services.notify(recipients=[user], kind=kind, subject=subject, body=f"{subject}的正文", url=url)
    return made


@pytest.fixture
def pair(tree: dict[str, Any]) -> dict[str, Any]:
    mine = person(tree, "alice")
    other = person(tree, "bob", organisation=tree["sz"])
    return {
        "me": mine,
        "other": other,
        "mine": _say(mine, "我的消息一"),
        "mine2": _say(mine, "我的消息二"),
        "theirs": _say(other, "别人的消息"),
    }


def test_the_inbox_shows_my_messages_only(client: Client, pair: dict[str, Any]) -> None:
    login_verified(client, pair["me"])
    page = client.get("/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的消息一" in html and "我的消息二" in html and "别人的消息" not in html
    assert 'data-testid="inbox-list"' in html  # the phone's list of cards
    assert html.index("我的消息二") < html.index("我的消息一")  # newest first

    api = client.get("/api/v1/notifications/")
    assert api.status_code == 200
    items = api.json()["items"]
    assert [i["subject"] for i in items] == ["我的消息二", "我的消息一"] and api.json()["count"] == 2
    assert items[0]["kind"] == HEALTH_RECOVERED and items[0]["kind_label"] == "运维告警：已恢复"
    assert items[0]["read_at"] is None and items[0]["url"] == "/oversight/warnings/1/"


def test_another_persons_message_answers_404_everywhere(client: Client, pair: dict[str, Any]) -> None:
    theirs = pair["theirs"]
    login_verified(client, pair["me"])
    assert_gets_nothing(client, [f"/notifications/{theirs.pk}/"], secrets=["别人的消息"])
    refused = client.post(f"/api/v1/notifications/{theirs.pk}/read")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert "别人的消息" not in client.get("/api/v1/notifications/").content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_message_marks_it_read_and_the_badge_counts_down(client: Client, pair: dict[str, Any]) -> None:
    login_verified(client, pair["me"])
    home = client.get("/notifications/").content.decode()
    assert 'data-testid="inbox-link"' in home and 'data-testid="inbox-unread">2<' in home

    page = client.get(f"/notifications/{pair['mine'].pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的消息一的正文" in html and 'href="/oversight/warnings/1/"' in html
    assert 'data-testid="inbox-unread">1<' in html
    pair["mine"].refresh_from_db()
    first_read = pair["mine"].read_at
    assert first_read is not None
    client.get(f"/notifications/{pair['mine'].pk}/")  # opening again keeps the first time
    pair["mine"].refresh_from_db()
    assert pair["mine"].read_at == first_read

    unread = client.get("/api/v1/notifications/", {"state": "unread"}).json()["items"]
    assert [i["subject"] for i in unread] == ["我的消息二"]
    answer = client.post(f"/api/v1/notifications/{pair['mine2'].pk}/read")
    assert answer.status_code == 200 and answer.json()["read_at"] is not None
    assert 'data-testid="inbox-unread"' not in client.get("/notifications/").content.decode()
    assert client.get("/api/v1/notifications/", {"state": "bogus"}).status_code == 422


def test_read_all_marks_mine_only(client: Client, pair: dict[str, Any]) -> None:
    login_verified(client, pair["me"])
    answer = client.post("/notifications/read-all/")
    assert answer.status_code == 302
    assert not Notification.objects.filter(recipient=pair["me"], read_at__isnull=True).exists()
    assert Notification.objects.get(pk=pair["theirs"].pk).read_at is None
    assert "已将 2 条消息标为已读" in client.get(answer["Location"]).content.decode()


def test_the_bell_is_for_people_signed_in_only(client: Client, tree: dict[str, Any]) -> None:
    assert 'data-testid="inbox-link"' not in client.get("/accounts/login/").content.decode()
    assert client.get("/notifications/").status_code == 302
    assert client.get("/api/v1/notifications/").status_code == 401


# --- preferences -----------------------------------------------------------------------


def test_preferences_page_offers_what_can_reach_me(client: Client, tree: dict[str, Any], settings: Any) -> None:
    op = operator(tree, "op2", email="op2@example.cn")
    login_verified(client, op)
    html = client.get("/notifications/preferences/").content.decode()
    assert 'data-testid="preference-health_disk_low"' in html
    assert 'name="health_disk_low__email"' in html and "checked" in html
    assert 'name="health_disk_low__sms"' not in html and "平台未开通短信通道" in html

    answer = client.post("/notifications/preferences/", {"health_recovered__email": "on"})
    assert answer.status_code == 302
    prefs = {p.kind: p.email for p in Preference.objects.filter(user=op)}
    assert prefs[HEALTH_RECOVERED] is True and prefs[HEALTH_DISK] is False and prefs[HEALTH_SEQUENCER] is False
    pref = Preference.objects.get(user=op, kind=HEALTH_DISK)
    assert pref.history.count() == 1 and pref.history.first().history_user_id == op.pk  # audited


@pytest.mark.parametrize(
    "posted",
    [
        {"health_disk_low__email": "on", "health_disk_low__sms": "on"},  # SMS is not offered
        {"health_disk_low__email": "on", "no_such_kind__email": "on"},
    ],
)
def test_bad_preferences_are_a_400_that_changes_nothing(
    client: Client, tree: dict[str, Any], posted: dict[str, str]
) -> None:
    op = operator(tree, "op2", email="op2@example.cn")
    login_verified(client, op)
    answer = client.post("/notifications/preferences/", posted)
    assert answer.status_code == 400
    assert "不可选择" in answer.content.decode()
    assert not Preference.objects.filter(user=op).exists()


def test_the_service_refuses_a_channel_that_cannot_reach_the_person(tree: dict[str, Any]) -> None:
    from django.core.exceptions import ValidationError

    op = operator(tree, "op2")  # neither e-mail nor mobile
    with pytest.raises(ValidationError) as refused:
        services.preferences_set(actor=op, choices={HEALTH_DISK: {"email": True}})
    assert "未登记电子邮箱" in str(refused.value)
    with pytest.raises(ValidationError):
        services.preferences_set(actor=tree["gz_admin"], choices={HEALTH_DISK: {"email": False}})  # not offered
    assert not Preference.objects.exists()


def test_preferences_are_a_persons_own(client: Client, tree: dict[str, Any]) -> None:
    """Nobody else's switches can be read or changed: the page is always the signed-in
    person's, and the rows are scoped to them (another person's are not found)."""

    op = operator(tree, "op2", email="op2@example.cn")
    services.preferences_set(actor=op, choices={HEALTH_DISK: {"email": False}})
    assert Preference.objects.restrict(op).count() == 1
    assert Preference.objects.restrict(tree["operator"]).count() == 0
    assert Preference.objects.restrict(tree["operator"], "change").count() == 0


# --- deliveries --------------------------------------------------------------------------


def test_operators_see_every_delivery_others_none(
    client: Client, tree: dict[str, Any], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alice = person(tree, "alice", email="alice@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        _say(alice, "投递测试")
    Delivery.objects.create(
        notification=_say(person(tree, "bob"), "失败的投递"), channel="sms", status="failed", last_error="网关拒绝"
    )

    login_verified(client, tree["operator"])
    page = client.get("/notifications/deliveries/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "投递测试" in html and "失败的投递" in html and "网关拒绝" in html
    failed = client.get("/notifications/deliveries/", {"status": DeliveryStatus.FAILED}).content.decode()
    assert "失败的投递" in failed and "投递测试" not in failed
    by_channel = client.get("/notifications/deliveries/", {"channel": "email"}).content.decode()
    assert "投递测试" in by_channel and "失败的投递" not in by_channel
    assert client.get("/notifications/deliveries/", {"status": "bogus"}).status_code == 400
    assert 'data-testid="deliveries-link"' in client.get("/notifications/").content.decode()

    client.logout()
    login_verified(client, alice)
    assert client.get("/notifications/deliveries/").status_code == 403
    assert 'data-testid="deliveries-link"' not in client.get("/notifications/").content.decode()


def test_an_id_no_row_can_have_is_a_4xx(client: Client, pair: dict[str, Any]) -> None:
    login_verified(client, pair["me"])
    huge = 2**70
    assert client.get(f"/notifications/{huge}/").status_code in (400, 404)
    answer = client.post(f"/api/v1/notifications/{huge}/read")
    assert 400 <= answer.status_code < 500 and "error" in answer.json()
