"""CSV files of dataset records: one flat row per record, both directions.

Column rule (stable; users script against it): a record's fields are columns of
the same name. The shared action ``header`` is flattened without a prefix; other
nested objects are prefixed with their field name (``counterparty_name``).
Lists of objects are ``a|b;c|d`` (``|`` between fields, ``;`` between items),
lists of strings ``a;b``. Instants (fields ending ``_us``) are ISO 8601 in a
column without the suffix (``submitted_at``); a time without an offset is
China Standard Time (UTC+8). An optional ``op`` column carries the front-table
operation: ``i`` or ``u`` (upsert, the default) or ``d`` (delete: only the
columns the uid is made of are needed, see ``governance.UID_FORMATS``). Files
are UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK (see
:func:`open_csv_text`).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, TextIO

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
    UID_FORMATS,
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
    uid_fields,
)
from governance.clean import CHINA_TZ, decode_bytes

__all__ = [
    "CHINA_TZ",
    "DATASET_TYPES",
    "CsvRow",
    "Leaf",
    "check_header",
    "columns",
    "leaves",
    "open_csv_text",
    "read_records",
    "record_builder",
    "row_uid",
    "rows_to_records",
    "to_row",
    "uid_column",
    "write_records",
]

DATASET_TYPES: Final[dict[str, type]] = {
    REGULATED_OBJECT: RegulatedObject,
    CREDIT_GRADE: CreditGrade,
    LIST_ENTRY: ListEntry,
    INSPECTION: Inspection,
    PENALTY: Penalty,
    ENFORCEMENT: Enforcement,
    OTHER_ACTION: OtherAction,
    COMPLAINT: Complaint,
    PUBLIC_OPINION: PublicOpinion,
    PERSONNEL: Personnel,
    MATTER: Matter,
    MATTER_SUB: MatterSub,
    IMPL_LIST: ImplList,
    MATTER_MAPPING: MatterMapping,
}
_NESTED: Final = (ActionHeader, Counterparty, Inspector, CheckItem)


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row of a file: the record, or why it could not be read."""

    line: int
    raw: dict[str, str]
    op: str  # "upsert" or "delete"
    uid: str
    record: DatasetRecord | None  # None for deletes and for rows with an error
    error: str = ""


def uid_column(dataset: str) -> str:
    """The column that holds a dataset's record uid; for uids made of several fields, the leading one."""
    return uid_fields(DATASET_TYPES[dataset])[0]


_HINTS: dict[type, dict[str, Any]] = {}
_COLUMNS: dict[type, tuple[str, ...]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _item_type(hint: Any) -> Any:
    """Element type of ``tuple[X, ...]``, else None."""
    if typing.get_origin(hint) is tuple:
        return typing.get_args(hint)[0]
    return None


def columns(cls: type) -> tuple[str, ...]:
    """CSV columns of a record class, in field order."""
    if cls in _COLUMNS:
        return _COLUMNS[cls]
    out: list[str] = []
    for field in dataclasses.fields(cls):
        hint = _hints(cls)[field.name]
        if hint in _NESTED and _item_type(hint) is None:
            prefix = "" if field.name == "header" else f"{field.name}_"
            out.extend(prefix + name for name in columns(hint))
        else:
            out.append(field.name.removesuffix("_us"))
    _COLUMNS[cls] = tuple(out)
    return _COLUMNS[cls]


def _format(value: Any) -> str:
    if isinstance(value, tuple):
        return ";".join(
            "|".join(str(getattr(v, f.name)) for f in dataclasses.fields(v)) if dataclasses.is_dataclass(v) else str(v)
            for v in value
        )
    return str(value)


def to_row(record: DatasetRecord) -> dict[str, str]:
    """A record as one CSV row."""
    return dict(zip(columns(type(record)), _flat_values(record), strict=True))


def _flat_values(obj: Any) -> list[str]:
    out: list[str] = []
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if isinstance(value, _NESTED):
            out.extend(_flat_values(value))
        elif field.name.endswith("_us"):
            out.append(datetime.fromtimestamp(value / 1e6, CHINA_TZ).isoformat())
        else:
            out.append(_format(value))
    return out


def write_records(path: Path, records: Iterable[DatasetRecord]) -> int:
    """Write records of one dataset to a UTF-8 CSV file; returns the row count."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer: csv.DictWriter[str] | None = None
        for record in records:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=columns(type(record)))
                writer.writeheader()
            writer.writerow(to_row(record))
            count += 1
    return count


def _parse_instant(text: str) -> int:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    return int(moment.timestamp() * 1_000_000)


def _parse_items(item: Any, name: str, text: str) -> tuple[Any, ...]:
    parts = [p for p in text.split(";") if p.strip()]
    if item not in _NESTED:
        return tuple(p.strip() for p in parts)
    width = len(dataclasses.fields(item))
    values = [p.split("|") for p in parts]
    bad = next((p for p, v in zip(parts, values, strict=True) if len(v) != width), None)
    if bad is not None:
        raise ValueError(f"{name}: {bad!r} should have {width} parts separated by '|'")
    return tuple(item(*(v.strip() for v in vals)) for vals in values)


def _converter(hint: Any, name: str) -> Callable[[str], Any]:
    """How one column's text becomes a field value."""
    item = _item_type(hint)
    if item is not None:
        return functools.partial(_parse_items, item, name)
    if hint is int or (isinstance(hint, types.UnionType) and int in typing.get_args(hint)):
        return _parse_instant if name.endswith("_us") else (lambda text: int(text.strip() or 0))
    return str.strip


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    column: str
    required: bool
    convert: Callable[[str], Any] | None  # None: a nested object
    nested: type | None
    prefix: str  # column prefix of a nested object


_PLANS: dict[type, tuple[_Field, ...]] = {}


def _plan(cls: type) -> tuple[_Field, ...]:
    """Per-class reading plan, worked out once (reflection per row is what makes CSV slow)."""
    if cls not in _PLANS:
        fields = []
        for field in dataclasses.fields(cls):
            hint = _hints(cls)[field.name]
            if hint in _NESTED and _item_type(hint) is None:
                prefix = "" if field.name == "header" else f"{field.name}_"
                fields.append(_Field(field.name, "", True, None, hint, prefix))
            else:
                required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
                column = field.name.removesuffix("_us")
                fields.append(_Field(field.name, column, required, _converter(hint, field.name), None, ""))
        _PLANS[cls] = tuple(fields)
    return _PLANS[cls]


def _build(cls: type, row: dict[str, str], prefix: str = "") -> Any:
    values: dict[str, Any] = {}
    for field in _plan(cls):
        if field.nested is not None:
            values[field.name] = _build(field.nested, row, prefix + field.prefix)
            continue
        column = prefix + field.column
        text = row.get(column)
        if not text:
            if field.required:
                raise ValueError(f"missing value for column {column!r}")
            continue
        try:
            values[field.name] = field.convert(text)  # type: ignore[misc]
        except ValueError as exc:
            raise ValueError(f"column {column!r}: {exc}") from None
    return cls(**values)


LeafKind = Literal["text", "int", "instant", "items", "strings"]


@dataclass(frozen=True, slots=True)
class Leaf:
    """One column of a dataset's flat row: the record field its text fills and how the text reads."""

    column: str
    owner: type  # the record class (or nested class) that declares the field
    field: str
    kind: LeafKind  # items: a list of objects of ``item``; strings: a list of strings
    required: bool  # no default: an empty column is a row error
    default: Any  # the field's default when not required
    item: type | None  # the nested class of an ``items`` leaf
    convert: Callable[[str], Any]  # the reading of :func:`rows_to_records` (an ``items`` leaf gives objects)


_LEAVES: dict[type, tuple[Leaf, ...]] = {}


def _leaf_kind(hint: Any, name: str) -> tuple[LeafKind, type | None]:
    item = _item_type(hint)
    if item is not None:
        return ("items", item) if item in _NESTED else ("strings", None)
    if hint is int or (isinstance(hint, types.UnionType) and int in typing.get_args(hint)):
        return ("instant" if name.endswith("_us") else "int"), None
    return "text", None


def leaves(cls: type) -> tuple[Leaf, ...]:
    """The leaves of a record class in column order (:func:`columns`), nested objects flattened."""
    if cls in _LEAVES:
        return _LEAVES[cls]
    out: list[Leaf] = []
    for field in _plan(cls):
        if field.nested is not None:
            out.extend(dataclasses.replace(leaf, column=field.prefix + leaf.column) for leaf in leaves(field.nested))
            continue
        declared = next(f for f in dataclasses.fields(cls) if f.name == field.name)
        default = declared.default
        if declared.default_factory is not dataclasses.MISSING:
            default = declared.default_factory()
        kind, item = _leaf_kind(_hints(cls)[field.name], field.name)
        assert field.convert is not None
        out.append(Leaf(field.column, cls, field.name, kind, field.required, default, item, field.convert))
    _LEAVES[cls] = tuple(out)
    return _LEAVES[cls]


def record_builder(cls: type) -> Callable[[Sequence[Any]], Any]:
    """Builds a record from its leaf values in :func:`leaves` order (``items`` leaves as tuples of field texts)."""
    steps: list[tuple[int, int, Callable[[Sequence[Any]], Any] | type | None]] = []
    at = 0
    for field in _plan(cls):
        if field.nested is not None:
            width = len(leaves(field.nested))
            steps.append((at, at + width, record_builder(field.nested)))
            at += width
        else:
            leaf = leaves(cls)[at]
            steps.append((at, at + 1, leaf.item if leaf.kind == "items" else None))
            at += 1

    def build(values: Sequence[Any]) -> Any:
        args: list[Any] = []
        for start, end, nested in steps:
            if nested is None:
                args.append(values[start])
            elif end - start == 1 and isinstance(nested, type):
                args.append(tuple(nested(*item) for item in values[start]))
            else:
                args.append(nested(values[start:end]))
        return cls(*args)

    return build


_SNIFF_BYTES: Final = 1 << 20


def _sniff_encoding(path: Path) -> str:
    """The encoding of a file, told from its first MiB as :func:`governance.clean.decode_bytes` tells it.

    A multi-byte character cut at the end of the sample is not held against it.
    A file that changes encoding after the sample fails later with UnicodeDecodeError.
    """
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        whole = len(head) < _SNIFF_BYTES
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
        except UnicodeDecodeError:
            continue
        return encoding
    return decode_bytes(head, str(path)).encoding  # raises EncodingError naming both offsets


def open_csv_text(path: Path) -> TextIO:
    """A CSV file opened as text in its encoding: UTF-8 (BOM or not), UTF-16 with BOM, or GB18030/GBK.

    Raises:
        EncodingError: the file is neither.
    """
    return path.open("r", encoding=_sniff_encoding(path), newline="")


def check_header(fieldnames: Iterable[str] | None, dataset: str, source: object) -> None:
    """Raise ValueError when a file's columns lack one of the columns ``dataset``'s uid is made of."""
    held = set(fieldnames or ())
    missing = next((name for name in uid_fields(DATASET_TYPES[dataset]) if name not in held), None)
    if missing is not None:
        raise ValueError(f"{source}: header has no {missing!r} column (a {dataset} file needs it)")


def row_uid(cls: type, raw: Mapping[str, str]) -> tuple[str, str]:
    """(uid, first empty key column) of a row: the uid is made of the key columns (``UID_FORMATS``)."""
    names = uid_fields(cls)
    values = {name: raw.get(name, "").strip() for name in names}
    return UID_FORMATS[cls].format(**values), next((name for name in names if not values[name]), "")


def rows_to_records(rows: Iterable[tuple[int, dict[str, str]]], dataset: str) -> Iterator[CsvRow]:
    """Records of ``(line, row)`` pairs in the column shape above; a bad row comes back with its error.

    A delete names its record by the key columns of its dataset's uid (``credit_code`` and
    ``assessed_on`` for a credit grade, the action number for an action).
    """
    cls = DATASET_TYPES[dataset]
    for line, raw in rows:
        op_code = raw.get("op", "i").strip().lower() or "i"
        uid, empty = row_uid(cls, raw)
        if op_code not in {"i", "u", "d"}:
            yield CsvRow(line, raw, "upsert", uid, None, f"op must be i, u or d, not {op_code!r}")
        elif empty:
            yield CsvRow(line, raw, "upsert", uid, None, f"empty {empty}")
        elif op_code == "d":
            yield CsvRow(line, raw, "delete", uid, None)
        else:
            try:
                yield CsvRow(line, raw, "upsert", uid, _build(cls, raw))
            except (ValueError, TypeError) as exc:
                yield CsvRow(line, raw, "upsert", uid, None, str(exc))


def read_records(path: Path, dataset: str) -> Iterator[CsvRow]:
    """Rows of a CSV file of ``dataset``; a bad row comes back with its error, never dropped.

    Raises ValueError when the file's header lacks the uid column, EncodingError
    (a ValueError) when its encoding is none of those of :func:`open_csv_text`.
    """
    with open_csv_text(path) as handle:
        reader = csv.DictReader(handle)
        check_header(reader.fieldnames, dataset, path)
        rows = (
            (reader.line_num, {k: v for k, v in parsed.items() if k is not None and v is not None}) for parsed in reader
        )
        yield from rows_to_records(rows, dataset)
