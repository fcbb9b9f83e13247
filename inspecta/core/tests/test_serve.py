"""``inspecta serve`` supervises its job consumer: a consumer killed with SIGKILL is
reaped (no zombie) and started again (CONTRACT §7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _children(parent: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def _consumer(parent: int) -> int | None:
    return next((pid for pid, cmd in _children(parent).items() if "inspecta.cli worker" in cmd), None)


def _state(pid: int) -> str | None:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _until(condition: Callable[[], int | bool | None], timeout: float = 120) -> int | bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_serve_restarts_a_killed_job_consumer_and_reaps_it(tmp_path):
    port = 18841 + os.getpid() % 9
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inspecta.settings.base",
        "INSPECTA_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    serve = subprocess.Popen(
        [sys.executable, "-m", "inspecta.cli", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        first = _until(lambda: _consumer(serve.pid))
        os.kill(int(first), signal.SIGKILL)
        second = _until(lambda: (pid := _consumer(serve.pid)) is not None and pid != first and pid)
        assert second != first
        assert _until(lambda: _state(int(first)) is None)  # reaped, not left a zombie
        assert serve.poll() is None  # the web server kept serving
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)
    assert serve.returncode is not None
