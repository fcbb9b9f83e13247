"""Unique sample codes (T/CECS 2.0.5 样品唯一性编码; 57号令 第十九条).

A code is the project's region (GB/T 2260, six digits), the year, a six-digit sequence
per region and year and one check character: Luhn mod 32 over the same alphabet as the
report verification codes (``reports.codes.check_character``), so a mistyped digit is
caught before any lookup. Printed as ``360102-2026-000001-7``.
"""

from __future__ import annotations

from inspecta.core.counters import sequence_next
from inspecta.reports.codes import check_character

__all__ = ["COUNTER", "display", "is_well_formed", "normalise", "sample_code", "sample_code_next"]

CODE_LENGTH = 6 + 4 + 6 + 1
COUNTER = "sample_code"
"""The numbering's name in ``core.SequenceCounter`` (scope: the region code)."""


def sample_code(region_code: str, year: int, sequence: int) -> str:
    body = f"{region_code}{year:04d}{sequence:06d}"
    return body + check_character(body)


def normalise(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and code[:-1].isdigit() and check_character(code[:-1]) == code[-1]


def display(code: str) -> str:
    return f"{code[:6]}-{code[6:10]}-{code[10:16]}-{code[16:]}" if len(code) == CODE_LENGTH else code


def sample_code_next(region_code: str, year: int) -> str:
    """The next code of ``region_code`` and ``year``, taken under the counter's row lock
    inside the recording transaction (``core.counters``; a rolled-back recording gives
    its number back)."""

    return sample_code(region_code, year, sequence_next(COUNTER, region_code, year))
