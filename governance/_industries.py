"""The GB/T 4754-2017 industry classification (国民经济行业分类), full table.

The table ships as ``governance/data/gbt4754_2017.tsv`` (its header records where it comes from and
how it was checked) and is read once, at import, into immutable lookups. It is the 2017 edition
with Amendment No. 1 (2019): 20 sections, 97 divisions, 473 groups and 1381 classes.

Codes are written as the section letter followed by the division (2 digits), group (3 digits) or
class (4 digits) code: ``C``, ``C13``, ``C131``, ``C1311``. A group without sub-classes has exactly
one class, ``group + "0"`` with the group's name (``E471`` -> ``E4710`` 住宅房屋建筑).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

IndustryLevel = Literal["section", "division", "group", "class"]

TABLE_EDITION: Final = "GB/T 4754-2017 with Amendment No. 1 (2019)"
"""The edition of the shipped table."""

# Divisions (2-digit codes) of each section, GB/T 4754-2017: 20 sections, 97 divisions.
SECTION_DIVISIONS: Final[dict[str, range]] = {
    "A": range(1, 6),
    "B": range(6, 13),
    "C": range(13, 44),
    "D": range(44, 47),
    "E": range(47, 51),
    "F": range(51, 53),
    "G": range(53, 61),
    "H": range(61, 63),
    "I": range(63, 66),
    "J": range(66, 70),
    "K": range(70, 71),
    "L": range(71, 73),
    "M": range(73, 76),
    "N": range(76, 80),
    "O": range(80, 83),
    "P": range(83, 84),
    "Q": range(84, 86),
    "R": range(86, 91),
    "S": range(91, 97),
    "T": range(97, 98),
}

_LEVELS: Final[dict[int, IndustryLevel]] = {1: "section", 3: "division", 4: "group", 5: "class"}
_ROW: Final = re.compile(r"([A-T](?:[0-9]{2,4})?)\t(\S+)")


class IndustryNode(NamedTuple):
    """One code of the classification with its Chinese name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class IndustryEntry:
    """A code of the classification, its name, its level and its place in the hierarchy.

    ``section`` is always set; ``division``, ``group`` and ``industry_class`` are set down to the
    entry's own level (the entry itself is the last one set) and are None below it.
    """

    code: str
    name: str
    level: IndustryLevel
    section: IndustryNode
    division: IndustryNode | None
    group: IndustryNode | None
    industry_class: IndustryNode | None

    @property
    def path(self) -> tuple[IndustryNode, ...]:
        """The codes from the section down to this entry."""
        nodes = (self.section, self.division, self.group, self.industry_class)
        return tuple(node for node in nodes if node is not None)


def _read_table() -> tuple[IndustryNode, ...]:
    text = resources.files("governance").joinpath("data/gbt4754_2017.tsv").read_text(encoding="utf-8")
    rows: list[IndustryNode] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        match = _ROW.fullmatch(line)
        if match is None:
            raise ValueError(f"gbt4754_2017.tsv line {number}: expected 'code<TAB>name', got {line!r}")
        rows.append(IndustryNode(match[1], match[2]))
    return tuple(rows)


def _build(rows: tuple[IndustryNode, ...]) -> dict[str, IndustryEntry]:
    names = {row.code: row.name for row in rows}
    if len(names) != len(rows):
        raise ValueError("gbt4754_2017.tsv repeats a code")
    entries: dict[str, IndustryEntry] = {}
    for code, name in rows:
        # the ancestors' codes are the prefixes of 1, 3 and 4 characters
        chain = [IndustryNode(code[:size], names[code[:size]]) for size in (1, 3, 4, 5) if size <= len(code)]
        nodes = (*chain, *([None] * (4 - len(chain))))
        entries[code] = IndustryEntry(code, name, _LEVELS[len(code)], chain[0], nodes[1], nodes[2], nodes[3])
    return entries


_ROWS: Final = _read_table()

INDUSTRY_TABLE: Final[Mapping[str, IndustryEntry]] = MappingProxyType(_build(_ROWS))
"""Every code of the table (all four levels) -> its entry, in code order."""

INDUSTRY_CLASSES: Final[tuple[tuple[str, str], ...]] = tuple(
    (row.code, row.name) for row in _ROWS if len(row.code) == 5
)
"""``(class code, name)`` for the 1381 classes, in code order."""


def lookup(code: str) -> IndustryEntry | None:
    """The entry of a section, division, group or class code, or None if the table has no such code."""
    return INDUSTRY_TABLE.get(code)


def children(code: str) -> tuple[IndustryNode, ...]:
    """The codes one level below ``code`` (empty for a class or an unknown code)."""
    size = len(code) + (2 if len(code) == 1 else 1)
    return tuple(
        IndustryNode(other, entry.name)
        for other, entry in INDUSTRY_TABLE.items()
        if len(other) == size and other.startswith(code)
    )
