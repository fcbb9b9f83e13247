"""The served address names the node (QR, links, log origin), and the log's origin is
fixed at the node's first start: a later different configured origin is refused once
a checkpoint is signed (CONTRACT §5, §6; T/CECS 2.0.15)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import click
import pytest

from inspecta import cli
from inspecta.ledger import services
from inspecta.ledger.models import SequencerState, SigningKey
from inspecta.ledger.note import open_checkpoint
from inspecta.ledger.testing import append

pytestmark = pytest.mark.django_db


def _settings_seen(**env: str) -> list[str]:
    """PUBLIC_BASE_URL, the QR's URL and the log origin a fresh process configures."""

    clean = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "PORT", "INSPECTA_SERVED_ADDRESS")}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='inspecta.settings.base'; django.setup();"
        "from django.conf import settings; from inspecta.reports import codes;"
        "from inspecta.ledger.services import configured_origin;"
        "print(settings.PUBLIC_BASE_URL); print(codes.verification_url('C')); print(configured_origin())"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_public_base_url_follows_the_served_port_and_host_unless_set():
    assert _settings_seen(PORT="18801") == [
        "http://127.0.0.1:18801",
        "http://127.0.0.1:18801/v/C",
        "127.0.0.1:18801/log",
    ]
    served = cli.served_address("192.0.2.7", 18802)
    assert _settings_seen(PORT="18801", INSPECTA_SERVED_ADDRESS=served)[0] == "http://192.0.2.7:18802"
    explicit = _settings_seen(PORT="18801", PUBLIC_BASE_URL="https://jc.example.cn/")
    assert explicit == ["https://jc.example.cn", "https://jc.example.cn/v/C", "jc.example.cn/log"]


def test_served_address_of_wildcard_and_ipv6_binds():
    assert cli.served_address("0.0.0.0", 18803)  # noqa: S104 == "127.0.0.1:18803"
    assert cli.served_address("::", 18803) == "[::1]:18803"
    assert cli.served_address("fd00::5", 80) == "[fd00::5]:80"
    assert cli.served_address("localhost", 18803) == "localhost:18803"


def test_origin_is_fixed_at_first_start_not_per_start(settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:18801"
    settings.INSPECTA_LOG_ORIGIN = ""
    assert services.log_origin_fix() == "127.0.0.1:18801/log"
    append(3)
    services.sequence_pending()
    first = services.checkpoint_publish()
    assert first is not None and first.note.startswith("127.0.0.1:18801/log\n")
    # the next start is served elsewhere: the log keeps its name and its key
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert services.log_origin_fix() == "127.0.0.1:18801/log" == services.log_origin()
    append(2)
    services.sequence_pending()
    second = services.checkpoint_publish()
    assert second is not None and second.key_id == first.key_id
    assert second.note.startswith("127.0.0.1:18801/log\n5\n")
    assert SequencerState.objects.get(pk=1).origin == "127.0.0.1:18801/log"


def test_a_different_configured_origin_is_refused_once_a_checkpoint_is_signed(settings):
    settings.INSPECTA_LOG_ORIGIN = "jc.example.cn/log"
    append(2)
    services.sequence_pending()
    checkpoint = services.checkpoint_publish()
    assert checkpoint is not None and checkpoint.note.startswith("jc.example.cn/log\n")
    settings.INSPECTA_LOG_ORIGIN = "other.example.cn/log"
    with pytest.raises(services.LogOriginChanged, match=re.escape("fixed at 'jc.example.cn/log'")):
        services.log_origin()
    with pytest.raises(services.LogOriginChanged):
        services.checkpoint_publish(force=True)
    with pytest.raises(click.ClickException, match=re.escape("INSPECTA_LOG_ORIGIN='other.example.cn/log' differs")):
        cli._fix_log_origin()
    # nothing changed: the stored origin and the only key stay
    assert SequencerState.objects.get(pk=1).origin == "jc.example.cn/log"
    assert list(SigningKey.objects.values_list("name", flat=True)) == ["jc.example.cn/log"]
    settings.INSPECTA_LOG_ORIGIN = "jc.example.cn/log"
    assert services.checkpoint_publish(force=True) is not None


def test_a_configured_origin_may_change_before_the_first_checkpoint(settings):
    settings.INSPECTA_LOG_ORIGIN = "first.example.cn/log"
    assert services.log_origin() == "first.example.cn/log"
    settings.INSPECTA_LOG_ORIGIN = "second.example.cn/log"
    assert services.log_origin() == "second.example.cn/log"
    append(1)
    services.sequence_pending()
    checkpoint = services.checkpoint_publish()
    assert checkpoint is not None
    verifier = services.verifiers()[-1]
    assert open_checkpoint(checkpoint.note, [verifier])[0].origin == "second.example.cn/log"


def test_a_node_that_signed_before_the_origin_was_stored_keeps_its_key_name(settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.INSPECTA_LOG_ORIGIN = ""
    append(1)
    services.sequence_pending()
    services.checkpoint_publish()
    SequencerState.objects.filter(pk=1).update(origin="")  # as before the origin was stored
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:18801"
    assert services.log_origin() == "127.0.0.1:8000/log"
