"""Record-level validation of the standard datasets (the rules of STANDARDS.md).

Returns problems as data; callers decide to quarantine. Issue 4 extends this to
findings with severities, cleaning and cross-record rules.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from governance._records import ActionHeader, Complaint, DatasetRecord, Inspection, Penalty, RegulatedObject
from governance.codes import check_id_number, check_impl_list_code, check_matter_code, check_region_code, check_uscc

__all__ = ["cross_field_problems", "validate"]

_CST = timezone(timedelta(hours=8))
_REGION = re.compile(r"^\d{6}$")


def _date(name: str, text: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name} {text!r} is not a date (YYYY-MM-DD)")
        return None


def _cert(nature_type: str, number: str, where: str, problems: list[str]) -> None:
    if nature_type == "uscc":
        problems.extend(f"{where} credit code {number!r}: {e}" for e in check_uscc(number).errors)
    elif nature_type == "id_card":
        problems.extend(f"{where} ID number: {e}" for e in check_id_number(number).errors)


def _header(header: ActionHeader, action_day: date | None, problems: list[str]) -> None:
    problems.extend(f"matter code {header.matter_code!r}: {e}" for e in check_matter_code(header.matter_code).errors)
    if header.impl_list_code:
        problems.extend(
            f"implementation-list code {header.impl_list_code!r}: {e}"
            for e in check_impl_list_code(header.impl_list_code, agency_credit_code=header.agency_credit_code).errors
        )
    if not _REGION.match(header.region_code):
        problems.append(f"region code {header.region_code!r} is not 6 digits")
    elif action_day is not None:
        problems.extend(check_region_code(header.region_code, action_day).errors)
    if header.agency_credit_code:
        _cert("uscc", header.agency_credit_code, "agency", problems)
    party = header.counterparty
    if not party.name:
        problems.append("counterparty has no name")
    _cert(party.cert_type, party.cert_number, "counterparty", problems)
    _submitted_after(header, action_day, problems)


def _submitted_after(header: ActionHeader, action_day: date | None, problems: list[str]) -> None:
    if action_day is not None:
        submitted = datetime.fromtimestamp(header.submitted_at_us / 1e6, _CST).date()
        if submitted < action_day:
            problems.append(f"submitted {submitted} before the action date {action_day}")


def _inspection(record: Inspection, problems: list[str]) -> None:
    if len(record.action_number) > 50:
        problems.append("action number longer than 50 characters")
    day = _date("action_date", record.action_date, problems)
    _header(record.header, day, problems)
    _two_inspectors(record, problems)


def _two_inspectors(record: Inspection, problems: list[str]) -> None:
    complete = [i for i in record.inspectors if i.name and i.cert_number]
    if len(complete) < 2:
        problems.append(f"an inspection needs at least two inspectors with certificate numbers, has {len(complete)}")


def _penalty(record: Penalty, problems: list[str]) -> None:
    filed = _date("filing_date", record.filing_date, problems)
    decided = _date("decision_date", record.decision_date, problems)
    _header(record.header, decided, problems)
    _penalty_dates(record, filed, decided, problems, problems)
    if not record.kinds:
        problems.append("penalty has no kind")
    if record.fine_fen < 0 or record.paid_fen < 0:
        problems.append("negative amount")


def _penalty_dates(
    record: Penalty, filed: date | None, decided: date | None, problems: list[str], unparsed: list[str]
) -> None:
    if filed and decided and decided < filed:
        problems.append(f"decision date {decided} before filing date {filed}")
    if record.closing_date:
        closed = _date("closing_date", record.closing_date, unparsed)
        if filed and closed and closed <= filed:
            problems.append(f"closing date {closed} not after filing date {filed}")


def _regulated_object(record: RegulatedObject, problems: list[str]) -> None:
    if not record.name:
        problems.append("object has no name")
    kind = "id_card" if record.object_type == "natural_person" else "uscc"
    _cert(kind, record.credit_code, "object", problems)
    if not _REGION.match(record.region_code):
        problems.append(f"region code {record.region_code!r} is not 6 digits")
    if record.established_on:
        _date("established_on", record.established_on, problems)


def _complaint(record: Complaint, problems: list[str]) -> None:
    if not record.details:
        problems.append("complaint has no details")
    if record.received_at_us <= 0:
        problems.append("complaint has no receipt time")
    if record.object_credit_code:
        _cert("uscc", record.object_credit_code, "object", problems)


def cross_field_problems(record: DatasetRecord) -> list[str]:
    """Only the cross-field rules of :func:`validate`, re-runnable on stored records.

    Submission not before the action date (inspections, penalties); decision
    not before filing and closing after filing (penalties); at least two
    inspectors with certificate numbers (inspections). A date that does not
    parse is a field problem, not a cross-field one: the rules that need it
    are skipped.
    """
    problems: list[str] = []
    unparsed: list[str] = []  # field problems, reported by validate(), not here
    match record:
        case Inspection():
            _submitted_after(record.header, _date("action_date", record.action_date, unparsed), problems)
            _two_inspectors(record, problems)
        case Penalty():
            filed = _date("filing_date", record.filing_date, unparsed)
            decided = _date("decision_date", record.decision_date, unparsed)
            _submitted_after(record.header, decided, problems)
            _penalty_dates(record, filed, decided, problems, unparsed)
        case _:
            pass
    return problems


def validate(record: DatasetRecord) -> list[str]:
    """Problems that keep a record out of the store (empty when it is acceptable)."""
    problems: list[str] = []
    match record:
        case Inspection():
            _inspection(record, problems)
        case Penalty():
            _penalty(record, problems)
        case RegulatedObject():
            _regulated_object(record, problems)
        case Complaint():
            _complaint(record, problems)
    return problems
