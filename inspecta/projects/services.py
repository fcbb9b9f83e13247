"""Every write of projects and contracts (STYLE.md 4; T/CECS 4.3.2, 4.3.3; Nanchang 二(二);
Guangxi 第九条). Keyword-only, transactional, audited; contracts are logged."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.choices import OrganisationKind
from inspecta.accounts.models import Organisation
from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_stamp
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.models import Region, StoredFile, TestItem
from inspecta.core.scoping import permits, region_within
from inspecta.ledger.services import log_append
from inspecta.registry.models import Agency
from inspecta.registry.permissions import acts_for_agency

from . import permissions
from .choices import PartyRole, ProjectLogKind
from .models import Contract, Project, ProjectParty

__all__ = ["contract_upload", "project_create", "project_party_add", "project_update"]


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
    project.updated_at = timezone.now()
    audit_stamp(project, actor)
    project.save(update_fields=["updated_at"])
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
