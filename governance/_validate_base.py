"""What the per-dataset validation rules share: dates, codes, choices and the action header.

Every helper appends problems (plain sentences) to the list it is given and
returns what later rules need (a parsed date, or None when there is none).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime
from typing import Final

from governance._clean_base import CHINA_TZ
from governance._records import ActionHeader
from governance.codes import check_id_number, check_impl_list_code, check_matter_code, check_region_code, check_uscc

__all__ = [
    "FLAGS",
    "REGION",
    "cert_problems",
    "choice",
    "digits14",
    "header_problems",
    "impl_list_code_problems",
    "in_order",
    "optional_date",
    "parse_date",
    "required",
    "submitted_after",
]

REGION: Final = re.compile(r"^\d{6}$")
FLAGS: Final = frozenset({"", "0", "1"})
"""A yes/no flag: ``"1"`` yes, ``"0"`` no, ``""`` not recorded."""


def parse_date(name: str, text: str, problems: list[str]) -> date | None:
    """The date in ``text``; a problem (and None) when it is no ``YYYY-MM-DD`` date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name} {text!r} is not a date (YYYY-MM-DD)")
        return None


def optional_date(name: str, text: str, problems: list[str]) -> date | None:
    """Like :func:`parse_date`, but an empty field is no problem."""
    return parse_date(name, text, problems) if text else None


def in_order(earlier: tuple[str, date | None], later: tuple[str, date | None], problems: list[str]) -> None:
    """A problem when both dates are known and ``later`` is not after ``earlier``."""
    (first_name, first), (second_name, second) = earlier, later
    if first is not None and second is not None and second <= first:
        problems.append(f"{second_name} {second} not after {first_name} {first}")


def digits14(name: str, code: str, problems: list[str]) -> None:
    """A problem when ``code`` is not exactly 14 ASCII digits (matter codes, catalog version ids)."""
    if not check_matter_code(code).ok:
        problems.append(f"{name} must be exactly 14 digits, got {code!r}")


def choice(name: str, value: str, allowed: Collection[str], problems: list[str]) -> None:
    """A problem when ``value`` is not one of ``allowed``."""
    if value not in allowed:
        problems.append(f"{name} {value!r} is not one of {', '.join(repr(a) for a in sorted(allowed))}")


def required(problems: list[str], **fields: str) -> None:
    """A problem per empty field."""
    problems.extend(f"{name} is empty" for name, value in fields.items() if not value)


def cert_problems(nature_type: str, number: str, where: str, problems: list[str]) -> None:
    """Problems of a credit code (``uscc``) or citizen ID number (``id_card``); other types are not checked."""
    if nature_type == "uscc":
        problems.extend(f"{where} credit code {number!r}: {e}" for e in check_uscc(number).errors)
    elif nature_type == "id_card":
        problems.extend(f"{where} ID number: {e}" for e in check_id_number(number).errors)


def impl_list_code_problems(code: str, agency_credit_code: str, problems: list[str]) -> None:
    """Problems of an implementation-list code (checked against the agency's credit code)."""
    problems.extend(
        f"implementation-list code {code!r}: {e}"
        for e in check_impl_list_code(code, agency_credit_code=agency_credit_code).errors
    )


def header_problems(header: ActionHeader, action_day: date | None, problems: list[str]) -> None:
    """Problems of the header every action shares; the region is checked for the action's date."""
    problems.extend(f"matter code {header.matter_code!r}: {e}" for e in check_matter_code(header.matter_code).errors)
    if header.impl_list_code:
        impl_list_code_problems(header.impl_list_code, header.agency_credit_code, problems)
    if not REGION.match(header.region_code):
        problems.append(f"region code {header.region_code!r} is not 6 digits")
    elif action_day is not None:
        problems.extend(check_region_code(header.region_code, action_day).errors)
    if header.agency_credit_code:
        cert_problems("uscc", header.agency_credit_code, "agency", problems)
    party = header.counterparty
    if not party.name:
        problems.append("counterparty has no name")
    cert_problems(party.cert_type, party.cert_number, "counterparty", problems)
    submitted_after(header, action_day, problems)


def submitted_after(header: ActionHeader, action_day: date | None, problems: list[str]) -> None:
    """A problem when the submission (China time) is dated before the action."""
    if action_day is not None:
        submitted = datetime.fromtimestamp(header.submitted_at_us / 1e6, CHINA_TZ).date()
        if submitted < action_day:
            problems.append(f"submitted {submitted} before the action date {action_day}")
