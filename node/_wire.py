"""Protobuf wire encoding for bulk ingest, compiled once per message type: the same bytes as ``node.serde``.

Building a protobuf message field by field from Python costs microseconds per
record; bulk ingest writes the wire format directly instead. A payload encoder
is compiled from the message descriptor and the record's flat leaf values
(:func:`adapters.csv_records.leaves`): each field's encoded bytes (tag, length,
value) are cached per distinct value, so a field whose values repeat (agency,
matter code, counterparty) costs one dictionary lookup. Fields are written in
field-number order with proto3 defaults left out, as the protobuf runtime
writes them.

Every compiled encoder proves itself when it is built: it encodes probe values
and compares the bytes with :func:`node.serde.pack_payload` /
:func:`node.serde.encode_record`; an encoder that disagrees is not used (the
callers fall back to serde).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from jgnode.data.v1 import datasets_pb2

from adapters.csv_records import Leaf, leaves, record_builder
from node.serde import OP_DELETE, OP_UPSERT, SCHEMA_VERSIONS, encode_record, pack_payload

__all__ = ["PayloadEncoder", "PayloadPlan", "payload_encoder", "payload_plan", "record_bytes"]

PayloadEncoder = Callable[[Sequence[Any]], bytes]
_TYPE_PREFIX: Final = "type.googleapis.com/"
_CACHE_LIMIT: Final = 50_000
_LEN: Final = 2  # wire type of strings, bytes and messages
_INTS: Final = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_ENUM,
        FieldDescriptor.TYPE_BOOL,
    }
)
_SMALL: Final = tuple(bytes([n]) for n in range(128))


def varint(value: int) -> bytes:
    """A varint; a negative value as its 64-bit two's complement (as int32 and int64 are written)."""
    if 0 <= value < 0x80:
        return _SMALL[value]
    if value < 0:
        value &= 0xFFFF_FFFF_FFFF_FFFF
    if value < _PREFIX_TABLE:
        return _LENGTHS[value]
    out = b""
    while value >= _PREFIX_TABLE:  # 14 bits at a time: instants (microseconds) take 8 bytes
        out += _GROUPS[value & 0x3FFF]
        value >>= 14
    return out + _LENGTHS[value]


def _slow_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_PREFIX_TABLE: Final = 1 << 14
_LENGTHS: Final = tuple(_slow_varint(n) for n in range(_PREFIX_TABLE))  # varints below 2**14 (length prefixes)
_GROUPS: Final = tuple(bytes((n & 0x7F | 0x80, n >> 7 | 0x80)) for n in range(_PREFIX_TABLE))  # 14 bits, more to come


def _prefix(size: int) -> bytes:
    """The length prefix of a field of ``size`` bytes."""
    return _LENGTHS[size] if size < _PREFIX_TABLE else varint(size)


def _tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def _delimited(tag: bytes, data: bytes) -> bytes:
    return tag + _prefix(len(data)) + data


class _FieldBytes(dict[Any, bytes]):
    """Value -> the field's encoded bytes, cached up to a limit."""

    __slots__ = ("encode",)

    def __init__(self, encode: Callable[[Any], bytes]) -> None:
        super().__init__()
        self.encode = encode

    def __missing__(self, value: Any) -> bytes:
        data = self.encode(value)
        if len(self) < _CACHE_LIMIT:
            self[value] = data
        return data


def _string_field(number: int) -> Callable[[Any], bytes]:
    tag = _tag(number, _LEN)
    return lambda text: _delimited(tag, text.encode()) if text else b""


def _int_field(number: int) -> Callable[[Any], bytes]:
    tag = _tag(number, 0)
    return lambda value: tag + varint(int(value)) if value else b""


def _strings_field(number: int) -> Callable[[Any], bytes]:
    tag = _tag(number, _LEN)
    return lambda items: b"".join(_delimited(tag, text.encode()) for text in items)


def _items_field(number: int, message: Descriptor, item_fields: Sequence[str]) -> Callable[[Any], bytes] | None:
    """A repeated message of an ``items`` leaf: each item a tuple of texts in ``item_fields`` order."""
    order = []
    for proto in sorted(message.fields, key=lambda f: f.number):
        if proto.type != FieldDescriptor.TYPE_STRING or proto.is_repeated or proto.name not in item_fields:
            return None
        order.append((item_fields.index(proto.name), _string_field(proto.number)))
    tag = _tag(number, _LEN)

    def encode(items: Any) -> bytes:
        return b"".join(_delimited(tag, b"".join(part(item[i]) for i, part in order)) for item in items)

    return encode


def _leaf_encoder(field: FieldDescriptor, leaf: Leaf) -> Callable[[Any], bytes] | None:
    repeated = field.is_repeated
    if leaf.kind == "items" and repeated and field.message_type is not None and leaf.item is not None:
        item_fields = [f.name for f in dataclasses.fields(leaf.item)]
        return _items_field(field.number, field.message_type, item_fields)
    if leaf.kind == "strings" and repeated and field.type == FieldDescriptor.TYPE_STRING:
        return _strings_field(field.number)
    if repeated or field.has_presence:
        return None
    if leaf.kind == "text" and field.type == FieldDescriptor.TYPE_STRING:
        return _string_field(field.number)
    if leaf.kind in {"int", "instant"} and field.type in _INTS:
        return _int_field(field.number)
    return None


@dataclass
class _Layout:
    """A message tree flattened in wire order: every scalar field's leaf and cache, and where nested messages span."""

    leaves: list[int] = field(default_factory=list)  # flat leaf index of each scalar field, in wire order
    caches: list[_FieldBytes] = field(default_factory=list)
    spans: list[tuple[int, int, bytes, tuple[int, ...]]] = field(default_factory=list)  # post-order, see _flat


def _message_layout(message: Descriptor, cls: type, start: int, layout: _Layout) -> int | None:
    """Add ``cls`` (its leaves from ``start``) to ``layout`` in wire order; the index after its last leaf, or None."""
    where: dict[str, tuple[int, Leaf | None, type | None]] = {}  # field -> (first leaf, leaf or None, nested class)
    at = start
    for name in (f.name for f in dataclasses.fields(cls)):
        own = [leaf for leaf in leaves(cls) if leaf.owner is cls and leaf.field == name]
        if own:
            where[name] = (at, own[0], None)
            at += 1
        else:
            nested = _nested_class(cls, name)
            if nested is None:
                return None
            where[name] = (at, None, nested)
            at += len(leaves(nested))
    if set(where) != {f.name for f in message.fields}:
        return None
    for proto in sorted(message.fields, key=lambda f: f.number):
        first, leaf, nested = where[proto.name]
        if leaf is not None:
            encode = _leaf_encoder(proto, leaf)
            if encode is None:
                return None
            layout.leaves.append(first)
            layout.caches.append(_FieldBytes(encode))
            continue
        if nested is None or proto.message_type is None or proto.is_repeated:
            return None
        begin, spans_before = len(layout.leaves), len(layout.spans)
        if _message_layout(proto.message_type, nested, first, layout) is None:
            return None
        children = tuple(i for i in range(spans_before, len(layout.spans)) if _direct(layout.spans, i, spans_before))
        layout.spans.append((begin, len(layout.leaves), _tag(proto.number, _LEN), children))
    return at


def _direct(spans: list[tuple[int, int, bytes, tuple[int, ...]]], index: int, first: int) -> bool:
    """Whether span ``index`` is not inside a later span of the same group (spans are post-order)."""
    begin, end = spans[index][0], spans[index][1]
    return not any(s[0] <= begin and end <= s[1] and j > index for j, s in enumerate(spans[first:], start=first))


def _assembler(layout: _Layout, url: bytes) -> Callable[[Sequence[bytes]], bytes]:
    """The payload from every scalar field's bytes (in leaf order): wire order, nested messages' heads, one join.

    A nested message always appears (``node.serde`` sets every nested object),
    as its tag and length before its fields; lengths are summed innermost first.
    """
    wire = layout.leaves
    take = operator.itemgetter(*wire) if len(wire) > 1 else (lambda pieces, i=wire[0]: (pieces[i],))
    spans = tuple(layout.spans)
    # heads go in from the back, so earlier positions stay put; at one position the outer head ends up first
    order = sorted(range(len(spans)), key=lambda i: -spans[i][0])

    def assemble(pieces: Sequence[bytes]) -> bytes:
        ordered = list(take(pieces))
        heads: list[bytes] = []
        for begin, end, tag, children in spans:
            size = sum(map(len, ordered[begin:end]))
            for child in children:
                size += len(heads[child])
            heads.append(tag + _prefix(size))
        for i in order:
            ordered.insert(spans[i][0], heads[i])
        body = b"".join(ordered)
        return b"".join((url, b"\x12", _prefix(len(body)), body)) if body else url

    return assemble


@dataclass(frozen=True)
class PayloadPlan:
    """A dataset's payload compiled: per leaf the bytes of its field, and the payload from those bytes.

    Callers that cache per column may cache a field's bytes with its value and
    call :attr:`assemble`; :meth:`encode` does it all with its own caches.
    """

    fields: tuple[Callable[[Any], bytes], ...]  # per leaf, in leaf order: value -> the field's encoded bytes
    assemble: Callable[[Sequence[bytes]], bytes]  # the fields' bytes in leaf order -> the ``Any`` payload bytes
    _cached: tuple[_FieldBytes, ...]

    def encode(self, values: Sequence[Any]) -> bytes:
        """The payload of a record's leaf values."""
        return self.assemble(list(map(operator.getitem, self._cached, values)))


def _nested_class(cls: type, name: str) -> type | None:
    hint = typing.get_type_hints(cls).get(name)
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def _probe_values(cls: type, *, empty: bool) -> list[Any]:
    values: list[Any] = []
    for n, leaf in enumerate(leaves(cls)):
        if leaf.kind == "text":
            values.append("" if empty else f"值{n}")
        elif leaf.kind in {"int", "instant"}:
            values.append(0 if empty else 1_700_000_000_000_000 + n if leaf.kind == "instant" else n + 1)
        elif leaf.kind == "strings":
            values.append(() if empty else (f"a{n}", f"b{n}"))
        else:
            width = len(dataclasses.fields(leaf.item)) if leaf.item else 0
            values.append(() if empty else tuple(tuple(f"{k}件{n}" for k in range(width)) for _ in range(2)))
    return values


def payload_plan(cls: type) -> PayloadPlan | None:
    """The compiled payload of ``cls`` records (see :class:`PayloadPlan`); None when it cannot be compiled.

    Its bytes equal ``pack_payload(record)`` (checked on probe values here).
    """
    message = getattr(datasets_pb2, cls.__name__, None)
    if message is None:
        return None
    layout = _Layout()
    width = len(leaves(cls))
    if _message_layout(message.DESCRIPTOR, cls, 0, layout) != width or sorted(layout.leaves) != list(range(width)):
        return None
    encoders = [layout.caches[layout.leaves.index(i)] for i in range(width)]
    url = _delimited(b"\x0a", (_TYPE_PREFIX + message.DESCRIPTOR.full_name).encode())
    plan = PayloadPlan(tuple(cache.encode for cache in encoders), _assembler(layout, url), tuple(encoders))
    build = record_builder(cls)
    for empty in (False, True):
        probe = _probe_values(cls, empty=empty)
        try:
            agrees = plan.encode(probe) == pack_payload(build(probe))
        except (TypeError, ValueError):
            agrees = False
        if not agrees:
            return None
    return plan


def payload_encoder(cls: type) -> PayloadEncoder | None:
    """The ``Any`` payload bytes of a ``cls`` record from its flat leaf values; None when it cannot be compiled."""
    plan = payload_plan(cls)
    return plan.encode if plan is not None else None


def record_bytes(origin: str, dataset: str) -> Callable[[str, int, int, int, int, bytes], bytes]:
    """``(uid, version, seq, op, event_time_us, payload) -> record bytes`` of (origin, dataset), as serde has them."""
    head = _delimited(b"\x0a", origin.encode()) if origin else b""
    head += _delimited(b"\x12", dataset.encode()) if dataset else b""
    schema = SCHEMA_VERSIONS.get(dataset, 1)
    tail = b"\x40" + varint(schema) if schema else b""

    events = _FieldBytes(lambda us: b"\x38" + varint(us) if us else b"")  # event times repeat (days)
    ops: dict[int, bytes] = {int(op): b"\x30" + varint(op) for op in (OP_UPSERT, OP_DELETE)}

    def encode(uid: str, version: int, seq: int, op: int, event_time_us: int, payload: bytes) -> bytes:  # noqa: PLR0917
        name = uid.encode()
        size = len(payload)
        return b"".join(
            (
                head,
                b"\x1a" + _prefix(len(name)) if name else b"",
                name,
                b"\x20" + varint(version) if version else b"",
                b"\x28" + varint(seq) if seq else b"",
                ops[op] if op in ops else b"\x30" + varint(op) if op else b"",
                events[event_time_us],
                tail,
                b"\x4a" + _prefix(size) if size else b"",
                payload,
            )
        )

    payload = b"\x0a\x03a/b\x12\x02\x08\x01"
    for args in (("u1", 3, 70000, OP_UPSERT, -5, payload), ("", 1, 1, OP_DELETE, 0, b"")):
        expected = encode_record(
            origin=origin,
            dataset=dataset,
            uid=args[0],
            version=args[1],
            seq=args[2],
            op=args[3],
            event_time_us=args[4],
            payload=args[5],
        )
        if encode(*args) != expected:
            return functools.partial(_serde_record, origin, dataset)
    return encode


def _serde_record(origin: str, dataset: str, *args: Any) -> bytes:
    uid, version, seq, op, event_time_us, payload = args
    return encode_record(
        origin=origin,
        dataset=dataset,
        uid=uid,
        version=version,
        seq=seq,
        op=op,
        event_time_us=event_time_us,
        payload=payload,
    )
