"""The warning rule catalog: every rule of every app whose findings become warnings,
with its stable code, the app's finding that carries it, the clause it serves and its
name (T/CECS 4.3.4-6, 7.2.2). Read from the finding models' declarations
(``Finding.rules``, ``Finding.clause``), so an app adds a rule in one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.utils.functional import Promise

from inspecta.core.findings import finding_models

__all__ = ["WarningRule", "rule_label", "warning_rules"]


@dataclass(frozen=True)
class WarningRule:
    code: str
    label: str | Promise
    source: str  # the finding model's label, e.g. ``sampling.SamplingFinding``
    source_name: str | Promise  # its verbose name
    clause: str


def warning_rules() -> list[WarningRule]:
    """Every rule, in the order of the apps and of each app's enum."""

    seen: dict[str, WarningRule] = {}
    for model in finding_models():
        if model.rules is None:
            continue
        for code, label in model.rules.choices:
            seen.setdefault(
                code,
                WarningRule(code, label, model._meta.label, model._meta.verbose_name or model.__name__, model.clause),
            )
    return list(seen.values())


@cache
def _labels() -> dict[str, str | Promise]:
    return {rule.code: rule.label for rule in warning_rules()}


def rule_label(code: str) -> str:
    """The Chinese name of rule ``code`` (the code itself when no app names it)."""

    return str(_labels().get(code, code))
