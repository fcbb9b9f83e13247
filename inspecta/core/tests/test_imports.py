"""Importing any module of the package first works: no import-time cycle.

Each module is imported as the first thing after ``django.setup()`` in a process of its
own: one interpreter sets Django up, then forks a child per module, so every child
starts from the state a management command, a worker or a test run has, and imports
exactly one module of ours into it. The parent imports the third-party packages our
modules name beforehand (they cannot take part in a cycle of ours), so a child costs
milliseconds.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import inspecta

ROOT = Path(inspecta.__file__).resolve().parent.parent

# Settings modules are read by Django itself, before setup; production's needs secrets.
SKIP = ("inspecta.settings.",)

CHILD = r"""
import json, os, sys, traceback
import django

django.setup()
job = json.load(sys.stdin)
for name in job["preload"]:
    try:
        __import__(name)
    except Exception:
        pass  # optional or platform-specific: the child that needs it reports it
failures = {}
running = {}  # pid -> (module, read end of its pipe); a traceback fits the pipe's buffer
todo = list(job["modules"])
while todo or running:
    while todo and len(running) < job["workers"]:
        name = todo.pop()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: import one module, report, leave without cleanup
            os.close(read)
            code, text = 0, b""
            try:
                __import__(name)
            except BaseException:
                code, text = 1, traceback.format_exc(limit=-6).encode()[-60000:]
            os.write(write, text)
            os._exit(code)
        os.close(write)
        running[pid] = (name, read)
    pid, status = os.wait()
    name, read = running.pop(pid)
    with os.fdopen(read, "rb") as pipe:
        text = pipe.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        failures[name] = text or "exit status %d" % os.waitstatus_to_exitcode(status)
print(json.dumps(failures))
"""


def package_modules() -> list[str]:
    """Every module and package of ``inspecta``, tests and migrations included."""

    names = ["inspecta"]
    for info in pkgutil.walk_packages(inspecta.__path__, prefix="inspecta."):
        if not info.name.startswith(SKIP):
            names.append(info.name)
    return names


def third_party_imports(names: list[str]) -> list[str]:
    """Every absolute import outside ``inspecta`` in the given modules' source."""

    found: set[str] = set()
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return sorted(n for n in found if n.split(".")[0] != "inspecta")


def import_each_first(names: list[str]) -> dict[str, str]:
    """``{module: traceback}`` for every module whose import fails as the first import."""

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "inspecta.settings.test")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(
            {"modules": names, "preload": third_party_imports(names), "workers": max(2, os.cpu_count() or 1)}
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_every_module_imports_first_in_a_fresh_interpreter():
    names = package_modules()
    assert "inspecta.registry.views" in names and "inspecta.core.tests.test_imports" in names
    failures = import_each_first(names)
    assert not failures, "modules that cannot be imported first:\n" + "\n".join(
        f"--- {name}\n{text}" for name, text in failures.items()
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_failing_import_is_reported_by_name():
    failures = import_each_first(["inspecta.core.errors", "inspecta.core.no_such_module"])
    assert list(failures) == ["inspecta.core.no_such_module"]
    assert "ModuleNotFoundError" in failures["inspecta.core.no_such_module"]
