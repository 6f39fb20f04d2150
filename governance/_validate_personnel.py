"""Validation of enforcement personnel (执法人员)."""

from __future__ import annotations

from governance._records import Personnel
from governance._validate_base import FLAGS, cert_problems, choice, in_order, optional_date, parse_date, required

__all__ = ["personnel_cross_field", "personnel_problems"]

_SEXES = frozenset({"1", "2"})  # GB/T 2261.1 male, female
_ON_OFF = frozenset({"0", "1"})


def personnel_problems(record: Personnel, problems: list[str]) -> None:
    """Every rule of an enforcement officer."""
    cert_problems("id_card", record.id_number, "officer", problems)
    required(problems, name=record.name, organisation=record.organisation)
    choice("sex", record.sex, _SEXES, problems)
    parse_date("birth_date", record.birth_date, problems)
    if record.organisation_credit_code:
        cert_problems("uscc", record.organisation_credit_code, "organisation", problems)
    choice("on_duty", record.on_duty, _ON_OFF, problems)
    choice("enabled", record.enabled, _ON_OFF, problems)
    choice("is_supervisor", record.is_supervisor, FLAGS, problems)
    choice("legal_qualification", record.legal_qualification, FLAGS, problems)
    _consistent(record, problems, problems)


def personnel_cross_field(record: Personnel, problems: list[str]) -> None:
    """Birth date and sex agree with the ID number; the certificate expires after it starts."""
    _consistent(record, problems, [])


def _consistent(record: Personnel, problems: list[str], unparsed: list[str]) -> None:
    number = record.id_number
    if len(number) == 18 and number[6:14].isascii() and number[6:14].isdigit():
        born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        if record.birth_date != born:
            problems.append(f"birth date {record.birth_date!r} differs from the ID number's {born}")
        if number[16].isdigit() and record.sex in _SEXES and int(number[16]) % 2 != int(record.sex) % 2:
            problems.append(f"sex {record.sex!r} differs from the ID number's (odd sequence male, even female)")
    start = optional_date("cert_valid_from", record.cert_valid_from, unparsed)
    end = optional_date("cert_valid_to", record.cert_valid_to, unparsed)
    in_order(("cert_valid_from", start), ("cert_valid_to", end), problems)
