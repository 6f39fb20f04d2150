"""The push intake: rows that department systems stream to the node, taken like the rows of a file.

Who may push what is configured (``[[intake]]``: a source name and the
datasets it may push); the servicer (``node.intake_servicer``) says which
source is calling, from its certificate or, on an insecure development node,
its metadata. Each submitted request goes through exactly the path of a file:
``rows_to_records`` then ``ingest_rows`` (validation, quarantine with every
finding, intake counters and audit in the same transaction, backpressure
when the outbox is full). Its rows are counted and quarantined under the
intake source ``intake:<source>/<batch>`` (``intake:<source>`` without a batch
label), each quarantined row as ``<that>:<line>``; the answer names every
quarantined row with its findings and its quarantine entry, read back from
the quarantine table so that it says exactly what was kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from adapters.csv_records import DATASET_TYPES, CsvRow, rows_to_records, uid_column
from node.collect_settings import IntakeSource
from node.errors import IngestError, VerificationError
from node.ingest import IngestReport, ingest_rows
from node.store import BacklogGuard, QuarantineEntry, Store, source_of

__all__ = [
    "INTAKE_PREFIX",
    "PushIntake",
    "PushedRow",
    "RowProblem",
    "Submission",
    "SubmitOutcome",
    "intake_source",
]

INTAKE_PREFIX: Final = "intake:"
_MAX_BATCH_LABEL: Final = 200


@dataclass(frozen=True, slots=True)
class PushedRow:
    """One pushed row: the dataset's CSV columns, or why the sender could not read it whole."""

    line: int
    columns: dict[str, str]
    error: str = ""


@dataclass(frozen=True, slots=True)
class Submission:
    """One request of a push stream: rows of one dataset under one batch label."""

    dataset: str
    batch: str
    rows: tuple[PushedRow, ...]


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A quarantined row: its position in the request, its line, every finding and its quarantine entry."""

    index: int
    line: int
    reasons: tuple[str, ...]
    quarantine_id: int


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """What became of one request: the ingest counts and the quarantined rows."""

    dataset: str
    batch: str
    report: IngestReport
    problems: tuple[RowProblem, ...]


def intake_source(name: str, batch: str) -> str:
    """The intake source (counters, quarantine) of rows that source ``name`` pushed under ``batch``."""
    return f"{INTAKE_PREFIX}{name}/{batch}" if batch else f"{INTAKE_PREFIX}{name}"


def _now_us() -> int:
    return time.time_ns() // 1000


class PushIntake:
    """Takes pushed rows into the store for the configured sources."""

    def __init__(
        self,
        store: Store,
        sources: Sequence[IntakeSource],
        *,
        guard: BacklogGuard | None = None,
        on_stored: Callable[[], object] | None = None,
    ) -> None:
        """Serve ``sources``; ``guard`` refuses rows while the outbox is full, ``on_stored`` wakes the sealer."""
        self._store = store
        self._sources = {s.name: s for s in sources}
        self._guard = guard
        self._on_stored = on_stored

    def authorise(self, name: str) -> IntakeSource:
        """The configuration of source ``name``; VerificationError when it is not configured here."""
        source = self._sources.get(name)
        if source is None:
            who = f"source {name!r}" if name else "a caller that names no source"
            raise VerificationError(f"{who} may not push to this node (not in its [[intake]] sources)")
        return source

    def submit(self, source: IntakeSource, submission: Submission) -> SubmitOutcome:
        """Validate, store and quarantine one request's rows, in the ingest's transactions.

        Raises:
            IngestError: unknown dataset, a bad batch label or too many rows (nothing was taken).
            VerificationError: the source may not push this dataset (nothing was taken).
            BackpressureError: the outbox is full (rows of earlier chunks of this request stay taken).
            StoreError: the database refused.
        """
        _check(source, submission)
        label = intake_source(source.name, submission.batch)
        started = _now_us()
        report = ingest_rows(
            self._store, _csv_rows(submission), dataset=submission.dataset, source=label, guard=self._guard
        )
        if report.stored and self._on_stored is not None:
            self._on_stored()
        problems = self._problems(label, submission, report.quarantined, since_us=started)
        return SubmitOutcome(submission.dataset, submission.batch, report, problems)

    def _problems(self, label: str, submission: Submission, count: int, *, since_us: int) -> tuple[RowProblem, ...]:
        """The ``count`` rows of this request that went to quarantine, read back from the quarantine table."""
        if not count:
            return ()
        index_of: dict[int, int] = {}
        for index, row in enumerate(submission.rows):
            index_of.setdefault(row.line, index)
        found: dict[int, RowProblem] = {}
        limit = count
        while True:  # newest first; other inputs may have been quarantined meanwhile, so look further back if needed
            entries = self._store.quarantined(kind="ingest_row", dataset=submission.dataset, last=limit)
            for entry in entries:
                problem = _problem(entry, label, index_of, since_us)
                if problem is not None:
                    found[entry.id] = problem
            if len(found) >= count or len(entries) < limit:
                break
            limit *= 4
        return tuple(sorted(found.values(), key=lambda p: (p.index, p.quarantine_id)))


def _check(source: IntakeSource, submission: Submission) -> None:
    dataset = submission.dataset
    if dataset not in DATASET_TYPES:
        known = ", ".join(sorted(DATASET_TYPES))
        raise IngestError(f"unknown dataset {dataset!r}; known: {known}" if dataset else "the request names no dataset")
    if dataset not in source.datasets:
        raise VerificationError(f"source {source.name} may not push {dataset} (allowed: {', '.join(source.datasets)})")
    batch = submission.batch
    if len(batch) > _MAX_BATCH_LABEL or not batch.isprintable():
        raise IngestError(f"the batch label must be printable and at most {_MAX_BATCH_LABEL} characters")
    if len(submission.rows) > source.max_rows:
        raise IngestError(
            f"{len(submission.rows)} rows in one request; source {source.name} may send at most {source.max_rows}"
        )


def _csv_rows(submission: Submission) -> Iterator[CsvRow]:
    """The request's rows as records, in order: the ``rows_to_records`` path, rows the sender could not read kept."""
    uid_col = uid_column(submission.dataset)
    readable: list[tuple[int, dict[str, str]]] = []
    for row in submission.rows:
        if not row.error:
            readable.append((row.line, row.columns))
            continue
        yield from rows_to_records(readable, submission.dataset)
        readable = []
        uid = row.columns.get(uid_col, "").strip()
        yield CsvRow(row.line, row.columns, "upsert", uid, None, row.error)
    yield from rows_to_records(readable, submission.dataset)


def _problem(entry: QuarantineEntry, label: str, index_of: dict[int, int], since_us: int) -> RowProblem | None:
    """The entry as a problem of this request, or None when it belongs to another input."""
    if entry.created_at_us < since_us or source_of(entry.source) != label:
        return None
    line_text = entry.source.rpartition(":")[2]
    index = index_of.get(int(line_text)) if line_text.isdigit() else None
    if index is None:
        return None
    return RowProblem(index, int(line_text), entry.findings or (entry.reason,), entry.id)
