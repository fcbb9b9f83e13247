"""The witness record (见证取样记录; 57号令 第十八条; T/CECS 4.3.4-2; Nanchang 四(一)、四(四)1)
generated from what was recorded, confirmed and logged: the people, the times, the
place, the tags, the key images and both confirmations (factor, the SHA-256 confirmed,
the signature's fingerprint), with a QR of the sample's page. The PDF is a pure
rendering of the stored records (``invariant`` reportlab output: the same records give
the same bytes), so it is produced whenever it is asked for and never goes stale.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import segno
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from inspecta.core.files import file_read

from .choices import PhotoKind
from .codes import display
from .labels import CJK_FONT, _draw_qr, _register_fonts, _wrap
from .models import Commission, Sample

__all__ = ["commission_pdf", "commission_url", "witness_record_pdf"]

_FACTORS = {"passkey": "通行密钥（指纹/面容）", "totp": "动态口令"}


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("ascii", "replace")).hexdigest()[:16] if text else "—"


def witness_record_pdf(sample: Sample) -> bytes:
    """The witness record of a sealed ``sample`` as an A4 PDF."""

    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"见证取样记录 {sample.code}")
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    y = height - 20 * mm

    canvas.setFont(CJK_FONT, 18)
    canvas.drawString(left, y, _("见证取样记录"))
    url = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/sampling/{sample.pk}/"
    _draw_qr(canvas, segno.make(url, error="m"), right - 28 * mm, height - 40 * mm, 28 * mm)
    y -= 9 * mm
    canvas.setFont(CJK_FONT, 11)
    canvas.drawString(left, y, _("样品编码：%(c)s") % {"c": display(sample.code)})
    y -= 10 * mm

    seal = getattr(sample, "seal", None)
    rows = [
        (_("工程项目"), f"{sample.project.name}（{sample.project.code}）"),
        (_("工程部位"), sample.part),
        (_("检测项目"), sample.test_item.name),
        (_("批号/代表批量"), sample.batch or "—"),
        (_("试件数量/规格"), f"{sample.count} · {sample.dimensions or '—'}"),
        (_("样品描述"), sample.description or "—"),
        (_("送检机构"), sample.agency.name),
        (_("取样时间"), _local(sample.sampled_at)),
        (
            _("取样位置"),
            f"{sample.latitude}, {sample.longitude}"
            + (f"（距项目 {sample.distance_m} 米）" if sample.distance_m is not None else ""),
        ),
        (_("样品标识"), "、".join(sample.specimens.order_by("number").values_list("tag_id", flat=True))),
    ]
    for c in sample.confirmations.select_related("person").order_by("at", "pk"):
        rows.append(
            (
                c.get_step_display(),
                f"{c.person.full_name} · {_local(c.at)} · {_FACTORS.get(c.factor, c.factor)} · "
                f"{_('确认摘要')} {c.challenge[:16]}… · {_('签名指纹')} {_fingerprint(c.proof.get('signature', ''))}",
            )
        )
    if seal is not None:
        rows.append((_("电子封志"), f"{_('签名密钥')} {seal.kid} · {_('封志指纹')} {_fingerprint(seal.text)}"))
    batch = sample.concrete_batch
    if batch is not None:
        rows.append(
            (
                _("混凝土进场"),
                f"{batch.strength_grade} · {batch.volume_m3} m³ · {batch.get_curing_display()} · {batch.producer} · "
                f"{_local(batch.arrived_at)}" + (f" · {_('坍落度')} {batch.slump_mm} mm" if batch.slump_mm else ""),
            )
        )
    for e in sample.custody_events.filter(confirmed_at__isnull=False).select_related("recorded_by", "to_person"):
        who = e.recorded_by.full_name + (f" → {e.to_person.full_name}" if e.to_person else "")
        rows.append((e.get_kind_display(), f"{_local(e.at)} · {who}" + (f" · {e.room}" if e.room else "")))
    rows.append((_("记录摘要（SHA-256）"), sample.record_sha256))

    label_width = 34 * mm
    for label, value in rows:
        lines = _wrap(str(value), CJK_FONT, 10, right - left - label_width) or [""]
        canvas.setFont(CJK_FONT, 10)
        canvas.drawString(left, y, str(label))
        for line in lines:
            canvas.drawString(left + label_width, y, line)
            y -= 5.5 * mm
        y -= 1.5 * mm

    photos = list(sample.photos.filter(kind__in=[PhotoKind.SPECIMEN, PhotoKind.PLACARD]).order_by("pk")[:4])
    if photos:
        y -= 2 * mm
        canvas.setFont(CJK_FONT, 11)
        canvas.drawString(left, y, _("关键影像"))
        y -= 4 * mm
        side = (right - left - 3 * 4 * mm) / 4
        for i, p in enumerate(photos):
            x = left + i * (side + 4 * mm)
            try:
                canvas.drawImage(
                    ImageReader(io.BytesIO(file_read(p.file))), x, y - side, side, side, preserveAspectRatio=True
                )
            except Exception:
                canvas.rect(x, y - side, side, side)
            canvas.setFont(CJK_FONT, 8)
            canvas.drawString(x, y - side - 4 * mm, f"{p.get_kind_display()} {p.sha256[:12]}")
        y -= side + 8 * mm

    canvas.setFont(CJK_FONT, 8)
    canvas.drawString(left, 14 * mm, _("本记录由平台根据已存证的取样、确认和封样数据生成，可在平台核验。"))
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def commission_pdf(commission: Commission) -> bytes:
    """The printable commission (检测委托单; 57号令 第二十条; Nanchang 四(四)1) as an A4 PDF:
    the number, the project, the agency, each sample with its test item and parameters,
    the deliverer and the witness with their confirmations, the record's SHA-256, and a
    QR of the commission's page. A pure rendering of the stored records."""

    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"检测委托单 {commission.number}")
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    y = height - 20 * mm

    canvas.setFont(CJK_FONT, 18)
    canvas.drawString(left, y, _("建设工程质量检测委托单"))
    _draw_qr(canvas, segno.make(commission_url(commission), error="m"), right - 32 * mm, height - 44 * mm, 32 * mm)
    y -= 9 * mm
    canvas.setFont(CJK_FONT, 11)
    canvas.drawString(left, y, _("委托单编号：%(n)s") % {"n": commission.number})
    if commission.lims_number:
        y -= 6 * mm
        canvas.drawString(left, y, _("检测机构系统编号：%(n)s") % {"n": commission.lims_number})
    y -= 12 * mm

    rows: list[tuple[str, str]] = [
        (_("工程项目"), f"{commission.project.name}（{commission.project.code}）"),
        (_("检测机构"), commission.agency.name),
        (_("送样人"), commission.deliverer.full_name),
        (_("见证人"), commission.witness.full_name if commission.witness else "—"),
        (_("填写时间"), _local(commission.created_at)),
        (_("状态"), str(commission.get_status_display())),
        (_("备注"), commission.notes or "—"),
    ]
    for line in commission.lines.select_related("sample", "test_item").order_by("pk"):
        detail = f"{line.test_item.name}"
        if line.parameters:
            detail += " · " + "、".join(line.parameters)
        detail += f" · {line.sample.part} · {line.sample.count}"
        rows.append((_("样品 %(c)s") % {"c": display(line.sample.code)}, detail))
    for c in commission.confirmations.select_related("person").order_by("at", "pk"):
        rows.append(
            (
                c.get_step_display(),
                f"{c.person.full_name} · {_local(c.at)} · {_FACTORS.get(c.factor, c.factor)} · "
                f"{_('确认摘要')} {c.challenge[:16]}… · {_('签名指纹')} {_fingerprint(c.proof.get('signature', ''))}",
            )
        )
    rows.append((_("记录摘要（SHA-256）"), commission.record_sha256))

    label_width = 40 * mm
    for label, value in rows:
        lines = _wrap(str(value), CJK_FONT, 10, right - left - label_width) or [""]
        canvas.setFont(CJK_FONT, 10)
        canvas.drawString(left, y, str(label))
        for text in lines:
            canvas.drawString(left + label_width, y, text)
            y -= 5.5 * mm
        y -= 1.5 * mm
        if y < 30 * mm:
            canvas.showPage()
            y = height - 20 * mm

    y -= 6 * mm
    canvas.setFont(CJK_FONT, 10)
    canvas.drawString(left, y, _("送样人签字："))
    canvas.drawString(left + 80 * mm, y, _("见证人签字："))
    canvas.setFont(CJK_FONT, 8)
    canvas.drawString(left, 14 * mm, _("本委托单由平台根据已存证的委托和确认数据生成，扫描二维码可在平台核验。"))
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def commission_url(commission: Commission) -> str:
    """The address of the commission's page, printed as the QR of its form."""

    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/sampling/commissions/{commission.pk}/"
