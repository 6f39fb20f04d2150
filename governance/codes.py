"""Code rules of the regulatory datasets (shared STANDARDS.md, "Code rules").

Unified social credit codes (GB 32100-2015) with their inner organisation code
(GB 11714), citizen ID numbers (GB 11643-1999), region codes (GB/T 2260, every
code since 1980 with its validity), industry codes (GB/T 4754-2017, the full
table) and regulatory matter codes. :data:`REFERENCE_TABLES` names the edition
of every shipped table. Every ``check_*`` function returns a :class:`CodeCheck`:
errors reject a code, warnings only inform. Nothing is silently normalised: a
lower-case letter is an error, not something to upper-case.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Final, Literal

from governance._clean_enums import ENUMERATIONS_VERSION
from governance._industries import (
    INDUSTRY_CLASSES,
    INDUSTRY_TABLE,
    SECTION_DIVISIONS,
    TABLE_EDITION,
    IndustryEntry,
    IndustryNode,
    children,
    lookup,
)
from governance._regions import REGION_TABLE_VERSION, REGIONS, RegionEntry

__all__ = [
    "INDUSTRY_CODES",
    "INDUSTRY_TABLE_EDITION",
    "REFERENCE_TABLES",
    "REGION_TABLE_VERSION",
    "USCC_ALPHABET",
    "USCC_CATEGORIES",
    "CodeCheck",
    "IndustryEntry",
    "IndustryNode",
    "check_id_number",
    "check_impl_list_code",
    "check_industry_code",
    "check_matter_code",
    "check_region_code",
    "check_uscc",
    "counties_within",
    "id15_to_18",
    "id_check_digit",
    "industry_lookup",
    "industry_name",
    "is_within",
    "make_id_number",
    "make_uscc",
    "org_code_check_char",
    "region_level",
    "region_name",
    "region_parent",
    "uscc_check_char",
]

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a unified social credit code (no I, O, S, V, Z)."""

USCC_CATEGORIES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "1": frozenset("1239"),  # organ, public institution, mass organisation, other
        "2": frozenset("19"),
        "3": frozenset("123459"),
        "4": frozenset("19"),
        "5": frozenset("1239"),  # social group, private non-enterprise, foundation, other
        "6": frozenset("129"),
        "7": frozenset("129"),
        "8": frozenset("19"),
        "9": frozenset("123"),  # enterprise, individual business, farmers' cooperative
        "A": frozenset("19"),
        "N": frozenset("1239"),
        "Y": frozenset("1"),
    }
)
"""Registering department (position 1) -> organisation categories allowed at position 2."""

_USCC_VALUES: Final = {char: value for value, char in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY: Final = re.compile(r"[0-9A-Z]{8}")
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_INDUSTRY_FORMAT: Final = re.compile(r"[A-T][0-9]{2,4}")

INDUSTRY_CODES: Final[tuple[str, ...]] = tuple(code for code, _ in INDUSTRY_CLASSES)
"""The 1381 GB/T 4754-2017 class codes (section letter + 4 digits), in code order."""

INDUSTRY_TABLE_EDITION: Final = TABLE_EDITION
"""The edition of the shipped industry table."""
REFERENCE_TABLES: Final[dict[str, str]] = {
    "regions": REGION_TABLE_VERSION,
    "industries": INDUSTRY_TABLE_EDITION + " (governance/data/gbt4754_2017.tsv, reconciled 2026-11-27)",
    "enumerations": ENUMERATIONS_VERSION,
}
"""The edition of every reference table shipped with the package (shown by ``jgnode status``)."""


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """Outcome of checking one code: errors reject it, warnings only inform."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the code has no errors (it may still have warnings)."""
        return not self.errors


def _is_digits(text: str, length: int) -> bool:
    # str.isdigit alone accepts full-width and superscript digits
    return len(text) == length and text.isascii() and text.isdigit()


# --- unified social credit code (GB 32100-2015) -------------------------------------------


def uscc_check_char(first17: str) -> str:
    """Compute the 18th (check) character of a unified social credit code.

    Args:
        first17: The first 17 characters, all from :data:`USCC_ALPHABET`.

    Returns:
        ``USCC_ALPHABET[(31 - sum(value * 3**i mod 31) mod 31) mod 31]``.

    Raises:
        ValueError: ``first17`` is not 17 characters of the alphabet.
    """
    if len(first17) != 17 or any(char not in _USCC_VALUES for char in first17):
        raise ValueError(f"expected 17 characters of the credit-code alphabet, got {first17!r}")
    total = sum(_USCC_VALUES[char] * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """Compute the GB 11714 organisation-code check character (USCC position 17).

    Args:
        body8: The 8 body characters (USCC positions 9-16): digits or upper-case letters.

    Returns:
        A digit, or ``"X"`` for 10 (11 gives ``"0"``).

    Raises:
        ValueError: ``body8`` is not 8 digits or upper-case letters.
    """
    if not _ORG_BODY.fullmatch(body8):
        raise ValueError(f"expected 8 digits or upper-case letters, got {body8!r}")
    total = sum(_org_value(char) * weight for char, weight in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else str(check % 11)


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


@functools.lru_cache(maxsize=65_536)  # the same agencies and enterprises recur in every file
def check_uscc(code: str) -> CodeCheck:
    """Check a unified social credit code against GB 32100-2015.

    Errors: wrong length, characters outside :data:`USCC_ALPHABET` (including
    lower case), unknown registering department, category not allowed for the
    department, region part not 6 digits, wrong check character. A failing inner
    GB 11714 organisation-code check is only a warning.

    Args:
        code: The code exactly as recorded.

    Returns:
        The errors and warnings found.
    """
    if len(code) != 18:
        return CodeCheck(errors=(f"credit code must be 18 characters, got {len(code)}",))
    bad = [f"{char!r} at position {pos}" for pos, char in enumerate(code, 1) if char not in _USCC_VALUES]
    errors = [*_uscc_part_errors(code)]
    if bad:
        errors.insert(0, "characters outside the credit-code alphabet: " + ", ".join(bad))
        return CodeCheck(errors=tuple(errors))
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        errors.append(f"check character is {code[17]!r}, expected {expected!r}")
    return CodeCheck(errors=tuple(errors), warnings=_org_code_warnings(code[8:17]))


def _uscc_part_errors(code: str) -> list[str]:
    errors: list[str] = []
    department, category = code[0], code[1]
    allowed = USCC_CATEGORIES.get(department)
    if allowed is None:
        errors.append(f"unknown registering department {department!r} at position 1")
    elif category not in allowed:
        errors.append(
            f"organisation category {category!r} is not allowed for department {department!r}"
            f" (allowed: {', '.join(sorted(allowed))})"
        )
    if not _is_digits(code[2:8], 6):
        errors.append(f"region part (positions 3-8) must be 6 digits, got {code[2:8]!r}")
    return errors


def _org_code_warnings(org_code: str) -> tuple[str, ...]:
    expected = org_code_check_char(org_code[:8])
    if org_code[8] == expected:
        return ()
    return (f"inner GB 11714 organisation-code check character is {org_code[8]!r}, expected {expected!r}",)


def make_uscc(department: str, category: str, region: str, org_body8: str) -> str:
    """Build a valid unified social credit code.

    Args:
        department: Registering department, a key of :data:`USCC_CATEGORIES`.
        category: Organisation category allowed for that department.
        region: 6-digit GB/T 2260 region code.
        org_body8: The 8 organisation-code body characters, from :data:`USCC_ALPHABET`.

    Returns:
        The 18-character code, with both the inner GB 11714 and the final check character.

    Raises:
        ValueError: An invalid department/category pair, region or organisation body.
    """
    allowed = USCC_CATEGORIES.get(department)
    if allowed is None:
        raise ValueError(f"unknown registering department {department!r}")
    if category not in allowed:
        raise ValueError(f"category {category!r} is not allowed for department {department!r}")
    if not _is_digits(region, 6):
        raise ValueError(f"region must be 6 digits, got {region!r}")
    if len(org_body8) != 8 or any(char not in _USCC_VALUES for char in org_body8):
        raise ValueError(f"organisation body must be 8 credit-code characters, got {org_body8!r}")
    first17 = department + category + region + org_body8 + org_code_check_char(org_body8)
    return first17 + uscc_check_char(first17)


# --- citizen ID number (GB 11643-1999) ----------------------------------------------------


def id_check_digit(first17: str) -> str:
    """Compute the check digit of an 18-digit citizen ID number.

    Args:
        first17: Region (6) + birth date (8) + sequence (3), all ASCII digits.

    Returns:
        ``"0"``-``"9"`` or ``"X"``.

    Raises:
        ValueError: ``first17`` is not 17 digits.
    """
    if not _is_digits(first17, 17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    return _ID_CHECK[sum(int(char) * weight for char, weight in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


@functools.lru_cache(maxsize=65_536)
def check_id_number(number: str, *, today: date | None = None) -> CodeCheck:
    """Check an 18-character citizen ID number against GB 11643-1999.

    Args:
        number: The number as recorded; the check character ``X`` must be upper case.
        today: The date births may not be after (default: today).

    Returns:
        Errors for a wrong length, non-digit parts, an impossible or future birth
        date, or a wrong check digit; a warning when the birthplace is no GB/T 2260
        code of any year (numbers keep the code in force when they were issued).
    """
    if len(number) != 18:
        return CodeCheck(errors=(f"ID number must be 18 characters, got {len(number)}",))
    errors: list[str] = []
    if not _is_digits(number[:6], 6):
        errors.append(f"region part must be 6 digits, got {number[:6]!r}")
    if not _is_digits(number[14:17], 3):
        errors.append(f"sequence part must be 3 digits, got {number[14:17]!r}")
    if number[17] not in "0123456789X":
        errors.append(f"last character must be a digit or upper-case 'X', got {number[17]!r}")
    birth_error = _birth_date_error(number[6:14], today or date.today())
    if birth_error:
        errors.append(birth_error)
    if not errors:
        expected = id_check_digit(number[:17])
        if number[17] != expected:
            errors.append(f"check digit is {number[17]!r}, expected {expected!r}")
    warnings: tuple[str, ...] = ()
    if not errors and number[:6] not in _REGIONS_BY_CODE:
        warnings = (f"birthplace {number[:6]} is not a GB/T 2260 code of any year ({REGION_TABLE_VERSION})",)
    return CodeCheck(errors=tuple(errors), warnings=warnings)


def _birth_date_error(text: str, today: date) -> str | None:
    if not _is_digits(text, 8):
        return f"birth date must be 8 digits YYYYMMDD, got {text!r}"
    try:
        birth = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return f"birth date {text} is not a valid date"
    if birth > today:
        return f"birth date {birth.isoformat()} is in the future"
    return None


def id15_to_18(number15: str) -> str:
    """Convert a legacy 15-digit ID number to 18 digits (insert "19", add the check digit).

    Args:
        number15: Region (6) + 2-digit birth year + month + day + sequence (3).

    Returns:
        The 18-character number.

    Raises:
        ValueError: ``number15`` is not 15 digits.
    """
    if not _is_digits(number15, 15):
        raise ValueError(f"expected a 15-digit ID number, got {number15!r}")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + id_check_digit(first17)


def make_id_number(region: str, birth: date, sequence: int) -> str:
    """Build a valid 18-character citizen ID number.

    Args:
        region: 6-digit region code of issue.
        birth: Date of birth.
        sequence: 0-999; odd for men, even for women (the caller's choice).

    Returns:
        The ID number with its check digit.

    Raises:
        ValueError: A region that is not 6 digits or a sequence outside 0-999.
    """
    if not _is_digits(region, 6):
        raise ValueError(f"region must be 6 digits, got {region!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0-999, got {sequence}")
    first17 = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + id_check_digit(first17)


# --- region codes (GB/T 2260) -------------------------------------------------------------


def _index_regions(entries: tuple[RegionEntry, ...]) -> dict[str, tuple[RegionEntry, ...]]:
    index: dict[str, tuple[RegionEntry, ...]] = {}
    for entry in entries:
        index[entry.code] = (*index.get(entry.code, ()), entry)
    return index


_REGIONS_BY_CODE: Final = _index_regions(REGIONS)


def region_name(code: str) -> str | None:
    """Name of a region code in the shipped table (its latest name), or None if unknown."""
    entries = _REGIONS_BY_CODE.get(code)
    return entries[-1].name if entries else None


def region_level(code: str) -> Literal["province", "city", "county"]:
    """Level of a region code by its zero pattern: XX0000, XXXX00, or anything else.

    Raises:
        ValueError: ``code`` is not 6 digits.
    """
    if not _is_digits(code, 6):
        raise ValueError(f"region code must be 6 digits, got {code!r}")
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def region_parent(code: str) -> str | None:
    """The enclosing city (for a county) or province (for a city); None for a province.

    Raises:
        ValueError: ``code`` is not 6 digits.
    """
    level = region_level(code)
    if level == "county":
        return code[:4] + "00"
    if level == "city":
        return code[:2] + "0000"
    return None


def is_within(code: str, ancestor: str) -> bool:
    """Whether ``code`` lies in the subtree of ``ancestor`` (a code is within itself).

    Raises:
        ValueError: Either code is not 6 digits.
    """
    region_level(code)
    prefix = {"province": 2, "city": 4, "county": 6}[region_level(ancestor)]
    return code[:prefix] == ancestor[:prefix]


def counties_within(ancestor: str, on: date | None = None) -> list[str]:
    """Known county-level codes in the subtree of ``ancestor``, sorted.

    Args:
        ancestor: A province, city or county code (a county's subtree is itself).
        on: Keep only codes valid on this date; None keeps every code ever listed.

    Raises:
        ValueError: ``ancestor`` is not 6 digits.
    """
    region_level(ancestor)
    return sorted(
        code
        for code, entries in _REGIONS_BY_CODE.items()
        if region_level(code) == "county"
        and is_within(code, ancestor)
        and (on is None or any(entry.valid_on(on) for entry in entries))
    )


def check_region_code(code: str, on: date) -> CodeCheck:
    """Check a region code against the versioned table for the record's date.

    Args:
        code: The 6-digit region code.
        on: The date of the record carrying the code.

    Returns:
        An error for a malformed or unknown code, or one not in force on ``on``.
    """
    if not _is_digits(code, 6):
        return CodeCheck(errors=(f"region code must be 6 digits, got {code!r}",))
    entries = _REGIONS_BY_CODE.get(code)
    if not entries:
        return CodeCheck(errors=(f"region code {code} is not in the shipped table ({REGION_TABLE_VERSION})",))
    if any(entry.valid_on(on) for entry in entries):
        return CodeCheck()
    periods = "; ".join(_describe_validity(entry) for entry in entries)
    return CodeCheck(errors=(f"region code {code} was not valid on {on.isoformat()}: {periods}",))


def _describe_validity(entry: RegionEntry) -> str:
    start = entry.valid_from.isoformat() if entry.valid_from else "the start of the table"
    end = f"until {entry.valid_to.isoformat()}" if entry.valid_to else "still in force"
    return f"{entry.name} valid from {start} {end}"


# --- industry codes (GB/T 4754-2017) and matter codes --------------------------------------


def industry_name(code: str) -> str | None:
    """Chinese name of a GB/T 4754-2017 section, division, group or class code, or None."""
    entry = INDUSTRY_TABLE.get(code)
    return entry.name if entry else None


def industry_lookup(code: str) -> IndustryEntry | None:
    """Name, level and hierarchy (section, division, group, class) of a GB/T 4754-2017 code.

    Args:
        code: A section letter (``C``) or a section letter then a division, group or class code
            (``C13``, ``C131``, ``C1311``).

    Returns:
        The table entry, or None if the table has no such code.
    """
    return lookup(code)


def check_industry_code(code: str) -> CodeCheck:
    """Check a GB/T 4754-2017 code: a section letter A-T then 2, 3 or 4 digits.

    Returns:
        An error for a bad format, a division outside the letter's section or a code that is not
        in the table; a warning for a real division or group (records carry a 4-digit class).
    """
    if not _INDUSTRY_FORMAT.fullmatch(code):
        message = f"industry code must be a section letter A-T then 2, 3 or 4 digits, got {code!r}"
        return CodeCheck(errors=(message,))
    section, division = code[0], int(code[1:3])
    if division not in SECTION_DIVISIONS[section]:
        divisions = SECTION_DIVISIONS[section]
        return CodeCheck(
            errors=(
                f"division {code[1:3]} is not in section {section}"
                f" (divisions {divisions.start:02d}-{divisions.stop - 1:02d})",
            )
        )
    entry = INDUSTRY_TABLE.get(code)
    if entry is None:
        return CodeCheck(errors=(_unknown_industry_code(code),))
    if entry.level != "class":
        return CodeCheck(warnings=(f"industry code {code} is a {entry.level} ({entry.name}), not a 4-digit class",))
    return CodeCheck()


def _unknown_industry_code(code: str) -> str:
    # name the nearest existing ancestor (at worst the section) and what it does contain
    parent = next(INDUSTRY_TABLE[code[:size]] for size in range(len(code) - 1, 0, -1) if code[:size] in INDUSTRY_TABLE)
    known = ", ".join(node.code for node in children(parent.code))
    return (
        f"industry code {code} does not exist in {INDUSTRY_TABLE_EDITION};"
        f" {parent.level} {parent.code} {parent.name} has {known}"
    )


def check_matter_code(code: str) -> CodeCheck:
    """Check a regulatory matter code (监管事项编码): exactly 14 digits."""
    if _is_digits(code, 14):
        return CodeCheck()
    return CodeCheck(errors=(f"matter code must be exactly 14 digits, got {code!r}",))


def check_impl_list_code(code: str, *, agency_credit_code: str = "") -> CodeCheck:
    """Check an implementation-list code (检查实施清单编码).

    It is the implementing agency's unified social credit code (18 characters),
    one digit 1-5 (the exercising level), then agency-specific characters of any
    length. With ``agency_credit_code``, the code must start with that agency's
    code (the list belongs to the agency that acted).
    """
    if len(code) < 19:
        return CodeCheck(errors=(f"implementation-list code needs a credit code, a level digit and more: {code!r}",))
    errors = [f"its credit code part: {e}" for e in check_uscc(code[:18]).errors]
    if code[18] not in "12345":
        errors.append(f"exercising level must be a digit 1-5, got {code[18]!r}")
    if agency_credit_code and code[:18] != agency_credit_code:
        errors.append(f"it belongs to agency {code[:18]}, not to the acting agency {agency_credit_code}")
    return CodeCheck(errors=tuple(errors))
