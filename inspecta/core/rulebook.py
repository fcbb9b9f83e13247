"""Rule registries: one function per rule, with its stable code, the clause it serves,
its severity and its default action (T/CECS 4.2.2-5, 7.2.2; Guangxi 第十七条).

Checks that judge records (a report's acceptance checks, an agency's qualification
conformity, and the warnings built on them) are kept as a :class:`RuleBook` of small
named rules instead of one long function, so that each rule can be read, tested,
documented and configured on its own, and a new rule is one decorated function::

    CHECKS = RuleBook("report_acceptance")

    @CHECKS.rule(CheckCode.AGENCY_NOT_APPROVED, clause="Guangdong 附件2 一(二)", action=CheckAction.REJECT)
    def agency_not_approved(c: CheckInput, ctx: CheckContext) -> Iterator[Failure]:
        if not c.agency.may_operate:
            yield Failure(...)

``CHECKS.run(c, ctx)`` calls every rule in registration order and returns what they
yielded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

__all__ = ["Rule", "RuleBook", "Severity"]

T = TypeVar("T")


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Rule(Generic[T]):
    """One rule: ``check`` yields what it finds (nothing when the rule holds)."""

    code: str
    clause: str
    severity: Severity
    action: str
    check: Callable[..., Iterable[T]]

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()


class RuleBook(Generic[T]):
    """An ordered registry of rules of one kind."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._rules: dict[str, Rule[T]] = {}

    def rule(
        self, code: str, *, clause: str, severity: Severity = Severity.CRITICAL, action: str = ""
    ) -> Callable[[Callable[..., Iterable[T]]], Callable[..., Iterable[T]]]:
        def register(check: Callable[..., Iterable[T]]) -> Callable[..., Iterable[T]]:
            if code in self._rules:
                raise ValueError(f"{self.name}: rule {code!r} registered twice")
            self._rules[str(code)] = Rule(str(code), clause, severity, str(action), check)
            return check

        return register

    def __iter__(self) -> Iterator[Rule[T]]:
        return iter(self._rules.values())

    def __getitem__(self, code: str) -> Rule[T]:
        return self._rules[code]

    def __contains__(self, code: object) -> bool:
        return code in self._rules

    def codes(self) -> list[str]:
        return list(self._rules)

    def defaults(self) -> dict[str, str]:
        """Each rule's default action, by code."""

        return {code: rule.action for code, rule in self._rules.items()}

    def run(self, *args: Any, **kwargs: Any) -> list[T]:
        """What every rule yields, in registration order."""

        found: list[T] = []
        for rule in self._rules.values():
            found.extend(rule.check(*args, **kwargs))
        return found
