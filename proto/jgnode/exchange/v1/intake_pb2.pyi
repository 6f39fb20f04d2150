from google.protobuf import any_pb2 as _any_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IntakeRow(_message.Message):
    __slots__ = ("columns", "line", "record", "read_error")
    class ColumnsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    READ_ERROR_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.ScalarMap[str, str]
    line: int
    record: _any_pb2.Any
    read_error: str
    def __init__(self, columns: _Optional[_Mapping[str, str]] = ..., line: _Optional[int] = ..., record: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., read_error: _Optional[str] = ...) -> None: ...

class SubmitRequest(_message.Message):
    __slots__ = ("dataset", "batch", "rows")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    batch: str
    rows: _containers.RepeatedCompositeFieldContainer[IntakeRow]
    def __init__(self, dataset: _Optional[str] = ..., batch: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[IntakeRow, _Mapping]]] = ...) -> None: ...

class IntakeRowError(_message.Message):
    __slots__ = ("index", "line", "reasons", "quarantine_id")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    QUARANTINE_ID_FIELD_NUMBER: _ClassVar[int]
    index: int
    line: int
    reasons: _containers.RepeatedScalarFieldContainer[str]
    quarantine_id: int
    def __init__(self, index: _Optional[int] = ..., line: _Optional[int] = ..., reasons: _Optional[_Iterable[str]] = ..., quarantine_id: _Optional[int] = ...) -> None: ...

class SubmitAck(_message.Message):
    __slots__ = ("request", "dataset", "batch", "rows", "stored", "duplicates", "quarantined", "errors", "first_seq", "last_seq")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    QUARANTINED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    request: int
    dataset: str
    batch: str
    rows: int
    stored: int
    duplicates: int
    quarantined: int
    errors: _containers.RepeatedCompositeFieldContainer[IntakeRowError]
    first_seq: int
    last_seq: int
    def __init__(self, request: _Optional[int] = ..., dataset: _Optional[str] = ..., batch: _Optional[str] = ..., rows: _Optional[int] = ..., stored: _Optional[int] = ..., duplicates: _Optional[int] = ..., quarantined: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[IntakeRowError, _Mapping]]] = ..., first_seq: _Optional[int] = ..., last_seq: _Optional[int] = ...) -> None: ...
