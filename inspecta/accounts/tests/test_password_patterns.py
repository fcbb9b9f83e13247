"""Passwords made only of the usual pieces of weak passwords of Chinese users are
refused with a plain-Chinese message (GB/T 22239 level 2: password complexity)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

WEAK = [
    "Admin@123",
    "Abc@1234",
    "Passw0rd!",
    "P@ssw0rd",
    "1qaz@WSX",
    "Qwer1234!",
    "Zhangwei1988!",
    "Woaini520!",
    "Wangli@888",
    "Lisi@5201314",
    "Admin#2024",
    "Liming@19900101",
    "Aa123456!",
]
STRONG = ["Fresh#Pass77", "Tr0ub4dor&3", "Gz!R3port#Lab", "My$ecretBridge", "Inspecta#2026"]


@pytest.mark.parametrize("password", WEAK)
def test_usual_patterns_are_refused(password: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert "password_common_pattern" in [e.code for e in exc.value.error_list]
    assert any("密码过于常见" in m for m in exc.value.messages)


@pytest.mark.parametrize("password", STRONG)
def test_other_passwords_pass(password: str) -> None:
    validate_password(password)
