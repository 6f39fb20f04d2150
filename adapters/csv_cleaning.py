"""The default cleaning of a dataset's CSV columns, worked out from the record fields.

``jgnode ingest`` cleans every column of a file before it reads the record
(``--no-clean`` turns it off); a collector's ``[collect.clean]`` mapping
chooses its own kinds instead. The kind of each column (see
:mod:`governance.clean`) follows from the field it fills:

==============================================  ============================
field                                           kind
==============================================  ============================
an instant (``*_us``; column without suffix)    ``datetime``
``*_date``, ``*_on``, ``*_valid_from``/``_to``  ``date``
``*_code``, ``cert_number``, ``id_number``      ``code``
``name``, ``*_name`` (not titles), a person     ``name``
money in fen (``*_fen``)                        ``fen`` (below)
a coded field with an enumeration               ``enum:<name>`` (table below)
a list of such codes (penalty kinds)            ``enums:<name>``
any other text                                  ``text``
==============================================  ============================

Two kinds exist only here. ``fen``: a whole number of fen stays as it is (full
width and spaces folded); an amount written with a unit or currency (``1.5万元``,
``¥500``) is read as yuan by :func:`governance.clean.clean_amount` and written
in fen. ``enums:<name>``: each ``;``-separated item mapped to its code. Lists
of objects (inspectors, check items) and numbers other than money are only
trimmed, as the reader does.

A value that cannot be cleaned without guessing keeps its raw text and the
row carries the :class:`CleaningError`; the row then goes to quarantine with
that reason and whatever the reading and validation of the raw text add.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from adapters.csv_records import DATASET_TYPES, Leaf, leaves
from governance.clean import (
    ENUMERATIONS,
    CleaningError,
    Finding,
    clean_amount,
    clean_code,
    clean_name,
    clean_text,
    field_cleaner,
    to_fen,
)

__all__ = [
    "CleanedText",
    "clean_columns",
    "default_kinds",
    "text_cleaner",
]

# (declaring class name, field) -> enumeration; by name, so records added later can join
_ENUM_FIELDS: Final = {
    ("Inspection", "form"): "inspection_form",
    ("Inspection", "category"): "inspection_category",
    ("Counterparty", "nature"): "counterparty_nature",
    ("Penalty", "procedure"): "penalty_procedure",
    ("Penalty", "kinds"): "penalty_kind",
    ("Penalty", "disclosure_status"): "disclosure_status",
    ("Complaint", "kind"): "complaint_kind",
    ("CreditGrade", "grade"): "credit_grade",
    ("Matter", "status"): "matter_status",
    ("MatterSub", "action_type"): "administrative_type",
    ("ImplList", "inspection_category"): "inspection_category",
    ("ImplList", "random_pool"): "random_pool",
}
_TITLES: Final = frozenset({"action_name", "service_name"})  # names of things done, not of someone
_PEOPLE: Final = frozenset({"legal_representative", "submitter"})
_CODES: Final = frozenset({"cert_number", "id_number"})
_DATE_ENDINGS: Final = ("_date", "_on", "_valid_from", "_valid_to")
_STRING_KINDS: Final = {"text": clean_text, "name": clean_name, "code": clean_code}  # these give text already
_CURRENCY: Final = ("元", "万", "亿", "¥", "￥", "RMB", "CNY", "人民币")


def _kind(leaf: Leaf) -> str | None:
    enum = _ENUM_FIELDS.get((leaf.owner.__name__, leaf.field))
    if enum is not None and enum in ENUMERATIONS:
        return f"enums:{enum}" if leaf.kind == "strings" else f"enum:{enum}"
    if leaf.kind == "instant":
        return "datetime"
    if leaf.kind == "int":
        return "fen" if leaf.field.endswith("_fen") else None
    return _text_kind(leaf.field) if leaf.kind == "text" else None


def _text_kind(name: str) -> str:
    if name.endswith(_DATE_ENDINGS):
        return "date"
    if name.endswith("_code") or name in _CODES:
        return "code"
    if (name == "name" or name.endswith("_name") or name in _PEOPLE) and name not in _TITLES:
        return "name"
    return "text"


@functools.cache
def default_kinds(dataset: str) -> Mapping[str, str]:
    """Column -> cleaning kind of every column of ``dataset`` that is cleaned (see the module docstring).

    Worked out once per dataset: rows that take the row-by-row path ask for it each.
    """
    kinds = {leaf.column: _kind(leaf) for leaf in leaves(DATASET_TYPES[dataset])}
    return MappingProxyType({column: kind for column, kind in kinds.items() if kind is not None})


def _as_text(value: str | date | datetime | Decimal | None) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _fen(raw: str, field: str) -> tuple[str, tuple[Finding, ...]]:
    if raw.isascii() and raw.isdigit():
        return raw, ()
    text, found = clean_code(raw, field)
    if not any(mark in text for mark in _CURRENCY):
        return text, found  # a number of fen (or not a number: the reader says so)
    amount, _ = clean_amount(raw, field)
    fen = str(to_fen(amount))
    return fen, (Finding("amount.unit", field, raw, fen),)


def _enums(name: str) -> Callable[[str, str], tuple[str, tuple[Finding, ...]]]:
    enumeration = ENUMERATIONS[name]

    def clean(raw: str, field: str) -> tuple[str, tuple[Finding, ...]]:
        findings: list[Finding] = []
        codes = []
        for item in (p.strip() for p in raw.split(";")):
            if item:
                code, found = enumeration.code_for(item, field)
                codes.append(code)
                findings.extend(found)
        return (";".join(codes), tuple(findings)) if findings else (raw, ())

    return clean


@functools.cache
def text_cleaner(kind: str) -> Callable[[str, str], tuple[str, tuple[Finding, ...]]]:
    """``(raw, column) -> (clean text, findings)`` of a kind (:data:`governance.clean.KINDS`, ``fen``, ``enums:``).

    Raises:
        ValueError: the kind is unknown.
    """
    if kind == "fen":
        return _fen
    if kind.startswith("enums:"):
        return _enums(kind.removeprefix("enums:"))
    if kind in _STRING_KINDS:
        return _STRING_KINDS[kind]
    typed = field_cleaner(kind)

    def clean(raw: str, field: str) -> tuple[str, tuple[Finding, ...]]:
        value, found = typed(raw, field)
        return _as_text(value), found

    return clean


@dataclass(frozen=True, slots=True)
class CleanedText:
    """A row's columns after cleaning (a column that failed keeps its raw text), the corrections and the failures."""

    values: dict[str, str]
    findings: tuple[Finding, ...]
    errors: tuple[CleaningError, ...]


def clean_columns(row: Mapping[str, str], kinds: Mapping[str, str]) -> CleanedText:
    """Clean the columns of ``row`` that ``kinds`` names (the reference the fast path of ingest agrees with)."""
    values = dict(row)
    findings: list[Finding] = []
    errors: list[CleaningError] = []
    for column, kind in kinds.items():
        if column not in row:
            continue
        try:
            values[column], found = text_cleaner(kind)(row[column], column)
        except CleaningError as error:
            errors.append(error)
            continue
        findings.extend(found)
    return CleanedText(values, tuple(findings), tuple(errors))
