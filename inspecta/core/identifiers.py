"""Check characters of the national identifiers the registry records.

- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a
  31-character alphabet (no I, O, Z, S, V); the last is a mod-31 check character.
- Citizen ID number (公民身份号码), GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2
  check character (``X`` stands for 10); digits 7-14 are the date of birth.

The check characters are computed by python-stdnum (``stdnum.cn.uscc``,
``stdnum.cn.ric``); the structure rules here are ours: a credit code's first two
characters may be letters of the alphabet (GB 32100 registration authority and entity
type codes such as ``Y``), which ``uscc.validate`` refuses, and a citizen ID's region
code is not looked up in stdnum's county list, which lags behind new districts.

Used by the agency registry (T/CECS 4.1.1-1, -2, -4; Guangdong 附件2 二(一), 二(六)).
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric, uscc

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""

    if len(first17) != 17:
        raise ValueError("17 characters expected")
    return uscc.calc_check_digit(first17)


def credit_code_is_valid(value: str) -> bool:
    value = (value or "").strip().upper()
    if len(value) != 18 or any(c not in CREDIT_CODE_ALPHABET for c in value):
        return False
    if not value[2:8].isdigit():  # the registration authority's region code
        return False
    return credit_code_check_char(value[:17]) == value[17]


def validate_credit_code(value: str) -> None:
    if not credit_code_is_valid(value):
        raise ValidationError(
            _("统一社会信用代码不正确（须为 18 位，末位校验码须符合 GB 32100）。"), code="invalid_credit_code"
        )


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""

    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("17 digits expected")
    return ric.calc_check_digit(first17 + "0")  # stdnum's argument includes a check character


def id_number_is_valid(value: str) -> bool:
    value = (value or "").strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return False
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if birth.year < 1900 or birth > datetime.date.today():
        return False
    return id_number_check_char(value[:17]) == value[17]


def validate_id_number(value: str) -> None:
    if not id_number_is_valid(value):
        raise ValidationError(
            _("身份证号码不正确（须为 18 位，出生日期有效，末位校验码须符合 GB 11643）。"), code="invalid_id_number"
        )


def validate_mobile(value: str) -> None:
    if value and not (len(value) == 11 and value.isdigit() and value.startswith("1")):
        raise ValidationError(_("手机号码须为 11 位数字。"), code="invalid_mobile")


POSTCODE = re.compile(r"^\d{6}$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^(?:\(0\d{2,3}\)|0\d{2,3}-?)?[1-9]\d{6,7}(?:-\d{1,6})?$")
SERVICE_NUMBER = re.compile(r"^[48]00-?\d{3}-?\d{4}$")


def validate_postcode(value: str) -> None:
    """A mainland postcode (邮政编码): six digits."""

    if value and not POSTCODE.match(value):
        raise ValidationError(_("邮政编码须为 6 位数字。"), code="invalid_postcode")


def validate_phone(value: str) -> None:
    """A mainland telephone number: a mobile (11 digits from 13-19), a landline with
    its area code (``020-12345678``, ``(0755)1234567``, an extension after ``-``), or a
    400/800 service number. Spaces are ignored."""

    compact = value.replace(" ", "")
    if value and not (MOBILE.match(compact) or LANDLINE.match(compact) or SERVICE_NUMBER.match(compact)):
        raise ValidationError(
            _("电话号码格式不正确：请填写手机号码或带区号的固定电话（如 020-12345678）。"), code="invalid_phone"
        )


def validate_not_future(value: datetime.date | None) -> None:
    """A date that cannot lie ahead (a founding date, a date of birth)."""

    from django.utils import timezone

    if value and value > timezone.localdate():
        raise ValidationError(_("日期不能晚于今天。"), code="date_in_future")
