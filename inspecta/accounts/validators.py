"""Password rules beyond Django's (GB/T 22239 level 2: complexity)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least ``min_classes`` of: lower-case, upper-case, digits, other characters."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {"n": self.min_classes}


# --- the usual patterns of weak passwords of Chinese users --------------------------

_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "3": "e", "1": "i", "$": "s", "5": "s", "7": "t"})
COMMON_WORDS = frozenset(
    [
        "admin",
        "administrator",
        "root",
        "user",
        "guest",
        "test",
        "demo",
        "system",
        "sys",
        "super",
        "superuser",
        "manager",
        "master",
        "password",
        "passwd",
        "pass",
        "pwd",
        "login",
        "welcome",
        "hello",
        "letmein",
        "secret",
        "default",
        "changeme",
        "abc",
        "qwerty",
        "iloveyou",
        "love",
        "lover",
        "monkey",
        "dragon",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "shadow",
        "trustno",
        "michael",
        "jordan",
        "ilove",
        "china",
        "woaini",
        "aini",
        "nihao",
        "zhongguo",
        "beijing",
        "shanghai",
        "guangzhou",
        "shenzhen",
        "tianjin",
        "chongqing",
        "baobei",
        "laopo",
        "laogong",
        "qq",
        "weixin",
        "wechat",
        "mima",
        "yonghu",
        "guanli",
        "guanliyuan",
        "ceshi",
    ]
)
"""English words and pinyin words that users put in front of digits (the letters of a
password are also refused when they are only pinyin syllables: a name or a phrase)."""

_INITIALS = [
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "zh",
    "ch",
    "sh",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
]
_FINALS = [
    "a",
    "o",
    "e",
    "i",
    "u",
    "v",
    "ai",
    "ei",
    "ao",
    "ou",
    "an",
    "en",
    "ang",
    "eng",
    "ong",
    "er",
    "ia",
    "ie",
    "iao",
    "iu",
    "ian",
    "in",
    "iang",
    "ing",
    "iong",
    "ua",
    "uo",
    "uai",
    "ui",
    "uan",
    "un",
    "uang",
    "ue",
    "ve",
    "van",
]
PINYIN = frozenset(
    {i + f for i in _INITIALS for f in _FINALS}
    | {"a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "er"}
    | {"yi", "ya", "ye", "yao", "you", "yan", "yin", "yang", "ying", "yong", "wu", "wa", "wo", "wai", "wei", "wan"}
    | {"wen", "wang", "weng", "yu", "yue", "yuan", "yun"}
)
_KEYBOARD_ROWS = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "!@#$%^&*()_+")
_KEYBOARD_COLUMNS = ("1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/")
_WALKS = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    *_KEYBOARD_ROWS,
    "".join(_KEYBOARD_COLUMNS),
    "1q2w3e4r5t6y7u8i9o0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "zaq1xsw2cde3vfr4bgt5",
    "qweasdzxc",
    "1qaz2wsx3edc4rfv",
)
LUCKY = ("5201314", "1314520", "1314", "520", "521", "168", "666", "888", "999", "886", "119", "110")


def _walk(text: str) -> bool:
    """A keyboard or alphabet walk (forwards or backwards), or one character repeated."""

    if len(set(text)) == 1:
        return True
    return any(text in w or text[::-1] in w for w in _WALKS)


def _pieces(text: str, is_piece: Any) -> bool:
    """Whether ``text`` splits entirely into pieces accepted by ``is_piece`` (DP)."""

    ok = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        ok[end] = any(ok[start] and is_piece(text[start:end]) for start in range(max(0, end - 12), end))
    return ok[len(text)]


def _weak_digits(text: str) -> bool:
    def piece(p: str) -> bool:
        if len(p) <= 2:
            return len(p) == 2 and (p[0] == p[1] or abs(ord(p[0]) - ord(p[1])) == 1)
        return (
            _walk(p)
            or p in LUCKY
            or (len(p) == 4 and p[:2] in ("19", "20"))  # a year
            or (len(p) == 4 and 1 <= int(p[:2]) <= 12 and 1 <= int(p[2:]) <= 31)  # a date: mmdd
            or (len(p) == 6 and 1 <= int(p[2:4]) <= 12 and 1 <= int(p[4:]) <= 31)  # yymmdd
            or (len(p) == 8 and p[:2] in ("19", "20") and 1 <= int(p[4:6]) <= 12 and 1 <= int(p[6:]) <= 31)
        )

    return len(text) <= 4 or _pieces(text, piece)


def _weak_letters(text: str) -> bool:
    return _walk(text) or _pieces(text, lambda p: p in COMMON_WORDS or p in PINYIN or (len(p) >= 3 and _walk(p)))


def weak_pattern(password: str) -> bool:
    """Whether the password is only the usual pieces: words (English, pinyin, names),
    keyboard walks, digit runs (123, 888, 520, 1314, years, dates) and symbols, as in
    ``Admin@123``, ``Abc@1234``, ``Passw0rd!``, ``1qaz@WSX``, ``Zhangwei1988!``."""

    lower = password.lower()
    # look-alike digits and symbols inside a word are its letters (p@ssw0rd)
    chars = list(lower)
    for i in range(1, len(chars) - 1):
        if chars[i - 1].isalpha() and chars[i + 1].isalpha():
            chars[i] = chars[i].translate(_LEET)
    text = "".join(chars)
    if _walk(text) or _walk(re.sub(r"[^a-z0-9]", "", text)):
        return True
    for run in re.findall(r"[a-z]+|[0-9]+|[^a-z0-9]+", text):
        if run[0].isalpha():
            if not _weak_letters(run):
                return False
        elif run[0].isdigit():
            if not _weak_digits(run):
                return False
        elif len(run) >= 4 and not _walk(run):
            return False  # a real run of symbols
    return True


class PatternPasswordValidator:
    """Refuses a password made only of the usual pieces of weak passwords of Chinese
    users (GB/T 22239-2019 8.1.4.1 a: passwords of sufficient complexity), which pass the
    length and character-class rules: ``Admin@123``, ``Abc@1234``, ``Passw0rd!``."""

    def validate(self, password: str, user: Any = None) -> None:
        if weak_pattern(password):
            raise ValidationError(
                _(
                    "密码过于常见：不要只用常见单词、拼音或姓名、键盘上相邻的键，"
                    "加上 123、888、520、年份或生日这类数字和符号。"
                ),
                code="password_common_pattern",
            )

    def get_help_text(self) -> str:
        return _("密码不能只由常见单词、拼音、键盘相邻键、常见数字（如 123、888、年份）和符号组成。")
