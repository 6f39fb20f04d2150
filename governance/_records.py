"""Plain typed records of the regulatory datasets (see shared STANDARDS.md).

These are what governance, analytics and adapters work on; only ``node.serde``
maps them to and from protobuf. Dates are ISO ``YYYY-MM-DD`` strings, instants
are microseconds since the Unix epoch (UTC), money is in fen, yes/no flags are
``"1"``/``"0"`` (``""`` when not recorded). The matters catalog is in
``_records_catalog``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Final

from governance._records_catalog import ImplList, Matter, MatterMapping, MatterSub

REGULATED_OBJECT: Final = "regulated_object"
CREDIT_GRADE: Final = "credit_grade"
LIST_ENTRY: Final = "list_entry"
INSPECTION: Final = "inspection"
PENALTY: Final = "penalty"
ENFORCEMENT: Final = "enforcement"
OTHER_ACTION: Final = "other_action"
COMPLAINT: Final = "complaint"
PUBLIC_OPINION: Final = "public_opinion"
PERSONNEL: Final = "personnel"
MATTER: Final = "matter"
MATTER_SUB: Final = "matter_sub"
IMPL_LIST: Final = "impl_list"
MATTER_MAPPING: Final = "matter_mapping"
DATASETS: Final = (
    REGULATED_OBJECT,
    INSPECTION,
    PENALTY,
    COMPLAINT,
    CREDIT_GRADE,
    LIST_ENTRY,
    ENFORCEMENT,
    OTHER_ACTION,
    PUBLIC_OPINION,
    PERSONNEL,
    MATTER,
    MATTER_SUB,
    IMPL_LIST,
    MATTER_MAPPING,
)


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
class CreditGrade:
    """信用风险分类: one assessment of an object's credit risk grade.

    Every assessment is its own record: a new grade never overwrites an old one.
    """

    credit_code: str
    grade: str  # A low, B normal, C elevated, D high
    assessed_on: str
    assessing_authority: str = ""
    model_version: str = ""

    @property
    def uid(self) -> str:
        """Record uid: ``credit_code@assessed_on``."""
        return f"{self.credit_code}@{self.assessed_on}"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """经营异常名录 or 严重违法失信名单 entry of an object.

    Every entry is its own record. A removal is a new version of the same
    record (same uid, ``removed_on`` filled in): the store keeps every version,
    so when the object was listed stays known after it is removed.
    """

    credit_code: str
    list_kind: str  # "abnormal_operation" 经营异常名录, "serious_violation" 严重违法失信名单
    entered_on: str
    reason: str
    deciding_authority: str
    removed_on: str = ""
    removal_reason: str = ""

    @property
    def uid(self) -> str:
        """Record uid: ``credit_code:list_kind:entered_on``."""
        return f"{self.credit_code}:{self.list_kind}:{self.entered_on}"


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
    # schema version 2; flags are "1" yes, "0" no, "" not recorded
    hearing_held: str = ""  # 是否听证
    criminal_case: str = ""  # 是否移送涉嫌犯罪案件
    major_case: str = ""  # 是否重大案件
    reconsideration_status: str = ""  # 行政复议状态
    litigation_status: str = ""  # 行政诉讼状态
    disclosure_status: str = ""  # 双公示: 0 normal, 1 revoked, 2 deleted

    @property
    def uid(self) -> str:
        """Record uid: the action number."""
        return self.action_number


@dataclass(frozen=True, slots=True)
class Enforcement:
    """行政强制: an administrative enforcement measure."""

    header: ActionHeader
    action_number: str
    action_name: str
    start_date: str
    inspection_number: str = ""
    facts: str = ""
    legal_basis: str = ""
    decision_number: str = ""
    measure_kind: str = ""  # 强制措施种类
    execution_type: str = ""  # 执行方式
    result: str = ""
    extension_date: str = ""  # 延期日期
    end_date: str = ""

    @property
    def uid(self) -> str:
        """Record uid: the action number."""
        return self.action_number


@dataclass(frozen=True, slots=True)
class OtherAction:
    """其他行为: a regulatory action that is no inspection, penalty or enforcement."""

    header: ActionHeader
    action_number: str
    action_name: str
    start_date: str
    inspection_number: str = ""
    source: str = ""  # 行为来源
    measure: str = ""  # 处置措施
    outcome: str = ""  # 处置结果
    end_date: str = ""

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
    complaint_type: str
    region_code: str
    details: str
    received_at_us: int
    object_credit_code: str = ""  # callers of hotlines rarely know it: the resolver links by name
    service_type: str = ""
    service_name: str = ""
    dispute_date: str = ""
    handling_status: str = "received"

    @property
    def uid(self) -> str:
        """Record uid: the complaint number."""
        return self.complaint_number


@dataclass(frozen=True, slots=True)
class PublicOpinion:
    """舆情: a public-opinion item and the objects it mentions."""

    item_id: str
    source: str
    title: str
    published_at_us: int
    text: str = ""
    url: str = ""
    linked_credit_codes: tuple[str, ...] = ()
    linked_names: tuple[str, ...] = ()
    region_code: str = ""
    sentiment: str = ""  # "positive", "neutral", "negative"; "" not assessed

    @property
    def uid(self) -> str:
        """Record uid: the item id."""
        return self.item_id


@dataclass(frozen=True, slots=True)
class Personnel:
    """执法人员: an enforcement officer (personal data: the ID number is the uid)."""

    id_number: str
    name: str
    sex: str  # GB/T 2261.1: "1" male, "2" female
    birth_date: str
    organisation: str  # 所属单位
    organisation_credit_code: str = ""
    job_level: str = ""  # 职级
    enforcement_category: str = ""  # 执法类别
    enforcement_area: str = ""  # 执法区域
    cert_type: str = ""  # 执法证件类型
    cert_number: str = ""  # 执法证号
    cert_issuer: str = ""  # 发证机关
    cert_valid_from: str = ""
    cert_valid_to: str = ""
    on_duty: str = "1"  # "1" 在岗, "0" 离岗
    is_supervisor: str = ""  # 是否监督人员
    legal_qualification: str = ""  # 法律职业资格
    enabled: str = "1"  # "1" enabled, "0" disabled

    @property
    def uid(self) -> str:
        """Record uid: the ID number."""
        return self.id_number


DatasetRecord = (
    RegulatedObject
    | CreditGrade
    | ListEntry
    | Inspection
    | Penalty
    | Enforcement
    | OtherAction
    | Complaint
    | PublicOpinion
    | Personnel
    | Matter
    | MatterSub
    | ImplList
    | MatterMapping
)

UID_FORMATS: Final[dict[type, str]] = {
    RegulatedObject: "{credit_code}",
    CreditGrade: "{credit_code}@{assessed_on}",
    ListEntry: "{credit_code}:{list_kind}:{entered_on}",
    Inspection: "{action_number}",
    Penalty: "{action_number}",
    Enforcement: "{action_number}",
    OtherAction: "{action_number}",
    Complaint: "{complaint_number}",
    PublicOpinion: "{item_id}",
    Personnel: "{id_number}",
    Matter: "{matter_code}@{version_id}",
    MatterSub: "{sub_code}@{version_id}",
    ImplList: "{impl_list_code}@{version_id}",
    MatterMapping: "{local_code}@{version_id}",
}
"""How each dataset's uid is made of its fields (what the ``uid`` properties return), e.g. for a delete
that names a record by its key fields only."""


def _uid_shape(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    parsed = list(string.Formatter().parse(template))
    return (
        tuple(name for _text, name, _spec, _conv in parsed if name),
        tuple(text for text, _name, _spec, _conv in parsed if text),
    )


# dataset class -> (key field names, separators between them), parsed once from UID_FORMATS
_UID_SHAPES: Final = {cls: _uid_shape(template) for cls, template in UID_FORMATS.items()}


def uid_fields(cls: type) -> tuple[str, ...]:
    """The fields a dataset's uid is made of, in order."""
    return _UID_SHAPES[cls][0]


def uid_parts(cls: type, uid: str) -> dict[str, str]:
    """The key fields of a uid (the reverse of ``UID_FORMATS``); ValueError when ``uid`` does not have its shape.

    The separators (``@``, ``:``) never occur in the codes, dates and version ids a uid is made of.
    """
    names, separators = _UID_SHAPES[cls]
    values, rest = [], uid
    for separator in separators:
        head, found, rest = rest.partition(separator)
        if not found:
            raise ValueError(f"uid {uid!r} is not of the form {UID_FORMATS[cls]}")
        values.append(head)
    values.append(rest)
    return dict(zip(names, values, strict=True))
