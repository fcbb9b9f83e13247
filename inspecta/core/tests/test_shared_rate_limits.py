"""The two rate limits (exchange clients, public verification) are counted in the shared
cache: two web processes against one Redis give a client one limit, not one each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("INSPECTA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[3]

# One web process: ``calls`` exchange calls of client ``pk`` and ``calls`` verification
# lookups from ``ip``, each answered 200 or 429 by the real limiters.
PROCESS = """
import json, sys
import django
django.setup()
from django.test import RequestFactory
from inspecta.exchange.auth import rate_limit_check
from inspecta.core.errors import AppError
from inspecta.exchange.models import ExchangeClient
from inspecta.reports import public

pk, calls, ip = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
client = ExchangeClient(pk=pk, rate_limit_per_minute=3)
out = {"exchange": [], "verify": [], "retry_after": []}
for _i in range(calls):
    try:
        rate_limit_check(RequestFactory().get("/api/v1/exchange/ping"), client)
        out["exchange"].append(200)
    except AppError as exc:
        out["exchange"].append(exc.status)
        out["retry_after"].append(int(exc.headers["Retry_After"]))
    out["verify"].append(429 if public.rate_limited(RequestFactory().get("/v/x", REMOTE_ADDR=ip)) else 200)
print(json.dumps(out))
"""


def _redis():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return connection


def _far_from_window_end(candidates):
    """A key value whose one-minute window (django-ratelimit jitters its end by the
    value's CRC-32) has at least 40 s left, so that both processes count in one window."""

    now = int(time.time())
    for value in candidates:
        end = now - now % 60 + zlib.crc32(str(value).encode()) % 60
        if end < now:
            end += 60
        if end - now >= 40:
            return value
    raise AssertionError("no candidate key")


def test_two_processes_share_one_limit(tmp_path):
    redis = _redis()
    prefix = f"inspecta-test-{uuid.uuid4().hex}"
    (tmp_path / "shared_cache_settings.py").write_text(
        "from inspecta.settings.test import *  # noqa: F403\n"
        "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.redis.RedisCache',\n"
        f"    'LOCATION': {REDIS_URL!r}, 'KEY_PREFIX': {prefix!r}}}}}\n"
        "INSPECTA_VERIFY_RATE_PER_MINUTE = 3\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shared_cache_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    pk = _far_from_window_end(range(900_000, 900_200))
    ip = _far_from_window_end(f"192.0.2.{n}" for n in range(1, 255))

    def process(calls: int) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", PROCESS, str(pk), str(calls), ip],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    try:
        first, second = process(2), process(2)
    finally:
        for key in redis.scan_iter(f"{prefix}:*"):
            redis.delete(key)
    # limit 3 a minute: the second process's second call is the fourth of the client
    assert first["exchange"] == [200, 200] and second["exchange"] == [200, 429]
    assert first["verify"] == [200, 200] and second["verify"] == [200, 429]
    assert 1 <= second["retry_after"][0] <= 61
