"""One run of a database collector: the rows of a table or query changed since the last committed watermark.

The rules that make polling safe:

- rows are read in ``(watermark, key)`` order, ``batch_rows`` at a time, and a
  batch is the rows after the last committed position: ``watermark > w`` or
  ``watermark = w and key > k``, so rows sharing a watermark value (a whole
  front-table batch stamped with one ``cd_time``) are neither skipped nor
  read twice; rows whose watermark is NULL are never read;
- the position moves (in the node's own database) only after the batch's rows
  are committed: a crash in between means the batch is read again and its rows
  count as exact duplicates, never that rows are lost;
- a front table's ``cd_operation`` is the row's ``op``: ``i`` and ``u`` store
  the record, ``d`` stores a delete (tombstone) of its uid; bad rows go to
  quarantine like any other input's;
- an unreachable source, a full outbox or an unavailable node database stops
  the run where it is; the next run starts again from the last committed position;
- the position only moves from the value the run started with: when another
  run (``jgnode collect run`` beside the scheduler) moved it meanwhile, this
  run stops instead of moving it back.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Engine,
    RowMapping,
    Select,
    and_,
    column,
    create_engine,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from adapters.csv_records import check_header
from adapters.files import FileReader, cell_text
from node.collect_report import CollectReport, one_line
from node.collect_settings import DbCollector
from node.errors import BackpressureError, IngestError, StoreError
from node.ingest import ingest_rows
from node.store import BacklogGuard, Store

__all__ = ["Mark", "run_db_collector"]

log = logging.getLogger("jgnode.collect")

_TYPES: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "decimal": Decimal,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "str": str,
}


def _tagged(value: Any) -> list[str]:
    """A watermark or key value as [type, text], so that it is bound back as the type the source gave."""
    if isinstance(value, bool):
        return ["int", str(int(value))]
    for name, kind in (("int", int), ("float", float), ("decimal", Decimal), ("datetime", datetime), ("date", date)):
        if isinstance(value, kind):
            return [name, value.isoformat() if isinstance(value, date) else str(value)]
    return ["str", str(value)]


@dataclass(frozen=True)
class Mark:
    """A collector's position: the (watermark, key) of the last row committed."""

    watermark: Any
    key: Any

    def dumps(self) -> str:
        """The position as the node's database keeps it."""
        return json.dumps({"watermark": _tagged(self.watermark), "key": _tagged(self.key)}, ensure_ascii=False)

    @classmethod
    def loads(cls, held: str) -> Mark:
        """A position kept by :meth:`dumps`."""
        data = json.loads(held)
        (w_type, w_text), (k_type, k_text) = data["watermark"], data["key"]
        return cls(_TYPES[w_type](w_text), _TYPES[k_type](k_text))

    def describe(self) -> str:
        """The position for people."""
        return f"{cell_text(self.watermark)} (key {cell_text(self.key)})"


def run_db_collector(
    store: Store,
    collector: DbCollector,
    *,
    guard: BacklogGuard | None = None,
    progress: Callable[[int], object] | None = None,
    stop: threading.Event | None = None,
    on_stored: Callable[[], object] | None = None,
) -> CollectReport:
    """Run the database ``collector`` once, now, in this thread."""
    report = CollectReport(collector.name, batches=True)
    try:
        engine = create_engine(collector.url)
    except (SQLAlchemyError, ImportError) as exc:  # ImportError: the dialect's driver is not installed
        report.stopped = f"cannot open the source database: {one_line(exc)}"
        return report
    try:
        _poll(store, collector, engine, report, guard=guard, progress=progress, stop=stop, on_stored=on_stored)
    finally:
        engine.dispose()
    return report


def _poll(
    store: Store,
    collector: DbCollector,
    engine: Engine,
    report: CollectReport,
    *,
    guard: BacklogGuard | None,
    progress: Callable[[int], object] | None,
    stop: threading.Event | None,
    on_stored: Callable[[], object] | None,
) -> None:
    """Take batches until the source has no more changed rows or the run must stop (``report.stopped``)."""
    reader = FileReader(collector.dataset, collector.row_mapping, collector.clean)
    held = store.collector_mark(collector.name)
    mark = Mark.loads(held) if held is not None else None
    report.mark = mark.describe() if mark else ""
    while True:
        if stop is not None and stop.is_set():
            report.stopped = "node stopping"
            return
        rows = _fetch(engine, collector, mark, report)
        if not rows:
            return
        if not _ingest_batch(store, collector, reader, rows, report, guard=guard, progress=progress):
            return
        if on_stored is not None and report.stored:
            on_stored()
        last = rows[-1]
        mark = Mark(last[collector.watermark_column], last[collector.key_column])
        if not _save_mark(store, collector.name, held, mark):
            report.stopped = "another run moved the watermark meanwhile; this run stops"
            return
        held, report.mark = mark.dumps(), mark.describe()
        if len(rows) < collector.batch_rows:
            return


def _fetch(engine: Engine, collector: DbCollector, mark: Mark | None, report: CollectReport) -> Sequence[RowMapping]:
    """The next batch of changed rows; empty when there are none or the source failed (``report.stopped``)."""
    try:
        with engine.connect() as conn:
            return conn.execute(_changed_rows(collector, mark)).mappings().all()
    except SQLAlchemyError as exc:
        report.stopped = f"source database: {one_line(exc)}"
        log.warning("collector %s: source database failed: %s", collector.name, exc)
        return []


def _changed_rows(collector: DbCollector, mark: Mark | None) -> Select[Any]:
    """SELECT the next ``batch_rows`` rows after ``mark`` in (watermark, key) order."""
    watermark: ColumnClause[Any] = column(collector.watermark_column)
    key: ColumnClause[Any] = column(collector.key_column)
    if collector.table is not None:
        schema, _, name = collector.table.rpartition(".")
        source: Any = table(name, schema=schema or None)
    else:
        source = text(str(collector.query)).columns().subquery("jgnode_source")
    changed: ColumnElement[bool] = watermark.is_not(None)
    if mark is not None:
        # w >= last_w first, so that an index on the watermark column still serves the query
        after = and_(watermark >= mark.watermark, or_(watermark > mark.watermark, key > mark.key))
        changed = and_(changed, after)
    query: Select[Any] = select(literal_column("*")).select_from(source).where(changed)
    return query.order_by(watermark, key).limit(collector.batch_rows)


def _ingest_batch(
    store: Store,
    collector: DbCollector,
    reader: FileReader,
    rows: Sequence[RowMapping],
    report: CollectReport,
    *,
    guard: BacklogGuard | None,
    progress: Callable[[int], object] | None,
) -> bool:
    """Commit one batch's rows (stored, duplicates, quarantined); False when the run must stop here."""
    source = f"db:{collector.name}"
    try:
        check_header([collector.row_mapping.get(c, c) for c in rows[0]], collector.dataset, source)
        records = reader.to_records(reader.mapped(_texts(rows, first=report.rows + 1)))
        ingested = ingest_rows(store, records, dataset=collector.dataset, source=source, progress=progress, guard=guard)
    except (BackpressureError, StoreError, IngestError, ValueError) as exc:
        report.stopped = one_line(exc)
        return False
    report.add(ingested)
    return True


def _texts(rows: Sequence[RowMapping], *, first: int) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as ``(number in this run, column -> text)`` pairs, the shape files are read in."""
    for number, row in enumerate(rows, start=first):
        yield number, {str(name): cell_text(value) for name, value in row.items()}


def _save_mark(store: Store, name: str, expected: str | None, mark: Mark) -> bool:
    """Move the collector's position to ``mark`` (after its rows are committed); False when another run moved it."""
    return store.advance_collector_mark(name, expected, mark.dumps())
