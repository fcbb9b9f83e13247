"""Printable tag and seal labels (T/CECS 2.0.6, 4.3.4-1; Nanchang 四(四)2): one page per
label at the configured size, a QR that zbarimg reads back from a 300 dpi rendering, the
text on the page, the same bytes for the same labels."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm

from inspecta.sampling.labels import TagLabel, seal_label_pdf, tag_labels_pdf

needs_tools = pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="zbar-tools/poppler not installed"
)

LABELS = [
    TagLabel(
        tag_id=f"TAG-3601-000123-{n}",
        code="3601002026SY000123",
        title=f"混凝土抗压试块 {n}/3",
        lines=["赣江新区某住宅项目二期工程", "3#楼 5层 梁板", "C30 抗压", "2026-05-12"],
    )
    for n in (1, 2, 3)
]


def scan_pages(pdf: bytes, tmp_path) -> list[str]:
    """What zbarimg reads on each page rendered at 300 dpi, in page order."""
    (tmp_path / "labels.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(tmp_path / "labels.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    decoded = []
    for png in pages:
        result = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
        decoded.append(result.stdout.rstrip("\n"))
    return decoded


def page_size_mm(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width) / mm, 1), round(float(p.mediabox.height) / mm, 1))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


@needs_tools
def test_each_tag_label_page_scans_to_its_tag(tmp_path):
    pdf = tag_labels_pdf(LABELS)
    assert page_size_mm(pdf) == [(50.0, 30.0)] * 3
    assert scan_pages(pdf, tmp_path) == [label.tag_id for label in LABELS]


def test_the_tag_label_shows_the_code_title_and_lines():
    text = PdfReader(io.BytesIO(tag_labels_pdf(LABELS[:1]))).pages[0].extract_text()
    flat = text.replace("\n", "")
    for part in ("3601002026SY000123", "混凝土抗压试块 1/3", "3#楼 5层 梁板", "C30 抗压", "2026-05-12"):
        assert part in flat, (part, text)


def test_labels_are_deterministic():
    assert tag_labels_pdf(LABELS) == tag_labels_pdf(LABELS)
    assert tag_labels_pdf(LABELS) != tag_labels_pdf(LABELS[:2])
    seal = "SEAL1:" + "6BFOXN*TS0BI$ZD-PHQ7I9AD66V5B22CH9M9ESI9XBHXK-%69LQOGI.*V76GCV4*XUA2P-FHT-HNTI4L6N$Q%UG/YL"
    assert seal_label_pdf(seal, code="X1", lines=["甲"]) == seal_label_pdf(seal, code="X1", lines=["甲"])


@needs_tools
def test_sizes_follow_the_settings(settings, tmp_path):
    settings.INSPECTA_LABEL_SIZE_MM = (60, 40)
    settings.INSPECTA_SEAL_LABEL_SIZE_MM = (100, 70)
    pdf = tag_labels_pdf(LABELS[:2])
    assert page_size_mm(pdf) == [(60.0, 40.0)] * 2
    assert scan_pages(pdf, tmp_path) == [LABELS[0].tag_id, LABELS[1].tag_id]
    assert page_size_mm(seal_label_pdf("SEAL1:ABC", code="X1", lines=[])) == [(100.0, 70.0)]


@needs_tools
def test_a_long_seal_text_scans_from_the_seal_label(tmp_path):
    """The longest seal a sample produces in practice (six tags, six photos, long
    dimensions): about 700 characters, still read at 300 dpi from a 70 × 50 mm label."""
    body = "".join("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[(i * 7) % 45] for i in range(690))
    seal = "SEAL1:" + body
    pdf = seal_label_pdf(seal, code="3601002026SY000123", lines=["赣江新区某住宅项目二期工程", "2026-05-12 09:30"])
    assert page_size_mm(pdf) == [(70.0, 50.0)]
    assert scan_pages(pdf, tmp_path) == [seal]


def test_no_labels_is_refused():
    with pytest.raises(ValueError):
        tag_labels_pdf([])
