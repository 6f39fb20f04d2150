"""Ingest of files into a node's store and outbox; bad rows go to quarantine, never away."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from adapters.csv_records import DATASET_TYPES, CsvRow, check_header, open_csv_text
from governance import (
    Complaint,
    CreditGrade,
    DatasetRecord,
    Enforcement,
    ImplList,
    Inspection,
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
from governance._compiled import day_start_us
from node._fastpath import FilePlan
from node._ingest_run import (
    REFERENCES,
    CommitThread,
    IngestRun,
    bulk_mode,
    read_row,
    record_encoder,
    reference_problem,
    reference_problems,
    referenced,
    row_problems,
    same_content,
)
from node.errors import IngestError
from node.serde import OP_DELETE, OP_UPSERT, pack_payload
from node.store import BacklogGuard, NewRecord, Store

__all__ = [
    "API_SOURCE",
    "REFERENCES",
    "IngestReport",
    "event_time_us",
    "ingest_file",
    "ingest_records",
    "ingest_rows",
    "read_row",
    "record_encoder",
    "reference_problem",
    "reference_problems",
    "referenced",
    "row_problems",
    "same_content",
    "to_new_record",
]

CHUNK = 2000  # rows per transaction of ingest_rows
FILE_CHUNK = 10_000  # rows per transaction of ingest_file
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
    findings: Mapping[str, int] = field(default_factory=dict)  # cleaning findings per rule


def _now_us() -> int:
    return time.time_ns() // 1000


def _day_us(text: str) -> int:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _now_us()
    return day_start_us(day)


def event_time_us(record: DatasetRecord) -> int:
    """When the fact a record states happened (now for master data without such a date)."""
    match record:
        case Complaint():
            return record.received_at_us
        case PublicOpinion():
            return record.published_at_us
        case RegulatedObject() | Personnel():
            return _now_us()
        case Inspection():
            day = record.action_date
        case Penalty():
            day = record.decision_date
        case Enforcement() | OtherAction():
            day = record.start_date
        case CreditGrade():
            day = record.assessed_on
        case ListEntry():
            # a removal is a new version of the entry, dated when the object was removed
            day = record.removed_on or record.entered_on
        case Matter() | MatterSub() | ImplList():
            day = record.version_date
        case MatterMapping():
            day = record.mapped_on
    return _day_us(day)


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


def ingest_file(
    store: Store,
    path: Path,
    *,
    dataset: str,
    progress: Callable[[int], object] | None = None,
    guard: BacklogGuard | None = None,
    clean: bool = True,
) -> IngestReport:
    """Read a CSV file of ``dataset`` into the store; rows that fail go to quarantine with every reason.

    The file may be UTF-8 (with or without BOM), UTF-16 with BOM or GB18030/GBK.
    With ``clean`` (the default) every column is cleaned by the dataset's
    default cleaning (:func:`adapters.csv_cleaning.default_kinds`) before the
    row is read; what cleaning corrected is kept per row
    (:meth:`Store.ingest_findings`) and counted per rule in the report and
    the audit entry. ``guard`` says why no more may be taken (the outbox is
    full): the ingest then stops with BackpressureError, saying how many rows
    were stored before.
    """
    if dataset not in DATASET_TYPES:
        raise IngestError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(DATASET_TYPES))}")
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    source = str(path)
    try:
        with open_csv_text(path) as handle, bulk_mode():
            reader = csv.reader(_lines(handle))
            header = next(reader, None)
            check_header(header, dataset, path)
            assert header is not None
            plan = FilePlan(dataset, header, clean=clean, to_new_record=to_new_record, event_time_us=event_time_us)
            run = IngestRun(store, dataset, source, guard=guard, raw_of=plan.raw)
            _read_into(reader, plan, run, progress)
    except UnicodeDecodeError as exc:
        raise IngestError(f"{source}: not {exc.encoding} text ({exc.reason} at byte {exc.start})") from exc
    except (ValueError, csv.Error) as exc:
        raise IngestError(str(exc)) from exc
    return _finish(run)


def _read_into(reader: Any, plan: FilePlan, run: IngestRun, progress: Callable[[int], object] | None) -> None:
    """Judge the rows while the chunk before commits (:class:`CommitThread`).

    The outbox guard is asked before every ``CHUNK`` rows, as :func:`ingest_rows`
    asks it; rows it let in are committed (in chunks of ``FILE_CHUNK``) even
    when it refuses the next ones.
    """
    commits = CommitThread(run, progress)
    gathered = 0
    full = ""
    try:
        while read := [(reader.line_num, values) for values in islice(reader, CHUNK)]:
            rows = [(line, values) for line, values in read if values]  # blank lines are no rows
            full = run.full(len(rows))
            if full:
                break
            for line, values in rows:
                plan.take(line, values, run)
            gathered += len(rows)
            if gathered >= FILE_CHUNK:
                commits.submit(run.detach())
                gathered = 0
        commits.submit(run.detach())
    except BaseException:
        commits.stop()
        raise
    commits.close()
    if full:  # after the close: the message counts what was committed
        raise run.backpressure(full)


_BLOCK = 1 << 22
_ODD_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")  # line ends to str.splitlines only


def _lines(handle: TextIO) -> Iterator[str]:
    """The lines of a text file opened with ``newline=""``, as iterating over it gives them, read in big blocks."""
    carry = ""
    while block := handle.read(_BLOCK):
        block = carry + block
        cut = block.rfind("\n") + 1
        block, carry = block[:cut], block[cut:]
        if _ODD_BREAKS.search(block):
            yield from io.StringIO(block, newline="")
        else:
            yield from block.splitlines(keepends=True)
    if carry:
        yield from io.StringIO(carry, newline="")


def _finish(run: IngestRun) -> IngestReport:
    """Audit the input and report it."""
    done = run.counts
    counts = {"rows": done.rows, "stored": done.stored, "duplicates": done.duplicates, "quarantined": done.quarantined}
    detail: dict[str, Any] = {"dataset": run.dataset, **counts}
    if done.findings:
        detail["findings"] = dict(sorted(done.findings.items()))
    run.store.audit([("ingested", run.source, detail)], now_us=_now_us())
    return IngestReport(
        done.rows, done.stored, done.duplicates, done.quarantined, done.first_seq, done.last_seq, dict(done.findings)
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

    The one validation path of every row-shaped input (drop-folder and
    database collectors, the push intake); the rows come read (and cleaned,
    if the collector cleans). The cross-record rule applies (see
    :mod:`node._ingest_run`). A ValueError from reading ``rows`` (the input as
    a whole is unreadable) becomes IngestError; rows stored before it stay stored.
    """
    run = IngestRun(store, dataset, source, guard=guard)
    try:
        for chunk in _chunks(rows, CHUNK):
            full = run.full(len(chunk))
            if full:
                raise run.backpressure(full)
            now = _now_us()
            for row in chunk:
                problems = row_problems(row)
                reference = referenced(dataset, row.record)
                if problems:
                    run.bad(row.line, problems, row.raw, reference)
                else:
                    run.good(row.line, to_new_record(row.record or (row.uid, None), now_us=now), row.raw, reference)
            run.commit(run.detach())
            if progress:
                progress(len(chunk))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except ValueError as exc:
        raise IngestError(str(exc)) from exc
    return _finish(run)


def _chunks(rows: Iterable[CsvRow], size: int) -> Iterable[list[CsvRow]]:
    chunk: list[CsvRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
