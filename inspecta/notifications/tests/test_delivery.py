"""``notify`` and its channels (T/CECS 8.2.4): the inbox row in the caller's transaction,
an e-mail that reaches a real SMTP server with its Chinese subject and the link, an SMS
that reaches a local gateway signed as Aliyun documents, preferences honoured, and a
failing mail server or gateway recorded on the delivery, retried, never raised."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote_plus

import pytest
from django.db import transaction
from huey.contrib.djhuey import HUEY

from inspecta.notifications import services, tasks
from inspecta.notifications.choices import Channel, DeliveryStatus
from inspecta.notifications.models import Delivery, Notification, Preference
from inspecta.notifications.notices import HEALTH_DISK, HEALTH_RECOVERED
from inspecta.notifications.sms import AliyunSms, aliyun_signature
from inspecta.notifications.testing import operator, person

from .conftest import KEY_ID, KEY_SECRET

pytestmark = pytest.mark.django_db

SUBJECT = "预警已交办：广州某检测公司混凝土试块数据逾期未上传"
URL = "/oversight/warnings/12/"


def _notify(capture: Any, recipients: list[Any], kind: str = HEALTH_DISK, **over: Any) -> list[Notification]:
    """``notify`` in a transaction that commits (the jobs run, immediate in tests)."""

    with capture(execute=True):
        return services.notify(
            recipients=recipients, kind=kind, subject=over.pop("subject", SUBJECT), body="请及时处置。", url=URL, **over
        )


def test_the_mail_reaches_the_smtp_server_with_its_chinese_subject_and_the_link(
    tree, smtp, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = "https://jc.example.cn"
    alice = person(tree, "alice", email="alice@example.cn")
    bob = person(tree, "bob")  # no address: the inbox only

    made = _notify(django_capture_on_commit_callbacks, [alice, bob.pk], kind=HEALTH_RECOVERED)

    assert {n.recipient_id for n in made} == {alice.pk, bob.pk}
    [(to, message)] = smtp.messages()
    assert to == ["alice@example.cn"]
    assert message["To"] == "alice@example.cn"
    # a long Chinese subject is folded into encoded words on lines of their own (Python's
    # email package); unfolded, the value starts after the folding white space
    assert str(message["Subject"]).lstrip() == SUBJECT
    assert "=?utf-8?b?" in message.as_string()  # encoded as RFC 2047 words, not raw bytes
    text = message.get_content()
    assert "请及时处置。" in text
    assert f"https://jc.example.cn{URL}" in text
    delivery = Delivery.objects.get(notification__recipient=alice)
    assert (delivery.channel, delivery.status, delivery.attempts) == (Channel.EMAIL, DeliveryStatus.SENT, 1)
    assert delivery.sent_at is not None and delivery.last_error == ""
    assert not Delivery.objects.filter(notification__recipient=bob).exists()


def test_nothing_leaves_before_the_commit_nor_after_a_rollback(tree, smtp, django_capture_on_commit_callbacks):
    alice = person(tree, "alice", email="alice@example.cn")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify(recipients=[alice], kind=HEALTH_RECOVERED, subject=SUBJECT, body="", url=URL)
    assert len(callbacks) == 1 and smtp.messages() == []  # queued on commit only
    assert Delivery.objects.get().status == DeliveryStatus.QUEUED

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notify(recipients=[alice], kind=HEALTH_RECOVERED, subject="回滚", body="", url=URL)
        raise RuntimeError("the caller's write fails")
    assert callbacks == [] and smtp.messages() == []
    assert not Notification.objects.filter(subject="回滚").exists()


def test_preferences_are_honoured(tree, smtp, django_capture_on_commit_callbacks):
    """E-mail switched off for a kind: the inbox still gets it, the mail server nothing;
    the other kind keeps its default."""

    op = operator(tree, "op2", email="op2@example.cn")
    services.preferences_set(actor=op, choices={HEALTH_DISK: {"email": False}})
    assert Preference.objects.get(user=op, kind=HEALTH_DISK).email is False

    _notify(django_capture_on_commit_callbacks, [op], kind=HEALTH_DISK)
    assert Notification.objects.filter(recipient=op, kind=HEALTH_DISK).count() == 1
    assert smtp.messages() == [] and not Delivery.objects.exists()

    _notify(django_capture_on_commit_callbacks, [op], kind=HEALTH_RECOVERED)
    assert [to for to, _m in smtp.messages()] == [["op2@example.cn"]]


def test_inactive_recipients_get_nothing_and_bad_calls_are_refused(tree, django_capture_on_commit_callbacks):
    gone = person(tree, "gone", email="gone@example.cn")
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)
    assert _notify(django_capture_on_commit_callbacks, [gone]) == []
    with pytest.raises(ValueError, match="declared by no app"):
        services.notify(recipients=[tree["gz_admin"]], kind="no_such_kind", subject="x", body="")
    for url in ("https://evil.example/", "//evil.example/x", "oversight/"):
        with pytest.raises(ValueError, match="path of the platform"):
            services.notify(recipients=[tree["gz_admin"]], kind=HEALTH_DISK, subject="x", body="", url=url)
    assert not Notification.objects.exists()


def test_a_refusing_mail_server_is_a_failed_delivery_retried_by_the_job(tree, smtp, django_capture_on_commit_callbacks):
    alice = person(tree, "alice", email="alice@example.cn")
    smtp.refuse = "550 5.1.1 mailbox unavailable"

    _notify(django_capture_on_commit_callbacks, [alice], kind=HEALTH_RECOVERED)  # raises nothing

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "550" in delivery.last_error and "mailbox unavailable" in delivery.last_error
    # huey took the failure and scheduled the next attempt a minute later
    [retry] = [t for t in HUEY.scheduled() if t.name.endswith("delivery_send")]
    assert retry.retries == 2 and retry.args == (delivery.pk,)
    assert retry.eta - datetime.datetime.now(datetime.UTC).replace(tzinfo=None) > datetime.timedelta(seconds=50)

    smtp.refuse = ""
    assert retry.execute() == DeliveryStatus.SENT  # the retry, once the server takes mail again
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 2, "")
    assert [to for to, _m in smtp.messages()] == [["alice@example.cn"]]
    assert services.delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.SENT  # run twice, sent once
    assert len(smtp.messages()) == 1


def test_an_unreachable_mail_server_is_recorded(tree, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    alice = person(tree, "alice", email="alice@example.cn")
    _notify(django_capture_on_commit_callbacks, [alice], kind=HEALTH_RECOVERED)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "ConnectionRefusedError" in delivery.last_error or "Error" in delivery.last_error


def test_the_task_is_retried_three_times_a_minute_apart():
    task = tasks.delivery_send.s(1)
    assert (task.retries, task.retry_delay) == (3, 60)


# --- SMS -----------------------------------------------------------------------------


def _aliyun_encode(value: str) -> str:
    """Aliyun's percent-encoding as its documentation gives it in Java:
    ``URLEncoder.encode(v, "UTF-8")`` with ``+`` → ``%20``, ``*`` → ``%2A``, ``%7E`` → ``~``."""

    return quote_plus(value, safe="", encoding="utf-8").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def _expected_signature(params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(_aliyun_encode(k) + "=" + _aliyun_encode(v) for k, v in pairs)
    to_sign = "GET&" + _aliyun_encode("/") + "&" + _aliyun_encode(canonical)
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def test_the_signature_matches_aliyuns_documented_example():
    """The worked example of Aliyun's "RPC 签名机制" (ECS DescribeRegions, secret
    ``testsecret``)."""

    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert aliyun_signature(params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert _expected_signature(params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_the_sms_reaches_the_gateway_signed(tree, gateway, django_capture_on_commit_callbacks):
    op = operator(tree, "op2", mobile="13912345678")

    _notify(django_capture_on_commit_callbacks, [op], kind=HEALTH_DISK, subject="【运维告警】磁盘空间不足 * ~ +")

    [params] = gateway.requests
    assert params["PhoneNumbers"] == "13912345678"
    assert json.loads(params["TemplateParam"]) == {"subject": "【运维告警】磁盘空间不足 * ~ +"}
    assert (params["Action"], params["Version"], params["Format"]) == ("SendSms", "2017-05-25", "JSON")
    assert (params["SignName"], params["TemplateCode"], params["AccessKeyId"]) == (
        "检测监管平台",
        "SMS_123456789",
        KEY_ID,
    )
    assert (params["SignatureMethod"], params["SignatureVersion"]) == ("HMAC-SHA1", "1.0")
    stamp = datetime.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert abs(datetime.datetime.now(datetime.UTC) - stamp) < datetime.timedelta(minutes=1)
    assert params["Signature"] == _expected_signature(params, KEY_SECRET)
    assert params["Signature"] != _expected_signature(params, "another-secret")
    # the query on the wire is percent-encoded as Aliyun reads it (a space is %20, never +)
    assert "+" not in gateway.raw_queries[0].replace("%2B", "")
    delivery = Delivery.objects.get(channel=Channel.SMS)
    assert (delivery.status, delivery.reference) == (DeliveryStatus.SENT, "900619746936498440^0")


def test_a_long_subject_is_cut_to_aliyuns_variable_limit(settings, gateway):
    params = AliyunSms().params(phone="13912345678", subject="很长的标题" * 20)
    assert len(json.loads(params["TemplateParam"])["subject"]) == 35


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            200,
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"},
            "isv.BUSINESS_LIMIT_CONTROL",
        ),
        (
            200,
            {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"},
            "SignatureDoesNotMatch",
        ),
        (500, {"Message": "internal"}, "HTTP 500"),
    ],
)
def test_a_refusing_gateway_is_a_failed_delivery(
    tree, gateway, django_capture_on_commit_callbacks, status, body, expected
):
    gateway.status, gateway.body = status, body
    op = operator(tree, "op2", mobile="13912345678")

    _notify(django_capture_on_commit_callbacks, [op], kind=HEALTH_DISK)  # raises nothing

    delivery = Delivery.objects.get(channel=Channel.SMS)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert expected in delivery.last_error
    assert len(gateway.requests) == 1
    assert Notification.objects.filter(recipient=op).count() == 1  # the inbox has it all the same


def test_an_unreachable_gateway_is_recorded(tree, gateway, settings, django_capture_on_commit_callbacks):
    settings.INSPECTA_SMS_URL = "http://127.0.0.1:9/"
    op = operator(tree, "op2", mobile="13912345678")
    _notify(django_capture_on_commit_callbacks, [op], kind=HEALTH_DISK)
    delivery = Delivery.objects.get(channel=Channel.SMS)
    assert delivery.status == DeliveryStatus.FAILED and "无法访问" in delivery.last_error


def test_without_a_gateway_sms_is_offered_nowhere(tree, django_capture_on_commit_callbacks):
    op = operator(tree, "op2", mobile="13912345678")
    assert Channel.SMS not in services.channels_available(op)
    _notify(django_capture_on_commit_callbacks, [op], kind=HEALTH_DISK)  # its default asks for SMS
    assert not Delivery.objects.filter(channel=Channel.SMS).exists()
