"""Front-table export (``[[collect]]`` with ``kind = "export"``): the node's records written into another database.

Legacy DataX/Kettle jobs and the national exchange read tables in the
front-table shape (STANDARDS.md). Each exported dataset gets one table,
created when missing: the dataset's CSV columns (text, exactly as
``jgnode sample`` and the CSV files write them) plus

- ``cd_id``: the row id, an increasing integer;
- ``cd_time``: when the row was written (China Standard Time, without offset;
  one value per transaction, never earlier than the table's latest);
- ``cd_source``: this node's region code, or the export's ``source_code``;
- ``cd_batch``: ``yyyymmdd`` + a 5-digit counter per day and export, one per
  transaction (``2019041100002``);
- ``cd_operation``: ``i`` for a uid's first version, ``u`` for later
  versions, ``d`` for a delete (only the uid column is filled).

So ``(cd_time, cd_id)`` grows with every commit, and a database collector
(``node/collect_db.py``, ``front_table = true``) reading the table by it
neither skips nor repeats a row. The rules that make the export exactly once:

- the position is the last exported sequence number of each (origin,
  dataset) stream, kept in the target database (``jgnode_export_position``)
  and moved in the same transaction as the rows it covers: a crash or a failed
  commit leaves both as they were, and the next run writes those records once;
- the position moves only from the value this run read (compare and set): a
  second run at the same time (``jgnode collect run`` beside the scheduler)
  stops instead of writing rows twice;
- every stream is exported in sequence order from its first record, so a
  uid's first exported version is its version 1 (hence ``i``/``u`` by version);
- a record whose payload is not its dataset's record type has no columns to
  write: it is skipped, counted and named in the report, and the position
  moves past it (it stays in the store, as signed);
- an unreachable target stops the run where it is; the next run resumes from
  the position.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from adapters.csv_records import CHINA_TZ, DATASET_TYPES, columns, to_row
from governance import uid_parts
from node.collect_report import CollectReport, one_line
from node.collect_settings import ExportSink
from node.errors import BatchRejectedError, ConfigError, StoreError
from node.serde import OP_DELETE, decode_record, payload_from_record
from node.store import Store, StreamKey

__all__ = ["BATCH_TABLE", "POSITION_TABLE", "ExportReport", "front_table", "run_export"]

log = logging.getLogger("jgnode.collect")
POSITION_TABLE: Final = "jgnode_export_position"
BATCH_TABLE: Final = "jgnode_export_batch"
_SHOWN_FAILURES: Final = 20
_STATE = MetaData()
_POSITION = Table(
    POSITION_TABLE,
    _STATE,
    Column("export", String(64), primary_key=True),
    Column("origin", String(64), primary_key=True),
    Column("dataset", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
_BATCH = Table(
    BATCH_TABLE,
    _STATE,
    Column("export", String(64), primary_key=True),
    Column("day", String(8), primary_key=True),
    Column("counter", Integer, nullable=False),
)
Clock = Callable[[], datetime]


class _MovedError(Exception):
    """Another run moved the position since this run read it."""


@dataclass
class ExportReport(CollectReport):
    """What one export run did: ``done`` transactions committed, ``rows`` records looked at."""

    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    positions: dict[str, int] = field(default_factory=dict)

    def skip(self, key: StreamKey, seq: int, reason: str) -> None:
        """Count a record that has no columns to write."""
        self.failed += 1
        if len(self.failures) < _SHOWN_FAILURES:
            self.failures.append(f"{key.origin}/{key.dataset} seq {seq}: {reason}")

    def summary(self) -> str:
        """The run as one line."""
        where = ", ".join(f"{k} {seq}" for k, seq in sorted(self.positions.items())) or "nothing to export"
        text = (
            f"{self.done} batches written; {self.rows} records: {self.inserts} i, {self.updates} u, "
            f"{self.deletes} d, {self.failed} skipped; position {where}"
        )
        return f"{text}; stopped: {self.stopped}" if self.stopped else text


def _cst_now() -> datetime:
    return datetime.now(CHINA_TZ).replace(tzinfo=None)


def run_export(
    store: Store,
    sink: ExportSink,
    *,
    stop: threading.Event | None = None,
    progress: Callable[[int], object] | None = None,
    clock: Clock = _cst_now,
) -> ExportReport:
    """Run the export ``sink`` once, now, in this thread: every record held past its positions."""
    report = ExportReport(sink.name, batches=True)
    try:
        engine = create_engine(sink.url)
    except (SQLAlchemyError, ImportError) as exc:  # ImportError: the dialect's driver is not installed
        report.stopped = f"cannot open the target database: {one_line(exc)}"
        return report
    try:
        _export(store, sink, _Writer(engine, sink, store.node_id[:6], clock), report, stop=stop, progress=progress)
    except SQLAlchemyError as exc:
        report.stopped = f"target database: {one_line(exc)}"
        log.warning("export %s: target database failed: %s", sink.name, exc)
    except (ConfigError, StoreError) as exc:
        report.stopped = str(exc)
    finally:
        engine.dispose()
    if report.rows:
        detail = {"rows": report.rows, "i": report.inserts, "u": report.updates, "d": report.deletes}
        store.audit([("exported", f"export {sink.name}", {**detail, "positions": report.positions})], now_us=_us())
    return report


def _us() -> int:
    return int(datetime.now(CHINA_TZ).timestamp() * 1_000_000)


def _export(
    store: Store,
    sink: ExportSink,
    writer: _Writer,
    report: ExportReport,
    *,
    stop: threading.Event | None,
    progress: Callable[[int], object] | None,
) -> None:
    """Export stream by stream until every one is done or the run must stop (``report.stopped``)."""
    tables = writer.prepare()
    held = writer.positions()
    for key, applied in _streams(store, sink):
        done = held.get((key.origin, key.dataset), 0)
        stream_id = store.stream_id(key)
        while done < applied and stream_id is not None:
            if stop is not None and stop.is_set():
                report.stopped = "node stopping"
                return
            chunk = [(s, b) for s, b in store.records_after(stream_id, done, sink.batch_rows) if s <= applied]
            if not chunk:
                break
            if not writer.commit(tables[key.dataset], key, done, chunk[-1][0], _front_rows(chunk, key, report)):
                report.stopped = "another run moved the position meanwhile; this run stops"
                return
            done = chunk[-1][0]
            report.done += 1
            report.rows += len(chunk)
            report.positions[f"{key.origin}/{key.dataset}"] = done
            if progress is not None:
                progress(len(chunk))


def _streams(store: Store, sink: ExportSink) -> list[tuple[StreamKey, int]]:
    """The streams the export covers, with the sequence number held up to."""
    own = store.node_id
    wanted = set(sink.exported_datasets)
    return [
        (key, applied)
        for key, applied in store.cursors()
        if key.dataset in wanted and (sink.origins == "all" or (key.origin == own) == (sink.origins == "own"))
    ]


def _front_rows(chunk: Sequence[tuple[int, bytes]], key: StreamKey, report: ExportReport) -> list[dict[str, Any]]:
    """The records of a chunk as front-table rows (without cd_id, cd_time, cd_source, cd_batch)."""
    cls = DATASET_TYPES[key.dataset]
    blank: dict[str, Any] = dict.fromkeys(columns(cls))
    rows = []
    for seq, body in chunk:
        try:
            record = decode_record(body)
            payload = payload_from_record(record)
        except BatchRejectedError as exc:
            report.skip(key, seq, str(exc))
            continue
        if record.op == OP_DELETE:
            try:
                keys = uid_parts(cls, record.uid)
            except ValueError as exc:
                report.skip(key, seq, str(exc))
                continue
            rows.append({**blank, **keys, "cd_operation": "d"})
            report.deletes += 1
        elif payload is None or isinstance(payload, dict) or not isinstance(payload, cls):
            report.skip(key, seq, f"its payload is not a {cls.__name__} record")
        else:
            first = record.version == 1
            rows.append({**blank, **to_row(payload), "cd_operation": "i" if first else "u"})
            report.inserts += first
            report.updates += not first
    return rows


def front_table(name: str, dataset: str, metadata: MetaData) -> Table:
    """The front table ``name`` (``schema.table`` allowed) of ``dataset``: cd_* columns, then the CSV columns."""
    schema, _, table_name = name.rpartition(".")
    row_id = BigInteger().with_variant(Integer, "sqlite")  # SQLite numbers only INTEGER PRIMARY KEY by itself
    return Table(
        table_name,
        metadata,
        Column("cd_id", row_id, primary_key=True, autoincrement=True),
        Column("cd_time", DateTime, nullable=False),
        Column("cd_source", String(32), nullable=False),
        Column("cd_batch", String(20), nullable=False),
        Column("cd_operation", String(1), nullable=False),
        *(Column(c, Text) for c in columns(DATASET_TYPES[dataset])),
        Index(f"ix_{table_name}_cd_time"[:60], "cd_time", "cd_id"),
        schema=schema or None,
    )


class _Writer:
    """One export's target: its tables, positions and transactions."""

    def __init__(self, engine: Engine, sink: ExportSink, region: str, clock: Clock) -> None:
        self._engine = engine
        self._sink = sink
        self._source = sink.source_code or region
        self._clock = clock

    def prepare(self) -> dict[str, Table]:
        """The dataset tables, created when missing; ConfigError when one lacks columns."""
        metadata = MetaData()
        tables = {d: front_table(self._sink.table_of(d), d, metadata) for d in self._sink.exported_datasets}
        _STATE.create_all(self._engine)
        metadata.create_all(self._engine)
        found = inspect(self._engine)
        for table in tables.values():
            held = {c["name"] for c in found.get_columns(table.name, schema=table.schema)}
            missing = [c.name for c in table.columns if c.name not in held]
            if missing:
                raise ConfigError(
                    f"export {self._sink.name}: table {table.fullname} lacks the columns {', '.join(missing)}"
                )
        return tables

    def positions(self) -> dict[tuple[str, str], int]:
        """The committed position of each stream, as the target holds it."""
        query = select(_POSITION.c.origin, _POSITION.c.dataset, _POSITION.c.seq).where(
            _POSITION.c.export == self._sink.name
        )
        with self._engine.connect() as conn:
            return {(origin, dataset): int(seq) for origin, dataset, seq in conn.execute(query)}

    def commit(self, table: Table, key: StreamKey, expected: int, last: int, rows: list[dict[str, Any]]) -> bool:
        """Write ``rows`` and move the stream's position from ``expected`` to ``last`` in one transaction.

        False (nothing written) when the position is no longer ``expected``.
        """
        try:
            with self._engine.begin() as conn:
                _advance(conn, self._sink.name, key, expected=expected, last=last, now=self._clock())
                written = self._cd_time(conn, table)
                batch = _next_batch(conn, self._sink.name, written)
                stamp = {"cd_time": written, "cd_source": self._source, "cd_batch": batch}
                if rows:
                    conn.execute(insert(table), [{**row, **stamp} for row in rows])
        except _MovedError:
            return False
        return True

    def _cd_time(self, conn: Connection, table: Table) -> datetime:
        """Now, or the table's latest cd_time if the clock is behind it (cd_time never goes back)."""
        now = self._clock()
        latest = conn.execute(select(func.max(table.c.cd_time))).scalar()
        return max(now, latest) if isinstance(latest, datetime) else now


def _advance(conn: Connection, name: str, key: StreamKey, *, expected: int, last: int, now: datetime) -> None:
    """Move the position of ``key`` from ``expected`` to ``last``; _MovedError when it is no longer ``expected``."""
    where = (_POSITION.c.export == name) & (_POSITION.c.origin == key.origin) & (_POSITION.c.dataset == key.dataset)
    held = conn.execute(select(_POSITION.c.seq).where(where)).scalar_one_or_none()
    if held is None and expected == 0:
        try:
            values = {"export": name, "origin": key.origin, "dataset": key.dataset, "seq": last, "updated_at": now}
            conn.execute(insert(_POSITION).values(**values))
        except IntegrityError as exc:  # another run inserted it first
            raise _MovedError from exc
        return
    moved = conn.execute(
        update(_POSITION).where(where & (_POSITION.c.seq == expected)).values(seq=last, updated_at=now)
    )
    if held != expected or moved.rowcount != 1:
        raise _MovedError


def _next_batch(conn: Connection, name: str, written: datetime) -> str:
    """The next batch number of the day ``written`` falls on: ``yyyymmdd`` and a 5-digit counter."""
    day = written.strftime("%Y%m%d")
    where = (_BATCH.c.export == name) & (_BATCH.c.day == day)
    if conn.execute(update(_BATCH).where(where).values(counter=_BATCH.c.counter + 1)).rowcount == 0:
        conn.execute(insert(_BATCH).values(export=name, day=day, counter=1))
    counter = conn.execute(select(_BATCH.c.counter).where(where)).scalar_one()
    return f"{day}{int(counter):05d}"
