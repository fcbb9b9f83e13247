"""Every write of projects, contracts and on-site inspection plans (STYLE.md 4; T/CECS
4.3.2, 4.3.3; Nanchang 二(二)-(三); Guangxi 第九条, 第十条). Keyword-only, transactional,
audited; contracts and plan versions are logged."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import Organisation
from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_stamp
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.models import Region, StoredFile, TestItem
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import permits, region_within
from inspecta.ledger.services import log_append
from inspecta.registry.models import Agency, Staff
from inspecta.registry.permissions import acts_for_agency

from . import permissions, selectors
from .choices import PartyRole, PlanFindingRule, PlanStatus, ProjectDuty, ProjectLogKind
from .models import (
    Contract,
    InspectionPlan,
    InspectionPlanVersion,
    PlanFinding,
    Project,
    ProjectParty,
    ProjectPerson,
)

__all__ = [
    "contract_upload",
    "plan_cancel",
    "plan_change",
    "plan_file",
    "project_create",
    "project_party_add",
    "project_person_end",
    "project_person_name",
    "project_update",
]


@transaction.atomic
def project_create(
    *,
    actor: Any,
    code: str,
    name: str,
    region_code: str,
    address: str,
    longitude: decimal.Decimal | str | None = None,
    latitude: decimal.Decimal | str | None = None,
    supervision_number: str = "",
    station_id: int | None = None,
    parties: Iterable[dict[str, Any]] = (),
) -> Project:
    """Register a project (T/CECS 4.3.2) with its parties; authorities of the region only."""

    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise AppError(ErrorCode.UNKNOWN_REGION, _("行政区划代码不存在：%(c)s。") % {"c": region_code})
    if not permissions.may_create_in(actor, region_code):
        raise PermissionDenied(_("只有项目所在地的主管部门可以登记项目。"))
    station = None
    if station_id is not None:
        station = Organisation.objects.filter(pk=station_id, kind=OrganisationKind.STATION).first()
        if station is None or not region_within(region_code, station.region_id):
            raise AppError(ErrorCode.UNKNOWN_STATION, _("监督站不存在或不管辖该项目所在地。"))
    if Project.objects.filter(code=code).exists():
        raise AppError(ErrorCode.PROJECT_CODE_TAKEN, _("项目编号已存在：%(c)s。") % {"c": code})
    project = Project(
        code=code,
        name=name,
        region=region,
        address=address,
        longitude=longitude,
        latitude=latitude,
        supervision_number=supervision_number,
        station=station,
        created_by=actor_of(actor).user,
        client=actor_of(actor).client,
    )
    audit_stamp(project, actor)
    _full_clean(project)
    project.save()
    for party in parties:
        _party_add(actor=actor, project=project, **party)
    return project


def _full_clean(project: Project) -> None:
    try:
        # a project registered by an exchange client has no creating user
        project.full_clean(exclude=["created_by"])
    except ValidationError as exc:
        raise AppError(ErrorCode.VALIDATION_FAILED, "；".join(exc.messages), {"fields": exc.message_dict}) from exc


def _may_change(actor: Any, project: Project) -> bool:
    return permits(actor, project, "change")


PROJECT_UPDATABLE = frozenset({"name", "address", "longitude", "latitude", "supervision_number", "station_id"})


@transaction.atomic
def project_update(
    *, actor: Any, project: Project, changes: dict[str, Any], add_parties: Iterable[dict[str, Any]] = ()
) -> Project:
    """Change a project's details and add parties (T/CECS 4.3.2), by the authorities of
    its region or their platform's client with ``projects:write``. Code and region are
    the project's identity shared with other platforms and never change. Audited."""

    project = Project.objects.select_for_update().get(pk=project.pk)
    if not _may_change(actor, project):
        raise PermissionDenied(_("无权修改该项目。"))
    unknown = sorted(set(changes) - PROJECT_UPDATABLE)
    if unknown:
        raise AppError(
            ErrorCode.FIELD_NOT_UPDATABLE,
            _("以下字段不可修改：%(f)s。") % {"f": "、".join(unknown)},
            {"fields": unknown},
        )
    if "station_id" in changes and changes["station_id"] is not None:
        station = Organisation.objects.filter(pk=changes["station_id"], kind=OrganisationKind.STATION).first()
        if station is None or not region_within(project.region_id, station.region_id):
            raise AppError(ErrorCode.UNKNOWN_STATION, _("监督站不存在或不管辖该项目所在地。"))
    for name, value in changes.items():
        setattr(project, name, value)
    project.updated_at = timezone.now()
    audit_stamp(project, actor)
    _full_clean(project)
    project.save()
    for party in add_parties:
        _party_add(actor=actor, project=project, **party)
    return project


@transaction.atomic
def project_party_add(*, actor: Any, project: Project, **party: Any) -> ProjectParty:
    """Add a party to an existing project (see ``_party_add``); the project's
    ``updated_at`` moves so that mirroring platforms fetch it again."""

    added = _party_add(actor=actor, project=project, **party)
    _touch(project, actor)
    return added


def _party_add(
    *,
    actor: Any,
    project: Project,
    role: str,
    name: str = "",
    credit_code: str = "",
    agency_id: int | None = None,
    organisation_id: int | None = None,
    people: list[dict[str, str]] | None = None,
) -> ProjectParty:
    """Add a party (owner, contractor, supervising firm, testing agency) with its people.
    A party linked to an organisation of this platform lets its users see the project
    (Guangxi 第八条(四))."""

    if not _may_change(actor, project):
        raise PermissionDenied(_("无权修改该项目。"))
    if role not in PartyRole.values:
        raise AppError(ErrorCode.INVALID_PARTY_ROLE, _("参建角色不合法：%(r)s。") % {"r": role})
    agency = None
    organisation = None
    if role == PartyRole.AGENCY:
        agency = Agency.objects.filter(pk=agency_id).select_related("organisation").first() if agency_id else None
        if agency is None:
            raise AppError(ErrorCode.UNKNOWN_AGENCY, _("检测机构不存在。"))
        organisation = agency.organisation
        name = name or agency.name
        credit_code = credit_code or agency.credit_code
    elif organisation_id is not None:
        organisation = Organisation.objects.filter(pk=organisation_id).first()
        if organisation is None:
            raise AppError(ErrorCode.UNKNOWN_ORGANISATION, _("单位不存在。"))
        name = name or organisation.name
    clean_people = []
    for person in people or []:
        if not isinstance(person, dict) or not str(person.get("name", "")).strip():
            raise AppError(ErrorCode.INVALID_PEOPLE, _("人员须包含姓名。"))
        clean_people.append({k: str(person.get(k, ""))[:64] for k in ("name", "role", "mobile")})
    party = ProjectParty(
        project=project,
        role=role,
        name=name,
        credit_code=credit_code,
        organisation=organisation,
        agency=agency,
        people=clean_people,
    )
    try:
        party.full_clean()
    except ValidationError as exc:
        raise AppError(ErrorCode.VALIDATION_FAILED, "；".join(exc.messages), {"fields": exc.message_dict}) from exc
    audit_stamp(party, actor)
    party.save()
    return party


# --- the people a project names (Nanchang 一(二)) ----------------------------------------

DUTY_ROLES = {ProjectDuty.SAMPLER: Role.SAMPLER, ProjectDuty.WITNESS: Role.WITNESS}
"""The account role a person must hold to be named for a duty."""


@transaction.atomic
def project_person_name(*, actor: Any, party: ProjectParty, person_id: int, duty: str) -> ProjectPerson:
    """Names a person of ``party``'s organisation on its project for ``duty`` (取样人 or
    见证人). The person must be active, of that organisation and hold the duty's role;
    naming someone already named for that duty changes nothing and returns the naming."""

    from inspecta.accounts.models import User

    if not permissions.may_name_people(actor, party):
        raise PermissionDenied(_("只有本单位的参建单位管理员可以指定项目人员。"))
    if duty not in ProjectDuty.values:
        raise AppError(ErrorCode.VALIDATION_FAILED, _("职责不合法：%(d)s。") % {"d": duty}, {"field": "duty"})
    person = User.objects.filter(pk=person_id, organisation_id=party.organisation_id, is_active=True).first()
    if person is None:
        raise AppError(ErrorCode.PERSON_NOT_ELIGIBLE, _("该人员不是本单位的在职人员。"), {"field": "person_id"})
    role = DUTY_ROLES[ProjectDuty(duty)]
    if not person.has_role(role):
        raise AppError(
            ErrorCode.PERSON_NOT_ELIGIBLE,
            _("%(name)s 没有“%(role)s”角色，不能指定为%(duty)s。")
            % {"name": person.full_name, "role": role.label, "duty": ProjectDuty(duty).label},
            {"field": "person_id"},
        )
    existing = ProjectPerson.objects.filter(
        project_id=party.project_id, person=person, duty=duty, ended_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    named = ProjectPerson(
        project_id=party.project_id, party=party, person=person, duty=duty, named_by=actor_of(actor).user
    )
    audit_stamp(named, actor)
    named.save()
    _touch(party.project, actor)
    return named


def _touch(project: Project, actor: Any) -> None:
    """Move ``updated_at`` so that mirroring platforms fetch the project again."""

    project.updated_at = timezone.now()
    audit_stamp(project, actor)
    project.save(update_fields=["updated_at"])


@transaction.atomic
def project_person_end(*, actor: Any, named: ProjectPerson) -> ProjectPerson:
    """Ends a naming (the person no longer serves the project in that duty); the row stays
    with who ended it and when. Ending an ended naming changes nothing."""

    named = ProjectPerson.objects.select_for_update().select_related("party", "project").get(pk=named.pk)
    if not permissions.may_name_people(actor, named.party):
        raise PermissionDenied(_("只有本单位的参建单位管理员可以解除项目人员。"))
    if named.ended_at is None:
        named.ended_at = timezone.now()
        named.ended_by = actor_of(actor).user
        audit_stamp(named, actor)
        named.save(update_fields=["ended_at", "ended_by"])
        _touch(named.project, actor)
    return named


@transaction.atomic
def contract_upload(
    *,
    actor: Any,
    agency: Agency,
    project: Project,
    number: str,
    client_name: str,
    amount: decimal.Decimal | str,
    signed_on: datetime.date,
    valid_from: datetime.date,
    valid_until: datetime.date,
    test_items: list[str],
    scan_id: Any,
    parties: list[dict[str, str]] | None = None,
    allows_additional_agency: bool = False,
) -> Contract:
    """The agency uploads a testing contract (T/CECS 4.3.3; Nanchang 二(二); Guangxi 第九条).

    ``actor`` is an agency user or a signed exchange client of that agency. The agency
    must be a party of the project; the scan is an upload (CONTRACT §4) of the agency.
    Logged as kind ``contract``.
    """

    if not acts_for_agency(actor, agency):
        raise PermissionDenied(_("只能上传本机构的检测合同。"))
    if agency.pk not in project.agency_ids():
        raise AppError(ErrorCode.AGENCY_NOT_PARTY, _("本机构不是该项目的参建检测机构。"))
    scan = StoredFile.objects.filter(pk=scan_id, organisation_id=agency.organisation_id).first()
    if scan is None:
        raise AppError(ErrorCode.UNKNOWN_FILE, _("合同扫描件不存在：%(f)s。") % {"f": scan_id})
    items = list(TestItem.objects.filter(code__in=test_items))
    if not test_items or len(items) != len(set(test_items)):
        raise AppError(ErrorCode.UNKNOWN_TEST_ITEM, _("检测项目不存在或为空。"))
    if valid_until < valid_from:
        raise AppError(ErrorCode.INVALID_DATES, _("有效期截止日期不能早于起始日期。"))
    if Contract.objects.filter(agency=agency, number=number).exists():
        raise AppError(ErrorCode.CONTRACT_NUMBER_TAKEN, _("合同编号已存在：%(n)s。") % {"n": number})
    contract = Contract(
        project=project,
        agency=agency,
        number=number,
        client_name=client_name,
        parties=parties or [],
        amount=decimal.Decimal(str(amount)),
        signed_on=signed_on,
        valid_from=valid_from,
        valid_until=valid_until,
        allows_additional_agency=allows_additional_agency,
        scan=scan,
        scan_sha256=scan.sha256,
        uploaded_by=actor_of(actor).user,
    )
    try:
        # a contract uploaded by an agency's LIMS has no uploading person (its history
        # rows name the client)
        contract.full_clean(exclude=["test_items", "uploaded_by"])
    except ValidationError as exc:
        raise AppError(ErrorCode.VALIDATION_FAILED, "；".join(exc.messages), {"fields": exc.message_dict}) from exc
    contract.save()
    contract.test_items.set(items)
    log_append(kind=ProjectLogKind.CONTRACT, record=contract)
    return contract


# --- on-site inspection plans (Nanchang 二(三); Guangxi 第十条) --------------------------

PLAN_CHANGEABLE = frozenset(
    {
        "contract_id",
        "test_item",
        "tester_ids",
        "planned_start",
        "planned_end",
        "quantity",
        "quantity_unit",
        "location",
        "document_id",
    }
)
"""What a change of a plan may give (a new version); agency and project never change."""


def _aware(value: datetime.datetime) -> datetime.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _plan_values(
    *,
    agency: Agency,
    project: Project,
    contract_id: int,
    test_item: str,
    tester_ids: Iterable[int],
    planned_start: datetime.datetime,
    planned_end: datetime.datetime,
    quantity: int,
    quantity_unit: str,
    location: str,
    document_id: Any,
) -> tuple[dict[str, Any], list[Staff]]:
    """The plan's columns and testers, each reference checked against the agency and
    the project; a refusal is an ``AppError`` with a Chinese message."""

    contract = Contract.objects.filter(pk=contract_id, agency=agency, project=project).first()
    if contract is None:
        raise AppError(ErrorCode.UNKNOWN_CONTRACT, _("检测合同不存在，或不是本机构在该项目上签订的合同。"))
    item = TestItem.objects.filter(pk=test_item, enabled=True).first()
    if item is None:
        raise AppError(ErrorCode.UNKNOWN_TEST_ITEM, _("检测项目不存在：%(c)s。") % {"c": test_item})
    if not contract.test_items.filter(pk=item.pk).exists():
        raise AppError(ErrorCode.UNKNOWN_TEST_ITEM, _("所选检测合同不包含该检测项目：%(n)s。") % {"n": item.name})
    wanted = set(tester_ids)
    testers = list(Staff.objects.filter(agency=agency, active=True, pk__in=wanted).order_by("pk"))
    if not wanted or len(testers) != len(wanted):
        raise AppError(ErrorCode.UNKNOWN_STAFF, _("检测人员须为本机构在职的人员，且至少一人。"))
    start, end = _aware(planned_start), _aware(planned_end)
    if end <= start:
        raise AppError(ErrorCode.INVALID_DATES, _("计划结束时间须晚于计划开始时间。"))
    if not isinstance(quantity, int) or quantity < 1:
        raise AppError(ErrorCode.VALIDATION_FAILED, _("检测数量须为正整数。"), {"fields": {"quantity": []}})
    document = StoredFile.objects.filter(pk=document_id, organisation_id=agency.organisation_id).first()
    if document is None:
        raise AppError(ErrorCode.UNKNOWN_FILE, _("检测方案文件不存在：%(f)s。") % {"f": document_id})
    values = {
        "contract": contract,
        "test_item": item,
        "planned_start": start,
        "planned_end": end,
        "quantity": quantity,
        "quantity_unit": quantity_unit.strip(),
        "location": location.strip(),
        "document": document,
        "document_sha256": document.sha256,
    }
    return values, testers


def _plan_clean(plan: InspectionPlan) -> None:
    try:
        plan.full_clean(exclude=["testers"])
    except ValidationError as exc:
        raise AppError(ErrorCode.VALIDATION_FAILED, "；".join(exc.messages), {"fields": exc.message_dict}) from exc


def _plan_snapshot(plan: InspectionPlan, testers: list[Staff]) -> dict[str, Any]:
    """The version's record of the plan (times RFC 3339 UTC, as logged)."""

    from inspecta.ledger.services import format_time

    return {
        "agency": plan.agency_id,
        "project": plan.project_id,
        "contract": plan.contract_id,
        "test_item": plan.test_item_id,
        "testers": sorted(t.pk for t in testers),
        "planned_start": format_time(plan.planned_start),
        "planned_end": format_time(plan.planned_end),
        "quantity": plan.quantity,
        "quantity_unit": plan.quantity_unit,
        "location": plan.location,
        "status": plan.status,
    }


def _plan_version(*, actor: Any, plan: InspectionPlan, testers: list[Staff], reason: str = "") -> InspectionPlanVersion:
    """Record the plan's current values as its version ``plan.version`` (filed now, by the
    actor), log it and, for a filed plan, check its lead time."""

    who = actor_of(actor)
    version = InspectionPlanVersion(
        plan=plan,
        number=plan.version,
        data=_plan_snapshot(plan, testers),
        document=plan.document,
        document_sha256=plan.document_sha256,
        filed_by=who.user,
        client=who.client,
        filed_at=plan.updated_at,
        reason=reason,
    )
    version.save(force_insert=True)
    log_append(kind=ProjectLogKind.INSPECTION_PLAN, record=version)
    if plan.status == PlanStatus.FILED:
        _lead_check(plan, version)
    return version


def _duration(span: datetime.timedelta) -> str:
    """``span`` in whole hours and minutes, in words (e.g. "23 小时 59 分钟")."""

    hours, minutes = divmod(int(span.total_seconds()) // 60, 60)
    if hours and minutes:
        return _("%(h)s 小时 %(m)s 分钟") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)s 小时") % {"h": hours}
    return _("%(m)s 分钟") % {"m": minutes}


def _lead_check(plan: InspectionPlan, version: InspectionPlanVersion) -> PlanFinding | None:
    """A version filed less than the lead time before the planned start is a finding
    (``plan_filed_late``); one filed exactly the lead time ahead is in time."""

    lead_hours, rule = selectors.plan_lead(plan.project.region_id, plan.test_item_id)
    ahead = plan.planned_start - version.filed_at
    if ahead >= datetime.timedelta(hours=lead_hours):
        return None
    hours = ahead.total_seconds() / 3600
    if hours >= 0:
        detail = _("提前 %(ahead)s报送，规定须至少提前 %(lead)s 小时报送。")
    else:
        detail = _("计划开始时间过后 %(ahead)s才报送，规定须至少提前 %(lead)s 小时报送。")
    finding = PlanFinding(
        plan=plan,
        version=version,
        rule=PlanFindingRule.FILED_LATE,
        key=f"plan:{plan.pk}:v{version.number}",
        subject=str(plan)[:255],
        region=plan.project.region_id,
        severity=Severity.WARNING.value,
        detail=(detail % {"ahead": _duration(abs(ahead)), "lead": lead_hours})[:500],
        details={
            "lead_hours": lead_hours,
            "hours_ahead": round(hours, 2),
            "lead_rule": rule.pk if rule is not None else None,
        },
    )
    finding.save()
    return finding


@transaction.atomic
def plan_file(
    *,
    actor: Any,
    agency: Agency,
    project: Project,
    contract_id: int,
    test_item: str,
    tester_ids: Iterable[int],
    planned_start: datetime.datetime,
    planned_end: datetime.datetime,
    quantity: int,
    quantity_unit: str,
    location: str,
    document_id: Any,
) -> InspectionPlan:
    """The agency files an on-site inspection plan (Nanchang 二(三); Guangxi 第十条):
    version 1, logged as kind ``inspection_plan``; filed (server time) less than the lead
    time before ``planned_start`` it is a ``plan_filed_late`` finding. ``actor`` is one of
    the agency's people or its LIMS; the agency must be a party of the project, the
    contract the agency's on that project, the testers its active staff, the document an
    upload of the agency."""

    if not acts_for_agency(actor, agency):
        raise PermissionDenied(_("只能报送本机构的检测方案。"))
    if not permissions.may_file_plan(actor, project):
        raise AppError(ErrorCode.AGENCY_NOT_PARTY, _("本机构不是该项目的参建检测机构。"))
    values, testers = _plan_values(
        agency=agency,
        project=project,
        contract_id=contract_id,
        test_item=test_item,
        tester_ids=tester_ids,
        planned_start=planned_start,
        planned_end=planned_end,
        quantity=quantity,
        quantity_unit=quantity_unit,
        location=location,
        document_id=document_id,
    )
    now = timezone.now()
    plan = InspectionPlan(agency=agency, project=project, version=1, filed_at=now, updated_at=now, **values)
    _plan_clean(plan)
    audit_stamp(plan, actor)
    plan.save()
    plan.testers.set(testers)
    _plan_version(actor=actor, plan=plan, testers=testers)
    return plan


def _locked_plan(actor: Any, plan: InspectionPlan, reason: str) -> InspectionPlan:
    plan = InspectionPlan.objects.select_for_update().select_related("project", "agency").get(pk=plan.pk)
    if not permits(actor, plan, "change"):
        raise PermissionDenied(_("只有报送该方案的检测机构可以变更或取消检测方案。"))
    if plan.status != PlanStatus.FILED:
        raise AppError(ErrorCode.PLAN_CANCELLED, _("该检测方案已取消，不能再变更。"))
    if not reason.strip():
        raise AppError(ErrorCode.REASON_REQUIRED, _("请填写原因。"))
    return plan


@transaction.atomic
def plan_change(*, actor: Any, plan: InspectionPlan, reason: str, **changes: Any) -> InspectionPlan:
    """Change a filed plan: a new version with the changed fields (``PLAN_CHANGEABLE``)
    and the reason; the earlier versions stay as they were. Checked and logged as when
    filed, the lead time counted from this filing."""

    plan = _locked_plan(actor, plan, reason)
    unknown = sorted(set(changes) - PLAN_CHANGEABLE)
    if unknown:
        raise AppError(
            ErrorCode.FIELD_NOT_UPDATABLE,
            _("以下字段不可修改：%(f)s。") % {"f": "、".join(unknown)},
            {"fields": unknown},
        )
    if not changes:
        raise AppError(ErrorCode.NOTHING_TO_AMEND, _("没有要变更的内容。"))
    current: dict[str, Any] = {
        "contract_id": plan.contract_id,
        "test_item": plan.test_item_id,
        "tester_ids": list(plan.testers.values_list("pk", flat=True)),
        "planned_start": plan.planned_start,
        "planned_end": plan.planned_end,
        "quantity": plan.quantity,
        "quantity_unit": plan.quantity_unit,
        "location": plan.location,
        "document_id": plan.document_id,
    }
    values, testers = _plan_values(agency=plan.agency, project=plan.project, **(current | changes))
    for name, value in values.items():
        setattr(plan, name, value)
    plan.version += 1
    plan.updated_at = timezone.now()
    _plan_clean(plan)
    audit_stamp(plan, actor, reason)
    plan.save()
    plan.testers.set(testers)
    _plan_version(actor=actor, plan=plan, testers=testers, reason=reason.strip())
    return plan


@transaction.atomic
def plan_cancel(*, actor: Any, plan: InspectionPlan, reason: str) -> InspectionPlan:
    """Cancel a filed plan: a last version with status ``cancelled`` and the reason,
    logged; it leaves the calendar."""

    plan = _locked_plan(actor, plan, reason)
    plan.status = PlanStatus.CANCELLED
    plan.version += 1
    plan.updated_at = timezone.now()
    audit_stamp(plan, actor, reason)
    plan.save(update_fields=["status", "version", "updated_at"])
    _plan_version(actor=actor, plan=plan, testers=list(plan.testers.order_by("pk")), reason=reason.strip())
    return plan
