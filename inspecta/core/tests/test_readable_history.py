"""The change history speaks the clerk's language: field labels, choice labels, 是/否,
a related record by its name, one date format (never ``draft``, ``False`` or ``ID 1``)."""

from __future__ import annotations

import re

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.reports.testing import approved_agency

pytestmark = pytest.mark.django_db


def _history_cells(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<td class="text-(?:danger|success)">(.*?)</td>', html, re.S)
    ]


def test_the_agency_history_shows_labels_and_display_values(client, tree):
    agency, admin, _made = approved_agency(tree, 781)
    login_verified(client, admin)
    html = client.get(f"/registry/{agency.pk}/history/").content.decode()
    cells = _history_cells(html)
    assert cells
    assert "已通过" in cells or any("通过" in c for c in cells)  # the status by its label
    for raw in ("draft", "submitted", "approved", "False", "True"):
        assert raw not in cells, raw
    assert not any(re.fullmatch(r"ID \d+", c) for c in cells), cells
    assert str(agency.region) in cells and agency.organisation.name in cells  # related records by name
    assert not any("年" in c and "月" in c for c in cells)  # one date format: 2026-01-31 09:30:00
    assert "否" in cells  # a boolean as 是/否


CITATION = re.compile(r"T/CECS|南昌|广西|附件\s*2|GB/T|建质|第[一二三四五六七八九十]+条")


def _text(html: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_pages_cite_no_clauses_and_the_public_agency_page_speaks_chinese(client, tree):
    agency, _admin, _made = approved_agency(tree, 782)
    public = _text(client.get(f"/agencies/{agency.pk}/").content.decode())
    assert "有效" in public and "未登记" in public  # CMA valid, no CNAS
    assert not re.search(r"\b(valid|missing|expired)\b", public), public
    assert not CITATION.search(_text(client.get("/agencies/").content.decode()))
    login_verified(client, tree["gd_admin"])
    for url in ("/reports/", "/projects/", "/registry/findings/", "/regions/", "/catalog/"):
        response = client.get(url)
        assert response.status_code == 200, url
        found = CITATION.search(_text(response.content.decode()))
        assert found is None, (url, found and found.group(0))


def test_the_report_page_names_parameters(client, tree):
    from inspecta.reports import services
    from inspecta.reports.testing import project_with, submission

    agency, admin, made = approved_agency(tree, 783)
    project = project_with(tree, [agency], code="RV-P1")
    report = services.report_submit(actor=admin, **submission(agency, made, project, "RV-R1"))
    login_verified(client, admin)
    text = _text(client.get(f"/reports/{report.pk}/").content.decode())
    assert not re.search(r"IP-\d{4}", text)
    assert "凝结时间" in text or "胶砂强度" in text
