from jgnode.exchange.v1 import exchange_pb2 as _exchange_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamStatus(_message.Message):
    __slots__ = ("origin", "dataset", "records", "applied_seq", "parent_acked_seq", "received_from")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_SEQ_FIELD_NUMBER: _ClassVar[int]
    PARENT_ACKED_SEQ_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FROM_FIELD_NUMBER: _ClassVar[int]
    origin: str
    dataset: str
    records: int
    applied_seq: int
    parent_acked_seq: int
    received_from: str
    def __init__(self, origin: _Optional[str] = ..., dataset: _Optional[str] = ..., records: _Optional[int] = ..., applied_seq: _Optional[int] = ..., parent_acked_seq: _Optional[int] = ..., received_from: _Optional[str] = ...) -> None: ...

class ChildStatus(_message.Message):
    __slots__ = ("node_id", "connected", "records_received", "last_batch_at_us", "reported_pending_records", "lag_seconds")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    LAST_BATCH_AT_US_FIELD_NUMBER: _ClassVar[int]
    REPORTED_PENDING_RECORDS_FIELD_NUMBER: _ClassVar[int]
    LAG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    connected: bool
    records_received: int
    last_batch_at_us: int
    reported_pending_records: int
    lag_seconds: float
    def __init__(self, node_id: _Optional[str] = ..., connected: _Optional[bool] = ..., records_received: _Optional[int] = ..., last_batch_at_us: _Optional[int] = ..., reported_pending_records: _Optional[int] = ..., lag_seconds: _Optional[float] = ...) -> None: ...

class IntakeStatus(_message.Message):
    __slots__ = ("dataset", "received", "accepted", "duplicates", "quarantined", "dismissed")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    QUARANTINED_FIELD_NUMBER: _ClassVar[int]
    DISMISSED_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    received: int
    accepted: int
    duplicates: int
    quarantined: int
    dismissed: int
    def __init__(self, dataset: _Optional[str] = ..., received: _Optional[int] = ..., accepted: _Optional[int] = ..., duplicates: _Optional[int] = ..., quarantined: _Optional[int] = ..., dismissed: _Optional[int] = ...) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("node_id", "tier", "parent_address", "parent_connected", "records_held", "records_own", "records_received", "records_forwarded", "unsealed_records", "outbox_records", "outbox_batches", "last_ack_at_us", "started_at_us", "first_received_at_us", "last_received_at_us", "batches_rejected", "streams", "children", "records_quarantined", "outbox_refused_batches", "projection_backlog", "parent_error", "pki", "insecure", "crl_next_update_us", "trust_alarm", "callers_refused", "trust_refused", "intake", "intake_balanced", "intake_problem", "decisions", "reference_tables", "registry_version", "registry_issued_at_us", "registry_expires_at_us", "registry_alarm", "registry_parts", "registry_error", "registry_root")
    class DecisionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ReferenceTablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class RegistryPartsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    PARENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PARENT_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_HELD_FIELD_NUMBER: _ClassVar[int]
    RECORDS_OWN_FIELD_NUMBER: _ClassVar[int]
    RECORDS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FORWARDED_FIELD_NUMBER: _ClassVar[int]
    UNSEALED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_BATCHES_FIELD_NUMBER: _ClassVar[int]
    LAST_ACK_AT_US_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    FIRST_RECEIVED_AT_US_FIELD_NUMBER: _ClassVar[int]
    LAST_RECEIVED_AT_US_FIELD_NUMBER: _ClassVar[int]
    BATCHES_REJECTED_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    RECORDS_QUARANTINED_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_REFUSED_BATCHES_FIELD_NUMBER: _ClassVar[int]
    PROJECTION_BACKLOG_FIELD_NUMBER: _ClassVar[int]
    PARENT_ERROR_FIELD_NUMBER: _ClassVar[int]
    PKI_FIELD_NUMBER: _ClassVar[int]
    INSECURE_FIELD_NUMBER: _ClassVar[int]
    CRL_NEXT_UPDATE_US_FIELD_NUMBER: _ClassVar[int]
    TRUST_ALARM_FIELD_NUMBER: _ClassVar[int]
    CALLERS_REFUSED_FIELD_NUMBER: _ClassVar[int]
    TRUST_REFUSED_FIELD_NUMBER: _ClassVar[int]
    INTAKE_FIELD_NUMBER: _ClassVar[int]
    INTAKE_BALANCED_FIELD_NUMBER: _ClassVar[int]
    INTAKE_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_TABLES_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ISSUED_AT_US_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_EXPIRES_AT_US_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ALARM_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_PARTS_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ERROR_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ROOT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    tier: str
    parent_address: str
    parent_connected: bool
    records_held: int
    records_own: int
    records_received: int
    records_forwarded: int
    unsealed_records: int
    outbox_records: int
    outbox_batches: int
    last_ack_at_us: int
    started_at_us: int
    first_received_at_us: int
    last_received_at_us: int
    batches_rejected: int
    streams: _containers.RepeatedCompositeFieldContainer[StreamStatus]
    children: _containers.RepeatedCompositeFieldContainer[ChildStatus]
    records_quarantined: int
    outbox_refused_batches: int
    projection_backlog: int
    parent_error: str
    pki: bool
    insecure: bool
    crl_next_update_us: int
    trust_alarm: str
    callers_refused: int
    trust_refused: int
    intake: _containers.RepeatedCompositeFieldContainer[IntakeStatus]
    intake_balanced: bool
    intake_problem: str
    decisions: _containers.ScalarMap[str, int]
    reference_tables: _containers.ScalarMap[str, str]
    registry_version: int
    registry_issued_at_us: int
    registry_expires_at_us: int
    registry_alarm: str
    registry_parts: _containers.ScalarMap[str, int]
    registry_error: str
    registry_root: str
    def __init__(self, node_id: _Optional[str] = ..., tier: _Optional[str] = ..., parent_address: _Optional[str] = ..., parent_connected: _Optional[bool] = ..., records_held: _Optional[int] = ..., records_own: _Optional[int] = ..., records_received: _Optional[int] = ..., records_forwarded: _Optional[int] = ..., unsealed_records: _Optional[int] = ..., outbox_records: _Optional[int] = ..., outbox_batches: _Optional[int] = ..., last_ack_at_us: _Optional[int] = ..., started_at_us: _Optional[int] = ..., first_received_at_us: _Optional[int] = ..., last_received_at_us: _Optional[int] = ..., batches_rejected: _Optional[int] = ..., streams: _Optional[_Iterable[_Union[StreamStatus, _Mapping]]] = ..., children: _Optional[_Iterable[_Union[ChildStatus, _Mapping]]] = ..., records_quarantined: _Optional[int] = ..., outbox_refused_batches: _Optional[int] = ..., projection_backlog: _Optional[int] = ..., parent_error: _Optional[str] = ..., pki: _Optional[bool] = ..., insecure: _Optional[bool] = ..., crl_next_update_us: _Optional[int] = ..., trust_alarm: _Optional[str] = ..., callers_refused: _Optional[int] = ..., trust_refused: _Optional[int] = ..., intake: _Optional[_Iterable[_Union[IntakeStatus, _Mapping]]] = ..., intake_balanced: _Optional[bool] = ..., intake_problem: _Optional[str] = ..., decisions: _Optional[_Mapping[str, int]] = ..., reference_tables: _Optional[_Mapping[str, str]] = ..., registry_version: _Optional[int] = ..., registry_issued_at_us: _Optional[int] = ..., registry_expires_at_us: _Optional[int] = ..., registry_alarm: _Optional[str] = ..., registry_parts: _Optional[_Mapping[str, int]] = ..., registry_error: _Optional[str] = ..., registry_root: _Optional[str] = ...) -> None: ...

class GetProvenanceRequest(_message.Message):
    __slots__ = ("uid", "dataset", "origin", "version")
    UID_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    uid: str
    dataset: str
    origin: str
    version: int
    def __init__(self, uid: _Optional[str] = ..., dataset: _Optional[str] = ..., origin: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("record", "header", "signature", "leaf_index", "tree_size", "inclusion_proof", "hops", "certificates", "crls")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    HOPS_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    CRLS_FIELD_NUMBER: _ClassVar[int]
    record: bytes
    header: bytes
    signature: bytes
    leaf_index: int
    tree_size: int
    inclusion_proof: _containers.RepeatedScalarFieldContainer[bytes]
    hops: _containers.RepeatedCompositeFieldContainer[_exchange_pb2.Hop]
    certificates: _containers.RepeatedScalarFieldContainer[bytes]
    crls: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, record: _Optional[bytes] = ..., header: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., leaf_index: _Optional[int] = ..., tree_size: _Optional[int] = ..., inclusion_proof: _Optional[_Iterable[bytes]] = ..., hops: _Optional[_Iterable[_Union[_exchange_pb2.Hop, _Mapping]]] = ..., certificates: _Optional[_Iterable[bytes]] = ..., crls: _Optional[_Iterable[bytes]] = ...) -> None: ...

class GetProvenanceResponse(_message.Message):
    __slots__ = ("provenances",)
    PROVENANCES_FIELD_NUMBER: _ClassVar[int]
    provenances: _containers.RepeatedCompositeFieldContainer[Provenance]
    def __init__(self, provenances: _Optional[_Iterable[_Union[Provenance, _Mapping]]] = ...) -> None: ...

class GetDigestRequest(_message.Message):
    __slots__ = ("dataset", "origin")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    origin: str
    def __init__(self, dataset: _Optional[str] = ..., origin: _Optional[str] = ...) -> None: ...

class GetDigestResponse(_message.Message):
    __slots__ = ("count", "digest")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    count: int
    digest: bytes
    def __init__(self, count: _Optional[int] = ..., digest: _Optional[bytes] = ...) -> None: ...
