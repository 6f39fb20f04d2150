"""Ingest of files into a node's store and outbox; bad rows go to quarantine, never away."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from jgnode.exchange.v1 import exchange_pb2

from adapters.csv_records import CHINA_TZ, DATASET_TYPES, CsvRow, read_records
from governance import Complaint, DatasetRecord, Inspection, Penalty, RegulatedObject, validate
from node.errors import BackpressureError, IngestError
from node.serde import OP_DELETE, OP_UPSERT, encode_record, pack_payload
from node.store import BacklogGuard, NewRecord, Store

__all__ = [
    "API_SOURCE",
    "IngestReport",
    "event_time_us",
    "ingest_file",
    "ingest_records",
    "ingest_rows",
    "record_encoder",
    "row_problems",
    "same_content",
    "to_new_record",
]

CHUNK = 2000
API_SOURCE = "api"  # intake counter source of records stored through ingest_records


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Counts of one ingest run: rows = stored + duplicates + quarantined."""

    rows: int
    stored: int
    duplicates: int
    quarantined: int
    first_seq: int
    last_seq: int


def _now_us() -> int:
    return time.time_ns() // 1000


def _day_us(text: str) -> int:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _now_us()
    return int(datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ).timestamp() * 1_000_000)


def event_time_us(record: DatasetRecord) -> int:
    """When the fact a record states happened."""
    match record:
        case Inspection():
            return _day_us(record.action_date)
        case Penalty():
            return _day_us(record.decision_date)
        case Complaint():
            return record.received_at_us
        case RegulatedObject():
            return _now_us()


def record_encoder(origin: str, dataset: str) -> Callable[[str, int, int, NewRecord], bytes]:
    """How the store turns a new record of ``origin`` into record bytes."""

    def encode(uid: str, version: int, seq: int, record: NewRecord) -> bytes:
        return encode_record(
            origin=origin,
            dataset=dataset,
            uid=uid,
            version=version,
            seq=seq,
            op=record.op,
            event_time_us=record.event_time_us,
            payload=record.payload,
        )

    return encode


def same_content(body: bytes, record: NewRecord) -> bool:
    """Whether held record bytes say what ``record`` says (an exact duplicate)."""
    held = exchange_pb2.Record.FromString(body)
    payload = held.payload.SerializeToString() if held.HasField("payload") else b""
    return held.op == record.op and payload == record.payload


def ingest_records(
    store: Store, dataset: str, records: Sequence[DatasetRecord | tuple[str, None]], *, now_us: int | None = None
) -> tuple[int, int, int, int]:
    """Store records of this node (a (uid, None) pair is a delete); returns (stored, duplicates, first, last)."""
    now = now_us or _now_us()
    new = [to_new_record(item, now_us=now) for item in records]
    result = store.take_in(
        dataset, API_SOURCE, new, [], encode=record_encoder(store.node_id, dataset), same=same_content, now_us=now
    )
    return result.appended, result.duplicates, result.first_seq, result.last_seq


def to_new_record(item: DatasetRecord | tuple[str, None], *, now_us: int) -> NewRecord:
    """A record (or a (uid, None) delete, dated ``now_us``) as the store takes it."""
    if isinstance(item, tuple):
        return NewRecord(item[0], OP_DELETE, now_us, b"")
    return NewRecord(item.uid, OP_UPSERT, event_time_us(item), pack_payload(item), item)


def row_problems(row: CsvRow) -> list[str]:
    """Every reason a read row may not be stored (empty when it may)."""
    if row.error:
        return [row.error]
    return validate(row.record) if row.record else []


def _chunks(rows: Iterable[CsvRow], size: int) -> Iterable[list[CsvRow]]:
    chunk: list[CsvRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ingest_file(
    store: Store,
    path: Path,
    *,
    dataset: str,
    progress: Callable[[int], object] | None = None,
    guard: BacklogGuard | None = None,
) -> IngestReport:
    """Read a CSV file of ``dataset`` into the store; rows that fail go to quarantine with the reason.

    ``guard`` says why no more may be taken (the outbox is full): the ingest then
    stops with BackpressureError, saying how many rows were stored before.
    """
    if dataset not in DATASET_TYPES:
        raise IngestError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(DATASET_TYPES))}")
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    return ingest_rows(
        store, read_records(path, dataset), dataset=dataset, source=str(path), progress=progress, guard=guard
    )


def ingest_rows(
    store: Store,
    rows: Iterable[CsvRow],
    *,
    dataset: str,
    source: str,
    progress: Callable[[int], object] | None = None,
    guard: BacklogGuard | None = None,
) -> IngestReport:
    """Store the rows of one input (``source``, a file name) in chunks; bad rows go to quarantine.

    The one validation path of every row-shaped input (CSV files, drop-folder
    collectors). A ValueError from reading ``rows`` (the input as a whole is
    unreadable) becomes IngestError; rows stored before it stay stored.
    """
    rows_done = stored = duplicates = quarantined = 0
    first = last = 0
    encode = record_encoder(store.node_id, dataset)
    try:
        for chunk in _chunks(rows, CHUNK):
            full = guard(len(chunk)) if guard is not None else ""
            if full:
                raise BackpressureError(
                    f"{full}; {source}: {rows_done} rows done ({stored} stored), the rest not read: "
                    "ingest it again later"
                )
            now = _now_us()
            good: list[NewRecord] = []
            bad: list[tuple[str, list[str], bytes]] = []
            for row in chunk:
                problems = row_problems(row)
                if problems:
                    bad.append((f"{source}:{row.line}", problems, json.dumps(row.raw, ensure_ascii=False).encode()))
                else:
                    good.append(to_new_record(row.record if row.record else (row.uid, None), now_us=now))
            # stored, quarantined and counted in one transaction: the intake invariant holds at every commit
            result = store.take_in(dataset, source, good, bad, encode=encode, same=same_content, now_us=now)
            added, dups, lo, hi = result.appended, result.duplicates, result.first_seq, result.last_seq
            rows_done += len(chunk)
            stored += added
            duplicates += dups
            quarantined += len(bad)
            if added:
                first, last = first or lo, hi
            if progress:
                progress(len(chunk))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except ValueError as exc:
        raise IngestError(str(exc)) from exc
    counts = {"rows": rows_done, "stored": stored, "duplicates": duplicates, "quarantined": quarantined}
    store.audit([("ingested", source, {"dataset": dataset, **counts})], now_us=_now_us())
    return IngestReport(rows_done, stored, duplicates, quarantined, first, last)
