"""Excel template, import and export of staff and equipment.

An import validates every row and reports each error by row number and column
header; nothing is saved unless every row is valid (one transaction). A row whose ID
number (staff) or equipment number (equipment) already exists in the agency updates
that record; other rows create one.
"""

from __future__ import annotations

import datetime
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from inspecta.accounts.models import User
from inspecta.core.errors import AppError
from inspecta.core.files import file_read, file_store
from inspecta.core.masking import Audience, mask_id_number, mask_mobile
from inspecta.core.models import Parameter, Specialty

from . import services
from .choices import Education, EquipmentStatus, Gender, ImportJobStatus, TitleLevel
from .models import Agency, Equipment, ImportJob, PostCertificate, Site, Staff

logger = logging.getLogger(__name__)

MAX_ROWS = 5000
PROGRESS_EVERY = 50  # rows between two progress writes of a background job
MAX_BYTES = 5 * 1024 * 1024
SPLIT = re.compile(r"[、,，;；\s]+")


@dataclass(frozen=True)
class Column:
    key: str  # model field, or "pc_*" for the staff row's post certificate
    header: str
    required: bool = False
    choices: type[models.TextChoices] | None = None
    kind: str = "text"  # text, date, int, multi_specialty, multi_parameter, site, specialty


STAFF_COLUMNS = [
    Column("name", "姓名", True),
    Column("gender", "性别", choices=Gender),
    Column("id_number", "身份证号码", True),
    Column("mobile", "手机号码"),
    Column("education", "学历", choices=Education),
    Column("major", "专业"),
    Column("title", "职称"),
    Column("title_level", "职称等级", choices=TitleLevel),
    Column("title_certificate_no", "职称证书号"),
    Column("post", "职务/岗位"),
    Column("hired_on", "入职日期", kind="date"),
    Column("years_in_testing", "从事检测工作年限", kind="int"),
    Column("site", "所在检测场所", kind="site"),
    Column("specialties", "从事检测专项", kind="multi_specialty"),
    Column("pc_number", "上岗证编号"),
    Column("pc_category", "上岗证检测类别", kind="specialty"),
    Column("pc_valid_until", "上岗证有效期至", kind="date"),
    Column("pc_issuer", "上岗证发证机关"),
]

EQUIPMENT_COLUMNS = [
    Column("asset_no", "设备编号", True),
    Column("name", "设备名称", True),
    Column("equipment_type", "设备类型"),
    Column("model", "规格型号"),
    Column("serial_no", "出厂编号"),
    Column("manufacturer", "生产厂家"),
    Column("measuring_range", "测量范围"),
    Column("accuracy", "准确度等级/不确定度"),
    Column("calibration_body", "检定/校准机构"),
    Column("calibration_interval_months", "检定/校准周期（月）", kind="int"),
    Column("calibrated_on", "检定/校准日期", kind="date"),
    Column("calibration_valid_until", "检定/校准有效期至", kind="date"),
    Column("site", "检测场所", kind="site"),
    Column("parameters", "检测参数", kind="multi_parameter"),
    Column("status", "设备状态", choices=EquipmentStatus),
]

KINDS = {"staff": STAFF_COLUMNS, "equipment": EQUIPMENT_COLUMNS}
TITLES = {"staff": "检测人员", "equipment": "仪器设备"}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _columns(kind: str) -> list[Column]:
    if kind not in KINDS:
        raise ValidationError(_("只能导入检测人员或仪器设备。"))
    return KINDS[kind]


def template_workbook(kind: str) -> bytes:
    """The import template: the header row, drop-downs for coded columns, and a sheet
    explaining each column."""

    columns = _columns(kind)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = TITLES[kind]
    sheet.append([c.header + ("*" if c.required else "") for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 2)
        if column.choices is not None:
            options = ",".join(str(label) for label in column.choices.labels)
            validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    notes = book.create_sheet("说明")
    notes.append(["列", "说明"])
    for column in columns:
        hint = {
            "date": "日期，如 2025-06-30",
            "int": "整数",
            "site": "本机构已登记的检测场所名称",
            "multi_specialty": "检测专项编码或名称，多个用顿号分隔，如 SP01、SP02",
            "specialty": "检测专项编码或名称，如 SP01",
            "multi_parameter": "检测参数编码（见资质目录），多个用顿号分隔，如 IP-0001、IP-0002",
        }.get(column.kind, "")
        if column.choices is not None:
            hint = "可选：" + "、".join(str(label) for label in column.choices.labels)
        notes.append([column.header + ("（必填）" if column.required else ""), hint])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse(column: Column, value: Any, agency: Agency) -> Any:
    text = _cell_text(value)
    if not text:
        if column.required:
            raise ValidationError(_("必填。"))
        if column.kind.startswith("multi_"):
            return []
        return None if column.kind in ("date", "int", "site", "specialty") or column.choices else ""
    if column.choices is not None:
        for choice_value, label in column.choices.choices:
            if text in (str(label), str(choice_value)):
                return choice_value
        raise ValidationError(
            _("取值须为：%(options)s") % {"options": "、".join(str(label) for label in column.choices.labels)}
        )
    if column.kind == "date":
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(text.replace("/", "-"))
        except ValueError as exc:
            raise ValidationError(_("日期格式须为 2025-06-30。")) from exc
    if column.kind == "int":
        if not text.isdigit():
            raise ValidationError(_("须为整数。"))
        return int(text)
    if column.kind == "site":
        site = Site.objects.filter(agency=agency, name=text).first()
        if site is None:
            raise ValidationError(_("本机构没有名为“%(name)s”的检测场所。") % {"name": text})
        return site.pk
    if column.kind in ("specialty", "multi_specialty"):
        codes = []
        for token in SPLIT.split(text) if column.kind == "multi_specialty" else [text]:
            found = Specialty.objects.filter(models.Q(code=token.upper()) | models.Q(name=token)).first()
            if found is None:
                raise ValidationError(_("检测专项“%(v)s”不存在。") % {"v": token})
            codes.append(found.code)
        return codes if column.kind == "multi_specialty" else codes[0]
    if column.kind == "multi_parameter":
        tokens = [t.upper() for t in SPLIT.split(text) if t]
        known = set(Parameter.objects.filter(code__in=tokens).values_list("code", flat=True))
        unknown = [t for t in tokens if t not in known]
        if unknown:
            raise ValidationError(_("检测参数编码不存在：%(v)s") % {"v": "、".join(unknown)})
        return tokens
    return text


def _read_rows(upload: Any) -> list[tuple[int, list[Any]]]:
    if getattr(upload, "size", 0) and upload.size > MAX_BYTES:
        raise ValidationError(_("文件过大：不能超过 5 MB。"))
    try:
        book = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError(_("无法读取文件：请上传由模板填写的 .xlsx 文件。")) from exc
    sheet = book.worksheets[0]
    rows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number == 1:
            continue
        if not any(_cell_text(v) for v in values):
            continue
        rows.append((number, list(values)))
        if len(rows) > MAX_ROWS:
            raise ValidationError(_("一次最多导入 %(n)d 行。") % {"n": MAX_ROWS})
    book.close()
    return rows


@dataclass
class _ValidRow:
    """A row that passed every check, ready to save."""

    number: int
    data: dict[str, Any]
    pk: int | None  # the agency's record it updates; None creates one
    certificate: dict[str, Any] | None = None  # the staff row's post certificate


def import_rows(
    *,
    actor: User,
    agency: Agency,
    kind: str,
    upload: Any,
    progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
) -> ImportResult:
    """Validate every row of an uploaded workbook; save all rows, or none."""

    columns = _columns(kind)
    services._require(actor, agency, "change")
    services._require_editable(agency)
    result = ImportResult()
    rows = _validate_rows(agency, kind, columns, progress(_read_rows(upload)), result.errors)
    if not rows and not result.errors:
        result.errors.append(RowError(0, "", _("文件中没有数据行。")))
    if result.errors:
        return result
    _save_rows(actor, agency, kind, rows, result)
    return result


def _validate_rows(
    agency: Agency, kind: str, columns: list[Column], rows: Iterable[Any], errors: list[RowError]
) -> list[_ValidRow]:
    """Parse and check each row, in order, adding every problem to ``errors`` by row
    number and column header; the rows without one are returned."""

    valid: list[_ValidRow] = []
    seen: dict[str, int] = {}
    by_field = {c.key: c.header for c in columns}
    unique_key = "id_number" if kind == "staff" else "asset_no"
    for number, values in rows:
        data = _parse_cells(agency, columns, number, values, errors)
        if data is None:
            continue
        key = str(data[unique_key]).upper() if kind == "staff" else str(data[unique_key])
        data[unique_key] = key
        if key in seen:
            errors.append(RowError(number, by_field[unique_key], _("与第 %(n)d 行重复。") % {"n": seen[key]}))
            continue
        seen[key] = number
        certificate, certificate_ok = _split_certificate(kind, number, data, errors)
        data = _drop_blanks(kind, data)
        pk = _match_existing(agency, kind, unique_key, key)
        record_ok = _check_record(agency, kind, number, pk, data, by_field, errors)
        if certificate_ok and record_ok:
            valid.append(_ValidRow(number, data, pk, certificate if certificate.get("number") else None))
    return valid


def _parse_cells(
    agency: Agency, columns: list[Column], number: int, values: list[Any], errors: list[RowError]
) -> dict[str, Any] | None:
    """The row's values by column key, each parsed by its column (``_parse``); None when
    a cell is invalid (its errors added)."""

    data: dict[str, Any] = {}
    row_ok = True
    for index, column in enumerate(columns):
        raw = values[index] if index < len(values) else None
        try:
            data[column.key] = _parse(column, raw, agency)
        except ValidationError as exc:
            row_ok = False
            for message in exc.messages:
                errors.append(RowError(number, column.header, message))
    return data if row_ok else None


def _split_certificate(
    kind: str, number: int, data: dict[str, Any], errors: list[RowError]
) -> tuple[dict[str, Any], bool]:
    """Take the ``pc_*`` cells out of ``data`` as the staff row's post certificate; a
    certificate partly filled in lacks a required cell (False, errors added)."""

    certificate = {k[3:]: data.pop(k) for k in list(data) if k.startswith("pc_")}
    ok = True
    if kind == "staff" and any(certificate.values()):
        for name, header in (
            ("number", "上岗证编号"),
            ("category", "上岗证检测类别"),
            ("valid_until", "上岗证有效期至"),
        ):
            if not certificate.get(name):
                errors.append(RowError(number, header, _("填写上岗证时必填。")))
                ok = False
    return certificate, ok


def _drop_blanks(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Blank cells are left out of the record's data (a blank site is kept, as none);
    a blank status or title level keeps the model's default."""

    data = {k: v for k, v in data.items() if v is not None or k in ("site",)}
    if kind == "equipment" and not data.get("status"):
        data.pop("status", None)
    if kind == "staff" and not data.get("title_level"):
        data.pop("title_level", None)
    return data


def _match_existing(agency: Agency, kind: str, unique_key: str, key: str) -> int | None:
    """The agency's record with the row's ID number (staff) or equipment number
    (equipment), which the row updates; None: the row creates one."""

    model = Staff if kind == "staff" else Equipment
    existing = model._default_manager.filter(agency=agency, **{unique_key: key}).first()  # type: ignore[misc]
    return existing.pk if existing is not None else None


def _check_record(
    agency: Agency,
    kind: str,
    number: int,
    pk: int | None,
    data: dict[str, Any],
    by_field: dict[str, str],
    errors: list[RowError],
) -> bool:
    """The record the row would save, checked as the registry form checks it
    (``services._build``); False with its errors added by column header."""

    try:
        services._build(agency, kind, pk, data)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                errors.append(RowError(number, by_field.get(name, name), message))
        return False
    return True


def _save_rows(actor: User, agency: Agency, kind: str, rows: list[_ValidRow], result: ImportResult) -> None:
    """Save every row and its post certificate in one transaction (all or none), then
    recompute the affected people keys once; counts created and updated records."""

    with transaction.atomic():
        affected: set[int] = {agency.pk}
        for row in rows:
            instance = services._apply_save(
                actor=actor, agency=agency, kind=kind, pk=row.pk, data=row.data, recompute=False
            )
            affected |= services._people_keys(instance)
            if row.certificate:
                certificate = row.certificate
                current = PostCertificate.objects.filter(staff_id=instance.pk, number=certificate["number"]).first()
                saved = services._apply_save(
                    actor=actor,
                    agency=agency,
                    kind="post_certificate",
                    pk=current.pk if current else None,
                    data={"staff": instance.pk, **{k: v for k, v in certificate.items() if v}},
                    recompute=False,
                )
                affected |= services._people_keys(saved)
            if row.pk is None:
                result.created += 1
            else:
                result.updated += 1
        services._recompute(affected)


def count_rows(upload: Any) -> int:
    """Data rows of an uploaded workbook (raises ``ValidationError`` when unreadable);
    the upload is rewound for the import."""

    count = len(_read_rows(upload))
    upload.seek(0)
    return count


def import_job_create(*, actor: User, agency: Agency, kind: str, upload: Any) -> ImportJob:
    """Store the workbook (``inspecta.core.files``, purpose ``workbook``) and queue a
    background import."""

    _columns(kind)
    services._require(actor, agency, "change")
    services._require_editable(agency)
    try:
        workbook = file_store(
            upload,
            organisation_id=agency.organisation_id,
            purpose="workbook",
            name=getattr(upload, "name", "") or "import.xlsx",
            actor=actor,
        )
    except AppError as exc:
        raise ValidationError(exc.message, code=exc.code.value) from exc
    job = ImportJob.objects.create(agency=agency, kind=kind, workbook=workbook, created_by=actor)
    from .tasks import registry_import_run

    registry_import_run(job.pk)
    return job


def import_job_run(job_id: int) -> ImportJob:
    """Run a queued import job: the importer with a progress callback that records the
    processed rows every ``PROGRESS_EVERY`` rows; the job ends succeeded or failed with
    the errors by row and column."""

    job = ImportJob.objects.select_related("agency", "created_by", "workbook").get(pk=job_id)
    if job.status != ImportJobStatus.QUEUED:
        return job
    job.status = ImportJobStatus.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at", "updated_at"])

    def progress(rows: Iterable[Any]) -> Iterable[Any]:
        items = list(rows)
        job.total_rows = len(items)
        job.processed_rows = 0
        job.save(update_fields=["total_rows", "processed_rows", "updated_at"])
        for done, item in enumerate(items, start=1):
            yield item
            if done % PROGRESS_EVERY == 0 or done == len(items):
                job.processed_rows = done
                job.save(update_fields=["processed_rows", "updated_at"])

    errors: list[dict[str, Any]]
    try:
        if job.created_by is None:
            raise ValidationError(_("导入人已不存在。"))
        result = import_rows(
            actor=job.created_by,
            agency=job.agency,
            kind=job.kind,
            upload=io.BytesIO(file_read(job.workbook)),
            progress=progress,
        )
    except ValidationError as exc:
        errors = [{"row": 0, "column": "", "message": message} for message in exc.messages]
        job.status = ImportJobStatus.FAILED
    except Exception:
        logger.exception("registry import job %s failed", job.pk)
        errors = [{"row": 0, "column": "", "message": _("导入时发生内部错误，未保存任何数据。")}]
        job.status = ImportJobStatus.FAILED
    else:
        errors = [{"row": e.row, "column": e.column, "message": str(e.message)} for e in result.errors]
        job.status = ImportJobStatus.SUCCEEDED if result.ok else ImportJobStatus.FAILED
        job.created_count = result.created
        job.updated_count = result.updated
    job.errors = errors
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "created_count", "updated_count", "finished_at", "updated_at"])
    return job


def export_workbook(*, agency: Agency, kind: str, audience: Audience) -> bytes:
    """The agency's staff or equipment in the template's layout; personal numbers
    masked for ``audience``."""

    columns = _columns(kind)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = TITLES[kind]
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    if kind == "staff":
        for staff in (
            Staff.objects.filter(agency=agency, active=True)
            .select_related("site")
            .prefetch_related("specialties", "post_certificates")
        ):
            cert = staff.post_certificates.all()[0] if staff.post_certificates.all() else None
            sheet.append(
                [
                    staff.name,
                    staff.get_gender_display() if staff.gender else "",
                    mask_id_number(staff.id_number, audience),
                    mask_mobile(staff.mobile, audience),
                    staff.get_education_display() if staff.education else "",
                    staff.major,
                    staff.title,
                    staff.get_title_level_display(),
                    staff.title_certificate_no,
                    staff.post,
                    staff.hired_on,
                    staff.years_in_testing,
                    staff.site.name if staff.site else "",
                    "、".join(s.code for s in staff.specialties.all()),
                    cert.number if cert else "",
                    cert.category_id if cert else "",
                    cert.valid_until if cert else None,
                    cert.issuer if cert else "",
                ]
            )
    else:
        for item in Equipment.objects.filter(agency=agency).select_related("site").prefetch_related("parameters"):
            sheet.append(
                [
                    item.asset_no,
                    item.name,
                    item.equipment_type,
                    item.model,
                    item.serial_no,
                    item.manufacturer,
                    item.measuring_range,
                    item.accuracy,
                    item.calibration_body,
                    item.calibration_interval_months,
                    item.calibrated_on,
                    item.calibration_valid_until,
                    item.site.name if item.site else "",
                    "、".join(p.code for p in item.parameters.all()),
                    item.get_status_display(),
                ]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
