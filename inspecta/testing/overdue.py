"""Test data not uploaded in time (Guangdong 附件2 二(十一): 超过一定时间未上传，省检测监管平台
会触发预警; T/CECS 4.3.4-4/-5: 自动识别未及时上传的检测数据).

Three rules, each with its regional time (``testing.regionrules``, per region and test
item):

* ``test_uploaded_late``: a record uploaded more than ``test_upload_hours`` after its
  test ended; found when it arrives (``late_findings``).
* ``sample_data_overdue``: a received sample with no test data ``test_due_days`` after
  its receipt.
* ``onsite_data_overdue``: a filed on-site plan with no test data ``onsite_upload_hours``
  after its planned end.

The last two are found by the periodic scan (``overdue_scan``, every 15 minutes), which
also resolves the findings whose data has since arrived. The scan reads candidates with
one indexed anti-join per rule, bounded by the shortest time any region sets and, for
samples, by how far the previous scan got (``ScanMark``: the receipts that became due
since, for each time a region sets), and applies each candidate's
own regional time in Python: a scan costs the receipts that can have become due since
the previous one, not the millions of samples tested long ago.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.findings import FindingStatus
from inspecta.core.models import RegionRule
from inspecta.core.regionrules import region_rule_kind, rule_value
from inspecta.projects.choices import PlanStatus
from inspecta.projects.models import InspectionPlan
from inspecta.sampling.choices import SampleStatus
from inspecta.sampling.codes import display
from inspecta.sampling.models import Sample

from .choices import TestingRule
from .models import ScanMark, TestingFinding, TestRecord
from .regionrules import AUTO_COLLECT, DUE_DAYS, ONSITE_HOURS, UPLOAD_HOURS

__all__ = ["ScanResult", "late_findings", "manual_findings", "overdue_scan"]


def _rules_of(name: str) -> tuple[str, list[int]]:
    """The fingerprint of rule ``name`` (its setting and every region's row), and every
    value it takes anywhere, shortest first: no candidate is due before the shortest."""

    rows = sorted(
        (str(region), str(item or ""), str(value))
        for region, item, value in RegionRule.objects.filter(name=name).values_list(
            "region_id", "test_item_id", "value"
        )
    )
    default = region_rule_kind(name).default
    values = [int(default), *(int(v) for _r, _i, v in rows)]
    digest = hashlib.sha256(json.dumps([str(default), rows]).encode()).hexdigest()
    return digest, sorted(set(values))


def _time(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def late_findings(records: Iterable[TestRecord]) -> list[TestingFinding]:
    """Keep a ``test_uploaded_late`` finding for each record uploaded later than its
    region's time after the test ended (in the upload's transaction)."""

    kept = []
    hours_of: dict[tuple[str, str], Any] = {}
    for record in records:
        where = (record.project.region_id, record.test_item_id)
        if where not in hours_of:
            hours_of[where] = rule_value(UPLOAD_HOURS, *where)[0]
        hours = hours_of[where]
        due = record.ended_at + datetime.timedelta(hours=int(hours))
        if record.uploaded_at <= due:
            continue
        kept.append(
            TestingFinding.keep(
                rule=TestingRule.UPLOADED_LATE,
                key=f"record:{record.pk}",
                subject=record.number,
                region=record.project.region_id,
                detail=_("检测结束于 %(end)s，检测数据在 %(at)s 才上传，超过 %(h)s 小时的上传时限。")
                % {"end": _time(record.ended_at), "at": _time(record.uploaded_at), "h": hours},
                agency_id=record.agency_id,
                project_id=record.project_id,
                record=record,
                defaults={"details": {"ended_at": record.ended_at.isoformat(), "hours": int(hours)}},
            )
        )
    return kept


def manual_findings(records: Iterable[TestRecord]) -> list[TestingFinding]:
    """Keep a ``manual_entry_of_auto_data`` finding for each record with a parameter
    entered by hand where its region requires the item's data to be collected by the
    instruments (Guangxi 第七条(二)(六), 第十七条(一): 采取非法手段改变原始数据录入途径)."""

    kept = []
    required: dict[tuple[str, str], bool] = {}
    for record in records:
        where = (record.project.region_id, record.test_item_id)
        if where not in required:
            required[where] = rule_value(AUTO_COLLECT, *where)[0] == "yes"
        manual = [p["parameter"] for p in record.parameters if p.get("source") == "manual"]
        if not required[where] or not manual:
            continue
        kept.append(
            TestingFinding.keep(
                rule=TestingRule.MANUAL_ENTRY,
                key=f"record:{record.pk}:r{record.revision}",
                subject=record.number,
                region=record.project.region_id,
                detail=_("本地区要求该检测项目的数据由仪器自动采集，参数 %(p)s 为人工录入。")
                % {"p": "、".join(manual)},
                agency_id=record.agency_id,
                project_id=record.project_id,
                record=record,
                defaults={"details": {"parameters": manual, "revision": record.revision}},
            )
        )
    return kept


@dataclass
class ScanResult:
    found: int = 0
    resolved: int = 0


class _Rules:
    """The values of rule ``name`` per (region, test item), read once per scan."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[tuple[str, str], int] = {}

    def __call__(self, region: str, item: str) -> int:
        if (region, item) not in self.values:
            self.values[region, item] = int(rule_value(self.name, region, item)[0])
        return self.values[region, item]


def _mark(mark: ScanMark | None, rule: str, now: datetime.datetime, fingerprint: str) -> None:
    """Move the rule's mark to ``now`` (never back: a scan of an earlier moment examined
    less, and what the mark says stays true)."""

    if mark is None:
        ScanMark.objects.create(rule=rule, until=now, rules_sha256=fingerprint)
        return
    mark.until = max(mark.until, now) if mark.rules_sha256 == fingerprint else now
    mark.rules_sha256 = fingerprint
    mark.updated_at = timezone.now()
    mark.save(update_fields=["until", "rules_sha256", "updated_at"])


def _store(findings: list[TestingFinding]) -> int:
    """Insert the new findings (a finding kept meanwhile by another scan stays as it
    was: ``(rule, key)`` is unique)."""

    TestingFinding.objects.bulk_create(findings, batch_size=1000, ignore_conflicts=True)
    return len(findings)


@transaction.atomic
def overdue_scan(now: datetime.datetime | None = None) -> ScanResult:
    """Find received samples and on-site plans whose test data is overdue at ``now``
    (default: now), and resolve the overdue findings whose data has arrived.

    A candidate is a received sample (a filed plan) past the shortest due time any
    region sets, with no test record and no finding of the rule yet (indexed
    anti-joins). Samples are millions: the rule's ``ScanMark`` says up to when every
    sample was examined, so under unchanged rules a scan reads, for each number of days
    d a region sets, only the receipts between d days before the mark and d days before
    now (those that became due since), not every sample ever received; changed rules
    mean one full scan. Plans are few and read
    whole. Each candidate's own regional time is applied in Python, the rules read
    once per region and item; the new findings are inserted in bulk."""

    now = now or timezone.now()
    result = ScanResult()
    days_of = _Rules(DUE_DAYS)
    fingerprint, values = _rules_of(DUE_DAYS)
    mark = ScanMark.objects.select_for_update().filter(rule=TestingRule.SAMPLE_DATA_OVERDUE).first()
    received = Q(receipt__received_at__lte=now - datetime.timedelta(days=values[0]))
    if mark is not None and mark.rules_sha256 == fingerprint and mark.until <= now:
        # a sample whose rule gives d days becomes due when it has been received d days:
        # since the mark, only the receipts d days before the mark up to d days before
        # now, for each d a region sets (the earlier ones were examined by then)
        received = Q()
        for d in values:
            span = datetime.timedelta(days=d)
            received |= Q(receipt__received_at__gt=mark.until - span, receipt__received_at__lte=now - span)
    samples = (
        Sample.objects.filter(received, status=SampleStatus.RECEIVED)
        .filter(~Exists(TestRecord.objects.filter(sample_id=OuterRef("pk"))))
        .filter(~Exists(TestingFinding.objects.filter(rule=TestingRule.SAMPLE_DATA_OVERDUE, sample_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list(
            "pk", "code", "agency_id", "project_id", "project__region_id", "test_item_id", "receipt__received_at"
        )
    )
    found: list[TestingFinding] = []
    for pk, code, agency_id, project_id, region, item, received_at in samples.iterator(chunk_size=2000):
        days = days_of(region, item)
        due = received_at + datetime.timedelta(days=days)
        if due > now:
            continue
        found.append(
            TestingFinding(
                rule=TestingRule.SAMPLE_DATA_OVERDUE,
                key=f"sample:{pk}",
                subject=display(code),
                region=region,
                detail=_("样品于 %(at)s 收样，%(d)s 天后（%(due)s）仍没有上传检测数据。")
                % {"at": _time(received_at), "d": days, "due": _time(due)},
                agency_id=agency_id,
                project_id=project_id,
                sample_id=pk,
                since=now,
                details={"received_at": received_at.isoformat(), "days": days},
            )
        )
    _mark(mark, TestingRule.SAMPLE_DATA_OVERDUE, now, fingerprint)
    hours_of = _Rules(ONSITE_HOURS)
    plans = (
        InspectionPlan.objects.filter(
            status=PlanStatus.FILED,
            planned_end__lte=now - datetime.timedelta(hours=_rules_of(ONSITE_HOURS)[1][0]),
        )
        .filter(~Exists(TestRecord.objects.filter(plan_id=OuterRef("pk"))))
        .filter(~Exists(TestingFinding.objects.filter(rule=TestingRule.ONSITE_DATA_OVERDUE, plan_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list(
            "pk",
            "agency_id",
            "project_id",
            "project__region_id",
            "test_item_id",
            "test_item__name",
            "location",
            "planned_end",
        )
    )
    for pk, agency_id, project_id, region, item, item_name, location, planned_end in plans.iterator(chunk_size=2000):
        hours = hours_of(region, item)
        due = planned_end + datetime.timedelta(hours=hours)
        if due > now:
            continue
        found.append(
            TestingFinding(
                rule=TestingRule.ONSITE_DATA_OVERDUE,
                key=f"plan:{pk}",
                subject=f"{item_name} · {location}"[:255],
                region=region,
                detail=_("现场检测方案计划于 %(end)s 结束，%(h)s 小时后（%(due)s）仍没有上传检测数据。")
                % {"end": _time(planned_end), "h": hours, "due": _time(due)},
                agency_id=agency_id,
                project_id=project_id,
                plan_id=pk,
                since=now,
                details={"planned_end": planned_end.isoformat(), "hours": hours},
            )
        )
    result.found = _store(found)
    arrived = TestingFinding.objects.filter(status=FindingStatus.OPEN).filter(
        rule__in=[TestingRule.SAMPLE_DATA_OVERDUE, TestingRule.ONSITE_DATA_OVERDUE]
    )
    arrived = arrived.filter(
        Exists(TestRecord.objects.filter(sample_id=OuterRef("sample_id")))
        | Exists(TestRecord.objects.filter(plan_id=OuterRef("plan_id")))
    )
    result.resolved = arrived.update(status=FindingStatus.RESOLVED, resolved_at=now)
    return result
