"""Validation of the regulatory matters catalog: main items, sub-items, implementation lists, mappings."""

from __future__ import annotations

from governance._records_catalog import ImplList, Matter, MatterMapping, MatterSub
from governance._validate_base import (
    FLAGS,
    choice,
    digits14,
    impl_list_code_problems,
    in_order,
    optional_date,
    parse_date,
    required,
)

__all__ = [
    "impl_list_cross_field",
    "impl_list_problems",
    "matter_mapping_problems",
    "matter_problems",
    "matter_sub_cross_field",
    "matter_sub_problems",
]

_STATUSES = frozenset({"0", "1", "2"})  # in use, cancelled, suspended
_ACTION_TYPES = frozenset({"0", "1", "2", "3"})  # inspection, penalty, enforcement, other
_LEVELS = frozenset("12345")
_ONE_TWO = frozenset({"1", "2"})
_CONTENT_KINDS = frozenset({"routine", "special"})
_FULL_RATIO_BP = 10_000


def _version(version_id: str, version_date: str, problems: list[str]) -> None:
    digits14("version_id", version_id, problems)
    parse_date("version_date", version_date, problems)


def matter_problems(record: Matter, problems: list[str]) -> None:
    """Every rule of a main item."""
    digits14("matter_code", record.matter_code, problems)
    required(problems, name=record.name)
    _version(record.version_id, record.version_date, problems)
    if record.parent_code:
        digits14("parent_code", record.parent_code, problems)
    choice("status", record.status, _STATUSES, problems)


def matter_sub_problems(record: MatterSub, problems: list[str]) -> None:
    """Every rule of a sub-item."""
    required(problems, sub_code=record.sub_code, name=record.name)
    digits14("matter_code", record.matter_code, problems)
    _version(record.version_id, record.version_date, problems)
    choice("action_type", record.action_type, _ACTION_TYPES, problems)
    _planned_dates(record, problems, problems)


def matter_sub_cross_field(record: MatterSub, problems: list[str]) -> None:
    """A planned cancel date after the planned effective date."""
    _planned_dates(record, problems, [])


def _planned_dates(record: MatterSub, problems: list[str], unparsed: list[str]) -> None:
    effective = optional_date("effective_date", record.effective_date, unparsed)
    cancelled = optional_date("cancel_date", record.cancel_date, unparsed)
    in_order(("effective date", effective), ("cancel date", cancelled), problems)


def impl_list_problems(record: ImplList, problems: list[str]) -> None:
    """Every rule of an implementation list."""
    required(problems, agency_name=record.agency_name, agency_credit_code=record.agency_credit_code)
    impl_list_code_problems(record.impl_list_code, record.agency_credit_code, problems)
    choice("level", record.level, _LEVELS, problems)
    _level_matches_code(record, problems)
    digits14("matter_code", record.matter_code, problems)
    _version(record.version_id, record.version_date, problems)
    choice("inspection_category", record.inspection_category, _ONE_TWO, problems)
    choice("random_pool", record.random_pool, _ONE_TWO, problems)
    choice("content_kind", record.content_kind, _CONTENT_KINDS, problems)
    choice("collaborative", record.collaborative, FLAGS, problems)
    if not 0 <= record.inspection_ratio_bp <= _FULL_RATIO_BP:
        problems.append(f"inspection ratio {record.inspection_ratio_bp} basis points is not 0-10000")


def impl_list_cross_field(record: ImplList, problems: list[str]) -> None:
    """The code starts with the agency's credit code, then the exercising level."""
    if record.agency_credit_code and record.impl_list_code[:18] != record.agency_credit_code:
        problems.append(
            f"implementation-list code belongs to agency {record.impl_list_code[:18]}, not {record.agency_credit_code}"
        )
    _level_matches_code(record, problems)


def _level_matches_code(record: ImplList, problems: list[str]) -> None:
    digit = record.impl_list_code[18:19]
    if digit in _LEVELS and record.level != digit:
        problems.append(f"level {record.level!r} differs from the code's level digit {digit!r}")


def matter_mapping_problems(record: MatterMapping, problems: list[str]) -> None:
    """Every rule of a local-national mapping."""
    digits14("local_code", record.local_code, problems)
    digits14("national_code", record.national_code, problems)
    digits14("version_id", record.version_id, problems)
    parse_date("mapped_on", record.mapped_on, problems)
