"""One shape for "somebody applies, then a competent authority decides".

A report amendment (Nanchang 三(二)), an exchange access application (T/CECS 6.0.7-6.0.8)
and a key-fact change of an agency all record who applied and when, a status that starts
``pending`` and ends ``approved`` or ``rejected``, and who decided, when and why. They
inherit :class:`Decision`; services change the status only through its transitions
(django-fsm), which set who/when/why at once, so no record can be decided without them::

    amendment.approve(actor, reason)   # pending → approved
    amendment.save()

A subclass may redeclare ``status`` with its own labels (the values stay
``pending``/``approved``/``rejected``) and add states and transitions of its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

__all__ = ["DECISION_FIELDS", "Decision", "DecisionStatus"]


class DecisionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


DECISION_FIELDS = ("status", "decided_by", "decided_at", "decision_reason")
"""The columns a decision writes (for ``save(update_fields=...)``)."""


class Decision(models.Model):
    """Abstract: an application and the competent authority's decision on it."""

    status = FSMField(
        _("状态"), max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.PENDING, db_index=True
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_reason = models.TextField(_("审批意见"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status == DecisionStatus.PENDING

    def _decide(self, by: Any, reason: str) -> None:
        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_reason = (reason or "").strip()

    @transition(field="status", source=DecisionStatus.PENDING, target=DecisionStatus.APPROVED)
    def approve(self, by: Any, reason: str = "") -> None:
        """Approve: ``by`` (a ``User``) decides now, for ``reason``."""

        self._decide(by, reason)

    @transition(field="status", source=DecisionStatus.PENDING, target=DecisionStatus.REJECTED)
    def reject(self, by: Any, reason: str = "") -> None:
        """Reject: ``by`` (a ``User``) decides now, for ``reason``."""

        self._decide(by, reason)
