"""One shape for a finding: something a check found wrong, kept until it no longer holds.

The registry's conformity checks (T/CECS 4.1.3, 7.2.2-1), the report acceptance checks
accepted with a finding, the ledger's self-audit (T/CECS 7.2.3) and the exchange
monitoring (T/CECS 6.0.4) each keep their findings in their own table, with their own
keys and foreign keys, on the columns of :class:`Finding`:

- ``rule``: the stable code of the rule that found it;
- ``subject`` (a readable label) and ``key`` (what it is about, stable across
  recomputation, e.g. ``report:12``);
- ``severity``: :class:`inspecta.core.rulebook.Severity` values;
- ``region``: the region code the finding belongs to, so that it reaches the competent
  authority of that region (empty for platform-wide findings);
- ``status`` (open/resolved) with ``since`` and ``resolved_at``;
- ``detail``: what is wrong, in words.

:func:`open_findings` lists the open findings of every kind that an actor may see, each
through its model's declared scoping.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .rulebook import Severity

__all__ = [
    "SEVERITY_CHOICES",
    "Finding",
    "FindingStatus",
    "finding_models",
    "keep_after_refusal",
    "open_findings",
    "organisation_path",
    "refusal_findings",
]

logger = logging.getLogger("inspecta.findings")


SEVERITY_CHOICES = [
    (Severity.CRITICAL.value, _("严重")),
    (Severity.WARNING.value, _("警告")),
    (Severity.INFO.value, _("提示")),
]

_SEVERITY_ORDER = {Severity.CRITICAL.value: 0, Severity.WARNING.value: 1, Severity.INFO.value: 2}


class FindingStatus(models.TextChoices):
    OPEN = "open", _("未消除")
    RESOLVED = "resolved", _("已消除")


class Finding(models.Model):
    """Abstract: the columns every finding has. A concrete finding adds its own keys and
    foreign keys, declares ``scoping`` when people read it, and says which region it
    belongs to in :meth:`region_code` (used when ``region`` is not given)."""

    rule = models.CharField(_("规则"), max_length=64, db_index=True)
    subject = models.CharField(_("对象"), max_length=255, blank=True)
    key = models.CharField(_("对象标识"), max_length=255, blank=True)
    severity = models.CharField(_("严重程度"), max_length=16, choices=SEVERITY_CHOICES, db_index=True)
    region = models.CharField(_("所属地区"), max_length=12, blank=True, db_index=True)
    status = models.CharField(
        _("处理状态"), max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN, db_index=True
    )
    since = models.DateTimeField(_("发现时间"), default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True)
    detail = models.CharField(_("说明"), max_length=500, blank=True)

    #: the clause(s) of the seed documents that the model's rules serve
    clause: ClassVar[str] = ""
    #: the enum of the model's rule codes, with their Chinese names (the warning catalog)
    rules: ClassVar[type[models.TextChoices] | None] = None
    #: lookup paths from a finding to what a warning about it concerns: ``agency`` and
    #: ``project`` (ids), or ``organisation`` when no agency is concerned; the agency's
    #: organisation is read through the agency path
    subject_paths: ClassVar[dict[str, str]] = {}

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.region:
            self.region = self.region_code()
        super().save(*args, **kwargs)

    @classmethod
    def keep(
        cls,
        *,
        rule: str,
        key: str,
        detail: str,
        subject: str = "",
        region: str = "",
        defaults: dict[str, Any] | None = None,
        **about: Any,
    ) -> Any:
        """Keep a finding of ``rule`` about ``key`` (and the foreign keys ``about``) once:
        a check that fires again on the same thing finds the one it kept. ``defaults``
        fills a subclass's own columns of a new finding."""

        finding, _created = cls._default_manager.get_or_create(
            rule=rule,
            key=key,
            **about,
            defaults={"subject": subject[:255], "region": region, "detail": detail[:500], **(defaults or {})},
        )
        return finding

    def region_code(self) -> str:
        """The region the finding belongs to (a subclass reads it from its subject)."""

        return ""

    @property
    def is_open(self) -> bool:
        return self.status == FindingStatus.OPEN

    def resolve(self, at: datetime.datetime | None = None) -> list[str]:
        """Mark resolved (now or ``at``); returns the changed columns for ``update_fields``."""

        self.status = FindingStatus.RESOLVED
        self.resolved_at = at or timezone.now()
        return ["status", "resolved_at"]


# --- findings about refusals ----------------------------------------------------------
#
# A refused write (a failed identity check, say) rolls back everything its transaction
# wrote, a finding about the refusal included, and with an ``Idempotency-Key`` the whole
# call is one transaction (CONTRACT §3). Such a finding is therefore collected while the
# refusal happens and written once every transaction opened inside ``refusal_findings``
# has ended: by ``core.middleware.RefusalFindingsMiddleware`` after the response, or by
# the service itself when it is called outside a request.

_pending: ContextVar[list[Callable[[], Any]] | None] = ContextVar("inspecta_refusal_findings", default=None)


def keep_after_refusal(write: Callable[[], Any]) -> None:
    """Keep a finding about the refusal under way: ``write`` runs, in a transaction of
    its own, when the enclosing :func:`refusal_findings` ends."""

    pending = _pending.get()
    if pending is None:
        raise RuntimeError("keep_after_refusal needs an enclosing refusal_findings()")
    pending.append(write)


@contextmanager
def refusal_findings() -> Iterator[None]:
    """Collect the findings about refusals inside, and write them when it ends (the
    outermost one writes; an inner one, e.g. a service inside a request, leaves them to
    it). Also a decorator, placed above the service's ``transaction.atomic``."""

    if _pending.get() is not None:
        yield
        return
    pending: list[Callable[[], Any]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        for write in pending:
            try:
                with transaction.atomic():
                    write()
            except Exception:  # a finding never turns a refusal into a server error
                logger.exception("a finding about a refusal could not be kept")


def finding_models() -> list[type[Finding]]:
    """Every concrete finding model."""

    return [m for m in apps.get_models() if issubclass(m, Finding)]


def organisation_path(model: type[Finding]) -> str | None:
    """The lookup path from a finding of ``model`` to the id of the organisation it
    concerns (the agency's own organisation when an agency is concerned)."""

    paths = model.subject_paths
    if "organisation" in paths:
        return paths["organisation"]
    if "agency" in paths:
        return paths["agency"].removesuffix("_id") + "__organisation_id"
    return None


def open_findings(actor: Any, *, limit: int = 200) -> list[Finding]:
    """The open findings of every kind that ``actor`` (a ``User``, an ``Actor`` or nobody)
    may see, each read through its model's declared scoping; most severe first, then
    oldest first. This is what the oversight pages turn into warnings."""

    rows: list[Finding] = []
    for model in finding_models():
        qs = model.objects.restrict(actor, "view").filter(status=FindingStatus.OPEN)  # type: ignore[attr-defined]
        rows.extend(qs.order_by("since", "pk")[:limit])
    rows.sort(key=lambda f: (_SEVERITY_ORDER.get(f.severity, 9), f.since, f._meta.label, f.pk))
    return rows[:limit]
