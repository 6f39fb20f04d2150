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
    __slots__ = ("header", "action_name", "action_number", "case_source", "inspection_number", "facts", "legal_basis", "procedure", "filing_date", "decision_number", "decision_date", "kinds", "fine_fen", "closing_date", "paid_fen", "hearing_held", "criminal_case", "major_case", "reconsideration_status", "litigation_status", "disclosure_status")
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
    HEARING_HELD_FIELD_NUMBER: _ClassVar[int]
    CRIMINAL_CASE_FIELD_NUMBER: _ClassVar[int]
    MAJOR_CASE_FIELD_NUMBER: _ClassVar[int]
    RECONSIDERATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    LITIGATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURE_STATUS_FIELD_NUMBER: _ClassVar[int]
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
    hearing_held: str
    criminal_case: str
    major_case: str
    reconsideration_status: str
    litigation_status: str
    disclosure_status: str
    def __init__(self, header: _Optional[_Union[ActionHeader, _Mapping]] = ..., action_name: _Optional[str] = ..., action_number: _Optional[str] = ..., case_source: _Optional[str] = ..., inspection_number: _Optional[str] = ..., facts: _Optional[str] = ..., legal_basis: _Optional[str] = ..., procedure: _Optional[str] = ..., filing_date: _Optional[str] = ..., decision_number: _Optional[str] = ..., decision_date: _Optional[str] = ..., kinds: _Optional[_Iterable[str]] = ..., fine_fen: _Optional[int] = ..., closing_date: _Optional[str] = ..., paid_fen: _Optional[int] = ..., hearing_held: _Optional[str] = ..., criminal_case: _Optional[str] = ..., major_case: _Optional[str] = ..., reconsideration_status: _Optional[str] = ..., litigation_status: _Optional[str] = ..., disclosure_status: _Optional[str] = ...) -> None: ...

class Enforcement(_message.Message):
    __slots__ = ("header", "action_name", "action_number", "inspection_number", "facts", "legal_basis", "decision_number", "measure_kind", "execution_type", "result", "start_date", "extension_date", "end_date")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    DECISION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MEASURE_KIND_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    header: ActionHeader
    action_name: str
    action_number: str
    inspection_number: str
    facts: str
    legal_basis: str
    decision_number: str
    measure_kind: str
    execution_type: str
    result: str
    start_date: str
    extension_date: str
    end_date: str
    def __init__(self, header: _Optional[_Union[ActionHeader, _Mapping]] = ..., action_name: _Optional[str] = ..., action_number: _Optional[str] = ..., inspection_number: _Optional[str] = ..., facts: _Optional[str] = ..., legal_basis: _Optional[str] = ..., decision_number: _Optional[str] = ..., measure_kind: _Optional[str] = ..., execution_type: _Optional[str] = ..., result: _Optional[str] = ..., start_date: _Optional[str] = ..., extension_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

class OtherAction(_message.Message):
    __slots__ = ("header", "action_name", "action_number", "inspection_number", "source", "measure", "outcome", "start_date", "end_date")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    header: ActionHeader
    action_name: str
    action_number: str
    inspection_number: str
    source: str
    measure: str
    outcome: str
    start_date: str
    end_date: str
    def __init__(self, header: _Optional[_Union[ActionHeader, _Mapping]] = ..., action_name: _Optional[str] = ..., action_number: _Optional[str] = ..., inspection_number: _Optional[str] = ..., source: _Optional[str] = ..., measure: _Optional[str] = ..., outcome: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

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

class PublicOpinion(_message.Message):
    __slots__ = ("item_id", "source", "title", "text", "published_at_us", "url", "linked_credit_codes", "linked_names", "region_code", "sentiment")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_US_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    LINKED_CREDIT_CODES_FIELD_NUMBER: _ClassVar[int]
    LINKED_NAMES_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    source: str
    title: str
    text: str
    published_at_us: int
    url: str
    linked_credit_codes: _containers.RepeatedScalarFieldContainer[str]
    linked_names: _containers.RepeatedScalarFieldContainer[str]
    region_code: str
    sentiment: str
    def __init__(self, item_id: _Optional[str] = ..., source: _Optional[str] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., published_at_us: _Optional[int] = ..., url: _Optional[str] = ..., linked_credit_codes: _Optional[_Iterable[str]] = ..., linked_names: _Optional[_Iterable[str]] = ..., region_code: _Optional[str] = ..., sentiment: _Optional[str] = ...) -> None: ...

class Personnel(_message.Message):
    __slots__ = ("id_number", "name", "sex", "birth_date", "organisation", "organisation_credit_code", "job_level", "enforcement_category", "enforcement_area", "cert_type", "cert_number", "cert_issuer", "cert_valid_from", "cert_valid_to", "on_duty", "is_supervisor", "legal_qualification", "enabled")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    JOB_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ENFORCEMENT_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ENFORCEMENT_AREA_FIELD_NUMBER: _ClassVar[int]
    CERT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CERT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CERT_ISSUER_FIELD_NUMBER: _ClassVar[int]
    CERT_VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    CERT_VALID_TO_FIELD_NUMBER: _ClassVar[int]
    ON_DUTY_FIELD_NUMBER: _ClassVar[int]
    IS_SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    LEGAL_QUALIFICATION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    sex: str
    birth_date: str
    organisation: str
    organisation_credit_code: str
    job_level: str
    enforcement_category: str
    enforcement_area: str
    cert_type: str
    cert_number: str
    cert_issuer: str
    cert_valid_from: str
    cert_valid_to: str
    on_duty: str
    is_supervisor: str
    legal_qualification: str
    enabled: str
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ..., sex: _Optional[str] = ..., birth_date: _Optional[str] = ..., organisation: _Optional[str] = ..., organisation_credit_code: _Optional[str] = ..., job_level: _Optional[str] = ..., enforcement_category: _Optional[str] = ..., enforcement_area: _Optional[str] = ..., cert_type: _Optional[str] = ..., cert_number: _Optional[str] = ..., cert_issuer: _Optional[str] = ..., cert_valid_from: _Optional[str] = ..., cert_valid_to: _Optional[str] = ..., on_duty: _Optional[str] = ..., is_supervisor: _Optional[str] = ..., legal_qualification: _Optional[str] = ..., enabled: _Optional[str] = ...) -> None: ...

class CreditGrade(_message.Message):
    __slots__ = ("credit_code", "grade", "assessed_on", "assessing_authority", "model_version")
    CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    ASSESSED_ON_FIELD_NUMBER: _ClassVar[int]
    ASSESSING_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    credit_code: str
    grade: str
    assessed_on: str
    assessing_authority: str
    model_version: str
    def __init__(self, credit_code: _Optional[str] = ..., grade: _Optional[str] = ..., assessed_on: _Optional[str] = ..., assessing_authority: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class ListEntry(_message.Message):
    __slots__ = ("credit_code", "list_kind", "entered_on", "reason", "deciding_authority", "removed_on", "removal_reason")
    CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    LIST_KIND_FIELD_NUMBER: _ClassVar[int]
    ENTERED_ON_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DECIDING_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    REMOVED_ON_FIELD_NUMBER: _ClassVar[int]
    REMOVAL_REASON_FIELD_NUMBER: _ClassVar[int]
    credit_code: str
    list_kind: str
    entered_on: str
    reason: str
    deciding_authority: str
    removed_on: str
    removal_reason: str
    def __init__(self, credit_code: _Optional[str] = ..., list_kind: _Optional[str] = ..., entered_on: _Optional[str] = ..., reason: _Optional[str] = ..., deciding_authority: _Optional[str] = ..., removed_on: _Optional[str] = ..., removal_reason: _Optional[str] = ...) -> None: ...

class Matter(_message.Message):
    __slots__ = ("matter_code", "name", "version_id", "version_date", "parent_code", "department", "power_item_code", "status")
    MATTER_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_DATE_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    POWER_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    matter_code: str
    name: str
    version_id: str
    version_date: str
    parent_code: str
    department: str
    power_item_code: str
    status: str
    def __init__(self, matter_code: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., version_date: _Optional[str] = ..., parent_code: _Optional[str] = ..., department: _Optional[str] = ..., power_item_code: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class MatterSub(_message.Message):
    __slots__ = ("sub_code", "matter_code", "name", "version_id", "version_date", "action_type", "object_category", "form", "method", "legal_basis", "process", "result", "supervision_level", "effective_date", "cancel_date")
    SUB_CODE_FIELD_NUMBER: _ClassVar[int]
    MATTER_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_DATE_FIELD_NUMBER: _ClassVar[int]
    ACTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    FORM_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SUPERVISION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_DATE_FIELD_NUMBER: _ClassVar[int]
    sub_code: str
    matter_code: str
    name: str
    version_id: str
    version_date: str
    action_type: str
    object_category: str
    form: str
    method: str
    legal_basis: str
    process: str
    result: str
    supervision_level: str
    effective_date: str
    cancel_date: str
    def __init__(self, sub_code: _Optional[str] = ..., matter_code: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., version_date: _Optional[str] = ..., action_type: _Optional[str] = ..., object_category: _Optional[str] = ..., form: _Optional[str] = ..., method: _Optional[str] = ..., legal_basis: _Optional[str] = ..., process: _Optional[str] = ..., result: _Optional[str] = ..., supervision_level: _Optional[str] = ..., effective_date: _Optional[str] = ..., cancel_date: _Optional[str] = ...) -> None: ...

class ImplList(_message.Message):
    __slots__ = ("impl_list_code", "matter_code", "level", "agency_name", "agency_credit_code", "version_id", "version_date", "sub_code", "delegated_department", "inspection_category", "inspection_method", "random_pool", "inspection_ratio_bp", "frequency", "content_kind", "collaborative")
    IMPL_LIST_CODE_FIELD_NUMBER: _ClassVar[int]
    MATTER_CODE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    AGENCY_NAME_FIELD_NUMBER: _ClassVar[int]
    AGENCY_CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_DATE_FIELD_NUMBER: _ClassVar[int]
    SUB_CODE_FIELD_NUMBER: _ClassVar[int]
    DELEGATED_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    RANDOM_POOL_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_RATIO_BP_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_KIND_FIELD_NUMBER: _ClassVar[int]
    COLLABORATIVE_FIELD_NUMBER: _ClassVar[int]
    impl_list_code: str
    matter_code: str
    level: str
    agency_name: str
    agency_credit_code: str
    version_id: str
    version_date: str
    sub_code: str
    delegated_department: str
    inspection_category: str
    inspection_method: str
    random_pool: str
    inspection_ratio_bp: int
    frequency: str
    content_kind: str
    collaborative: str
    def __init__(self, impl_list_code: _Optional[str] = ..., matter_code: _Optional[str] = ..., level: _Optional[str] = ..., agency_name: _Optional[str] = ..., agency_credit_code: _Optional[str] = ..., version_id: _Optional[str] = ..., version_date: _Optional[str] = ..., sub_code: _Optional[str] = ..., delegated_department: _Optional[str] = ..., inspection_category: _Optional[str] = ..., inspection_method: _Optional[str] = ..., random_pool: _Optional[str] = ..., inspection_ratio_bp: _Optional[int] = ..., frequency: _Optional[str] = ..., content_kind: _Optional[str] = ..., collaborative: _Optional[str] = ...) -> None: ...

class MatterMapping(_message.Message):
    __slots__ = ("local_code", "national_code", "version_id", "mapped_on", "note")
    LOCAL_CODE_FIELD_NUMBER: _ClassVar[int]
    NATIONAL_CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    MAPPED_ON_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    local_code: str
    national_code: str
    version_id: str
    mapped_on: str
    note: str
    def __init__(self, local_code: _Optional[str] = ..., national_code: _Optional[str] = ..., version_id: _Optional[str] = ..., mapped_on: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...
