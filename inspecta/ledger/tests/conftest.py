"""Fixtures of the ledger tests: the independent Go checker (CONTRACT §5), built once per module."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

GOCHECK_SRC = Path(__file__).parent / "gocheck" / "main.go"
GOPATH = os.environ.get("INSPECTA_GOPATH", "/usr/share/gocode")


@pytest.fixture(scope="module")
def gocheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go binary not installed")
    tmp = tmp_path_factory.mktemp("gocheck")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "GO111MODULE": "off",
        "GOPATH": GOPATH,
        "GOCACHE": str(tmp / "cache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }
    binary = tmp / "gocheck"
    result = subprocess.run(
        [go, "build", "-o", str(binary), str(GOCHECK_SRC)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"go build failed (is golang-golang-x-mod-dev installed?):\n{result.stderr}"
    return binary
