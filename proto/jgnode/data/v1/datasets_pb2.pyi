from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegulatedObject(_message.Message):
    __slots__ = ("credit_code", "name", "object_type", "region_code", "industry_code", "legal_representative", "established_on", "status", "registered_address", "operating_address")
    CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_REPRESENTATIVE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHED_ON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OPERATING_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    credit_code: str
    name: str
    object_type: str
    region_code: str
    industry_code: str
    legal_representative: str
    established_on: str
    status: str
    registered_address: str
    operating_address: str
    def __init__(self, credit_code: _Optional[str] = ..., name: _Optional[str] = ..., object_type: _Optional[str] = ..., region_code: _Optional[str] = ..., industry_code: _Optional[str] = ..., legal_representative: _Optional[str] = ..., established_on: _Optional[str] = ..., status: _Optional[str] = ..., registered_address: _Optional[str] = ..., operating_address: _Optional[str] = ...) -> None: ...

class Counterparty(_message.Message):
    __slots__ = ("name", "nature", "cert_type", "cert_number", "registered_address", "operating_address")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NATURE_FIELD_NUMBER: _ClassVar[int]
    CERT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CERT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OPERATING_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    nature: str
    cert_type: str
    cert_number: str
    registered_address: str
    operating_address: str
    def __init__(self, name: _Optional[str] = ..., nature: _Optional[str] = ..., cert_type: _Optional[str] = ..., cert_number: _Optional[str] = ..., registered_address: _Optional[str] = ..., operating_address: _Optional[str] = ...) -> None: ...

class ActionHeader(_message.Message):
    __slots__ = ("matter_code", "impl_list_code", "agency_name", "agency_credit_code", "delegated_department", "object_type", "counterparty", "region_code", "submitted_at_us", "submitter")
    MATTER_CODE_FIELD_NUMBER: _ClassVar[int]
    IMPL_LIST_CODE_FIELD_NUMBER: _ClassVar[int]
    AGENCY_NAME_FIELD_NUMBER: _ClassVar[int]
    AGENCY_CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    DELEGATED_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    SUBMITTER_FIELD_NUMBER: _ClassVar[int]
    matter_code: str
    impl_list_code: str
    agency_name: str
    agency_credit_code: str
    delegated_department: str
    object_type: str
    counterparty: Counterparty
    region_code: str
    submitted_at_us: int
    submitter: str
    def __init__(self, matter_code: _Optional[str] = ..., impl_list_code: _Optional[str] = ..., agency_name: _Optional[str] = ..., agency_credit_code: _Optional[str] = ..., delegated_department: _Optional[str] = ..., object_type: _Optional[str] = ..., counterparty: _Optional[_Union[Counterparty, _Mapping]] = ..., region_code: _Optional[str] = ..., submitted_at_us: _Optional[int] = ..., submitter: _Optional[str] = ...) -> None: ...

class Inspector(_message.Message):
    __slots__ = ("name", "cert_number")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CERT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    name: str
    cert_number: str
    def __init__(self, name: _Optional[str] = ..., cert_number: _Optional[str] = ...) -> None: ...

class CheckItem(_message.Message):
    __slots__ = ("item", "result")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    item: str
    result: str
    def __init__(self, item: _Optional[str] = ..., result: _Optional[str] = ...) -> None: ...

class Inspection(_message.Message):
    __slots__ = ("header", "plan_id", "action_name", "action_number", "form", "category", "method", "result", "action_date", "inspectors", "check_items")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FORM_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ACTION_DATE_FIELD_NUMBER: _ClassVar[int]
    INSPECTORS_FIELD_NUMBER: _ClassVar[int]
    CHECK_ITEMS_FIELD_NUMBER: _ClassVar[int]
    header: ActionHeader
    plan_id: str
    action_name: str
    action_number: str
    form: str
    category: str
    method: str
    result: str
    action_date: str
    inspectors: _containers.RepeatedCompositeFieldContainer[Inspector]
    check_items: _containers.RepeatedCompositeFieldContainer[CheckItem]
    def __init__(self, header: _Optional[_Union[ActionHeader, _Mapping]] = ..., plan_id: _Optional[str] = ..., action_name: _Optional[str] = ..., action_number: _Optional[str] = ..., form: _Optional[str] = ..., category: _Optional[str] = ..., method: _Optional[str] = ..., result: _Optional[str] = ..., action_date: _Optional[str] = ..., inspectors: _Optional[_Iterable[_Union[Inspector, _Mapping]]] = ..., check_items: _Optional[_Iterable[_Union[CheckItem, _Mapping]]] = ...) -> None: ...

class Penalty(_message.Message):
    __slots__ = ("header", "action_name", "action_number", "case_source", "inspection_number", "facts", "legal_basis", "procedure", "filing_date", "decision_number", "decision_date", "kinds", "fine_fen", "closing_date", "paid_fen")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CASE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    FILING_DATE_FIELD_NUMBER: _ClassVar[int]
    DECISION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DECISION_DATE_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    FINE_FEN_FIELD_NUMBER: _ClassVar[int]
    CLOSING_DATE_FIELD_NUMBER: _ClassVar[int]
    PAID_FEN_FIELD_NUMBER: _ClassVar[int]
    header: ActionHeader
    action_name: str
    action_number: str
    case_source: str
    inspection_number: str
    facts: str
    legal_basis: str
    procedure: str
    filing_date: str
    decision_number: str
    decision_date: str
    kinds: _containers.RepeatedScalarFieldContainer[str]
    fine_fen: int
    closing_date: str
    paid_fen: int
    def __init__(self, header: _Optional[_Union[ActionHeader, _Mapping]] = ..., action_name: _Optional[str] = ..., action_number: _Optional[str] = ..., case_source: _Optional[str] = ..., inspection_number: _Optional[str] = ..., facts: _Optional[str] = ..., legal_basis: _Optional[str] = ..., procedure: _Optional[str] = ..., filing_date: _Optional[str] = ..., decision_number: _Optional[str] = ..., decision_date: _Optional[str] = ..., kinds: _Optional[_Iterable[str]] = ..., fine_fen: _Optional[int] = ..., closing_date: _Optional[str] = ..., paid_fen: _Optional[int] = ...) -> None: ...

class Complaint(_message.Message):
    __slots__ = ("complaint_number", "kind", "object_name", "object_credit_code", "complaint_type", "region_code", "service_type", "service_name", "dispute_date", "details", "handling_status", "received_at_us")
    COMPLAINT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OBJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECT_CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    COMPLAINT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    DISPUTE_DATE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    HANDLING_STATUS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_US_FIELD_NUMBER: _ClassVar[int]
    complaint_number: str
    kind: str
    object_name: str
    object_credit_code: str
    complaint_type: str
    region_code: str
    service_type: str
    service_name: str
    dispute_date: str
    details: str
    handling_status: str
    received_at_us: int
    def __init__(self, complaint_number: _Optional[str] = ..., kind: _Optional[str] = ..., object_name: _Optional[str] = ..., object_credit_code: _Optional[str] = ..., complaint_type: _Optional[str] = ..., region_code: _Optional[str] = ..., service_type: _Optional[str] = ..., service_name: _Optional[str] = ..., dispute_date: _Optional[str] = ..., details: _Optional[str] = ..., handling_status: _Optional[str] = ..., received_at_us: _Optional[int] = ...) -> None: ...
