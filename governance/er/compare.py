"""Comparison levels per column kind.

Each :class:`Comparison` turns a raw cell into a prepared value once per record
(:meth:`Comparison.prepare`, ``None`` for an empty cell) and maps a pair of
prepared values to a level. Level 0 always means "no information" (a value is
missing) and carries no weight in the model; level 1 is the strongest agreement
and the last level is disagreement.

=========  ==================================================================================
kind       levels after ``null``
=========  ==================================================================================
exact      exact / else
code       exact / one edit (substitution, insertion, deletion or adjacent swap) / else
name       full name exact / core exact / Jaro-Winkler >= 0.92 / >= 0.8 / else (on the core)
text       exact / token-set similarity >= 0.9 / >= 0.7 / else
address    exact / same up to the house number (号) / token-set similarity >= 0.9 / >= 0.75 / else
date       exact / day-month swapped or one-digit typo / within 365 days / else
number     exact / within 1 / else
=========  ==================================================================================
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import date
from typing import Any, ClassVar, Final

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from governance.er.config import CompareKind, CompareSpec
from governance.er.normalise import normalise_address, normalise_text, parse_date, parse_enterprise_name, to_half_width

__all__ = ["Comparison", "make_comparison"]

NULL: Final = 0


class Comparison(ABC):
    """How one column is compared; subclasses define the levels of one kind."""

    levels: ClassVar[tuple[str, ...]]
    """Labels of the levels, ``levels[0] == "null"``."""

    def __init__(self, column: str) -> None:
        self.column = column

    @abstractmethod
    def prepare(self, raw: str) -> Any | None:
        """The value compared for a raw cell; ``None`` when the cell carries no information."""

    @abstractmethod
    def level(self, left: Any, right: Any) -> int:
        """The level (>= 1) of two prepared, non-null values."""

    @abstractmethod
    def block_key(self, prepared: Any) -> str:
        """The normalised string blocking rules compare."""


class _Exact(Comparison):
    levels: ClassVar[tuple[str, ...]] = ("null", "exact", "else")

    def prepare(self, raw: str) -> str | None:
        return to_half_width(raw).strip() or None

    def level(self, left: str, right: str) -> int:
        return 1 if left == right else 2

    def block_key(self, prepared: str) -> str:
        return prepared


class _Code(_Exact):
    levels: ClassVar[tuple[str, ...]] = ("null", "exact", "one edit", "else")

    def prepare(self, raw: str) -> str | None:
        return "".join(ch for ch in to_half_width(raw).upper() if ch.isalnum()) or None

    def level(self, left: str, right: str) -> int:
        if left == right:
            return 1
        return 2 if OSA.distance(left, right, score_cutoff=1) <= 1 else 3


class _Name(Comparison):
    levels: ClassVar[tuple[str, ...]] = (
        "null",
        "exact",
        "core exact",
        "jaro-winkler >= 0.92",
        "jaro-winkler >= 0.8",
        "else",
    )

    def prepare(self, raw: str) -> tuple[str, str] | None:
        name = parse_enterprise_name(raw)
        return (name.full, name.core) if name.full else None

    def level(self, left: tuple[str, str], right: tuple[str, str]) -> int:
        if left[0] == right[0]:
            return 1
        if left[1] == right[1]:
            return 2
        similarity = JaroWinkler.similarity(left[1], right[1])
        return 3 if similarity >= 0.92 else 4 if similarity >= 0.8 else 5

    def block_key(self, prepared: tuple[str, str]) -> str:
        return prepared[1]


class _Text(Comparison):
    levels: ClassVar[tuple[str, ...]] = ("null", "exact", "similarity >= 0.9", "similarity >= 0.7", "else")
    high, low = 90.0, 70.0

    def prepare(self, raw: str) -> str | None:
        return normalise_text(raw) or None

    def level(self, left: str, right: str) -> int:
        if left == right:
            return 1
        similarity = fuzz.token_set_ratio(left, right)
        return 2 if similarity >= self.high else 3 if similarity >= self.low else 4

    def block_key(self, prepared: str) -> str:
        return prepared


class _Address(_Text):
    levels: ClassVar[tuple[str, ...]] = (
        "null",
        "exact",
        "same up to the house number",
        "similarity >= 0.9",
        "similarity >= 0.75",
        "else",
    )
    low = 75.0

    def prepare(self, raw: str) -> str | None:
        return normalise_address(raw) or None

    def level(self, left: str, right: str) -> int:
        if left == right:
            return 1
        cut = _HOUSE_NUMBER.match(left)
        if cut and right.startswith(cut[0]):
            return 2
        return super().level(left, right) + 1


_HOUSE_NUMBER: Final = re.compile(r"^\D*\d+号")


class _Date(Comparison):
    levels: ClassVar[tuple[str, ...]] = (
        "null",
        "exact",
        "day-month swapped or one-digit typo",
        "within 365 days",
        "else",
    )

    def prepare(self, raw: str) -> tuple[str, date | None] | None:
        digits = "".join(ch for ch in to_half_width(raw) if ch.isdigit())
        day = parse_date(raw)
        if day is not None:
            digits = f"{day:%Y%m%d}"
        return (digits, day) if digits else None

    def level(self, left: tuple[str, date | None], right: tuple[str, date | None]) -> int:
        if left[0] == right[0]:
            return 1
        a, b = left[1], right[1]
        if (a and b and (a.year, a.month, a.day) == (b.year, b.day, b.month)) or OSA.distance(
            left[0], right[0], score_cutoff=1
        ) <= 1:
            return 2
        if a and b and abs((a - b).days) <= 365:
            return 3
        return 4

    def block_key(self, prepared: tuple[str, date | None]) -> str:
        return prepared[0]


class _Number(Comparison):
    levels: ClassVar[tuple[str, ...]] = ("null", "exact", "within 1", "else")

    def prepare(self, raw: str) -> float | str | None:
        text = to_half_width(raw).strip().replace(",", "")
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return text

    def level(self, left: float | str, right: float | str) -> int:
        if left == right:
            return 1
        if isinstance(left, float) and isinstance(right, float) and abs(left - right) <= 1:
            return 2
        return 3

    def block_key(self, prepared: float | str) -> str:
        return f"{prepared:g}" if isinstance(prepared, float) else prepared


_KINDS: Final[dict[CompareKind, type[Comparison]]] = {
    "exact": _Exact,
    "code": _Code,
    "name": _Name,
    "text": _Text,
    "address": _Address,
    "date": _Date,
    "number": _Number,
}


def make_comparison(spec: CompareSpec) -> Comparison:
    """The comparison for one ``[[compare]]`` entry."""
    return _KINDS[spec.kind](spec.column)
