"""Printable labels for label printers: sample tags and electronic seals (T/CECS 2.0.6,
2.0.16, 4.3.4-1; Nanchang 四(二)1, 四(四)2).

A tag label (样品标识) carries the QR a phone scans to load the sample (Nanchang 四(四)2:
扫描试块二维码，加载样品信息), the sample's unique code in large type and a few lines
(project, part, item, date). A seal label carries the ``SEAL1:`` text of the electronic
seal as a QR, for the agency to check offline on receipt (4.3.4-1).

One label per page, the page the size of the label (``INSPECTA_LABEL_SIZE_MM``, default
50 × 30 mm; ``INSPECTA_SEAL_LABEL_SIZE_MM``, default 70 × 50 mm), so a label printer
prints them as they come. QR modules are drawn as filled rectangles (sharp at any printer
resolution); Chinese text uses the PDF viewer's built-in CID font ``STSong-Light``
(nothing embedded). The output is deterministic: the same labels give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import segno
from django.conf import settings
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

__all__ = ["TagLabel", "seal_label_pdf", "tag_labels_pdf"]

CJK_FONT = "STSong-Light"
CODE_FONT = "Helvetica-Bold"
MARGIN = 1.5 * mm
QR_BORDER = 2
"""Quiet zone in modules drawn inside the QR square; the label's white margin adds to it
(ISO/IEC 18004 asks for 4, readers do with less on a clean white label)."""
SEAL_QR_ERROR = "m"
"""Error correction of the seal QR: ``M`` (15 %) keeps a seal of a few hundred
characters near version 15 (77 modules), about 0.55 mm a module on a 70 × 50 mm label,
which a phone and ``zbarimg`` at 300 dpi read; ``H`` would need version 22 or more."""


@dataclass(frozen=True)
class TagLabel:
    """One sample tag to print.

    ``tag_id`` is the text the QR carries (the tag identifier a phone scans); ``code``
    the sample's unique code, printed large; ``title`` a heading (e.g. the sample
    name); ``lines`` a few short lines (project, part, item, date).
    """

    tag_id: str
    code: str
    title: str = ""
    lines: Sequence[str] = field(default_factory=tuple)


def _register_fonts() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _size(setting: str, default: tuple[float, float]) -> tuple[float, float]:
    width, height = getattr(settings, setting, default)
    return float(width) * mm, float(height) * mm


def _canvas(out: io.BytesIO, size: tuple[float, float], title: str) -> Canvas:
    _register_fonts()
    canvas = Canvas(out, pagesize=size, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("Inspecta")
    canvas.setProducer("Inspecta")
    return canvas


def _draw_qr(canvas: Canvas, qr: segno.QRCode, x: float, y: float, side: float) -> None:
    """The QR (with :data:`QR_BORDER`) in the square of ``side`` at ``(x, y)``, bottom-left."""
    matrix = qr.matrix
    modules = len(matrix) + 2 * QR_BORDER
    unit = side / modules
    canvas.setFillGray(1)
    canvas.rect(x, y, side, side, stroke=0, fill=1)
    canvas.setFillGray(0)
    path = canvas.beginPath()
    top = y + side
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # one rectangle per run of dark modules; a hair wider so runs of adjacent
            # rows leave no white seam when rasterised
            path.rect(x + (start + QR_BORDER) * unit, top - (r + QR_BORDER + 1) * unit, (c - start) * unit, unit * 1.01)
    canvas.drawPath(path, stroke=0, fill=1)


def _font_for(text: str) -> str:
    return CODE_FONT if text.isascii() else CJK_FONT


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (by character: Chinese has no
    spaces to break at)."""
    lines, current = [], ""
    for ch in text:
        if current and pdfmetrics.stringWidth(current + ch, font, size) > width:
            lines.append(current)
            current = ch.lstrip()
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


def _fit(text: str, font: str, largest: float, smallest: float, width: float) -> float:
    """The largest size between ``smallest`` and ``largest`` at which ``text`` fits ``width``."""
    natural = pdfmetrics.stringWidth(text, font, 1) or 1
    return max(smallest, min(largest, width / natural))


def _draw_column(
    canvas: Canvas,
    *,
    x: float,
    top: float,
    bottom: float,
    width: float,
    code: str,
    title: str,
    lines: Sequence[str],
    code_size: float,
    text_size: float,
) -> None:
    """Title, code (when given: as large as fits, wrapped if even the smallest size is
    too wide) and the lines, top down; what does not fit above ``bottom`` is left out."""
    y = top
    if title:
        for part in _wrap(title, CJK_FONT, text_size + 0.5, width)[:2]:
            y -= (text_size + 0.5) * 1.15
            canvas.setFont(CJK_FONT, text_size + 0.5)
            canvas.drawString(x, y, part)
        y -= text_size * 0.3
    if code:
        font = _font_for(code)
        size = _fit(code, font, code_size, text_size + 1, width)
        for part in _wrap(code, font, size, width):
            y -= size * 1.05
            canvas.setFont(font, size)
            canvas.drawString(x, y, part)
        y -= text_size * 0.4
    canvas.setFont(CJK_FONT, text_size)
    for line in lines:
        for part in _wrap(line, CJK_FONT, text_size, width):
            if y - text_size * 1.2 < bottom:
                return
            y -= text_size * 1.2
            canvas.drawString(x, y, part)


def tag_labels_pdf(labels: Sequence[TagLabel]) -> bytes:
    """A PDF with one page per tag label, each page the size of the label
    (``INSPECTA_LABEL_SIZE_MM``): the code in large type across the top, below it the
    QR of ``tag_id`` on the left and the title and lines on the right (T/CECS 2.0.6,
    4.3.4-1). ``ValueError`` for no labels (a PDF has at least one page)."""
    if not labels:
        raise ValueError("no labels to print")
    width, height = _size("INSPECTA_LABEL_SIZE_MM", (50, 30))
    out = io.BytesIO()
    canvas = _canvas(out, (width, height), "样品标识")
    for label in labels:
        font = _font_for(label.code)
        size = _fit(label.code, font, min(16, height * 0.22), 6, width - 2 * MARGIN)
        canvas.setFont(font, size)
        canvas.drawString(MARGIN, height - MARGIN - size * 0.8, label.code)
        top = height - MARGIN - size * 0.8 - 1 * mm
        side = min(top - MARGIN, width * 0.5)
        qr = segno.make(label.tag_id, error="m", micro=False)
        _draw_qr(canvas, qr, MARGIN, top - side, side)
        column_x = MARGIN + side + 1 * mm
        _draw_column(
            canvas,
            x=column_x,
            top=top,
            bottom=MARGIN,
            width=width - column_x - MARGIN,
            code="",
            title=label.title,
            lines=label.lines,
            code_size=0,
            text_size=5.5,
        )
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def seal_label_pdf(seal_text: str, *, code: str, lines: Sequence[str]) -> bytes:
    """A one-page PDF the size of a seal label (``INSPECTA_SEAL_LABEL_SIZE_MM``): the
    QR of the ``SEAL1:`` text on the left, full height, error correction
    :data:`SEAL_QR_ERROR` (alphanumeric mode: base45 and the prefix are its alphabet);
    the sample's code and the lines on the right (T/CECS 2.0.16, 4.3.4-1)."""
    width, height = _size("INSPECTA_SEAL_LABEL_SIZE_MM", (70, 50))
    out = io.BytesIO()
    canvas = _canvas(out, (width, height), "电子封志")
    side = min(height - 2 * MARGIN, width * 0.66)
    qr = segno.make(seal_text, error=SEAL_QR_ERROR, micro=False, boost_error=False)
    _draw_qr(canvas, qr, MARGIN, (height - side) / 2, side)
    column_x = MARGIN + side + 1 * mm
    _draw_column(
        canvas,
        x=column_x,
        top=height - MARGIN,
        bottom=MARGIN,
        width=width - column_x - MARGIN,
        code=code,
        title="电子封志",
        lines=lines,
        code_size=10,
        text_size=5.5,
    )
    canvas.showPage()
    canvas.save()
    return out.getvalue()
