"""Regional rules: values that an authority sets for its region and the regions below
(Guangxi 第十条 a plan 24 hours ahead, Nanchang 二(三) three days for pile tests, Nanchang
四(一) both sampling confirmations within 60 minutes, T/CECS 2.0.16 what a broken seal
does...), optionally for one test item.

One mechanism for all of them: an app declares the rules it reads as
:class:`RegionRuleKind` s (``region_rules`` on its ``AppConfig``); values are
``core.RegionRule`` rows, set on one page (``core:region_rules``); the app reads a value
with :func:`rule_value`, which picks the most specific row for the project's region and
test item and falls back to the kind's setting::

    window, _rule = rule_value("sampling_window_minutes", project.region_id, item.code)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .actors import actor_of
from .appconfig import region_rule_kinds
from .audit import audit_stamp
from .errors import AppError, ErrorCode
from .scoping import permits

__all__ = [
    "RegionRuleKind",
    "region_chain",
    "region_rule_add",
    "region_rule_delete",
    "region_rule_kind",
    "region_rule_kinds",
    "rule_value",
]


@dataclass(frozen=True)
class RegionRuleKind:
    """A rule an app reads per region: a whole number between ``minimum`` and
    ``maximum`` (with ``unit``), or one of ``choices``; without a value set for a region
    the setting ``setting`` applies."""

    name: str
    label: str | Promise
    clause: str
    setting: str
    unit: str | Promise = ""
    minimum: int = 0
    maximum: int = 0
    choices: tuple[tuple[str, str | Promise], ...] = ()
    per_item: bool = True
    help: str | Promise = ""

    @property
    def default(self) -> Any:
        return getattr(settings, self.setting)

    def parse(self, text: str) -> Any:
        """The value of the stored text (a whole number or a choice)."""

        return text if self.choices else int(text)

    def clean(self, raw: Any) -> str:
        """The text to store for ``raw``, refused in Chinese when it does not fit."""

        text = str(raw).strip()
        if self.choices:
            if text not in dict(self.choices):
                raise AppError(
                    ErrorCode.INVALID_REGION_RULE,
                    _("“%(rule)s”的取值须为：%(allowed)s。")
                    % {"rule": self.label, "allowed": "、".join(str(label) for _v, label in self.choices)},
                )
            return text
        if not text.isdigit() or not self.minimum <= int(text) <= self.maximum:
            raise AppError(
                ErrorCode.INVALID_REGION_RULE,
                _("“%(rule)s”的取值须为 %(lo)s 至 %(hi)s 之间的整数%(unit)s。")
                % {"rule": self.label, "lo": self.minimum, "hi": self.maximum, "unit": self.unit},
            )
        return str(int(text))

    def display(self, value: Any) -> str:
        if self.choices:
            return str(dict(self.choices).get(str(value), value))
        return f"{value} {self.unit}".strip()


def region_rule_kind(name: str) -> RegionRuleKind:
    kinds = region_rule_kinds()
    if name not in kinds:
        raise AppError(ErrorCode.INVALID_REGION_RULE, _("没有这种地区规则：%(n)s。") % {"n": name})
    kind: RegionRuleKind = kinds[name]
    return kind


def region_chain(code: str) -> list[str]:
    """``code`` and the regions above it, the most specific first (GB/T 2260: district,
    city, province)."""

    chain = [code]
    for parent in (code[:4] + "00", code[:2] + "0000"):
        if parent not in chain:
            chain.append(parent)
    return chain


def rule_value(name: str, region_code: str, test_item_code: str | None = None) -> tuple[Any, Any]:
    """The value of rule ``name`` for a project in ``region_code`` and ``test_item_code``,
    and the ``RegionRule`` that sets it: the row of the nearest region (district, then
    city, then province), the item's own before the any-item one; without a row the
    kind's setting, with no rule."""

    from .models import RegionRule

    kind = region_rule_kind(name)
    chain = region_chain(region_code) if region_code else []
    items = Q(test_item__isnull=True)
    if test_item_code and kind.per_item:
        items |= Q(test_item_id=test_item_code)
    rules = RegionRule.objects.filter(name=name, region_id__in=chain).filter(items) if chain else []
    best = min(rules, key=lambda r: (chain.index(r.region_id), r.test_item_id is None), default=None)
    if best is None:
        return kind.default, None
    return kind.parse(best.value), best


@transaction.atomic
def region_rule_add(*, actor: Any, name: str, region_code: str, test_item: str | None, value: Any) -> Any:
    """Set rule ``name`` for a region (the authority admin's own or one below it), for one
    test item or every item; audited. A region and item that already have a value must
    have it removed first (the change is then two audited steps)."""

    from .models import Region, RegionRule, TestItem
    from .permissions import may_manage_region_rules

    kind = region_rule_kind(name)
    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise AppError(ErrorCode.UNKNOWN_REGION, _("行政区划代码不存在：%(c)s。") % {"c": region_code})
    who = actor_of(actor)
    if not may_manage_region_rules(who) or not (who.is_operator or who.within(region_code)):
        raise PermissionDenied(_("只能设置本辖区及下级行政区划的规则。"))
    item = None
    if test_item:
        if not kind.per_item:
            raise AppError(ErrorCode.INVALID_REGION_RULE, _("“%(rule)s”不区分检测项目。") % {"rule": kind.label})
        item = TestItem.objects.filter(pk=test_item).first()
        if item is None:
            raise AppError(ErrorCode.UNKNOWN_TEST_ITEM, _("检测项目不存在：%(c)s。") % {"c": test_item})
    text = kind.clean(value)
    if RegionRule.objects.filter(name=name, region=region, test_item=item).exists():
        raise AppError(ErrorCode.INVALID_REGION_RULE, _("该地区该检测项目已有这条规则，请先删除原规则。"))
    rule = RegionRule(name=name, region=region, test_item=item, value=text, created_by=who.user)
    audit_stamp(rule, actor)
    rule.save()
    return rule


@transaction.atomic
def region_rule_delete(*, actor: Any, rule: Any) -> None:
    """Remove a rule of the actor's region or below; the deletion is audited."""

    if not permits(actor, rule, "change"):
        raise PermissionDenied(_("只能删除本辖区及下级行政区划的规则。"))
    audit_stamp(rule, actor)
    rule.delete()
