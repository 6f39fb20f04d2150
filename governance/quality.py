"""Data quality figures per source, dataset and day: pure functions over plain records.

Two kinds of figure, from two kinds of evidence (``node.quality`` reads them
from a node's store; see there and the README for where each comes from):

Intake figures, per intake source (the file ingested), dataset and day the rows
were taken in (:class:`IntakeRun` tallies):

- ``validity`` = passed / (passed + quarantined), where passed = rows that
  passed validation (stored as a new version + dropped as exact duplicates).
  First-pass: a later replay or dismissal does not change it.
- ``uniqueness_exact`` = 1 - duplicates / received (exact duplicates of the
  version held, dropped and counted at intake).
- ``consistency`` = 1 - cross_field_failures / received, where a failure is
  a quarantined row whose record breaks a cross-field rule
  (:func:`governance.cross_field_problems`). Rows that passed validation pass
  every cross-field rule.

Record figures, per origin (the node that signed the records), dataset and day
of the records' event time (China Standard Time), over the record versions
held (deletes excluded):

- ``completeness`` = optional fields filled / optional fields, summed over
  the records. Optional fields are the fields of a record, its action header
  and counterparty whose default is empty (``""`` or ``()``); fields with a
  non-empty default (``form="01"``) or a number cannot tell "not given"
  from "given" and are left out.
- ``uniqueness_key`` = distinct uids (business keys) / record versions.
- ``consistency`` = records passing the cross-field rules / records.
- timeliness, for action datasets (inspection, penalty, enforcement, other
  action): submission lag = submitted_at - start (00:00 CST) of the action
  date (inspection date, penalty decision date, measure start date), in
  hours; ``lag_median_hours`` (the usual median), ``lag_p95_hours``
  (nearest rank: the ceil(0.95 n)-th smallest lag) and
  ``submitted_after_action_share``, the share meeting the one submission rule
  STANDARDS.md states: submission not before the action date. STANDARDS.md
  sets no submission deadline, so none is assumed.

A share with nothing to divide by is None.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Final

from governance._clean_base import CHINA_TZ
from governance._records import (
    ActionHeader,
    Counterparty,
    DatasetRecord,
    Enforcement,
    Inspection,
    OtherAction,
    Penalty,
)
from governance._validate import cross_field_problems

__all__ = [
    "CST",
    "IntakeQuality",
    "IntakeRun",
    "RecordQuality",
    "RecordTally",
    "cst_day",
    "intake_quality",
    "optional_slots",
    "percentile_nearest_rank",
    "record_quality",
    "submission_lag_hours",
]

CST: Final = CHINA_TZ
_NESTED: Final = (ActionHeader, Counterparty)


def cst_day(instant_us: int) -> str:
    """The China Standard Time date (``YYYY-MM-DD``) of an instant in microseconds since the epoch."""
    return datetime.fromtimestamp(instant_us / 1e6, UTC).astimezone(CST).date().isoformat()


def _empty_default(f: dataclasses.Field[object]) -> bool:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory() in ((), "")
    return f.default is not dataclasses.MISSING and f.default in ("", ())


def optional_slots(record: object) -> tuple[int, int]:
    """(optional fields filled, optional fields) of a record, header and counterparty included."""
    filled = total = 0
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        if isinstance(value, _NESTED):
            inner_filled, inner_total = optional_slots(value)
            filled, total = filled + inner_filled, total + inner_total
        elif _empty_default(f):
            total += 1
            filled += value not in ("", ())
    return filled, total


def _action_date(record: DatasetRecord) -> str | None:
    match record:
        case Inspection():
            return record.action_date
        case Penalty():
            return record.decision_date
        case Enforcement() | OtherAction():
            return record.start_date
        case _:
            return None


def submission_lag_hours(record: DatasetRecord) -> float | None:
    """Hours from 00:00 CST of the action date to submission; None for non-actions or an unreadable date."""
    text = _action_date(record)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=CST)
    submitted = datetime.fromtimestamp(record.header.submitted_at_us / 1e6, UTC)  # type: ignore[union-attr]
    return (submitted - start).total_seconds() / 3600


def percentile_nearest_rank(values: Sequence[float], share: float) -> float | None:
    """The ceil(share * n)-th smallest value (nearest rank); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class IntakeRun:
    """Rows of one ingest run (or the sum of several) of a source and dataset on a day."""

    source: str
    dataset: str
    day: str
    received: int
    stored: int
    duplicates: int
    quarantined: int


@dataclass(frozen=True, slots=True)
class IntakeQuality:
    """Intake figures of one (source, dataset, day)."""

    source: str
    dataset: str
    day: str
    received: int
    passed: int
    stored: int
    duplicates: int
    quarantined: int
    cross_field_failures: int
    validity: float | None
    uniqueness_exact: float | None
    consistency: float | None


def intake_quality(
    runs: Iterable[IntakeRun], cross_field_failures: dict[tuple[str, str, str], int]
) -> list[IntakeQuality]:
    """Sum runs per (source, dataset, day) and compute the intake figures, sorted by that key.

    ``cross_field_failures`` counts, per (source, dataset, day), quarantined rows
    breaking a cross-field rule.
    """
    sums: dict[tuple[str, str, str], list[int]] = {}
    for run in runs:
        total = sums.setdefault((run.source, run.dataset, run.day), [0, 0, 0, 0])
        for i, value in enumerate((run.received, run.stored, run.duplicates, run.quarantined)):
            total[i] += value
    out = []
    for key, (received, stored, duplicates, quarantined) in sorted(sums.items()):
        passed = stored + duplicates
        failures = min(cross_field_failures.get(key, 0), quarantined)
        out.append(
            IntakeQuality(
                *key,
                received=received,
                passed=passed,
                stored=stored,
                duplicates=duplicates,
                quarantined=quarantined,
                cross_field_failures=failures,
                validity=_share(passed, passed + quarantined),
                uniqueness_exact=None if not received else 1 - duplicates / received,
                consistency=None if not received else 1 - failures / received,
            )
        )
    return out


@dataclass(slots=True)
class RecordTally:
    """Running counts of the records of one (source, dataset, day)."""

    records: int = 0
    uids: set[str] = field(default_factory=set)
    optional_filled: int = 0
    optional_total: int = 0
    consistent: int = 0
    lags: list[float] = field(default_factory=list)

    def add(self, uid: str, record: DatasetRecord) -> None:
        """Count one record version."""
        self.records += 1
        self.uids.add(uid)
        filled, total = optional_slots(record)
        self.optional_filled += filled
        self.optional_total += total
        self.consistent += not cross_field_problems(record)
        lag = submission_lag_hours(record)
        if lag is not None:
            self.lags.append(lag)


@dataclass(frozen=True, slots=True)
class RecordQuality:
    """Record figures of one (source, dataset, day)."""

    source: str
    dataset: str
    day: str
    records: int
    distinct_uids: int
    uniqueness_key: float | None
    optional_filled: int
    optional_total: int
    completeness: float | None
    consistent: int
    consistency: float | None
    lag_records: int
    lag_median_hours: float | None
    lag_p95_hours: float | None
    submitted_after_action_share: float | None


def record_quality(rows: Iterable[tuple[str, str, str, str, DatasetRecord]]) -> list[RecordQuality]:
    """Record figures from (source, dataset, day, uid, record) rows, sorted by (source, dataset, day)."""
    tallies: dict[tuple[str, str, str], RecordTally] = {}
    for source, dataset, day, uid, record in rows:
        tallies.setdefault((source, dataset, day), RecordTally()).add(uid, record)
    return [_record_figures(key, tally) for key, tally in sorted(tallies.items())]


def _record_figures(key: tuple[str, str, str], tally: RecordTally) -> RecordQuality:
    lags = tally.lags
    return RecordQuality(
        *key,
        records=tally.records,
        distinct_uids=len(tally.uids),
        uniqueness_key=_share(len(tally.uids), tally.records),
        optional_filled=tally.optional_filled,
        optional_total=tally.optional_total,
        completeness=_share(tally.optional_filled, tally.optional_total),
        consistent=tally.consistent,
        consistency=_share(tally.consistent, tally.records),
        lag_records=len(lags),
        lag_median_hours=statistics.median(lags) if lags else None,
        lag_p95_hours=percentile_nearest_rank(lags, 0.95),
        submitted_after_action_share=_share(sum(1 for lag in lags if lag >= 0), len(lags)),
    )
