r"""Text rules: invisible characters, full-width forms, whitespace, names and codes.

Rule ids (stable; findings and quality metrics count by them):

- ``invisible``: zero-width characters, BOM, soft hyphen, direction marks and
  control characters removed;
- ``width``: full-width forms folded to ASCII (text: letters and digits only,
  so Chinese prose keeps its full-width punctuation; names: everything but the
  round brackets; codes: everything);
- ``whitespace``: NBSP, ideographic space (U+3000) and other spaces made ASCII,
  runs collapsed, ends trimmed (codes: all whitespace removed);
- ``name.bracket``: round brackets in names made the full-width Chinese pair
  U+FF08 and U+FF09, the form enterprise names are registered with in China;
- ``name.cjk_space``: spaces between Chinese characters (and the brackets) in
  names removed; spaces between Latin words stay;
- ``name.middle_dot``: look-alikes of the middle dot in transliterated names
  (``・``, ``•``, ``‧``...) made ``·`` (U+00B7);
- ``code.case``: letters in codes upper-cased (credit codes, ID check ``x``).

Each rule that changes a value yields one finding whose ``old`` is the value
before that rule and ``new`` the value after it, so a field's findings chain
from the raw value to the clean one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Final

from governance._clean_base import (
    CODE_WIDTH,
    INVISIBLE,
    INVISIBLE_CHARS,
    NAME_WIDTH,
    NO_FINDINGS,
    SPACE_CHARS,
    SPACES,
    TEXT_WIDTH,
    Finding,
)

__all__ = ["clean_code", "clean_name", "clean_text"]

_Step = Callable[[str], str]
_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_PAIR: Final = "\uff08\uff09"  # the full-width round brackets of registered names
_ODD = re.escape(INVISIBLE_CHARS + SPACE_CHARS)

# Conservative "anything to do?" scans: a miss would skip a rule, so each is a superset
# of what its rules change (a test checks every rule against them on arbitrary text).
_TEXT_SUSPECT: Final = re.compile(f"[{_ODD}\r\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]|\\s\\s")
_NAME_SUSPECT: Final = re.compile(
    f"[{_ODD}\r\n\uff01-\uff07\uff0a-\uff5e()\ufe59\ufe5a\u30fb\u2022\u2027\uff65\u2219]|\\s\\s| [{_CJK}{_PAIR}]"
)
_CODE_SUSPECT: Final = re.compile(f"[{_ODD}\\s\uff01-\uff5ea-z]")

_HSPACE_RUN: Final = re.compile(r"[ \t]+")
_AROUND_NEWLINE: Final = re.compile(r" *\n *")
_SPACE_RUN: Final = re.compile(r"\s+")
_ANY_SPACE: Final = re.compile(r"\s+")
_CJK_SPACE: Final = re.compile(f"(?<=[{_CJK}{_PAIR}]) (?=[{_CJK}{_PAIR}])")
_BRACKETS: Final = str.maketrans({"(": "\uff08", ")": "\uff09", "\ufe59": "\uff08", "\ufe5a": "\uff09"})
_UPPER_ASCII: Final = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_MIDDLE_DOTS: Final = str.maketrans(dict.fromkeys("\u30fb\u2022\u2027\uff65\u2219", "\u00b7"))


def _invisible(value: str) -> str:
    return value.translate(INVISIBLE)


def _text_whitespace(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").translate(SPACES)
    value = _HSPACE_RUN.sub(" ", value)
    return _AROUND_NEWLINE.sub("\n", value).strip()


def _line_whitespace(value: str) -> str:
    return _SPACE_RUN.sub(" ", value.translate(SPACES)).strip()


def _no_whitespace(value: str) -> str:
    return _ANY_SPACE.sub("", value.translate(SPACES))


_TEXT_STEPS: Final[tuple[tuple[str, _Step], ...]] = (
    ("invisible", _invisible),
    ("width", lambda v: v.translate(TEXT_WIDTH)),
    ("whitespace", _text_whitespace),
)
_NAME_STEPS: Final[tuple[tuple[str, _Step], ...]] = (
    ("invisible", _invisible),
    ("width", lambda v: v.translate(NAME_WIDTH)),
    ("whitespace", _line_whitespace),
    ("name.bracket", lambda v: v.translate(_BRACKETS)),
    ("name.cjk_space", lambda v: _CJK_SPACE.sub("", v)),
    ("name.middle_dot", lambda v: v.translate(_MIDDLE_DOTS)),
)
_CODE_STEPS: Final[tuple[tuple[str, _Step], ...]] = (
    ("invisible", _invisible),
    ("width", lambda v: v.translate(CODE_WIDTH)),
    ("whitespace", _no_whitespace),
    ("code.case", lambda v: v.translate(_UPPER_ASCII)),
)


def _apply(steps: tuple[tuple[str, _Step], ...], value: str, field: str) -> tuple[str, tuple[Finding, ...]]:
    findings: list[Finding] = []
    for rule, step in steps:
        new = step(value)
        if new != value:
            findings.append(Finding(rule, field, value, new))
            value = new
    return value, tuple(findings)


def _untouched(suspect: re.Pattern[str], value: str) -> bool:
    """Whether no rule can change ``value``: nothing suspect inside, no whitespace at either end."""
    return suspect.search(value) is None and not value[:1].isspace() and not value[-1:].isspace()


def clean_text(value: str, field: str = "") -> tuple[str, tuple[Finding, ...]]:
    r"""Free text (facts, addresses, titles): invisible characters, full-width letters and digits, whitespace.

    Line breaks inside the text are kept (``\r\n`` becomes ``\n``); spaces around them are dropped.
    """
    if _untouched(_TEXT_SUSPECT, value):
        return value, NO_FINDINGS
    return _apply(_TEXT_STEPS, value, field)


def clean_name(value: str, field: str = "") -> tuple[str, tuple[Finding, ...]]:
    """A name of an enterprise, organisation or person: one line, canonical brackets, no spaces between hanzi."""
    if _untouched(_NAME_SUSPECT, value):
        return value, NO_FINDINGS
    return _apply(_NAME_STEPS, value, field)


def clean_code(value: str, field: str = "") -> tuple[str, tuple[Finding, ...]]:
    """A code or identifier (credit code, ID number, matter code): half-width, no whitespace, upper case."""
    if _CODE_SUSPECT.search(value) is None:
        return value, NO_FINDINGS
    return _apply(_CODE_STEPS, value, field)
