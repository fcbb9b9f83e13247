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
