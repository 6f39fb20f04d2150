from jgnode.exchange.v1 import exchange_pb2 as _exchange_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplyRequest(_message.Message):
    __slots__ = ("provider", "resource_code", "purpose", "fields", "region", "filters", "valid_from", "valid_until", "personal")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CODE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_FIELD_NUMBER: _ClassVar[int]
    provider: str
    resource_code: str
    purpose: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    region: str
    filters: _containers.RepeatedScalarFieldContainer[str]
    valid_from: str
    valid_until: str
    personal: bool
    def __init__(self, provider: _Optional[str] = ..., resource_code: _Optional[str] = ..., purpose: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., region: _Optional[str] = ..., filters: _Optional[_Iterable[str]] = ..., valid_from: _Optional[str] = ..., valid_until: _Optional[str] = ..., personal: _Optional[bool] = ...) -> None: ...

class SubscriptionInfo(_message.Message):
    __slots__ = ("id", "provider", "subscriber", "resource_code", "dataset", "state", "reason", "fields", "region", "filters", "personal", "valid_from", "valid_until")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_CODE_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    id: int
    provider: str
    subscriber: str
    resource_code: str
    dataset: str
    state: str
    reason: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    region: str
    filters: _containers.RepeatedScalarFieldContainer[str]
    personal: bool
    valid_from: str
    valid_until: str
    def __init__(self, id: _Optional[int] = ..., provider: _Optional[str] = ..., subscriber: _Optional[str] = ..., resource_code: _Optional[str] = ..., dataset: _Optional[str] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., region: _Optional[str] = ..., filters: _Optional[_Iterable[str]] = ..., personal: _Optional[bool] = ..., valid_from: _Optional[str] = ..., valid_until: _Optional[str] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: str
    def __init__(self, provider: _Optional[str] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions",)
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[SubscriptionInfo]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[SubscriptionInfo, _Mapping]]] = ...) -> None: ...

class SharedRecord(_message.Message):
    __slots__ = ("origin", "seq", "uid", "version", "op", "event_time_us", "fields", "stored_at_us")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_US_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    STORED_AT_US_FIELD_NUMBER: _ClassVar[int]
    origin: str
    seq: int
    uid: str
    version: int
    op: _exchange_pb2.Operation
    event_time_us: int
    fields: _containers.ScalarMap[str, str]
    stored_at_us: int
    def __init__(self, origin: _Optional[str] = ..., seq: _Optional[int] = ..., uid: _Optional[str] = ..., version: _Optional[int] = ..., op: _Optional[_Union[_exchange_pb2.Operation, str]] = ..., event_time_us: _Optional[int] = ..., fields: _Optional[_Mapping[str, str]] = ..., stored_at_us: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("provider", "subscription_id", "cursor", "from_acked")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FROM_ACKED_FIELD_NUMBER: _ClassVar[int]
    provider: str
    subscription_id: int
    cursor: _containers.RepeatedCompositeFieldContainer[_exchange_pb2.StreamCursor]
    from_acked: bool
    def __init__(self, provider: _Optional[str] = ..., subscription_id: _Optional[int] = ..., cursor: _Optional[_Iterable[_Union[_exchange_pb2.StreamCursor, _Mapping]]] = ..., from_acked: _Optional[bool] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("records", "cursor", "caught_up")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[SharedRecord]
    cursor: _containers.RepeatedCompositeFieldContainer[_exchange_pb2.StreamCursor]
    caught_up: bool
    def __init__(self, records: _Optional[_Iterable[_Union[SharedRecord, _Mapping]]] = ..., cursor: _Optional[_Iterable[_Union[_exchange_pb2.StreamCursor, _Mapping]]] = ..., caught_up: _Optional[bool] = ...) -> None: ...

class AckRequest(_message.Message):
    __slots__ = ("provider", "subscription_id", "cursor")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    provider: str
    subscription_id: int
    cursor: _containers.RepeatedCompositeFieldContainer[_exchange_pb2.StreamCursor]
    def __init__(self, provider: _Optional[str] = ..., subscription_id: _Optional[int] = ..., cursor: _Optional[_Iterable[_Union[_exchange_pb2.StreamCursor, _Mapping]]] = ...) -> None: ...

class AckReply(_message.Message):
    __slots__ = ("acked",)
    ACKED_FIELD_NUMBER: _ClassVar[int]
    acked: _containers.RepeatedCompositeFieldContainer[_exchange_pb2.StreamCursor]
    def __init__(self, acked: _Optional[_Iterable[_Union[_exchange_pb2.StreamCursor, _Mapping]]] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("provider", "subscription_id", "filters", "text", "page_size", "page_token")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    provider: str
    subscription_id: int
    filters: _containers.RepeatedScalarFieldContainer[str]
    text: str
    page_size: int
    page_token: str
    def __init__(self, provider: _Optional[str] = ..., subscription_id: _Optional[int] = ..., filters: _Optional[_Iterable[str]] = ..., text: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class QueryPage(_message.Message):
    __slots__ = ("records", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[SharedRecord]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[SharedRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ("provider", "subscription_id", "filters", "text", "format")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    provider: str
    subscription_id: int
    filters: _containers.RepeatedScalarFieldContainer[str]
    text: str
    format: str
    def __init__(self, provider: _Optional[str] = ..., subscription_id: _Optional[int] = ..., filters: _Optional[_Iterable[str]] = ..., text: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class ExportChunk(_message.Message):
    __slots__ = ("data", "records")
    DATA_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    records: int
    def __init__(self, data: _Optional[bytes] = ..., records: _Optional[int] = ...) -> None: ...
