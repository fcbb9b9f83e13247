"""SMS gateways (T/CECS 8.2.4 "通过短信……方式自动通知运维人员").

``INSPECTA_SMS_BACKEND`` names the gateway class (a dotted path); empty, the SMS channel
is switched off and offered nowhere. A gateway has one method,
``send(*, phone, subject, kind) -> str``, answering the provider's receipt id or raising
:class:`SmsError` with what the provider said. :class:`AliyunSms` is Aliyun's Dysmsapi
``SendSms`` (RPC style, HMAC-SHA1 signature), configured from the settings
``INSPECTA_SMS_URL``, ``INSPECTA_SMS_ACCESS_KEY_ID``, ``INSPECTA_SMS_ACCESS_KEY_SECRET``,
``INSPECTA_SMS_SIGN_NAME`` and ``INSPECTA_SMS_TEMPLATE_CODE`` (docs/notifications.md).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import uuid
from typing import Any, Protocol
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.module_loading import import_string

__all__ = ["AliyunSms", "SmsBackend", "SmsError", "aliyun_signature", "sms_backend", "sms_enabled"]

SUBJECT_MAX = 35
"""Aliyun refuses a template variable longer than 35 characters."""


class SmsError(Exception):
    """The gateway did not accept the message; ``str()`` says why (for the delivery row)."""


class SmsBackend(Protocol):
    def send(self, *, phone: str, subject: str, kind: str) -> str: ...


def sms_enabled() -> bool:
    """Whether an SMS gateway is configured (else the channel is offered nowhere)."""

    return bool(settings.INSPECTA_SMS_BACKEND)


def sms_backend() -> SmsBackend | None:
    """The configured gateway, or ``None`` when SMS is switched off."""

    if not sms_enabled():
        return None
    return import_string(settings.INSPECTA_SMS_BACKEND)()  # type: ignore[no-any-return]


def _encode(value: str) -> str:
    """Aliyun's percent-encoding (RFC 3986, UTF-8): letters, digits and ``-_.~`` stay,
    everything else is ``%XX`` (a space is ``%20``, ``*`` is ``%2A``)."""

    return quote(value, safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """The ``Signature`` of an Aliyun RPC request: HMAC-SHA1 keyed with ``secret + "&"``
    over ``METHOD&%2F&<encoded canonical query>``, where the canonical query is the
    parameters (without ``Signature``) sorted by name, each name and value encoded,
    joined ``name=value`` with ``&``; Base64."""

    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    string_to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """Aliyun Dysmsapi ``SendSms`` (API version 2017-05-25), one template for every kind
    of notification with one variable, ``subject`` (the notification's subject, cut to
    35 characters), e.g. "您有一条新的平台消息：${subject}，请登录平台查看。"."""

    def __init__(self) -> None:
        self.url = settings.INSPECTA_SMS_URL
        self.key_id = settings.INSPECTA_SMS_ACCESS_KEY_ID
        self.secret = settings.INSPECTA_SMS_ACCESS_KEY_SECRET
        self.sign_name = settings.INSPECTA_SMS_SIGN_NAME
        self.template = settings.INSPECTA_SMS_TEMPLATE_CODE
        self.timeout = settings.INSPECTA_SMS_TIMEOUT

    def params(self, *, phone: str, subject: str) -> dict[str, str]:
        """The signed query parameters of one message."""

        params = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template,
            "TemplateParam": json.dumps({"subject": subject[:SUBJECT_MAX]}, ensure_ascii=False),
            "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self.secret)
        return params

    def send(self, *, phone: str, subject: str, kind: str) -> str:
        if not (self.key_id and self.secret and self.sign_name and self.template):
            raise SmsError("短信通道未配置完整（AccessKey、签名或模板编号缺失）")
        query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in self.params(phone=phone, subject=subject).items())
        try:
            response = requests.get(f"{self.url}?{query}", timeout=self.timeout)
        except requests.RequestException as exc:
            raise SmsError(f"短信网关无法访问：{exc.__class__.__name__}: {exc}") from exc
        answer: dict[str, Any]
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code // 100 != 2 or answer.get("Code") != "OK":
            code = answer.get("Code") or f"HTTP {response.status_code}"
            message = answer.get("Message") or response.text[:200]
            raise SmsError(f"短信网关拒绝：{code} {message}".strip())
        return str(answer.get("BizId") or answer.get("RequestId") or "")
