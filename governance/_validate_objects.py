"""Validation of regulated objects, their time-versioned attributes, and complaints and opinion about them."""

from __future__ import annotations

from datetime import date, datetime

from governance._clean_base import CHINA_TZ
from governance._records import Complaint, CreditGrade, ListEntry, PublicOpinion, RegulatedObject
from governance._validate_base import REGION, cert_problems, choice, in_order, optional_date, parse_date, required
from governance.codes import check_industry_code, check_region_code

__all__ = [
    "complaint_problems",
    "credit_grade_problems",
    "list_entry_cross_field",
    "list_entry_problems",
    "public_opinion_problems",
    "regulated_object_problems",
]

_GRADES = frozenset("ABCD")
_LIST_KINDS = frozenset({"abnormal_operation", "serious_violation"})
_SENTIMENTS = frozenset({"", "positive", "neutral", "negative"})


def regulated_object_problems(record: RegulatedObject, problems: list[str]) -> None:
    """Every rule of a regulated object."""
    if not record.name:
        problems.append("object has no name")
    kind = "id_card" if record.object_type == "natural_person" else "uscc"
    cert_problems(kind, record.credit_code, "object", problems)
    if not REGION.match(record.region_code):
        problems.append(f"region code {record.region_code!r} is not 6 digits")
    if record.industry_code:
        problems.extend(check_industry_code(record.industry_code).errors)
    if record.established_on:
        parse_date("established_on", record.established_on, problems)


def credit_grade_problems(record: CreditGrade, problems: list[str]) -> None:
    """Every rule of a credit risk grade."""
    cert_problems("uscc", record.credit_code, "object", problems)
    choice("grade", record.grade, _GRADES, problems)
    parse_date("assessed_on", record.assessed_on, problems)


def list_entry_problems(record: ListEntry, problems: list[str]) -> None:
    """Every rule of a list entry."""
    cert_problems("uscc", record.credit_code, "object", problems)
    choice("list_kind", record.list_kind, _LIST_KINDS, problems)
    required(problems, reason=record.reason, deciding_authority=record.deciding_authority)
    entered = parse_date("entered_on", record.entered_on, problems)
    _removal(record, entered, problems, problems)


def list_entry_cross_field(record: ListEntry, problems: list[str]) -> None:
    """Removed after entered; a removal reason only with a removal date."""
    unparsed: list[str] = []
    _removal(record, parse_date("entered_on", record.entered_on, unparsed), problems, unparsed)


def _removal(record: ListEntry, entered: date | None, problems: list[str], unparsed: list[str]) -> None:
    removed = optional_date("removed_on", record.removed_on, unparsed)
    in_order(("entered_on", entered), ("removed_on", removed), problems)
    if record.removal_reason and not record.removed_on:
        problems.append("removal reason given without a removal date")


def complaint_problems(record: Complaint, problems: list[str]) -> None:
    """Every rule of a complaint or tip."""
    if not record.details:
        problems.append("complaint has no details")
    if record.received_at_us <= 0:
        problems.append("complaint has no receipt time")
    if record.object_credit_code:
        cert_problems("uscc", record.object_credit_code, "object", problems)


def public_opinion_problems(record: PublicOpinion, problems: list[str]) -> None:
    """Every rule of a public-opinion item."""
    required(problems, source=record.source, title=record.title)
    if record.published_at_us <= 0:
        problems.append("public-opinion item has no publication time")
    for code in record.linked_credit_codes:
        cert_problems("uscc", code, "linked object", problems)
    if record.region_code:
        _opinion_region(record, problems)
    choice("sentiment", record.sentiment, _SENTIMENTS, problems)
    if record.url and not record.url.startswith(("http://", "https://")):
        problems.append(f"url {record.url!r} is not an http(s) address")


def _opinion_region(record: PublicOpinion, problems: list[str]) -> None:
    if not REGION.match(record.region_code):
        problems.append(f"region code {record.region_code!r} is not 6 digits")
    elif record.published_at_us > 0:
        day = datetime.fromtimestamp(record.published_at_us / 1e6, CHINA_TZ).date()
        problems.extend(check_region_code(record.region_code, day).errors)
