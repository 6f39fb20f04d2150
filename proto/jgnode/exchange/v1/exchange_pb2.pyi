from google.protobuf import any_pb2 as _any_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Operation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATION_UNSPECIFIED: _ClassVar[Operation]
    OPERATION_UPSERT: _ClassVar[Operation]
    OPERATION_DELETE: _ClassVar[Operation]

class AckStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_STATUS_UNSPECIFIED: _ClassVar[AckStatus]
    ACK_STATUS_APPLIED: _ClassVar[AckStatus]
    ACK_STATUS_DUPLICATE: _ClassVar[AckStatus]
    ACK_STATUS_GAP: _ClassVar[AckStatus]
    ACK_STATUS_REJECTED: _ClassVar[AckStatus]
OPERATION_UNSPECIFIED: Operation
OPERATION_UPSERT: Operation
OPERATION_DELETE: Operation
ACK_STATUS_UNSPECIFIED: AckStatus
ACK_STATUS_APPLIED: AckStatus
ACK_STATUS_DUPLICATE: AckStatus
ACK_STATUS_GAP: AckStatus
ACK_STATUS_REJECTED: AckStatus

class Record(_message.Message):
    __slots__ = ("origin", "dataset", "uid", "version", "seq", "op", "event_time_us", "schema_version", "payload")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_US_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    origin: str
    dataset: str
    uid: str
    version: int
    seq: int
    op: Operation
    event_time_us: int
    schema_version: int
    payload: _any_pb2.Any
    def __init__(self, origin: _Optional[str] = ..., dataset: _Optional[str] = ..., uid: _Optional[str] = ..., version: _Optional[int] = ..., seq: _Optional[int] = ..., op: _Optional[_Union[Operation, str]] = ..., event_time_us: _Optional[int] = ..., schema_version: _Optional[int] = ..., payload: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...

class BatchHeader(_message.Message):
    __slots__ = ("origin", "dataset", "first_seq", "last_seq", "created_at_us", "key_id", "suite", "merkle_root")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_US_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    MERKLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    origin: str
    dataset: str
    first_seq: int
    last_seq: int
    created_at_us: int
    key_id: str
    suite: str
    merkle_root: bytes
    def __init__(self, origin: _Optional[str] = ..., dataset: _Optional[str] = ..., first_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., created_at_us: _Optional[int] = ..., key_id: _Optional[str] = ..., suite: _Optional[str] = ..., merkle_root: _Optional[bytes] = ...) -> None: ...

class HopStatement(_message.Message):
    __slots__ = ("node_id", "received_from", "received_at_us", "batch_id", "previous_hop", "key_id", "suite")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FROM_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_US_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_HOP_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    received_from: str
    received_at_us: int
    batch_id: bytes
    previous_hop: bytes
    key_id: str
    suite: str
    def __init__(self, node_id: _Optional[str] = ..., received_from: _Optional[str] = ..., received_at_us: _Optional[int] = ..., batch_id: _Optional[bytes] = ..., previous_hop: _Optional[bytes] = ..., key_id: _Optional[str] = ..., suite: _Optional[str] = ...) -> None: ...

class Hop(_message.Message):
    __slots__ = ("statement", "signature")
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    statement: bytes
    signature: bytes
    def __init__(self, statement: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class CertificateSet(_message.Message):
    __slots__ = ("certificates",)
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    certificates: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, certificates: _Optional[_Iterable[bytes]] = ...) -> None: ...

class HopChain(_message.Message):
    __slots__ = ("hops",)
    HOPS_FIELD_NUMBER: _ClassVar[int]
    hops: _containers.RepeatedCompositeFieldContainer[Hop]
    def __init__(self, hops: _Optional[_Iterable[_Union[Hop, _Mapping]]] = ...) -> None: ...

class SignedBatch(_message.Message):
    __slots__ = ("header", "signature", "records", "hops", "certificates")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    HOPS_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    header: bytes
    signature: bytes
    records: _containers.RepeatedScalarFieldContainer[bytes]
    hops: _containers.RepeatedCompositeFieldContainer[Hop]
    certificates: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, header: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., records: _Optional[_Iterable[bytes]] = ..., hops: _Optional[_Iterable[_Union[Hop, _Mapping]]] = ..., certificates: _Optional[_Iterable[bytes]] = ...) -> None: ...

class SenderReport(_message.Message):
    __slots__ = ("pending_records", "pending_batches", "oldest_pending_us", "ca_certificates", "crls")
    PENDING_RECORDS_FIELD_NUMBER: _ClassVar[int]
    PENDING_BATCHES_FIELD_NUMBER: _ClassVar[int]
    OLDEST_PENDING_US_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    CRLS_FIELD_NUMBER: _ClassVar[int]
    pending_records: int
    pending_batches: int
    oldest_pending_us: int
    ca_certificates: _containers.RepeatedScalarFieldContainer[bytes]
    crls: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, pending_records: _Optional[int] = ..., pending_batches: _Optional[int] = ..., oldest_pending_us: _Optional[int] = ..., ca_certificates: _Optional[_Iterable[bytes]] = ..., crls: _Optional[_Iterable[bytes]] = ...) -> None: ...

class PushRequest(_message.Message):
    __slots__ = ("batch", "report")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    batch: SignedBatch
    report: SenderReport
    def __init__(self, batch: _Optional[_Union[SignedBatch, _Mapping]] = ..., report: _Optional[_Union[SenderReport, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("origin", "dataset", "applied_seq", "status", "detail", "batch_last_seq", "code")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    APPLIED_SEQ_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    BATCH_LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    origin: str
    dataset: str
    applied_seq: int
    status: AckStatus
    detail: str
    batch_last_seq: int
    code: int
    def __init__(self, origin: _Optional[str] = ..., dataset: _Optional[str] = ..., applied_seq: _Optional[int] = ..., status: _Optional[_Union[AckStatus, str]] = ..., detail: _Optional[str] = ..., batch_last_seq: _Optional[int] = ..., code: _Optional[int] = ...) -> None: ...

class StreamCursor(_message.Message):
    __slots__ = ("origin", "dataset", "applied_seq")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    APPLIED_SEQ_FIELD_NUMBER: _ClassVar[int]
    origin: str
    dataset: str
    applied_seq: int
    def __init__(self, origin: _Optional[str] = ..., dataset: _Optional[str] = ..., applied_seq: _Optional[int] = ...) -> None: ...

class GetCursorsRequest(_message.Message):
    __slots__ = ("streams",)
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    streams: _containers.RepeatedCompositeFieldContainer[StreamCursor]
    def __init__(self, streams: _Optional[_Iterable[_Union[StreamCursor, _Mapping]]] = ...) -> None: ...

class GetCursorsResponse(_message.Message):
    __slots__ = ("cursors",)
    CURSORS_FIELD_NUMBER: _ClassVar[int]
    cursors: _containers.RepeatedCompositeFieldContainer[StreamCursor]
    def __init__(self, cursors: _Optional[_Iterable[_Union[StreamCursor, _Mapping]]] = ...) -> None: ...

class GetTrustRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TrustBundle(_message.Message):
    __slots__ = ("ca_certificates", "crls")
    CA_CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    CRLS_FIELD_NUMBER: _ClassVar[int]
    ca_certificates: _containers.RepeatedScalarFieldContainer[bytes]
    crls: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, ca_certificates: _Optional[_Iterable[bytes]] = ..., crls: _Optional[_Iterable[bytes]] = ...) -> None: ...
