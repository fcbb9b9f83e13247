"""National identifier checks (GB 32100, GB 11643): check characters from python-stdnum,
structure rules and zh-hans messages ours."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from inspecta.core.identifiers import (
    credit_code_check_char,
    credit_code_is_valid,
    id_number_check_char,
    id_number_is_valid,
    validate_credit_code,
    validate_id_number,
)

VALID_CREDIT_CODES = [
    "91350100M000100Y43",  # GB 32100 published example
    "91110000600037341L",  # python-stdnum's example
    "91110000600037341l",  # lower case is read as upper case
    " 91350100M000100Y43 ",  # surrounding blanks are ignored
    "Y1440100MA5ABCDE0E",  # registration authority Y (其他), which stdnum's validate() refuses
]
INVALID_CREDIT_CODES = [
    "91350100M000100Y44",  # wrong check character
    "91110000600037341M",
    "91350100M000100Y4",  # 17 characters
    "91350100M000100Y433",  # 19 characters
    "91350100M000100I43",  # I is not in the alphabet
    "913501O0M000100Y43",  # the region code must be digits
    "",
    "9135-0100M000100Y4",
]

VALID_ID_NUMBERS = ["11010519491231002X", "11010519491231002x", "440106199003071231"]
INVALID_ID_NUMBERS = [
    "110105194912310021",  # wrong check character
    "110105194913310028",  # month 13
    "11010518991231002X",  # born before 1900
    "11010519491231002",  # 17 characters
    "1101051949123100AX",  # letters among the digits
    "",
]


@pytest.mark.parametrize("value", VALID_CREDIT_CODES)
def test_valid_credit_codes(value):
    assert credit_code_is_valid(value)
    validate_credit_code(value)


@pytest.mark.parametrize("value", INVALID_CREDIT_CODES)
def test_invalid_credit_codes(value):
    assert not credit_code_is_valid(value)
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(value)
    assert caught.value.code == "invalid_credit_code"
    assert caught.value.messages == ["统一社会信用代码不正确（须为 18 位，末位校验码须符合 GB 32100）。"]


@pytest.mark.parametrize("value", VALID_ID_NUMBERS)
def test_valid_id_numbers(value):
    assert id_number_is_valid(value)
    validate_id_number(value)


@pytest.mark.parametrize("value", INVALID_ID_NUMBERS)
def test_invalid_id_numbers(value):
    assert not id_number_is_valid(value)
    with pytest.raises(ValidationError) as caught:
        validate_id_number(value)
    assert caught.value.code == "invalid_id_number"
    assert caught.value.messages == ["身份证号码不正确（须为 18 位，出生日期有效，末位校验码须符合 GB 11643）。"]


def test_id_number_born_in_the_future_is_refused():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    first17 = f"440106{tomorrow:%Y%m%d}123"
    assert not id_number_is_valid(first17 + id_number_check_char(first17))


def test_check_characters():
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert id_number_check_char("11010519491231002") == "X"
    with pytest.raises(ValueError):
        credit_code_check_char("91350100M000100Y")
    with pytest.raises(ValueError):
        id_number_check_char("1101051949123100")
