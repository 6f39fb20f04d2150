"""``jgnode quality report``: data quality per source, dataset and day, read from a node's store.

The figures and their definitions are in :mod:`governance.quality`. Where each
comes from (all read-only, in short read transactions):

- intake figures: the audit log's ``ingested`` entries (one per file or
  collector run: subject = the source, detail = rows, stored, duplicates,
  quarantined), dated by the entry's time in CST. Records stored through
  :func:`node.ingest.ingest_records` (source "api") are not validated or
  audited per run and so have no intake row; a run that stopped early
  (backpressure, unreadable input) wrote no entry either, so its rows are in
  the intake counters (``jgnode quarantine counters``) but not here.
- cross-field failures: the ``ingest_row`` quarantine entries, read again
  with the ingest column rules and checked with
  :func:`governance.cross_field_problems`, dated by when they were
  quarantined. A row an operator has since fixed is checked as it reads now.
- record figures: every record version held (own and received; deletes and
  self-describing Struct payloads left out), decoded, grouped by origin,
  dataset and the CST date of the record's event time (the action date of
  inspections and penalties, receipt time of complaints, the time a
  regulated object was taken in).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Final

from governance import DatasetRecord, cross_field_problems
from governance.quality import (
    IntakeQuality,
    IntakeRun,
    RecordQuality,
    cst_day,
    intake_quality,
    record_quality,
)
from node.errors import BatchRejectedError
from node.quarantine import REPLAYABLE, raw_row, recheck
from node.serde import decode_record, payload_from_record
from node.store import Store, source_of
from node.tables import render_table

__all__ = ["JSON_FORMAT", "DayRange", "QualityReport", "build_report", "report_json", "report_text"]

JSON_FORMAT: Final = "jgnode.quality.v1"
_PAGE = 5000


@dataclass(frozen=True, slots=True)
class DayRange:
    """Which days and dataset to report: inclusive CST dates, None for open-ended; "" for every dataset."""

    since: date | None = None
    until: date | None = None
    dataset: str = ""

    def takes(self, dataset: str, day: str) -> bool:
        """Whether figures of ``dataset`` on ``day`` (``YYYY-MM-DD``) belong in the report."""
        if self.dataset and dataset != self.dataset:
            return False
        when = date.fromisoformat(day)
        return (self.since is None or when >= self.since) and (self.until is None or when <= self.until)


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Intake figures and record figures of one node, for the days asked."""

    node_id: str
    scope: DayRange
    intake: list[IntakeQuality]
    records: list[RecordQuality]


def intake_runs(store: Store, scope: DayRange) -> Iterator[IntakeRun]:
    """Rows of every audited ingest run in scope."""
    for entry in store.audit_entries(kind="ingested"):
        detail = json.loads(entry.detail)
        dataset, day = str(detail.get("dataset", "")), cst_day(entry.at_us)
        if scope.takes(dataset, day):
            counts = [int(detail.get(name, 0)) for name in ("rows", "stored", "duplicates", "quarantined")]
            yield IntakeRun(entry.subject, dataset, day, *counts)


def cross_field_failures(store: Store, scope: DayRange) -> dict[tuple[str, str, str], int]:
    """Quarantined intake rows breaking a cross-field rule, per (source, dataset, day quarantined)."""
    failures: Counter[tuple[str, str, str]] = Counter()
    for entry in store.quarantined(kind=REPLAYABLE, dataset=scope.dataset):
        day = cst_day(entry.created_at_us)
        if not scope.takes(entry.dataset, day):
            continue
        read, _problems = recheck(entry.dataset, raw_row(entry))
        if read.record is not None and cross_field_problems(read.record):
            failures[(source_of(entry.source), entry.dataset, day)] += 1
    return dict(failures)


def held_records(store: Store, scope: DayRange) -> Iterator[tuple[str, str, str, str, DatasetRecord]]:
    """(origin, dataset, event day, uid, record) of every record version held in scope."""
    for stream in store.status().streams:
        if scope.dataset and stream.key.dataset != scope.dataset:
            continue
        stream_id = store.stream_id(stream.key)
        after = 0
        while stream_id is not None:
            page = store.records_after(stream_id, after, _PAGE)
            for _seq, body in page:
                record = decode_record(body)
                day = cst_day(record.event_time_us)
                if not scope.takes(record.dataset, day):
                    continue
                try:
                    payload = payload_from_record(record)
                except BatchRejectedError:
                    continue  # a payload this node cannot read (e.g. a newer schema): the projector quarantined it
                if payload is not None and not isinstance(payload, dict):
                    yield record.origin, record.dataset, day, record.uid, payload
            if len(page) < _PAGE:
                break
            after = page[-1][0]


def build_report(store: Store, scope: DayRange) -> QualityReport:
    """Every figure of the node's store for ``scope``."""
    intake = intake_quality(intake_runs(store, scope), cross_field_failures(store, scope))
    return QualityReport(store.node_id, scope, intake, record_quality(held_records(store, scope)))


def report_json(report: QualityReport) -> dict[str, Any]:
    """The report as JSON-ready data; key names are stable (``format`` names the version)."""
    scope = report.scope
    return {
        "format": JSON_FORMAT,
        "node_id": report.node_id,
        "since": scope.since.isoformat() if scope.since else None,
        "until": scope.until.isoformat() if scope.until else None,
        "dataset": scope.dataset or None,
        "intake": [asdict(row) for row in report.intake],
        "records": [asdict(row) for row in report.records],
    }


def _percent(share: float | None) -> float | str:
    return "-" if share is None else round(share * 100, 1)


def _hours(value: float | None) -> float | str:
    return "-" if value is None else value


_INTAKE_HEAD: Final = ("source", "dataset", "day", "received", "passed", "dup", "quar", "valid%", "unique%", "consist%")
_RECORD_HEAD: Final = (
    "origin",
    "dataset",
    "day",
    "records",
    "uids",
    "key-unique%",
    "complete%",
    "consist%",
    "lag-median-h",
    "lag-p95-h",
    "sub>=act%",
)


def _intake_row(r: IntakeQuality) -> list[object]:
    counts = [r.received, r.passed, r.duplicates, r.quarantined]
    return [r.source, r.dataset, r.day, *counts, *map(_percent, (r.validity, r.uniqueness_exact, r.consistency))]


def _record_row(r: RecordQuality) -> list[object]:
    shares = [_percent(r.uniqueness_key), _percent(r.completeness), _percent(r.consistency)]
    lags = [_hours(r.lag_median_hours), _hours(r.lag_p95_hours), _percent(r.submitted_after_action_share)]
    return [r.source, r.dataset, r.day, r.records, r.distinct_uids, *shares, *lags]


def report_text(report: QualityReport) -> str:
    """Both tables, for the terminal (shares in per cent, lags in hours)."""
    intake = [_intake_row(r) for r in report.intake]
    records = [_record_row(r) for r in report.records]
    return "\n".join(
        [
            "intake (per source and day taken in):",
            render_table(_INTAKE_HEAD, intake) if intake else "no audited ingest runs",
            "",
            "records held (per origin and event day):",
            render_table(_RECORD_HEAD, records) if records else "no records",
        ]
    )
