"""Plain typed records of the regulatory datasets (see shared STANDARDS.md).

These are what governance, analytics and adapters work on; only ``node.serde``
maps them to and from protobuf. Dates are ISO ``YYYY-MM-DD`` strings, instants
are microseconds since the Unix epoch (UTC), money is in fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

REGULATED_OBJECT: Final = "regulated_object"
INSPECTION: Final = "inspection"
PENALTY: Final = "penalty"
COMPLAINT: Final = "complaint"
DATASETS: Final = (REGULATED_OBJECT, INSPECTION, PENALTY, COMPLAINT)


@dataclass(frozen=True, slots=True)
class RegulatedObject:
    """监管对象: an enterprise, organisation, individual business or person."""

    credit_code: str
    name: str
    object_type: str
    region_code: str
    industry_code: str = ""
    legal_representative: str = ""
    established_on: str = ""
    status: str = "operating"
    registered_address: str = ""
    operating_address: str = ""

    @property
    def uid(self) -> str:
        """Record uid: the credit code (ID number for natural persons)."""
        return self.credit_code


@dataclass(frozen=True, slots=True)
class Counterparty:
    """行政相对人: who a regulatory action concerns."""

    name: str
    nature: str  # 1 citizen, 2 legal person, 3 other organisation
    cert_type: str
    cert_number: str
    registered_address: str = ""
    operating_address: str = ""


@dataclass(frozen=True, slots=True)
class ActionHeader:
    """Fields shared by inspections, penalties, enforcement and other actions."""

    matter_code: str
    impl_list_code: str
    agency_name: str
    agency_credit_code: str
    object_type: str
    counterparty: Counterparty
    region_code: str
    submitted_at_us: int
    submitter: str
    delegated_department: str = ""


@dataclass(frozen=True, slots=True)
class Inspector:
    """An enforcement officer and their certificate number."""

    name: str
    cert_number: str


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One check item and its result (pass, fail, not_inspected, not_applicable)."""

    item: str
    result: str


@dataclass(frozen=True, slots=True)
class Inspection:
    """行政检查: an inspection of a regulated object."""

    header: ActionHeader
    action_number: str
    action_name: str
    action_date: str
    inspectors: tuple[Inspector, ...]
    plan_id: str = ""
    form: str = "01"
    category: str = "1"
    method: str = ""
    result: str = ""
    check_items: tuple[CheckItem, ...] = field(default=())

    @property
    def uid(self) -> str:
        """Record uid: the action number (the business key)."""
        return self.action_number


@dataclass(frozen=True, slots=True)
class Penalty:
    """行政处罚: an administrative penalty."""

    header: ActionHeader
    action_number: str
    action_name: str
    filing_date: str
    decision_number: str
    decision_date: str
    kinds: tuple[str, ...]
    case_source: str = ""
    inspection_number: str = ""
    facts: str = ""
    legal_basis: str = ""
    procedure: str = "02"
    fine_fen: int = 0
    closing_date: str = ""
    paid_fen: int = 0

    @property
    def uid(self) -> str:
        """Record uid: the action number."""
        return self.action_number


@dataclass(frozen=True, slots=True)
class Complaint:
    """投诉举报: a complaint or a tip about a regulated object."""

    complaint_number: str
    kind: str  # "complaint" or "tip"
    object_name: str
    object_credit_code: str
    complaint_type: str
    region_code: str
    details: str
    received_at_us: int
    service_type: str = ""
    service_name: str = ""
    dispute_date: str = ""
    handling_status: str = "received"

    @property
    def uid(self) -> str:
        """Record uid: the complaint number."""
        return self.complaint_number


DatasetRecord = RegulatedObject | Inspection | Penalty | Complaint
