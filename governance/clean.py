"""Cleaning and standardisation of incoming field values, each correction recorded as a finding.

Every cleaner takes the raw text and the field name and returns the clean value
with the findings (rule, field, old value, new value) of what it changed; a
value that is already clean comes back with no findings, and cleaning a clean
value again changes nothing. A value that cannot be cleaned without guessing
(an impossible date, a negative amount, an unknown enumeration value) raises
:class:`CleaningError`, whose reason goes into the record's quarantine entry.

A column mapping names a *kind* per field and :class:`RowCleaner` applies them:

========================  ===========================  =====================================
kind                      value                        cleaner
========================  ===========================  =====================================
``text``                  ``str``                      :func:`clean_text`
``name``                  ``str``                      :func:`clean_name`
``code``                  ``str``                      :func:`clean_code`
``date``                  ``datetime.date``            :func:`clean_date`
``datetime``              aware ``datetime`` (UTC+8)   :func:`clean_datetime`
``amount``                ``Decimal`` 元, 2 decimals   :func:`clean_amount`
``enum:<name>``           the code (``str``)           :data:`ENUMERATIONS` ``[name]``
========================  ===========================  =====================================

For the typed kinds (all but text, name and code) an empty or blank value is
``None``: whether a field is required is validation's business, not cleaning's.

Decisions: brackets in names become the full-width Chinese pair U+FF08/U+FF09, the
form the market regulator registers enterprise names in, so an ASCII ``(`` in a
department export is the variant, not the standard; free text keeps its Chinese
full-width punctuation and only folds full-width letters and digits; instants
without an offset are China Standard Time. File bytes are decoded by
:func:`decode_bytes` (UTF-8 with or without BOM, UTF-16 with BOM, GB18030/GBK).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from governance._clean_amounts import clean_amount, to_fen
from governance._clean_base import CHINA_TZ, INVISIBLE, NO_FINDINGS, SPACES, CleaningError, Finding
from governance._clean_dates import clean_date, clean_datetime, parse_instant
from governance._clean_encoding import DecodedText, EncodingError, decode_bytes, read_text_file
from governance._clean_enums import ENUMERATIONS, Enumeration
from governance._clean_text import clean_code, clean_name, clean_text

__all__ = [
    "CHINA_TZ",
    "ENUMERATIONS",
    "KINDS",
    "CleanValue",
    "CleanedRow",
    "CleaningError",
    "DecodedText",
    "EncodingError",
    "Enumeration",
    "FieldCleaner",
    "Finding",
    "RowCleaner",
    "clean_amount",
    "clean_code",
    "clean_date",
    "clean_datetime",
    "clean_enum",
    "clean_field",
    "clean_name",
    "clean_text",
    "decode_bytes",
    "field_cleaner",
    "parse_instant",
    "read_text_file",
    "to_fen",
]

CleanValue = str | date | datetime | Decimal
FieldCleaner = Callable[[str, str], tuple[CleanValue | None, tuple[Finding, ...]]]
"""``(raw value, field name) -> (clean value or None, findings)``; raises :class:`CleaningError`."""

_TYPED: Final[Mapping[str, Callable[[str, str], tuple[CleanValue, tuple[Finding, ...]]]]] = {
    "date": clean_date,
    "datetime": clean_datetime,
    "amount": clean_amount,
}
_STRINGS: Final[Mapping[str, FieldCleaner]] = {"text": clean_text, "name": clean_name, "code": clean_code}
KINDS: Final = (*_STRINGS, *_TYPED, *(f"enum:{name}" for name in ENUMERATIONS))
"""Every field kind a column mapping may name."""


def clean_enum(raw: str, enumeration: str, field: str = "") -> tuple[str, tuple[Finding, ...]]:
    """The code of an enumeration value (see :class:`Enumeration` for what maps).

    Raises:
        CleaningError: the value is not one of the enumeration's spellings.
        KeyError: there is no enumeration of that name.
    """
    return ENUMERATIONS[enumeration].code_for(raw, field)


def _blank(value: str) -> bool:
    return not value.translate(INVISIBLE).translate(SPACES).strip()


def _optional(clean: Callable[[str, str], tuple[CleanValue, tuple[Finding, ...]]]) -> FieldCleaner:
    """A typed cleaner that takes an empty or blank value as None (blank is only checked once cleaning failed)."""

    def run(value: str, field: str) -> tuple[CleanValue | None, tuple[Finding, ...]]:
        if not value:
            return None, NO_FINDINGS
        try:
            return clean(value, field)
        except CleaningError:
            if _blank(value):
                return None, (Finding("whitespace", field, value, ""),)
            raise

    return run


@functools.cache
def field_cleaner(kind: str) -> FieldCleaner:
    """The cleaner of a field kind; resolve it once per column, not per value.

    Raises:
        ValueError: the kind is not one of :data:`KINDS`.
    """
    if kind in _STRINGS:
        return _STRINGS[kind]
    if kind in _TYPED:
        return _optional(_TYPED[kind])
    name = kind.removeprefix("enum:")
    if kind.startswith("enum:") and name in ENUMERATIONS:
        return _optional(ENUMERATIONS[name].code_for)
    raise ValueError(f"unknown field kind {kind!r}; known: {', '.join(KINDS)}")


def clean_field(kind: str, value: str, field: str = "") -> tuple[CleanValue | None, tuple[Finding, ...]]:
    """Clean one value by its field kind.

    Raises:
        CleaningError: the value cannot be cleaned without guessing.
        ValueError: the kind is unknown.
    """
    return field_cleaner(kind)(value, field)


@dataclass(frozen=True, slots=True)
class CleanedRow:
    """One cleaned row: its values (unmapped columns unchanged), what was corrected and what failed."""

    values: dict[str, CleanValue | None]
    findings: tuple[Finding, ...]
    errors: tuple[CleaningError, ...]

    @property
    def ok(self) -> bool:
        """Whether every field could be cleaned (if not, the row goes to quarantine with ``errors``)."""
        return not self.errors


class RowCleaner:
    """Cleans whole rows by a column mapping ``{field: kind}``, resolved once."""

    __slots__ = ("_plan",)

    def __init__(self, kinds: Mapping[str, str]) -> None:
        """Resolve every field's cleaner.

        Raises:
            ValueError: a kind is unknown.
        """
        self._plan = tuple((field, field_cleaner(kind)) for field, kind in kinds.items())

    def clean(self, row: Mapping[str, str]) -> CleanedRow:
        """Clean the mapped fields of ``row``; a missing field counts as empty. Never raises CleaningError."""
        values: dict[str, CleanValue | None] = dict(row)
        findings: list[Finding] = []
        errors: list[CleaningError] = []
        for field, clean in self._plan:
            try:
                values[field], found = clean(row.get(field, ""), field)
            except CleaningError as error:
                errors.append(error)
                continue
            if found:
                findings.extend(found)
        return CleanedRow(values, tuple(findings), tuple(errors))
