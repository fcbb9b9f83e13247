"""Every write to the agency registry (STYLE.md 4).

- ``agency_register``: self-registration of an agency and its admin account
  (Guangdong 附件2 一(一), 二(一); Nanchang 一(一)).
- ``agency_update`` and ``record_save``/``record_delete`` (with named wrappers such as
  ``staff_save``, ``equipment_remove``): the enterprise information of T/CECS 4.1.1.
- ``agency_submit``/``agency_approve``/``agency_return``: the review (Guangdong 附件2
  一(二)). After approval, writes to key facts (heads, qualification certificates,
  capabilities, signatories: ``KEY_KINDS``) become a ``ChangeRequest``; the approved
  data stays in force until ``change_request_approve`` applies the change and records
  a new ``AgencyVersion``. Other edits apply at once. Every write is audited (who, when,
  before, after) by the historical tables; reviews also leave an ``AgencyReview`` row
  and approvals a transparency-log entry.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any, cast

import rfc8785
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import Organisation, User
from inspecta.accounts.services import organisation_create, user_create
from inspecta.core.audit import audit_stamp
from inspecta.core.errors import AppError
from inspecta.core.files import file_store
from inspecta.core.identifiers import validate_credit_code
from inspecta.core.models import Parameter, Region, StoredFile, TestItem, TestItemParameter
from inspecta.core.rulebook import Severity
from inspecta.core.scoping import region_prefix
from inspecta.ledger.services import log_append

from . import conformity
from .choices import (
    AgencyCertificateKind,
    AgencyStatus,
    ChangeRequestStatus,
    FindingRule,
    HeadRole,
    RegistryLogKind,
    ReviewAction,
)
from .models import (
    Agency,
    AgencyCertificate,
    AgencyHead,
    AgencyReview,
    AgencyVersion,
    ChangeRequest,
    Equipment,
    Finding,
    OtherCertificate,
    OutputValue,
    PostCertificate,
    QualificationCertificate,
    Signatory,
    Site,
    SiteCapability,
    Staff,
)

# Kinds of agency records written through ``record_save``; the label names them in
# change requests and messages.
RECORD_KINDS: dict[str, type[models.Model]] = {
    "head": AgencyHead,
    "site": Site,
    "staff": Staff,
    "post_certificate": PostCertificate,
    "other_certificate": OtherCertificate,
    "equipment": Equipment,
    "signatory": Signatory,
    "qualification": QualificationCertificate,
    "certificate": AgencyCertificate,
    "output_value": OutputValue,
}
# Key facts: after approval, changes go through re-review.
KEY_KINDS = frozenset({"head", "signatory", "qualification", "capability"})

# Basic information the agency admin edits (T/CECS 4.1.1-1; Guangdong 二(二)). The
# credit code and registration region identify the agency and are fixed at registration.
BASIC_FIELDS = (
    "name",
    "founded_on",
    "registered_address",
    "office_address",
    "office_longitude",
    "office_latitude",
    "phone",
    "postcode",
    "fax",
    "email",
    "contact_name",
    "contact_mobile",
    "registration_authority",
    "registered_capital",
    "registration_type",
    "agency_type",
    "business_scope",
    "investors",
    "social_insurance_count",
    "technical_staff_count",
    "intermediate_title_count",
    "senior_title_count",
    "equipment_count",
    "equipment_value",
    "premises_area",
    "testing_area",
    "business_licence",
    "parent",
    "branch_kind",
)
# Basic facts that are key facts too (Guangdong 附件2 一(二)): once the agency is approved,
# a change of company name or registered capital waits for the registration authority.
KEY_BASIC_FIELDS = ("name", "registered_capital")


# --- helpers ----------------------------------------------------------------------


def _require(actor: User, agency: Agency, action: str) -> None:
    if not Agency.objects.restrict(actor, action).filter(pk=agency.pk).exists():
        if action == "review":
            raise PermissionDenied(_("只有注册地主管部门可以审核该检测机构。"))
        raise PermissionDenied(_("无权修改该检测机构的信息。"))


def _require_editable(agency: Agency) -> None:
    if agency.status == AgencyStatus.SUBMITTED:
        raise ValidationError(_("检测机构信息正在审核中，审核完成前不能修改。"))


def jsonable(value: Any) -> Any:
    """Form data as JSON for a change request: ids for records, ISO dates, decimal strings."""

    if isinstance(value, models.Model):
        return jsonable(value.pk)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.QuerySet | list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def _assign(instance: models.Model, agency: Agency, data: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``data`` on ``instance`` field by field; returns the many-to-many values to set
    after saving. Related agency records (site, staff, attachments) must belong to the
    same agency; catalog codes must exist."""

    errors: dict[str, list[str]] = {}
    m2m: dict[str, list[Any]] = {}
    for name, raw in data.items():
        try:
            field: Any = instance._meta.get_field(name)
        except Exception:
            errors.setdefault(name, []).append(_("未知字段。"))
            continue
        if name in ("id", "agency", "created_at", "updated_at") or not getattr(field, "editable", True):
            errors.setdefault(name, []).append(_("该字段不能修改。"))
            continue
        if field.many_to_many:
            related = field.related_model
            ids = [jsonable(v) for v in (raw or [])]
            found = list(related._default_manager.filter(pk__in=ids))  # type: ignore[union-attr]
            if len(found) != len(set(ids)):
                errors.setdefault(name, []).append(_("所选项目不存在。"))
            m2m[name] = found
            continue
        if field.many_to_one:
            if raw in (None, ""):
                setattr(instance, field.attname, None)
                continue
            related = field.related_model
            try:
                target = related._default_manager.filter(pk=jsonable(raw)).first()  # type: ignore[union-attr]
            except (ValidationError, ValueError, TypeError):
                target = None
            if (
                target is None
                or (hasattr(target, "agency_id") and target.agency_id != agency.pk)
                or (isinstance(target, StoredFile) and target.organisation_id != agency.organisation_id)
            ):
                errors.setdefault(name, []).append(_("所选记录不存在或不属于本机构。"))
                continue
            if isinstance(target, User) and (target.organisation_id != agency.organisation_id or not target.is_active):
                errors.setdefault(name, []).append(_("所选账号不存在或不属于本机构。"))
                continue
            if isinstance(target, Agency) and target.pk == agency.pk:
                errors.setdefault(name, []).append(_("不能选择本机构。"))
                continue
            setattr(instance, name, target)
            continue
        try:
            value = field.to_python(raw)  # type: ignore[union-attr]
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            continue
        if value is None and not field.null:
            value = "" if isinstance(field, models.CharField | models.TextField) else None
        setattr(instance, name, value)
    if errors:
        raise ValidationError(errors)
    return m2m


def _recompute(agencies: Iterable[Agency | int]) -> None:
    for agency_id in {a.pk if isinstance(a, Agency) else a for a in agencies}:
        conformity.findings_recompute(Agency.objects.get(pk=agency_id))


# --- registration -----------------------------------------------------------------


@transaction.atomic
def agency_register(
    *,
    credit_code: str,
    name: str,
    region_code: str,
    contact_name: str,
    contact_mobile: str,
    username: str,
    password: str,
    email: str = "",
    out_of_province: bool = False,
) -> Agency:
    """Self-registration (Guangdong 附件2 一(一), 二(一)): the agency organisation, its
    registry record in draft and its admin account. The region is where the agency is
    registered (an agency from another province gives the region of its branch in this
    province); that region's authority reviews it. Until approved the agency may fill
    in its information but not operate."""

    credit_code = credit_code.strip().upper()
    errors: dict[str, list[str]] = {}
    try:
        validate_credit_code(credit_code)
    except ValidationError as exc:
        errors["credit_code"] = exc.messages
    if credit_code and (
        Agency.objects.filter(credit_code=credit_code).exists()
        or Organisation.objects.filter(kind=OrganisationKind.AGENCY, credit_code=credit_code).exists()
    ):
        errors["credit_code"] = [_("该统一社会信用代码已注册。")]
    region = Region.objects.filter(pk=region_code).first()
    if region is None or region.level == "province":
        errors["region_code"] = [_("请选择注册地所在的市或区县。")]
    elif not region.code.startswith(region_prefix(settings.INSPECTA_NODE_REGION)):
        errors["region_code"] = [_("注册地须在本平台辖区内；外省机构请填写其在本省分支机构所在地。")]
    if not name.strip():
        errors["name"] = [_("请填写单位名称。")]
    if errors:
        raise ValidationError(errors)
    assert region is not None
    org = organisation_create(
        actor=None, name=name.strip(), kind=OrganisationKind.AGENCY, region=region, credit_code=credit_code
    )
    agency = Agency(
        organisation=org,
        name=name.strip(),
        credit_code=credit_code,
        region=region,
        out_of_province=out_of_province,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        email=email,
    )
    agency.full_clean()
    agency.save()
    user_create(
        actor=None,
        username=username,
        full_name=contact_name,
        organisation=org,
        roles=[Role.AGENCY_ADMIN],
        password=password,
        mobile=contact_mobile,
        email=email,
        must_change_password=False,
    )
    return agency


# --- basic information --------------------------------------------------------------


@transaction.atomic
def agency_update(
    *, actor: User, agency: Agency, data: dict[str, Any], uploads: dict[str, UploadedFile] | None = None
) -> ChangeRequest | None:
    """Edit the basic information (T/CECS 4.1.1-1); applies at once and is audited.

    Once the agency is approved, a change of company name or registered capital
    (``KEY_BASIC_FIELDS``) becomes a ``ChangeRequest`` for the registration authority
    (Guangdong 附件2 一(二)), returned; the other fields of the same save apply at once.
    Returns ``None`` when everything applied."""

    _require(actor, agency, "change")
    _require_editable(agency)
    data = _store_uploads(actor, agency, data, uploads)
    unknown = set(data) - set(BASIC_FIELDS)
    if unknown:
        raise ValidationError({k: [_("该字段不能修改。")] for k in sorted(unknown)})
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    key_data: dict[str, Any] = {}
    if agency.status == AgencyStatus.APPROVED:
        # validate the whole save first: bad input is refused at once, nothing changes
        probe = Agency.objects.get(pk=agency.pk)
        _assign(probe, probe, data)
        probe.full_clean()
        key_data = {
            name: data[name]
            for name in KEY_BASIC_FIELDS
            if name in data and getattr(probe, name) != getattr(agency, name)
        }
        data = {k: v for k, v in data.items() if k not in key_data}
    _basic_apply(actor=actor, agency=agency, data=data)
    if not key_data:
        return None
    return _change_request(
        actor=actor,
        agency=agency,
        operation="basic",
        summary=_basic_summary(agency, key_data),
        payload={"data": key_data},
    )


def _basic_summary(agency: Agency, key_data: dict[str, Any]) -> str:
    parts = []
    for name in KEY_BASIC_FIELDS:
        if name in key_data:
            label = cast(models.Field, Agency._meta.get_field(name)).verbose_name
            before = getattr(agency, name)
            parts.append(
                _("%(field)s：%(before)s → %(after)s")
                % {"field": label, "before": "—" if before in (None, "") else before, "after": key_data[name] or "—"}
            )
    return _("变更基本信息：%(changes)s") % {"changes": "；".join(parts)}


def _basic_apply(*, actor: User, agency: Agency, data: dict[str, Any]) -> None:
    """Write basic facts to the (locked) agency and keep its organisation's name in step."""

    _assign(agency, agency, data)
    if agency.parent_id:
        # A branch must not end up above its own parent.
        node: Agency | None = agency.parent
        while node is not None:
            if node.pk == agency.pk:
                raise ValidationError({"parent": _("上级机构不能形成循环。")})
            node = node.parent
    agency.full_clean()
    audit_stamp(agency, actor)
    agency.save()
    if agency.organisation.name != agency.name:
        org = agency.organisation
        org.name = agency.name
        audit_stamp(org, actor)
        org.save(update_fields=["name"])
        log_append(kind=RegistryLogKind.ORGANISATION_RENAME, record=org)


# --- agency records -----------------------------------------------------------------


def _kind_model(kind: str) -> type[models.Model]:
    try:
        return RECORD_KINDS[kind]
    except KeyError as exc:
        raise ValidationError(_("未知的记录类别。")) from exc


def _summary(kind: str, instance: models.Model | None, deleting: bool = False) -> str:
    model = _kind_model(kind) if kind in RECORD_KINDS else None
    label = str(model._meta.verbose_name) if model else _("检测能力")
    verb = _("删除") if deleting else (_("修改") if instance is not None and instance.pk else _("新增"))
    return f"{verb}{label}：{instance}" if instance is not None else f"{verb}{label}"


def parameters_outside(test_items: Iterable[Any], parameters: Iterable[Any]) -> list[Any]:
    """The ``parameters`` that belong to none of ``test_items`` in the catalog: a piece
    of equipment serves the parameters of the items it is registered for (T/CECS 4.1.1-7;
    the catalog repeats a parameter's name under many items). Empty when no item is
    chosen: then the equipment is not tied to items."""

    items = {item.pk for item in test_items}
    wanted = list(parameters)
    if not items or not wanted:
        return []
    inside = set(
        TestItemParameter.objects.filter(test_item_id__in=items, parameter_id__in=[p.pk for p in wanted]).values_list(
            "parameter_id", flat=True
        )
    )
    return [p for p in wanted if p.pk not in inside]


def _build(agency: Agency, kind: str, pk: int | None, data: dict[str, Any]) -> tuple[models.Model, dict[str, list]]:
    model = _kind_model(kind)
    if pk is not None:
        instance = model._default_manager.filter(agency=agency, pk=pk).first()  # type: ignore[misc]
        if instance is None:
            raise ValidationError(_("记录不存在。"))
    else:
        instance = model(agency=agency)
    m2m = _assign(instance, agency, data)
    instance.full_clean()
    if isinstance(instance, Equipment) and ("parameters" in m2m or "test_items" in m2m):
        items = m2m["test_items"] if "test_items" in m2m else (instance.test_items.all() if instance.pk else [])
        params = m2m["parameters"] if "parameters" in m2m else (instance.parameters.all() if instance.pk else [])
        outside = parameters_outside(items, params)
        if outside:
            names = "、".join(str(p.name) for p in outside)
            raise ValidationError({"parameters": [_("以下参数不属于所选检测项目：%(names)s。") % {"names": names}]})
    for name, values in m2m.items():
        field = instance._meta.get_field(name)
        if not values and not field.blank:  # type: ignore[union-attr]
            raise ValidationError({name: [_("至少选择一项。")]})
    return instance, m2m


def _people_keys(instance: models.Model) -> set[int]:
    """Agencies sharing an ID number or post-certificate number with ``instance``:
    the certificate-hanging checks of those agencies change too (T/CECS 7.2.2-1)."""

    if isinstance(instance, Staff):
        return set(Staff.objects.filter(id_number=instance.id_number).values_list("agency_id", flat=True))
    if isinstance(instance, PostCertificate):
        return set(PostCertificate.objects.filter(number=instance.number).values_list("agency_id", flat=True))
    return set()


def _apply_save(
    *, actor: User | None, agency: Agency, kind: str, pk: int | None, data: dict[str, Any], recompute: bool = True
) -> models.Model:
    instance, m2m = _build(agency, kind, pk, data)
    before = _people_keys(instance) if pk is not None else set()
    audit_stamp(instance, actor)
    instance.save()
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    if recompute:
        _recompute({agency.pk} | before | _people_keys(instance))
    return instance


def _apply_delete(*, actor: User | None, agency: Agency, kind: str, pk: int) -> None:
    model = _kind_model(kind)
    instance = model._default_manager.filter(agency=agency, pk=pk).first()  # type: ignore[misc]
    if instance is None:
        raise ValidationError(_("记录不存在。"))
    affected = {agency.pk} | _people_keys(instance)
    audit_stamp(instance, actor)
    if isinstance(instance, Staff):
        # People leave; their record stays for the history of the tests they did.
        if Signatory.objects.filter(staff=instance).exists():
            raise ValidationError(_("该人员是报告批准人，请先变更报告批准人。"))
        instance.active = False
        instance.left_on = timezone.localdate()
        instance.save(update_fields=["active", "left_on", "updated_at"])
    else:
        try:
            instance.delete()
        except models.ProtectedError as exc:
            raise ValidationError(_("该记录仍被其他记录引用，不能删除。")) from exc
    _recompute(affected)


def _apply_capability_set(
    *, actor: User | None, agency: Agency, site_id: int, test_item: str, parameters: list[str]
) -> None:
    site = Site.objects.filter(agency=agency, pk=site_id).first()
    if site is None:
        raise ValidationError({"site": [_("检测场所不存在。")]})
    item = TestItem.objects.filter(pk=test_item, enabled=True).first()
    if item is None:
        raise ValidationError({"test_item": [_("检测项目不存在。")]})
    links = {link.parameter_id: link for link in TestItemParameter.objects.filter(test_item=item)}
    unknown = [code for code in parameters if code not in links]
    if unknown:
        named = dict(Parameter.objects.filter(pk__in=unknown).values_list("pk", "name"))
        names = "、".join(named.get(code, code) for code in unknown)
        raise ValidationError({"parameters": [_("参数不属于该检测项目：%(names)s") % {"names": names}]})
    wanted = {links[code].pk for code in parameters}
    current = {c.item_parameter_id: c for c in SiteCapability.objects.filter(site=site, item_parameter__test_item=item)}
    for tip_id, capability in current.items():
        if tip_id not in wanted:
            audit_stamp(capability, actor)
            capability.delete()
    for tip_id in wanted - set(current):
        capability = SiteCapability(agency=agency, site=site, item_parameter_id=tip_id)
        audit_stamp(capability, actor)
        capability.save()
    _recompute([agency])


def _validate_capability_set(agency: Agency, site_id: int, test_item: str, parameters: list[str]) -> str:
    site = Site.objects.filter(agency=agency, pk=site_id).first()
    item = TestItem.objects.filter(pk=test_item, enabled=True).first()
    if site is None or item is None:
        raise ValidationError(_("检测场所或检测项目不存在。"))
    valid = set(TestItemParameter.objects.filter(test_item=item).values_list("parameter_id", flat=True))
    if set(parameters) - valid:
        raise ValidationError({"parameters": [_("参数不属于该检测项目。")]})
    return _("设置检测能力：%(site)s / %(item)s（%(n)d 个参数）") % {"site": site, "item": item, "n": len(parameters)}


def _change_request(*, actor: User, agency: Agency, operation: str, summary: str, payload: dict) -> ChangeRequest:
    request = ChangeRequest(
        agency=agency, operation=operation, summary=summary[:255], payload=jsonable(payload), applied_by=actor
    )
    request.full_clean()
    audit_stamp(request, actor)
    request.save()
    return request


def _store_uploads(
    actor: User, agency: Agency, data: dict[str, Any], uploads: dict[str, UploadedFile] | None
) -> dict[str, Any]:
    """Store each uploaded scan and put its attachment id into ``data`` under the field name."""

    data = dict(data)
    for name, upload in (uploads or {}).items():
        if upload is not None:
            try:
                data[name] = str(attachment_store(actor=actor, agency=agency, upload=upload).pk)
            except ValidationError as exc:
                raise ValidationError({name: exc.messages}) from exc
    return data


@transaction.atomic
def record_save(
    *,
    actor: User,
    agency: Agency,
    kind: str,
    data: dict[str, Any],
    pk: int | None = None,
    uploads: dict[str, UploadedFile] | None = None,
) -> models.Model | ChangeRequest:
    """Create (``pk=None``) or change one record of the agency. Key facts of an approved
    agency become a ``ChangeRequest`` (returned instead of the record). ``uploads`` are
    scans/photos by field name, stored as attachments first."""

    _require(actor, agency, "change")
    _require_editable(agency)
    data = _store_uploads(actor, agency, data, uploads)
    if kind in KEY_KINDS and agency.status == AgencyStatus.APPROVED:
        instance, _m2m = _build(agency, kind, pk, data)  # validate now: bad input is refused at once
        summary = _summary(kind, instance)
        return _change_request(
            actor=actor,
            agency=agency,
            operation="save",
            summary=summary,
            payload={"kind": kind, "pk": pk, "data": data},
        )
    return _apply_save(actor=actor, agency=agency, kind=kind, pk=pk, data=data)


@transaction.atomic
def record_delete(*, actor: User, agency: Agency, kind: str, pk: int) -> ChangeRequest | None:
    """Remove one record (staff are marked as having left). For key facts of an approved
    agency, and for a site that offers capabilities, this is a change request."""

    _require(actor, agency, "change")
    _require_editable(agency)
    model = _kind_model(kind)
    instance = model._default_manager.filter(agency=agency, pk=pk).first()  # type: ignore[misc]
    if instance is None:
        raise ValidationError(_("记录不存在。"))
    keyish = kind in KEY_KINDS or (kind == "site" and SiteCapability.objects.filter(site_id=pk).exists())
    if keyish and agency.status == AgencyStatus.APPROVED:
        return _change_request(
            actor=actor,
            agency=agency,
            operation="delete",
            summary=_summary(kind, instance, deleting=True),
            payload={"kind": kind, "pk": pk},
        )
    _apply_delete(actor=actor, agency=agency, kind=kind, pk=pk)
    return None


@transaction.atomic
def capability_set(
    *, actor: User, agency: Agency, site_id: int, test_item: str, parameters: list[str]
) -> ChangeRequest | None:
    """Set which parameters of one catalog test item a site offers (T/CECS 4.1.1-6); the
    specialty follows from the item. A key fact: re-reviewed once the agency is approved."""

    _require(actor, agency, "change")
    _require_editable(agency)
    parameters = sorted(set(parameters))
    summary = _validate_capability_set(agency, site_id, test_item, parameters)
    if agency.status == AgencyStatus.APPROVED:
        return _change_request(
            actor=actor,
            agency=agency,
            operation="capability_set",
            summary=summary,
            payload={"site_id": site_id, "test_item": test_item, "parameters": parameters},
        )
    _apply_capability_set(actor=actor, agency=agency, site_id=site_id, test_item=test_item, parameters=parameters)
    return None


# Named entry points (grep-able, STYLE.md 4).
def staff_save(*, actor: User, agency: Agency, data: dict[str, Any], pk: int | None = None) -> models.Model:
    return record_save(actor=actor, agency=agency, kind="staff", data=data, pk=pk)


def staff_leave(*, actor: User, agency: Agency, pk: int) -> None:
    record_delete(actor=actor, agency=agency, kind="staff", pk=pk)


def equipment_save(*, actor: User, agency: Agency, data: dict[str, Any], pk: int | None = None) -> models.Model:
    return record_save(actor=actor, agency=agency, kind="equipment", data=data, pk=pk)


def equipment_remove(*, actor: User, agency: Agency, pk: int) -> None:
    record_delete(actor=actor, agency=agency, kind="equipment", pk=pk)


def head_save(*, actor: User, agency: Agency, data: dict[str, Any], pk: int | None = None) -> models.Model:
    return record_save(actor=actor, agency=agency, kind="head", data=data, pk=pk)


def signatory_save(*, actor: User, agency: Agency, data: dict[str, Any], pk: int | None = None) -> models.Model:
    return record_save(actor=actor, agency=agency, kind="signatory", data=data, pk=pk)


def qualification_save(*, actor: User, agency: Agency, data: dict[str, Any], pk: int | None = None) -> models.Model:
    return record_save(actor=actor, agency=agency, kind="qualification", data=data, pk=pk)


# --- review -------------------------------------------------------------------------


def submission_problems(agency: Agency) -> list[str]:
    """What must be filled in before submitting (T/CECS 4.1.1; Guangdong 二(二)-(四))."""

    problems = []
    heads = set(AgencyHead.objects.filter(agency=agency).values_list("role", flat=True))
    for role in HeadRole:
        if role.value not in heads:
            problems.append(_("未填写%(role)s信息。") % {"role": role.label})
    if not QualificationCertificate.objects.filter(agency=agency).exists():
        problems.append(_("未填写资质证书信息。"))
    if not AgencyCertificate.objects.filter(agency=agency, kind=AgencyCertificateKind.CMA).exists():
        problems.append(_("未填写 CMA 证书信息（必填）。"))
    if not Site.objects.filter(agency=agency).exists():
        problems.append(_("未填写检测场所。"))
    if not agency.office_address or not agency.registered_address:
        problems.append(_("未填写登记地址或办公场所地址。"))
    return problems


@transaction.atomic
def agency_submit(*, actor: User, agency: Agency) -> Agency:
    """Submit for review (draft or returned → submitted)."""

    _require(actor, agency, "change")
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.status not in (AgencyStatus.DRAFT, AgencyStatus.RETURNED):
        raise ValidationError(_("当前状态不能提交审核。"))
    problems = submission_problems(agency)
    if problems:
        raise ValidationError(problems)
    agency.submit()
    audit_stamp(agency, actor, _("提交审核"))
    agency.save()
    AgencyReview.objects.create(agency=agency, action=ReviewAction.SUBMIT, actor=actor)
    return agency


def agency_snapshot(agency: Agency) -> dict[str, Any]:
    """The key facts as approved: identity, heads, qualification certificates,
    capabilities per site, signatories (private: holds personal data)."""

    return jsonable(
        {
            "agency": agency.pk,
            "name": agency.name,
            "credit_code": agency.credit_code,
            "registered_capital": agency.registered_capital,
            "region": agency.region_id,
            "heads": [
                {"role": h.role, "name": h.name, "id_number": h.id_number, "title": h.title}
                for h in AgencyHead.objects.filter(agency=agency).order_by("role")
            ],
            "qualifications": [
                {
                    "number": q.number,
                    "grade": q.grade,
                    "valid_until": q.valid_until,
                    "specialties": sorted(q.specialties.values_list("code", flat=True)),
                    "test_items": sorted(q.test_items.values_list("code", flat=True)),
                }
                for q in QualificationCertificate.objects.filter(agency=agency).order_by("number", "pk")
            ],
            "capabilities": [
                {"site": site_name, "test_item": item, "parameter": param}
                for site_name, item, param in SiteCapability.objects.filter(agency=agency)
                .order_by("site__name", "item_parameter__test_item_id", "item_parameter__parameter_id")
                .values_list("site__name", "item_parameter__test_item_id", "item_parameter__parameter_id")
            ],
            "signatories": [
                {
                    "staff": s.staff_id,
                    "name": s.staff.name,
                    "site": s.site_id,
                    "scope": sorted(s.scope.values_list("code", flat=True)),
                }
                for s in Signatory.objects.filter(agency=agency).select_related("staff").order_by("pk")
            ],
        }
    )


def critical_findings(agency: Agency) -> list[str]:
    """The agency's open critical conformity findings, each as "rule: subject (detail)"."""

    labels = dict(FindingRule.choices)
    rows = Finding.objects.filter(agency=agency, resolved_at__isnull=True, severity=Severity.CRITICAL).order_by(
        "rule", "subject", "pk"
    )
    return [f"{labels.get(f.rule, f.rule)}：{f.subject}" + (f"（{f.detail}）" if f.detail else "") for f in rows]


def _new_version(*, actor: User, agency: Agency) -> AgencyVersion:
    snapshot = agency_snapshot(agency)
    digest = hashlib.sha256(rfc8785.dumps(snapshot)).hexdigest()
    number = (AgencyVersion.objects.filter(agency=agency).aggregate(n=Max("number"))["n"] or 0) + 1
    version = AgencyVersion.objects.create(
        agency=agency, number=number, snapshot=snapshot, snapshot_sha256=digest, approved_by=actor
    )
    log_append(kind=RegistryLogKind.AGENCY_APPROVAL, record=version)
    return version


@transaction.atomic
def agency_approve(*, actor: User, agency: Agency, reason: str = "", confirm_findings: bool = False) -> Agency:
    """The registration region's authority approves (submitted → approved): version 1 of
    the key facts is recorded and logged; from now on the agency may operate.

    An agency with open critical conformity findings (``conformity.RULES``) is approved
    only once the reviewer confirms having seen them (``confirm_findings``); until then
    the refusal (field ``confirm``) names each finding."""

    _require(actor, agency, "review")
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.status != AgencyStatus.SUBMITTED:
        raise ValidationError(_("只有待审核的检测机构可以审核。"))
    if not confirm_findings:
        critical = critical_findings(agency)
        if critical:
            raise ValidationError(
                {
                    "confirm": [
                        _("该机构有 %(n)d 项严重不符合项：%(list)s。确认已核查后请勾选“确认审核通过”再提交。")
                        % {"n": len(critical), "list": "；".join(critical)}
                    ]
                }
            )
    agency.approve()
    audit_stamp(agency, actor, reason or _("审核通过"))
    agency.save()
    AgencyReview.objects.create(agency=agency, action=ReviewAction.APPROVE, actor=actor, reason=reason)
    _new_version(actor=actor, agency=agency)
    _recompute([agency])
    return agency


@transaction.atomic
def agency_return(*, actor: User, agency: Agency, reason: str) -> Agency:
    """Return with reasons (submitted → returned); the agency corrects and resubmits."""

    _require(actor, agency, "review")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写退回原因。")]})
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.status != AgencyStatus.SUBMITTED:
        raise ValidationError(_("只有待审核的检测机构可以退回。"))
    agency.return_for_changes(reason)
    audit_stamp(agency, actor, reason)
    agency.save()
    AgencyReview.objects.create(agency=agency, action=ReviewAction.RETURN, actor=actor, reason=reason)
    return agency


def _apply_change(change: ChangeRequest, actor: User) -> None:
    payload = change.payload
    agency = change.agency
    if change.operation == "save":
        _apply_save(actor=actor, agency=agency, kind=payload["kind"], pk=payload.get("pk"), data=payload["data"])
    elif change.operation == "delete":
        _apply_delete(actor=actor, agency=agency, kind=payload["kind"], pk=payload["pk"])
    elif change.operation == "basic":
        _basic_apply(actor=actor, agency=Agency.objects.select_for_update().get(pk=agency.pk), data=payload["data"])
    elif change.operation == "capability_set":
        _apply_capability_set(
            actor=actor,
            agency=agency,
            site_id=payload["site_id"],
            test_item=payload["test_item"],
            parameters=payload["parameters"],
        )
    else:  # pragma: no cover - operations are written by this module only
        raise ValidationError(_("未知的变更类型。"))


@transaction.atomic
def change_request_approve(*, actor: User, change: ChangeRequest, reason: str = "") -> ChangeRequest:
    """Approve a key-fact change: apply it and record (and log) the new version."""

    _require(actor, change.agency, "review")
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.status != ChangeRequestStatus.PENDING:
        raise ValidationError(_("该变更申请已处理。"))
    _apply_change(change, actor)
    change.approve(actor, reason)
    audit_stamp(change, actor, reason or _("审核通过"))
    change.save()
    AgencyReview.objects.create(
        agency=change.agency, action=ReviewAction.APPROVE, actor=actor, reason=reason, change_request=change
    )
    _new_version(actor=actor, agency=Agency.objects.get(pk=change.agency_id))
    return change


@transaction.atomic
def change_request_return(*, actor: User, change: ChangeRequest, reason: str) -> ChangeRequest:
    _require(actor, change.agency, "review")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写退回原因。")]})
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.status != ChangeRequestStatus.PENDING:
        raise ValidationError(_("该变更申请已处理。"))
    change.reject(actor, reason)
    audit_stamp(change, actor, reason)
    change.save()
    AgencyReview.objects.create(
        agency=change.agency, action=ReviewAction.RETURN, actor=actor, reason=reason, change_request=change
    )
    return change


# --- attachments --------------------------------------------------------------------


def attachment_store(*, actor: User, agency: Agency, upload: UploadedFile) -> StoredFile:
    """Store a scan or photo of the agency (``inspecta.core.files``, purpose ``scan``:
    PDF, JPEG and PNG, sniffed, up to ``INSPECTA_REGISTRY_MAX_UPLOAD_BYTES``); the name
    the client gives is kept for display, never trusted. A refusal is a
    ``ValidationError`` with the store's message."""

    _require(actor, agency, "change")
    try:
        return file_store(
            upload,
            organisation_id=agency.organisation_id,
            purpose="scan",
            name=upload.name or "",
            actor=actor,
        )
    except AppError as exc:
        raise ValidationError(exc.message, code=exc.code.value) from exc
