"""Every kind appended to the log is named by an app's log-kind enum and has a renderer,
so the self-audit can re-check every record (T/CECS 7.2.3)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from django.apps import apps
from django.db import models

from inspecta.ledger.registry import registered_kinds

APPENDERS = {"log_append", "log_append_many"}


def log_kind_enums() -> dict[str, type[models.TextChoices]]:
    """``{name: enum}`` of every ``*LogKind`` enum in the apps' ``choices`` modules."""

    found: dict[str, type[models.TextChoices]] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("inspecta."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.choices")
        except ModuleNotFoundError:
            continue
        for name, value in vars(module).items():
            if name.endswith("LogKind") and isinstance(value, type) and issubclass(value, models.TextChoices):
                found[name] = value
    return found


def appended_kinds() -> list[tuple[str, int, str]]:
    """``(file, line, kind expression)`` of every ``log_append``/``log_append_many`` call
    outside the tests and the scenario builders (``<app>/testing.py``, which pass a
    caller's kind through)."""

    root = Path(apps.get_app_config("ledger").path).parent
    calls = []
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts or path.name == "testing.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in APPENDERS:
                kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
                calls.append((str(path.relative_to(root)), node.lineno, ast.unparse(kind) if kind else ""))
    return calls


def test_every_log_kind_enum_member_is_registered():
    enums = log_kind_enums()
    assert {"LogKind", "RegistryLogKind", "ProjectLogKind", "ReportLogKind"} <= set(enums)
    registered = registered_kinds()
    missing = [f"{name}.{member.name}" for name, enum in enums.items() for member in enum if member not in registered]
    assert missing == []
    values = [member.value for enum in enums.values() for member in enum]
    assert len(values) == len(set(values)), "two apps name the same kind"


def test_every_append_names_an_enum_member():
    enums = log_kind_enums()
    calls = appended_kinds()
    assert len(calls) >= 10
    wrong = []
    for where, line, kind in calls:
        enum_name, _dot, member = kind.partition(".")
        if enum_name not in enums or member not in enums[enum_name].__members__:
            wrong.append(f"{where}:{line} kind={kind or '(missing)'}")
    assert wrong == []
