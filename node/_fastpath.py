"""The fast path of ``ingest_file``: rows of a CSV file cleaned, judged and encoded by a plan compiled per dataset.

The reference reading of a row (:func:`node._ingest_run.read_row`: clean the
columns, build the record, validate it, pack it with ``node.serde``) costs
tens of microseconds. A :class:`FilePlan`, built once per file from the
record's leaves (:func:`adapters.csv_records.leaves`) and the file's header,
does the same for the common row in a few:

- each column's raw text goes through a per-column cache to its final field
  value (cleaned, converted, default applied): a value seen before costs one
  dictionary lookup, done for all columns in one ``map``;
- a value that cleaning corrects or refuses, a row whose shape is off (an
  ``op`` other than upsert, too few or many values), a row the compiled
  acceptor does not accept (:mod:`governance._compiled`) and every row of a
  dataset without one: these go the reference way, row by row, so every
  verdict and every message is the reference's;
- for datasets with an acceptor the record object is never built: the payload
  bytes come from the compiled wire encoder (:mod:`node._wire`), the
  thematic columns straight from the field values.

Which field is a record's uid and which date is its event time is checked at
build time against the record class and ``event_time_us`` on a probe record;
if either disagrees the dataset takes the reference way.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from adapters.csv_cleaning import default_kinds, text_cleaner
from adapters.csv_records import DATASET_TYPES, Leaf, leaves, record_builder, uid_column
from governance import validate
from governance._compiled import compile_acceptor, day_start_us
from governance.clean import CleaningError, Finding
from node._ingest_run import REFERENCE_FIELD, REFERENCES, IngestRun, read_row, referenced
from node._wire import payload_plan
from node.serde import OP_UPSERT, pack_payload
from node.store import NewRecord, thematic_layout

__all__ = ["FilePlan"]

ToNewRecord = Callable[..., NewRecord]
_CACHE_LIMIT: Final = 50_000
_UPSERT: Final = frozenset({"", "i", "u"})
_NOTHING: Final = (None, b"")  # the place of a value reported in specials
_value, _piece = operator.itemgetter(0), operator.itemgetter(1)
# dataset -> (uid field, field whose date is the event time), for datasets the acceptor covers
_KEYS: Final = {"inspection": ("action_number", "action_date"), "penalty": ("action_number", "decision_date")}
_Special = tuple[int, Any, tuple[Finding, ...], bool]  # (leaf, value, findings, needs the reference way)
_Compute = Callable[[str], tuple[Any, tuple[Finding, ...], bool]]
_ISO_INSTANT: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?\+08:00")
_YEARS: Final = range(1900, 2101)


def _items(width: int, column: str, text: str) -> tuple[tuple[str, ...], ...]:
    """A list of objects as tuples of field texts (the reading of ``csv_records``, with its error)."""
    parts = [p for p in text.split(";") if p.strip()]
    values = [p.split("|") for p in parts]
    bad = next((p for p, v in zip(parts, values, strict=True) if len(v) != width), None)
    if bad is not None:
        raise ValueError(f"{column}: {bad!r} should have {width} parts separated by '|'")
    return tuple(tuple(v.strip() for v in vals) for vals in values)


def _converter(leaf: Leaf) -> Callable[[str], Any]:
    if leaf.kind == "items" and leaf.item is not None:
        width = len(dataclasses.fields(leaf.item))
        return lambda text: _items(width, leaf.field, text)
    return leaf.convert


def _instant(leaf: Leaf, clean: Callable[[str, str], tuple[str, tuple[Finding, ...]]]) -> _Compute:
    """An instant: the canonical form (``...+08:00``, the common case) read once, others cleaned first."""

    def compute(raw: str) -> tuple[Any, tuple[Finding, ...], bool]:
        if _ISO_INSTANT.fullmatch(raw):
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                pass
            else:
                if moment.year in _YEARS:
                    return int(moment.timestamp() * 1_000_000), (), False
        return _general(leaf, clean)(raw)

    return compute


def _general(leaf: Leaf, clean: Callable[[str, str], tuple[str, tuple[Finding, ...]]] | None) -> _Compute:
    """Clean (or not), then an empty value takes the default (a required one needs the reference way), then convert."""
    column, convert, required, default = leaf.column, _converter(leaf), leaf.required, leaf.default

    def compute(raw: str) -> tuple[Any, tuple[Finding, ...], bool]:
        found: tuple[Finding, ...] = ()
        text = raw
        if clean is not None:
            try:
                text, found = clean(raw, column)
            except CleaningError:
                return None, (), True
        if not text:
            return default, found, required
        try:
            return convert(text), found, False
        except (ValueError, TypeError):
            return None, found, True

    return compute


class _LeafValues(dict[str, tuple[Any, bytes]]):
    """Raw text of one column -> (its field value, the field's payload bytes).

    A value with findings, or that needs the reference way, is reported in
    ``specials`` instead (and not cached: it is rare).
    """

    __slots__ = ("_compute", "_index", "_piece", "_specials")

    def __init__(
        self, index: int, leaf: Leaf, kind: str | None, specials: list[_Special], piece: Callable[[Any], bytes]
    ) -> None:
        super().__init__()
        self._index = index
        clean = text_cleaner(kind) if kind else None
        instant = clean is not None and kind == "datetime" and leaf.kind == "instant"
        self._compute = _instant(leaf, clean) if instant and clean is not None else _general(leaf, clean)
        self._specials = specials
        self._piece = piece

    def __missing__(self, raw: str) -> tuple[Any, bytes]:
        value, found, slow = self._compute(raw)
        if found or slow:
            self._specials.append((self._index, value, found, slow))
            return _NOTHING
        entry = (value, self._piece(value))
        if len(self) < _CACHE_LIMIT:
            self[raw] = entry
        return entry


class _Compiled:
    """What a dataset with an acceptor needs to go without record objects."""

    def __init__(self, dataset: str, accept: Callable[[Sequence[Any]], bool]) -> None:
        cls = DATASET_TYPES[dataset]
        names = [leaf.field if leaf.owner is cls else "" for leaf in leaves(cls)]
        uid_field, day_field = _KEYS[dataset]
        self.accept = accept
        self.uid = names.index(uid_field)
        self.day = names.index(day_field)
        self.reference = names.index(REFERENCE_FIELD) if dataset in REFERENCES else None
        self.thematic = _thematic(dataset, cls)
        self._day_us: dict[str, int] = {}

    def event_time_us(self, values: Sequence[Any]) -> int:
        text = values[self.day]
        cached = self._day_us.get(text)
        if cached is None:
            cached = day_start_us(date.fromisoformat(text))
            if len(self._day_us) < _CACHE_LIMIT:
                self._day_us[text] = cached
        return cached


def _no_piece(_value: Any) -> bytes:
    return b""


class _Joined(dict[tuple[tuple[str, ...], ...], str]):
    """A list of objects (tuples of field texts) as its thematic column: ``a:b;c:d``, cached."""

    def __missing__(self, items: tuple[tuple[str, ...], ...]) -> str:
        text = ";".join(":".join(item) for item in items)
        if len(self) < _CACHE_LIMIT:
            self[items] = text
        return text


def _thematic(dataset: str, cls: type) -> Callable[[Sequence[Any]], tuple[Any, ...]] | None:
    """The thematic columns of a record straight from its field values; None when a column is not a field."""
    layout = thematic_layout(dataset)
    if layout is None:
        return None
    flat = leaves(cls)
    by_column = {leaf.column: (i, leaf) for i, leaf in enumerate(flat)}
    positions: list[int] = []
    joined: list[tuple[int, _Joined]] = []  # items fields, formatted after the field values
    for column in layout[0]:
        found = by_column.get(column) or by_column.get(column.removesuffix("_us"))
        if found is None:
            return None
        index, leaf = found
        if leaf.kind == "items":
            positions.append(len(flat) + len(joined))
            joined.append((index, _Joined()))
        elif leaf.kind in {"text", "int", "instant"} and (column == leaf.column) == (leaf.kind != "instant"):
            positions.append(index)
        else:
            return None
    take = operator.itemgetter(*positions)

    def thematic(values: Sequence[Any]) -> tuple[Any, ...]:
        return take([*values, *[cache[values[i]] for i, cache in joined]])  # type: ignore[no-any-return]

    return thematic


def _probe(cls: type) -> list[Any]:
    """Field values of a plausible record: distinct texts, one date per date-like field, instants after them."""
    values: list[Any] = []
    for n, leaf in enumerate(leaves(cls)):
        if leaf.kind == "text":
            values.append(f"2021-0{1 + n % 9}-1{n % 10}" if leaf.field.endswith(("_date", "_on")) else f"t{n}")
        elif leaf.kind in {"int", "instant"}:
            values.append(1_700_000_000_000_000 + n if leaf.kind == "instant" else n)
        elif leaf.kind == "strings":
            values.append((f"s{n}",))
        else:
            width = len(dataclasses.fields(leaf.item)) if leaf.item else 0
            values.append((tuple(f"i{n}{k}" for k in range(width)),))
    return values


def _compile(dataset: str, event_time_us: Callable[[Any], int]) -> _Compiled | None:
    """The record-free path of ``dataset``, if it has an acceptor and its keys prove right on a probe."""
    cls = DATASET_TYPES[dataset]
    flat = leaves(cls)
    accept = compile_acceptor(cls, [(leaf.owner, leaf.field) for leaf in flat])
    if accept is None or dataset not in _KEYS:
        return None
    try:
        compiled = _Compiled(dataset, accept)
    except ValueError:  # a key field is gone
        return None
    probe = _probe(cls)
    record = record_builder(cls)(probe)
    layout = thematic_layout(dataset)
    if (
        record.uid != probe[compiled.uid]
        or event_time_us(record) != compiled.event_time_us(probe)
        or (compiled.reference is not None and referenced(dataset, record) != probe[compiled.reference])
        or (layout is not None and compiled.thematic is not None and compiled.thematic(probe) != _named(layout, record))
    ):
        return None
    return compiled


def _named(layout: tuple[tuple[str, ...], Callable[[Any], dict[str, Any]]], record: Any) -> tuple[Any, ...]:
    columns = layout[1](record)
    return tuple(columns[name] for name in layout[0])


class FilePlan:
    """Turns the rows of one CSV file of a dataset into records for an :class:`~node._ingest_run.IngestRun`."""

    def __init__(
        self,
        dataset: str,
        header: Sequence[str],
        *,
        clean: bool,
        to_new_record: ToNewRecord,
        event_time_us: Callable[[Any], int],
    ) -> None:
        """Compile the plan of ``dataset`` for a file with ``header``; ``clean``: apply the default cleaning."""
        cls = DATASET_TYPES[dataset]
        self.dataset = dataset
        self._header = list(header)
        self._width = len(header)
        self._clean = clean
        self._to_new_record = to_new_record
        self._event_time_us = event_time_us
        position = {name: i for i, name in enumerate(header)}  # a repeated column: the last one, as DictReader
        flat = leaves(cls)
        self._take = operator.itemgetter(*(position.get(leaf.column, self._width) for leaf in flat))
        self._op = position.get("op")
        self._uid = position[uid_column(dataset)]  # check_header saw it
        kinds = default_kinds(dataset) if clean else {}
        payload = payload_plan(cls)
        pieces = payload.fields if payload is not None else tuple(_no_piece for _leaf in flat)
        self._specials: list[_Special] = []
        self._columns = tuple(
            _LeafValues(i, leaf, kinds.get(leaf.column), self._specials, pieces[i]) for i, leaf in enumerate(flat)
        )
        self._pieces = pieces
        self._build = record_builder(cls)
        self._payload = payload
        self._compiled = _compile(dataset, event_time_us) if payload is not None else None

    def raw(self, values: Sequence[str]) -> Mapping[str, str]:
        """A row as read (column -> text), as it is kept in quarantine."""
        return dict(zip(self._header, values, strict=False))

    def take(self, line: int, values: list[str], intake: IngestRun) -> None:
        """Judge one row (its values as the CSV reader gave them) and hand it to ``intake``."""
        if (
            len(values) != self._width
            or (self._op is not None and values[self._op].strip().lower() not in _UPSERT)
            or not values[self._uid].strip()  # the reference names the empty uid column
        ):
            self._reference(line, values, intake)
            return
        values.append("")  # the value of every column the file lacks
        specials = self._specials
        specials.clear()
        pairs = list(map(operator.getitem, self._columns, self._take(values)))
        del values[-1]
        found: tuple[Finding, ...] = ()
        for index, value, more, slow in specials:
            if slow:
                self._reference(line, values, intake)
                return
            pairs[index] = (value, self._pieces[index](value))
            found += more
        fields = list(map(_value, pairs))
        compiled = self._compiled
        if compiled is None:
            self._with_record(line, values, fields, pairs, found, intake)
        elif not compiled.accept(fields):
            self._reference(line, values, intake)
        else:
            assert self._payload is not None
            uid = fields[compiled.uid]
            payload = self._payload.assemble(list(map(_piece, pairs)))
            thematic = compiled.thematic(fields) if compiled.thematic is not None else None
            record = NewRecord(uid, OP_UPSERT, compiled.event_time_us(fields), payload, None, thematic)
            if found:
                intake.found(line, uid, found)
            intake.good(line, record, values, fields[compiled.reference] if compiled.reference is not None else "")

    def _with_record(  # noqa: PLR0917
        self,
        line: int,
        values: list[str],
        fields: list[Any],
        pairs: list[tuple[Any, bytes]],
        found: tuple[Finding, ...],
        intake: IngestRun,
    ) -> None:
        """A dataset without a compiled acceptor: the record is built and validated, then encoded."""
        record = self._build(fields)
        if found:
            intake.found(line, record.uid, found)
        problems = validate(record)
        reference = referenced(self.dataset, record)
        if problems:
            intake.bad(line, problems, values, reference)
            return
        if self._payload is not None:
            payload = self._payload.assemble(list(map(_piece, pairs)))
        else:
            payload = pack_payload(record)
        intake.good(
            line, NewRecord(record.uid, OP_UPSERT, self._event_time_us(record), payload, record), values, reference
        )

    def _reference(self, line: int, values: list[str], intake: IngestRun) -> None:
        """The reference way for one row (see :func:`node._ingest_run.read_row`)."""
        read, problems, found = read_row(self.dataset, line, self.raw(values), clean=self._clean)
        uid = read.record.uid if read.record is not None else read.uid
        if found:
            intake.found(line, uid, found)
        reference = referenced(self.dataset, read.record)
        if problems:
            intake.bad(line, problems, values, reference)
        else:
            intake.good(
                line,
                self._to_new_record(read.record or (read.uid, None), now_us=time.time_ns() // 1000),
                values,
                reference,
            )
