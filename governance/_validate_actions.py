"""Validation of the four regulatory action types (行政检查, 行政处罚, 行政强制, 其他行为).

Each ``*_problems`` function runs every rule of its record type; each
``*_cross_field`` function only the rules that relate fields to each other
(re-runnable on stored records, where a field that does not parse was already
reported on intake).
"""

from __future__ import annotations

from datetime import date

from governance._records import Enforcement, Inspection, OtherAction, Penalty
from governance._validate_base import (
    FLAGS,
    choice,
    header_problems,
    optional_date,
    parse_date,
    submitted_after,
)

__all__ = [
    "enforcement_cross_field",
    "enforcement_problems",
    "inspection_cross_field",
    "inspection_problems",
    "other_action_cross_field",
    "other_action_problems",
    "penalty_cross_field",
    "penalty_problems",
]

_DISCLOSURE = frozenset({"", "0", "1", "2"})  # 0 normal, 1 revoked, 2 deleted


def inspection_problems(record: Inspection, problems: list[str]) -> None:
    """Every rule of an inspection."""
    if len(record.action_number) > 50:
        problems.append("action number longer than 50 characters")
    day = parse_date("action_date", record.action_date, problems)
    header_problems(record.header, day, problems)
    _two_inspectors(record, problems)


def inspection_cross_field(record: Inspection, problems: list[str]) -> None:
    """Submitted on or after the action date; at least two inspectors with certificate numbers."""
    submitted_after(record.header, parse_date("action_date", record.action_date, []), problems)
    _two_inspectors(record, problems)


def _two_inspectors(record: Inspection, problems: list[str]) -> None:
    complete = [i for i in record.inspectors if i.name and i.cert_number]
    if len(complete) < 2:
        problems.append(f"an inspection needs at least two inspectors with certificate numbers, has {len(complete)}")


def penalty_problems(record: Penalty, problems: list[str]) -> None:
    """Every rule of a penalty."""
    filed = parse_date("filing_date", record.filing_date, problems)
    decided = parse_date("decision_date", record.decision_date, problems)
    header_problems(record.header, decided, problems)
    _penalty_dates(record, filed, decided, problems, problems)
    if not record.kinds:
        problems.append("penalty has no kind")
    if record.fine_fen < 0 or record.paid_fen < 0:
        problems.append("negative amount")
    for name in ("hearing_held", "criminal_case", "major_case"):
        choice(name, getattr(record, name), FLAGS, problems)
    choice("disclosure_status", record.disclosure_status, _DISCLOSURE, problems)


def penalty_cross_field(record: Penalty, problems: list[str]) -> None:
    """Submitted on or after the decision; decided on or after filing; closed after filing."""
    unparsed: list[str] = []
    filed = parse_date("filing_date", record.filing_date, unparsed)
    decided = parse_date("decision_date", record.decision_date, unparsed)
    submitted_after(record.header, decided, problems)
    _penalty_dates(record, filed, decided, problems, unparsed)


def _penalty_dates(
    record: Penalty, filed: date | None, decided: date | None, problems: list[str], unparsed: list[str]
) -> None:
    if filed and decided and decided < filed:
        problems.append(f"decision date {decided} before filing date {filed}")
    if record.closing_date:
        closed = parse_date("closing_date", record.closing_date, unparsed)
        if filed and closed and closed <= filed:
            problems.append(f"closing date {closed} not after filing date {filed}")


def enforcement_problems(record: Enforcement, problems: list[str]) -> None:
    """Every rule of an enforcement measure."""
    _measure_problems(record, record.extension_date, problems)


def enforcement_cross_field(record: Enforcement, problems: list[str]) -> None:
    """Submitted on or after the start; extension and end not before the start; extension not after the end."""
    _measure_cross_field(record, record.extension_date, problems)


def other_action_problems(record: OtherAction, problems: list[str]) -> None:
    """Every rule of an other action."""
    _measure_problems(record, "", problems)


def other_action_cross_field(record: OtherAction, problems: list[str]) -> None:
    """Submitted on or after the start; ended not before the start."""
    _measure_cross_field(record, "", problems)


def _measure_problems(record: Enforcement | OtherAction, extension_text: str, problems: list[str]) -> None:
    start = parse_date("start_date", record.start_date, problems)
    header_problems(record.header, start, problems)
    _span(start, record.end_date, extension_text, problems, problems)


def _measure_cross_field(record: Enforcement | OtherAction, extension_text: str, problems: list[str]) -> None:
    unparsed: list[str] = []
    start = parse_date("start_date", record.start_date, unparsed)
    submitted_after(record.header, start, problems)
    _span(start, record.end_date, extension_text, problems, unparsed)


def _span(start: date | None, end_text: str, extension_text: str, problems: list[str], unparsed: list[str]) -> None:
    # a measure may end on the day it starts (an interview, a seizure lifted the same day)
    end = optional_date("end_date", end_text, unparsed)
    extended = optional_date("extension_date", extension_text, unparsed)
    if start and end and end < start:
        problems.append(f"end date {end} before start date {start}")
    if start and extended and extended < start:
        problems.append(f"extension date {extended} before start date {start}")
    if end and extended and extended > end:
        problems.append(f"extension date {extended} after end date {end}")
