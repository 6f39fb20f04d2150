"""The one place where domain records meet protobuf (``x_to_proto`` / ``x_from_proto``).

Dataset payloads travel packed in ``google.protobuf.Any``: typed messages for
the standard datasets, ``google.protobuf.Struct`` for self-describing data.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from google.protobuf import any_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError, Message
from jgnode.data.v1 import datasets_pb2
from jgnode.exchange.v1 import catalog_pb2, exchange_pb2

from adapters.csv_records import columns
from exchange_registry import CatalogEntry, FieldDescriptor
from governance import (
    COMPLAINT,
    CREDIT_GRADE,
    ENFORCEMENT,
    IMPL_LIST,
    INSPECTION,
    LIST_ENTRY,
    MATTER,
    MATTER_MAPPING,
    MATTER_SUB,
    OTHER_ACTION,
    PENALTY,
    PERSONNEL,
    PUBLIC_OPINION,
    REGULATED_OBJECT,
    ActionHeader,
    CheckItem,
    Complaint,
    Counterparty,
    CreditGrade,
    DatasetRecord,
    Enforcement,
    ImplList,
    Inspection,
    Inspector,
    ListEntry,
    Matter,
    MatterMapping,
    MatterSub,
    OtherAction,
    Penalty,
    Personnel,
    PublicOpinion,
    RegulatedObject,
)
from governance.clean import CHINA_TZ
from node.errors import BatchRejectedError

__all__ = [
    "OP_DELETE",
    "OP_UPSERT",
    "SCHEMA_VERSIONS",
    "catalog_entry_from_proto",
    "catalog_entry_to_proto",
    "check_schema_version",
    "decode_record",
    "encode_record",
    "pack_payload",
    "pack_struct",
    "payload_from_record",
    "record_key",
    "record_summary",
    "sharing_class_to_proto",
    "stream_prefix",
]

OP_UPSERT: Final = exchange_pb2.OPERATION_UPSERT
OP_DELETE: Final = exchange_pb2.OPERATION_DELETE
TYPE_PREFIX: Final = "type.googleapis.com/"

# domain class -> protobuf class; nested classes map to their messages
_MESSAGES: dict[type, type[Message]] = {
    RegulatedObject: datasets_pb2.RegulatedObject,
    CreditGrade: datasets_pb2.CreditGrade,
    ListEntry: datasets_pb2.ListEntry,
    Inspection: datasets_pb2.Inspection,
    Penalty: datasets_pb2.Penalty,
    Enforcement: datasets_pb2.Enforcement,
    OtherAction: datasets_pb2.OtherAction,
    Complaint: datasets_pb2.Complaint,
    PublicOpinion: datasets_pb2.PublicOpinion,
    Personnel: datasets_pb2.Personnel,
    Matter: datasets_pb2.Matter,
    MatterSub: datasets_pb2.MatterSub,
    ImplList: datasets_pb2.ImplList,
    MatterMapping: datasets_pb2.MatterMapping,
    ActionHeader: datasets_pb2.ActionHeader,
    Counterparty: datasets_pb2.Counterparty,
    Inspector: datasets_pb2.Inspector,
    CheckItem: datasets_pb2.CheckItem,
}
# domain class -> dataset name
_DATASETS: dict[type, str] = {
    RegulatedObject: REGULATED_OBJECT,
    CreditGrade: CREDIT_GRADE,
    ListEntry: LIST_ENTRY,
    Inspection: INSPECTION,
    Penalty: PENALTY,
    Enforcement: ENFORCEMENT,
    OtherAction: OTHER_ACTION,
    Complaint: COMPLAINT,
    PublicOpinion: PUBLIC_OPINION,
    Personnel: PERSONNEL,
    Matter: MATTER,
    MatterSub: MATTER_SUB,
    ImplList: IMPL_LIST,
    MatterMapping: MATTER_MAPPING,
}
_BY_TYPE_URL: dict[str, type] = {TYPE_PREFIX + _MESSAGES[cls].DESCRIPTOR.full_name: cls for cls in _DATASETS}
SCHEMA_VERSIONS: Final[Mapping[str, int]] = {
    **dict.fromkeys(_DATASETS.values(), 1),
    PENALTY: 2,  # version 2 added the hearing, criminal/major case, reconsideration, litigation, disclosure fields
}
"""Payload schema version of each dataset, stamped on every record (``Record.schema_version``).

A version only adds optional fields, so a record of an older version reads with
them empty; a record of a newer version than this node knows is refused, never
read without the fields this node does not know about.
"""


_FIELDS: dict[type, tuple[tuple[str, type | None, bool], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, type | None, bool], ...]:
    """(name, nested domain class or None, repeated) per dataclass field."""
    if cls in _FIELDS:
        return _FIELDS[cls]
    message = _MESSAGES[cls].DESCRIPTOR
    out = []
    for name in (f.name for f in dataclasses.fields(cls)):
        field = message.fields_by_name[name]
        nested = next((c for c, m in _MESSAGES.items() if field.message_type is m.DESCRIPTOR), None)
        out.append((name, nested, field.is_repeated))
    _FIELDS[cls] = tuple(out)
    return _FIELDS[cls]


def _to_proto(obj: Any) -> Message:
    values: dict[str, Any] = {}
    for name, nested, repeated in _fields(type(obj)):
        value = getattr(obj, name)
        if nested is not None:
            values[name] = [_to_proto(v) for v in value] if repeated else _to_proto(value)
        elif value or not repeated:
            values[name] = value
    return _MESSAGES[type(obj)](**values)


def _from_proto(cls: type, message: Message) -> Any:
    values: dict[str, Any] = {}
    for name, nested, repeated in _fields(cls):
        value = getattr(message, name)
        if nested is not None and repeated:
            values[name] = tuple(_from_proto(nested, v) for v in value)
        elif nested is not None:
            values[name] = _from_proto(nested, value)
        elif repeated:
            values[name] = tuple(value)
        else:
            values[name] = value
    return cls(**values)


def dataset_of(record: DatasetRecord) -> str:
    """The dataset name of a domain record."""
    return _DATASETS[type(record)]


def pack_payload(record: DatasetRecord) -> bytes:
    """A domain record as serialized ``Any`` bytes."""
    return any_pb2.Any(
        type_url=TYPE_PREFIX + _MESSAGES[type(record)].DESCRIPTOR.full_name,
        value=_to_proto(record).SerializeToString(),
    ).SerializeToString()


def pack_struct(data: Mapping[str, Any]) -> bytes:
    """Self-describing data (JSON-like) as serialized ``Any`` bytes."""
    struct = struct_pb2.Struct()
    struct.update(data)
    packed = any_pb2.Any()
    packed.Pack(struct)
    return packed.SerializeToString()


def encode_record(
    *,
    origin: str,
    dataset: str,
    uid: str,
    version: int,
    seq: int,
    op: int,
    event_time_us: int,
    payload: bytes,
) -> bytes:
    """The bytes of one record version, exactly as its origin signs them."""
    record = exchange_pb2.Record(
        origin=origin,
        dataset=dataset,
        uid=uid,
        version=version,
        seq=seq,
        op=op,  # type: ignore[arg-type]
        event_time_us=event_time_us,
        schema_version=SCHEMA_VERSIONS.get(dataset, 1),
    )
    if payload:
        record.payload.ParseFromString(payload)
    return record.SerializeToString()


def decode_record(body: bytes) -> exchange_pb2.Record:
    """Parse record bytes; BatchRejectedError when they are not a Record."""
    try:
        return exchange_pb2.Record.FromString(body)
    except DecodeError as exc:
        raise BatchRejectedError(f"malformed record bytes: {exc}") from exc


def record_key(body: bytes) -> tuple[str, int]:
    """(uid, version) of record bytes; ("", 0) when they do not parse."""
    try:
        record = exchange_pb2.Record.FromString(body)
    except DecodeError:
        return "", 0
    return record.uid, record.version


def stream_prefix(origin: str, dataset: str) -> bytes:
    """How every record of (origin, dataset) begins: fields 1 and 2, in field order."""
    return exchange_pb2.Record(origin=origin, dataset=dataset).SerializeToString()


def payload_from_record(record: exchange_pb2.Record) -> DatasetRecord | dict[str, Any] | None:
    """The domain record (or plain dict for a Struct) carried by a record; None for a tombstone.

    Raises:
        BatchRejectedError: The payload is malformed, of an unknown type, or of
            a newer schema version than this node knows (see :data:`SCHEMA_VERSIONS`).
    """
    if record.op == OP_DELETE or not record.HasField("payload"):
        return None
    cls = _BY_TYPE_URL.get(record.payload.type_url)
    if cls is not None:
        check_schema_version(record)
        message = _MESSAGES[cls]()
        try:
            message.ParseFromString(record.payload.value)
        except DecodeError as exc:
            raise BatchRejectedError(f"malformed {cls.__name__} payload: {exc}") from exc
        result: DatasetRecord = _from_proto(cls, message)
        return result
    struct = struct_pb2.Struct()
    if not record.payload.Unpack(struct):
        raise BatchRejectedError(f"unknown payload type {record.payload.type_url!r}")
    return MessageToDict(struct)


def payload_row(record: exchange_pb2.Record) -> dict[str, str] | None:
    """The record's payload as its CSV row (``adapters.csv_records.to_row`` of :func:`payload_from_record`).

    Read straight from the message, without building the domain record: what
    the sharing paths do for every record they hand out. None for a tombstone;
    BatchRejectedError as :func:`payload_from_record`.
    """
    if record.op == OP_DELETE or not record.HasField("payload"):
        return None
    cls = _BY_TYPE_URL.get(record.payload.type_url)
    if cls is None:
        data = payload_from_record(record)
        return {str(k): "" if v is None else str(v) for k, v in data.items()} if isinstance(data, dict) else None
    check_schema_version(record)
    message = _MESSAGES[cls]()
    try:
        message.ParseFromString(record.payload.value)
    except DecodeError as exc:
        raise BatchRejectedError(f"malformed {cls.__name__} payload: {exc}") from exc
    values: list[str] = []
    _row_values(cls, message, values)
    return dict(zip(columns(cls), values, strict=True))


# how to read a message's CSV values: runs of plain fields through one attrgetter, the rest one by one
_Step = tuple[str, Any]
_ROW_PLANS: dict[type, tuple[_Step, ...]] = {}


def _row_plan(cls: type) -> tuple[_Step, ...]:
    if cls in _ROW_PLANS:
        return _ROW_PLANS[cls]
    steps: list[_Step] = []
    plain: list[str] = []

    def flush() -> None:
        if plain:
            steps.append(("plain", operator.attrgetter(*plain) if len(plain) > 1 else _one(plain[0])))
            plain.clear()

    for name, nested, repeated in _fields(cls):
        if nested is None and not repeated and not name.endswith("_us"):
            plain.append(name)
            continue
        flush()
        if nested is not None and repeated:
            steps.append(("items", (name, operator.attrgetter(*(f for f, _, _ in _fields(nested))))))
        elif nested is not None:
            steps.append(("nested", (name, nested)))
        elif repeated:
            steps.append(("list", name))
        else:
            steps.append(("instant", name))
    flush()
    _ROW_PLANS[cls] = tuple(steps)
    return _ROW_PLANS[cls]


def _one(name: str) -> Callable[[Any], tuple[Any, ...]]:
    return lambda message: (getattr(message, name),)


def _row_values(cls: type, message: Any, out: list[str]) -> None:
    """Append the CSV values of ``message`` (a ``cls`` message) as ``to_row`` formats them."""
    for kind, arg in _row_plan(cls):
        if kind == "plain":
            out.extend(map(str, arg(message)))
        elif kind == "nested":
            _row_values(arg[1], getattr(message, arg[0]), out)
        elif kind == "items":
            name, getter = arg
            items = getattr(message, name)
            out.append(";".join("|".join(map(str, _as_tuple(getter(item)))) for item in items))
        elif kind == "list":
            out.append(";".join(map(str, getattr(message, arg))))
        else:
            out.append(datetime.fromtimestamp(getattr(message, arg) / 1e6, CHINA_TZ).isoformat())


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def check_schema_version(record: exchange_pb2.Record) -> None:
    """Raise BatchRejectedError when a record's payload schema is newer than this node's.

    A record without a version (0) reads as version 1. Datasets this node has
    no schema for (self-describing payloads) are not checked.
    """
    known = SCHEMA_VERSIONS.get(record.dataset)
    if known is not None and record.schema_version > known:
        raise BatchRejectedError(
            f"{record.dataset} record {record.uid!r} (origin {record.origin}) has payload schema version "
            f"{record.schema_version}, newer than version {known} known here: upgrade this node to read it"
        )


def record_summary(record: exchange_pb2.Record) -> dict[str, Any]:
    """Key fields of a record, for printing."""
    return {
        "origin": record.origin,
        "dataset": record.dataset,
        "uid": record.uid,
        "version": record.version,
        "seq": record.seq,
        "op": exchange_pb2.Operation.Name(record.op),
        "event_time_us": record.event_time_us,
        "payload_type": record.payload.type_url,
    }


_SHARING_TO_PROTO: Final[Mapping[str, int]] = {
    "unconditional": catalog_pb2.SHARING_CLASS_UNCONDITIONAL,
    "conditional": catalog_pb2.SHARING_CLASS_CONDITIONAL,
    "not_shared": catalog_pb2.SHARING_CLASS_NOT_SHARED,
}
_SHARING_FROM_PROTO: Final[Mapping[int, str]] = {number: name for name, number in _SHARING_TO_PROTO.items()}


def sharing_class_to_proto(sharing: str) -> int:
    """A sharing class name as its protobuf enum number."""
    return _SHARING_TO_PROTO[sharing]


def catalog_entry_to_proto(entry: CatalogEntry) -> catalog_pb2.CatalogEntry:
    """A catalog entry as its protobuf message."""
    return catalog_pb2.CatalogEntry(
        resource_code=entry.resource_code,
        dataset=entry.dataset,
        name=entry.name,
        provider_node=entry.provider_node,
        provider_department=entry.provider_department,
        fields=[catalog_pb2.FieldDescriptor(name=f.name, type=f.type, personal=f.personal) for f in entry.fields],
        sharing_class=_SHARING_TO_PROTO[entry.sharing_class],  # type: ignore[arg-type]
        conditions=entry.conditions,
        update_cycle=entry.update_cycle,
        schema_version=entry.schema_version,
    )


def catalog_entry_from_proto(message: catalog_pb2.CatalogEntry) -> CatalogEntry:
    """A catalog entry from its protobuf message; ValueError for an unknown sharing class."""
    sharing = _SHARING_FROM_PROTO.get(message.sharing_class)
    if sharing is None:
        raise ValueError(f"catalog entry {message.resource_code}: unknown sharing class {message.sharing_class}")
    return CatalogEntry(
        resource_code=message.resource_code,
        dataset=message.dataset,
        name=message.name,
        provider_node=message.provider_node,
        provider_department=message.provider_department,
        fields=tuple(FieldDescriptor(f.name, f.type, f.personal) for f in message.fields),
        sharing_class=sharing,  # type: ignore[arg-type]
        conditions=message.conditions,
        update_cycle=message.update_cycle,
        schema_version=message.schema_version,
    )
