"""Real servers on this machine for the channels: an SMTP server (aiosmtpd) that keeps
every message it accepts, and an HTTP server playing Aliyun's SMS gateway that records
every request and answers as a test tells it."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiosmtpd.controller import Controller
from huey.contrib.djhuey import HUEY


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted; ``refuse`` (e.g. ``"550 ..."``) answers every
    recipient with that instead."""

    envelopes: list[Any] = field(default_factory=list)
    refuse: str = ""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        return [
            (list(e.rcpt_tos), email.message_from_bytes(e.content, policy=email.policy.default))  # type: ignore[misc]
            for e in self.envelopes
        ]


@pytest.fixture
def smtp(settings: Any) -> Any:
    """A real SMTP server on a free port, and Django's SMTP backend pointed at it."""

    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Gateway:
    """The requests the SMS gateway received (query parameters of each), and the answer
    it gives: ``status`` and a JSON ``body``."""

    requests: list[dict[str, str]] = field(default_factory=list)
    raw_queries: list[str] = field(default_factory=list)
    status: int = 200
    body: dict[str, Any] = field(
        default_factory=lambda: {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "R-1"}
    )


KEY_ID = "LTAI-test-key"
KEY_SECRET = "test-secret-不外传"


@pytest.fixture
def gateway(settings: Any) -> Any:
    """A local HTTP server in a thread as Aliyun's Dysmsapi, and the Aliyun gateway class
    configured against it."""

    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urlsplit(self.path).query
            state.raw_queries.append(query)
            state.requests.append(dict(parse_qsl(query, keep_blank_values=True)))
            raw = json.dumps(state.body, ensure_ascii=False).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.INSPECTA_SMS_BACKEND = "inspecta.notifications.sms.AliyunSms"
    settings.INSPECTA_SMS_URL = f"http://127.0.0.1:{server.server_address[1]}/"
    settings.INSPECTA_SMS_ACCESS_KEY_ID = KEY_ID
    settings.INSPECTA_SMS_ACCESS_KEY_SECRET = KEY_SECRET
    settings.INSPECTA_SMS_SIGN_NAME = "检测监管平台"
    settings.INSPECTA_SMS_TEMPLATE_CODE = "SMS_123456789"
    settings.INSPECTA_SMS_TIMEOUT = 5.0
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_sms_unless_asked(settings: Any) -> None:
    """SMS off unless a test starts the gateway (the environment may configure one)."""

    settings.INSPECTA_SMS_BACKEND = ""


@pytest.fixture(autouse=True)
def _forget_scheduled_retries() -> Any:
    """Huey (immediate in tests) keeps the retries it schedules in memory: forget them."""

    yield
    HUEY.flush()
