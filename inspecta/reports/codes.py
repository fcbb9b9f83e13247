"""Verification codes, QR codes and stamping (CONTRACT §6; T/CECS 4.1.2; Guangdong 附件2
二(十四); Nanchang 三(一)).

A verification code is 16 Crockford base32 characters (80 random bits from ``secrets``)
plus one check character computed with the Luhn mod N algorithm over the same 32-symbol
alphabet. Luhn mod N with even N detects every single mistyped character (the doubling
step is a permutation of the alphabet) and most adjacent transpositions, so a typo is
told apart from an unknown code without a database lookup.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

import segno
from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
N = len(ALPHABET)
BODY_LENGTH = 16  # 16 x 5 bits = 80 random bits
CODE_LENGTH = BODY_LENGTH + 1
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Crockford's decoding aliases: what a reader may type for a look-alike symbol.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
SERIAL_COUNTER = "report_serial"
"""The serial numbers' name in ``core.SequenceCounter`` (scope: the issuing region)."""


def check_character(body: str) -> str:
    """Luhn mod 32 check character of ``body`` (symbols of ``ALPHABET``)."""

    factor = 2
    total = 0
    for ch in reversed(body):
        addend = factor * _VALUE[ch]
        factor = 1 if factor == 2 else 2
        total += addend // N + addend % N
    return ALPHABET[(N - total % N) % N]


def new_verification_code() -> str:
    # 80 random bits from one call, five per symbol: uniform like 16 ``secrets.choice``
    # draws, at a fraction of the cost on the batch submission path.
    bits = int.from_bytes(secrets.token_bytes(BODY_LENGTH * 5 // 8), "big")
    body = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(BODY_LENGTH))
    return body + check_character(body)


def normalise(code: str) -> str:
    """Upper case, hyphens and spaces removed, Crockford look-alikes mapped."""

    return code.strip().upper().replace("-", "").replace(" ", "").translate(_ALIASES)


def is_well_formed(code: str) -> bool:
    """Length, alphabet and check character are right (a typo is caught here)."""

    if len(code) != CODE_LENGTH or any(ch not in _VALUE for ch in code):
        return False
    return check_character(code[:-1]) == code[-1]


def display(code: str) -> str:
    """``XXXX-XXXX-XXXX-XXXX-C`` for printing."""

    return "-".join([code[0:4], code[4:8], code[8:12], code[12:16], code[16:]])


def serial_number(region_code: str, year: int, serial_no: int) -> str:
    """统一流水号: issuing region, year and the per-region-year sequence (Nanchang 三(一))."""

    return f"{region_code}{year:04d}{serial_no:07d}"


def verification_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/v/{code}"


def qr(code: str) -> segno.QRCode:
    return segno.make(verification_url(code), error="m", micro=False)


def qr_svg(code: str) -> bytes:
    out = io.BytesIO()
    qr(code).save(out, kind="svg", scale=4, border=4, xmldecl=True)
    return out.getvalue()


def qr_png(code: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr(code).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def stamp_pdf(pdf: bytes, *, code: str, serial: str, size_pt: float = 90.0, margin_pt: float = 18.0) -> bytes:
    """The report PDF with the serial number and QR drawn on the top-right corner of its
    first page. The QR modules are filled rectangles in a content stream appended to the
    page (the original streams are wrapped in ``q``/``Q`` and left unchanged underneath).

    Deterministic: the same PDF, code, serial and ``PUBLIC_BASE_URL`` give the same
    bytes (no time, no random file id), so the stamped copy registered with a version
    (``services.stamped_copies``) is the one handed out."""

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    page = writer.pages[0]
    box = page.mediabox
    width, height = float(box.width), float(box.height)
    left0, bottom0 = float(box.left), float(box.bottom)
    matrix = [list(row) for row in qr(code).matrix]
    border = 4
    modules = len(matrix) + 2 * border
    unit = size_pt / modules
    x0 = left0 + width - margin_pt - size_pt
    y_top = bottom0 + height - margin_pt
    ops = ["Q", "q", "1 g", f"{x0:.3f} {y_top - size_pt:.3f} {size_pt:.3f} {size_pt:.3f} re f", "0 g"]
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x = x0 + (c + border) * unit
                y = y_top - (r + border + 1) * unit
                ops.append(f"{x:.3f} {y:.3f} {unit:.3f} {unit:.3f} re")
    ops.append("f")
    text = serial.encode("ascii", "replace").decode("ascii").replace("(", "").replace(")", "").replace("\\", "")
    ops.append(f"BT /InspectaF1 8 Tf {x0:.3f} {y_top - size_pt - 10:.3f} Td (No. {text}) Tj ET")
    ops.append("Q")

    def stream_of(data: bytes) -> Any:
        stream = DecodedStreamObject()
        stream.set_data(data)
        return writer._add_object(stream)

    # the page's own resources (an inherited dictionary is copied onto the page)
    resources = page.get("/Resources")
    resources = DictionaryObject() if resources is None else DictionaryObject(resources.get_object())
    fonts = resources.get("/Font")
    fonts = DictionaryObject() if fonts is None else DictionaryObject(fonts.get_object())
    fonts[NameObject("/InspectaF1")] = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    resources[NameObject("/Font")] = fonts
    page[NameObject("/Resources")] = resources
    contents = page.get("/Contents")
    existing: list[Any] = []
    if contents is not None:
        raw = page.raw_get("/Contents")
        existing = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [raw]
    page[NameObject("/Contents")] = ArrayObject(
        [stream_of(b"q\n"), *existing, stream_of("\n".join(ops).encode("ascii"))]
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
