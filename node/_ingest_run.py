"""What every intake path shares: reading one row the reference way, the cross-record rule, and the chunk sink.

:class:`IngestRun` takes one input's rows a chunk at a time, each already judged
(a record to store, or problems and the raw row), applies the cross-record
rule to the whole chunk with one lookup, and hands the chunk to
:meth:`node.store.Store.take_in`: stored, duplicates, quarantined and counted
in one transaction, so the intake invariant holds at every commit.

The cross-record rule: a penalty, enforcement or other action whose
``inspection_number`` is not empty must name an inspection this node holds
(live in the ``inspection`` thematic table, from any origin: own inspections
are projected in the transaction that stores them, received ones by the
projector). Each chunk's lookup runs in its commit, after every chunk before
it, so inspections taken in earlier in the same input, or by an earlier input,
count. An action that names none goes to quarantine, with its other problems
if it has any, and can be replayed once the inspection has arrived
(``jgnode quarantine replay`` checks the rule again).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from jgnode.exchange.v1 import exchange_pb2

from adapters.csv_cleaning import clean_columns, default_kinds
from adapters.csv_records import DATASET_TYPES, CsvRow, rows_to_records
from governance import INSPECTION, validate
from governance.clean import Finding
from node._wire import record_bytes
from node.errors import BackpressureError
from node.store import BacklogGuard, IngestFinding, NewRecord, Store

__all__ = [
    "REFERENCES",
    "Chunk",
    "CommitThread",
    "IngestRun",
    "RunCounts",
    "bulk_mode",
    "read_row",
    "record_encoder",
    "reference_problem",
    "reference_problems",
    "referenced",
    "row_problems",
    "same_content",
]

_SWITCH_INTERVAL_S: Final = 0.0005
REFERENCE_FIELD: Final = "inspection_number"
REFERENCES: Final[Mapping[str, str]] = {
    dataset: INSPECTION
    for dataset in ("penalty", "enforcement", "other_action")
    if dataset in DATASET_TYPES and REFERENCE_FIELD in {f.name for f in dataclasses.fields(DATASET_TYPES[dataset])}
}
"""Dataset -> the dataset its ``inspection_number`` must name a held record of."""


def reference_problem(number: str) -> str:
    """Why a row that names an inspection this node does not hold is refused."""
    return f"{REFERENCE_FIELD} {number!r} names no inspection held by this node"


def referenced(dataset: str, record: object) -> str:
    """The inspection a record of ``dataset`` names ("" for none, or when the rule does not apply)."""
    if dataset not in REFERENCES or record is None:
        return ""
    return str(getattr(record, REFERENCE_FIELD, ""))


def reference_problems(store: Store, dataset: str, record: object) -> list[str]:
    """The cross-record rule for one record (a replay or a fix): its problem, or none."""
    number = referenced(dataset, record)
    if not number or number in store.held_uids(REFERENCES[dataset], [number]):
        return []
    return [reference_problem(number)]


def record_encoder(origin: str, dataset: str) -> Callable[[str, int, int, NewRecord], bytes]:
    """How the store turns a new record of ``origin`` into record bytes (those of ``node.serde.encode_record``)."""
    encode_bytes = record_bytes(origin, dataset)

    def encode(uid: str, version: int, seq: int, record: NewRecord) -> bytes:
        return encode_bytes(uid, version, seq, record.op, record.event_time_us, record.payload)

    return encode


def same_content(body: bytes, record: NewRecord) -> bool:
    """Whether held record bytes say what ``record`` says (an exact duplicate)."""
    held = exchange_pb2.Record.FromString(body)
    payload = held.payload.SerializeToString() if held.HasField("payload") else b""
    return held.op == record.op and payload == record.payload


def row_problems(row: CsvRow) -> list[str]:
    """Every reason a read row may not be stored (empty when it may)."""
    if row.error:
        return [row.error]
    return validate(row.record) if row.record else []


def read_row(
    dataset: str, line: int, raw: Mapping[str, str], *, clean: bool = True
) -> tuple[CsvRow, list[str], tuple[Finding, ...]]:
    """One row cleaned (the dataset's default cleaning), read and validated: (row read, problems, findings).

    The reference of file ingest, replay and fix: the fast path of
    ``ingest_file`` reaches the same verdict for every row it judges itself,
    and hands every other row to this function.
    """
    if not clean:
        (read,) = rows_to_records([(line, dict(raw))], dataset)
        return read, row_problems(read), ()
    cleaned = clean_columns(raw, default_kinds(dataset))
    (read,) = rows_to_records([(line, cleaned.values)], dataset)
    return read, [str(error) for error in cleaned.errors] + row_problems(read), cleaned.findings


@dataclass(slots=True)
class RunCounts:
    """What one input came to so far: rows = stored + duplicates + quarantined."""

    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    first_seq: int = 0
    last_seq: int = 0
    findings: Counter[str] = field(default_factory=Counter)  # cleaning findings per rule


RawRow = Any  # the row as read (column -> text), or what ``raw_of`` makes it from


@dataclass(slots=True)
class Chunk:
    """The rows of one transaction, judged: good records, bad rows, cleaning findings."""

    good: list[NewRecord] = field(default_factory=list)
    good_rows: list[tuple[int, str, RawRow]] = field(default_factory=list)  # (line, reference, raw) per good record
    bad: list[tuple[int, list[str], RawRow, str]] = field(default_factory=list)  # (line, problems, raw, reference)
    findings: list[IngestFinding] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.good) + len(self.bad)


class IngestRun:
    """One input's rows into the store, a chunk at a time (see the module docstring).

    Rows are gathered with :meth:`good`, :meth:`bad` and :meth:`found`;
    :meth:`detach` takes the chunk gathered so far and :meth:`commit` stores it.
    Commits may run in another thread (:class:`CommitThread`) while the next
    chunk is gathered; they run one at a time, in order.
    """

    def __init__(
        self,
        store: Store,
        dataset: str,
        source: str,
        *,
        guard: BacklogGuard | None = None,
        raw_of: Callable[[Any], Mapping[str, str]] | None = None,
    ) -> None:
        """Take rows of ``dataset`` from ``source`` (a file name: the counters' source and quarantine's).

        ``raw_of`` turns what a caller passes as a row's raw form into the row
        (column -> text) kept in quarantine; by default it is the row already.
        """
        self._raw_of = raw_of
        self.store = store
        self.dataset = dataset
        self.source = source
        self.counts = RunCounts()
        self._guard = guard
        self._encode = record_encoder(store.node_id, dataset)
        self._refers_to = REFERENCES.get(dataset)
        self._chunk = Chunk()

    def full(self, rows: int) -> str:
        """Why the outbox has no room for ``rows`` more ("" while it has)."""
        return self._guard(rows) if self._guard is not None else ""

    def backpressure(self, full: str) -> BackpressureError:
        """The error that stops the input because the outbox is ``full``."""
        done = self.counts
        return BackpressureError(
            f"{full}; {self.source}: {done.rows} rows done ({done.stored} stored), the rest not read: "
            "ingest it again later"
        )

    def good(self, line: int, record: NewRecord, raw: RawRow, reference: str = "") -> None:
        """A row judged fit to store (``reference``: the inspection it names, checked at commit)."""
        self._chunk.good.append(record)
        self._chunk.good_rows.append((line, reference, raw))

    def bad(self, line: int, problems: list[str], raw: RawRow, reference: str = "") -> None:
        """A row that goes to quarantine with ``problems``."""
        self._chunk.bad.append((line, problems, raw, reference))

    def found(self, line: int, uid: str, findings: Sequence[Finding]) -> None:
        """What cleaning corrected in one row."""
        for f in findings:
            self._chunk.findings.append(
                IngestFinding(self.dataset, self.source, line, uid, f.rule, f.field, f.old, f.new)
            )

    def detach(self) -> Chunk:
        """The chunk gathered so far; gathering starts anew."""
        chunk, self._chunk = self._chunk, Chunk()
        return chunk

    def commit(self, chunk: Chunk) -> None:
        """Check references, then store, quarantine and count ``chunk`` in one transaction."""
        if not len(chunk):
            return
        good, bad = self._references_checked(chunk)
        now = time.time_ns() // 1000
        raw_of = self._raw_of
        refused = [
            (f"{self.source}:{line}", problems, json.dumps(raw_of(raw) if raw_of else raw, ensure_ascii=False).encode())
            for line, problems, raw in sorted(bad, key=lambda entry: entry[0])
        ]
        result = self.store.take_in(
            self.dataset,
            self.source,
            good,
            refused,
            encode=self._encode,
            same=same_content,
            now_us=now,
            findings=chunk.findings,
        )
        done = self.counts
        done.rows += len(good) + len(refused)
        done.stored += result.appended
        done.duplicates += result.duplicates
        done.quarantined += len(refused)
        done.findings.update(f.rule for f in chunk.findings)
        if result.appended:
            done.first_seq, done.last_seq = done.first_seq or result.first_seq, result.last_seq

    def _references_checked(self, chunk: Chunk) -> tuple[list[NewRecord], list[tuple[int, list[str], RawRow]]]:
        """The chunk's good records and bad rows after the cross-record rule (one lookup for the chunk)."""
        bad = [(line, problems, raw) for line, problems, raw, _ref in chunk.bad]
        if self._refers_to is None:
            return chunk.good, bad
        named = {ref for _line, ref, _raw in chunk.good_rows if ref} | {ref for *_, ref in chunk.bad if ref}
        held = self.store.held_uids(self._refers_to, sorted(named)) if named else set()
        for _line, problems, _raw, ref in chunk.bad:
            if ref and ref not in held:
                problems.append(reference_problem(ref))
        good = []
        for record, (line, ref, raw) in zip(chunk.good, chunk.good_rows, strict=True):
            if ref and ref not in held:
                bad.append((line, [reference_problem(ref)], raw))
            else:
                good.append(record)
        return good, bad


class CommitThread:
    """Commits an :class:`IngestRun`'s chunks in a thread of its own while the caller reads the next one.

    Reading and judging rows is Python; most of a commit is SQLite or
    PostgreSQL working without the GIL. With one chunk committing while the
    next is read, the two overlap. At most one chunk waits: :meth:`submit`
    blocks until the chunk before it is taken. A failed commit stops the
    thread; its error comes out of the next :meth:`submit` or :meth:`close`.
    Chunks commit in order, each in its own transaction, so an error leaves
    every chunk before it stored, as a single-threaded run would.
    """

    def __init__(self, run: IngestRun, progress: Callable[[int], object] | None = None) -> None:
        """Start the thread for ``run``; ``progress`` is told (in the caller's thread) of each committed chunk."""
        self._run = run
        self._progress = progress
        self._queue: queue.Queue[Chunk | None] = queue.Queue(maxsize=1)
        self._lock = threading.Lock()
        self._committed: list[int] = []  # sizes of committed chunks not yet reported
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=f"ingest-commit {run.source}", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain what was queued after a failure; nothing more is committed
            try:
                self._run.commit(chunk)
            except BaseException as exc:  # handed to the caller's thread, which raises it
                self._error = exc
                continue
            with self._lock:
                self._committed.append(len(chunk))

    def _report(self) -> None:
        with self._lock:
            done, self._committed = self._committed, []
        if self._progress is not None:
            for size in done:
                self._progress(size)
        if self._error is not None:
            raise self._error

    def submit(self, chunk: Chunk) -> None:
        """Queue ``chunk`` for its commit (an empty one is dropped)."""
        self._report()
        if len(chunk):
            self._queue.put(chunk)

    def close(self) -> None:
        """Wait until every submitted chunk is committed; raise the error of a failed one."""
        self.stop()
        self._report()

    def stop(self) -> None:
        """Let the chunks already submitted commit, then end the thread (no error raised: the caller has one)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


_bulk_lock = threading.Lock()
_bulk_users = 0
_saved: tuple[bool, float] = (True, 0.005)


@contextmanager
def bulk_mode() -> Iterator[None]:
    """The interpreter tuned for a bulk ingest while it runs: no cyclic GC, a short GIL switch interval.

    A bulk ingest allocates millions of short-lived objects, and the cyclic
    garbage collector then repeatedly walks the long-lived ones (the column
    caches) for nothing: ingest makes no reference cycles. A thread waiting for
    the GIL (the commit thread, after each SQL statement) gets it only after
    the switch interval, 5 ms by default; 0.5 ms keeps commits flowing. Both
    are restored when the last bulk ingest of the process ends.
    """
    global _bulk_users, _saved  # noqa: PLW0603 - one process-wide setting, counted
    with _bulk_lock:
        if _bulk_users == 0:
            _saved = (gc.isenabled(), sys.getswitchinterval())
            gc.disable()
            sys.setswitchinterval(_SWITCH_INTERVAL_S)
        _bulk_users += 1
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_users -= 1
            if _bulk_users == 0:
                if _saved[0]:
                    gc.enable()
                sys.setswitchinterval(_saved[1])
