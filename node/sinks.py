"""Table and file sinks (``[[sharing.sinks]]``): a subscription's records written into a department's table or folder.

A sink delivers one subscription held by this node, always through that
subscription's entitlements: before each chunk the subscription is checked
(:func:`node.entitlements.entitled`: active today), and records are read
through its view (:func:`node.shared_reader.read_changes`: fields granted,
region subtree, predicates, personal data protected). A subscription that is
not active (awaiting approval, revoked, expired, not started) writes nothing:
the sink says why in the log and in ``jgnode sink list`` and goes on by itself
once the subscription is active again. A position is, per origin, the last
sequence number examined (records the view leaves out move it too).

**Table sink** (``kind = "table"``, any SQLAlchemy ``url``): table ``jg_<dataset>``
(or ``table``), created when missing: ``uid`` (primary key), the granted fields
as text, then ``_origin``, ``_version``, ``_deleted``, ``_seq`` and
``_delivered_at`` (China Standard Time, no offset). A version is written only
when it is higher than the one the row holds, so an older version never
overwrites a newer one; a delete marks the row ``_deleted`` and keeps its last
values (a delete of a uid the table never held writes nothing). The positions
live in the target (``jg_sink_position``) and move, compare-and-set, in the
transaction that writes the rows: a crash, a failed commit or a target that is
down leaves both as they were, the next round writes those records once, and a
second run at the same time stops instead of writing twice.

**File drop** (``kind = "file"``): up to 10,000 changes per file
``<sink>-<YYYYmmddTHHMMSS>-<digest>.csv|.jsonl`` (``digest``: 12 hex digits of
SHA-256 over the start position; the time never repeats or goes back within a
sink, so names sort in delivery order). A file is written as
``.<name>.tmp``, flushed to disk and renamed, so readers never see half a
file. CSV is UTF-8 with BOM, header ``_op,_origin,_seq,_uid,_version`` and the
granted fields; JSONL has one object per record with the same keys; ``_op``
is ``upsert`` or ``delete`` (a delete carries no fields). The position lives
in the node's store (``sink_state``). Before renaming, the sink records its
intent (file name, start and end position) in the same row; after renaming,
it moves the position and clears the intent in one transaction. A round that
finds an intent left by a crash finishes it (renames the temp file if it is
still there, then moves the position) instead of writing those records into a
second file. Rounds of one sink never overlap on one host (a lock file under
``<data_dir>/sinks/``).

Every round that wrote something leaves one ``usage`` audit entry (channel
``sink``) with the records written and the positions reached.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, SQLModel

from adapters.csv_records import CHINA_TZ
from exchange_registry import SubscriptionError, View
from node.catalog import find_resource, node_catalog
from node.collect_report import one_line
from node.entitlements import entitled, protector, view_for
from node.errors import ConfigError, NotEntitledError, NotFoundError, StoreError
from node.serde import OP_DELETE
from node.settings import NodeSettings, SharingSink
from node.shared_reader import Change, read_changes
from node.store import Store, Subscription, SubscriptionBook
from node.usage import record_usage
from node.worker import Worker

__all__ = [
    "POSITION_TABLE",
    "SINK_STATE",
    "SinkReport",
    "SinkState",
    "SinkStateRow",
    "SinkWorker",
    "SinkWorkers",
    "run_sink",
    "sink_states",
    "sink_table",
]

log = logging.getLogger("jgnode.sharing")
POSITION_TABLE: Final = "jg_sink_position"
CHUNK: Final = 1000  # changes read (and, for a table, written) per transaction
FILE_RECORDS: Final = 10_000  # changes per dropped file at most
_META_COLUMNS: Final = ("_origin", "_version", "_deleted", "_seq", "_delivered_at")
_FILE_HEAD: Final = ("_op", "_origin", "_seq", "_uid", "_version")
_STAMP: Final = "%Y%m%dT%H%M%S"
_MIN_INTERVAL_S: Final = 1.0  # rounds of one sink start at most once a second
Clock = Callable[[], datetime]


class SinkStateRow(SQLModel, table=True):
    """One sink as the node knows it: a file drop's position and intent, every sink's last round."""

    __tablename__: ClassVar[str] = "sink_state"

    name: str = Field(primary_key=True)
    kind: str
    subscription: int = Field(sa_column=Column(BigInteger, nullable=False))
    position: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))  # JSON {origin: seq}
    pending: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # JSON intent; "" none
    records: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))  # written, all rounds
    last_run_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    last_written_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    last_file: str = ""
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # why nothing more


SINK_STATE = SinkStateRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SinkState:
    """A ``sink_state`` row, read (``position`` is a table sink's as of its last round)."""

    name: str
    kind: str
    subscription: int
    position: dict[str, int]
    pending: dict[str, Any] | None
    records: int
    last_run_us: int
    last_written_us: int
    last_file: str
    last_error: str


@dataclass
class SinkReport:
    """What one round of a sink did."""

    name: str
    kind: str
    records: int = 0  # record versions written (rows upserted or marked deleted, lines in files)
    upserts: int = 0
    deletes: int = 0
    skipped: int = 0  # table: versions not newer than the row's, deletes of uids never delivered
    files: list[str] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    paused: str = ""  # the subscription does not allow delivery now
    failed: str = ""  # the round stopped: target down, bad configuration, another run

    @property
    def problem(self) -> str:
        """Why the round wrote nothing more, or ""."""
        return f"paused: {self.paused}" if self.paused else self.failed

    def count(self, changes: Sequence[Change]) -> None:
        """Count changes written."""
        deletes = sum(c.op == OP_DELETE for c in changes)
        self.records += len(changes)
        self.deletes += deletes
        self.upserts += len(changes) - deletes

    def summary(self) -> str:
        """The round as one line."""
        where = ", ".join(f"{o} {s}" for o, s in sorted(self.positions.items())) or "unchanged"
        text = f"{self.records} records written ({self.upserts} upserts, {self.deletes} deletes"
        text += (
            f", {self.skipped} skipped)"
            if self.kind == "table"
            else f") in {len(self.files)} file{'' if len(self.files) == 1 else 's'}"
        )
        text += f"; position {where}"
        return f"{text}; {self.problem}" if self.problem else text


class _MovedError(Exception):
    """Another run moved the position since this round read it."""


def _cst_now() -> datetime:
    return datetime.now(CHINA_TZ)


def _us(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def _canonical(position: Mapping[str, int]) -> str:
    return json.dumps(dict(sorted(position.items())), separators=(",", ":"))


# -- one round -------------------------------------------------------------


@dataclass
class _Round:
    """What one round of one sink works with."""

    store: Store
    settings: NodeSettings
    sink: SharingSink
    subscription: Subscription
    view: View
    clock: Clock
    stop: threading.Event | None
    limit: int

    @classmethod
    def begin(
        cls,
        store: Store,
        settings: NodeSettings,
        sink: SharingSink,
        *,
        clock: Clock,
        stop: threading.Event | None,
        limit: int,
    ) -> _Round:
        """The round, its subscription entitled today; NotEntitledError or NotFoundError saying why not."""
        found = SubscriptionBook(store).find(ids=[sink.subscription])
        if not found:
            raise NotFoundError(f"no subscription {sink.subscription} on this node")
        held = entitled(store, sink.subscription, found[0].subscriber, today=clock().date())
        entry = find_resource(node_catalog(settings), held.resource_code)
        return cls(store, settings, sink, held, view_for(held, entry, protector(settings)), clock, stop, limit)

    def go_on(self) -> bool:
        """False when the node stops; NotEntitledError when the subscription stopped being active."""
        if self.stop is not None and self.stop.is_set():
            return False
        entitled(self.store, self.subscription.id, self.subscription.subscriber, today=self.clock().date())
        return True

    def read(self, position: Mapping[str, int], *, most: int = 0) -> tuple[list[Change], dict[str, int]]:
        """The next changes after ``position`` (at most ``most``, else the round's limit) and the position after."""
        changes, after = read_changes(self.store, self.view, position, limit=min(most or self.limit, self.limit))
        return changes, {**position, **after}


def run_sink(
    store: Store,
    settings: NodeSettings,
    sink: SharingSink,
    *,
    clock: Clock = _cst_now,
    stop: threading.Event | None = None,
    limit: int = CHUNK,
) -> SinkReport:
    """Run one round of ``sink`` now, in this thread: everything its subscription lets it deliver."""
    report = SinkReport(sink.name, sink.kind)
    with _round_lock(settings, sink) as locked:
        if not locked:
            report.failed = "another run of this sink is under way; skipped"
            return report
        round_ = None
        try:
            round_ = _Round.begin(store, settings, sink, clock=clock, stop=stop, limit=limit)
            (_deliver_table if sink.kind == "table" else _deliver_files)(round_, report)
        except (NotEntitledError, NotFoundError) as exc:
            report.paused = str(exc)
        except SQLAlchemyError as exc:
            report.failed = f"target database: {one_line(exc)}"
        except ImportError as exc:  # the URL's database driver is not installed
            report.failed = f"cannot open the target database: {exc}"
        except _MovedError:
            report.failed = "another run moved the position meanwhile; this round stops"
        except (ConfigError, StoreError, SubscriptionError, OSError) as exc:
            report.failed = one_line(exc)
        now_us = _us(clock())
        if report.records and round_ is not None:
            where = {"table": _table_name(sink, round_.view)} if sink.kind == "table" else {"files": report.files}
            extra = {"sink": sink.name, "kind": sink.kind, **where, "positions": report.positions}
            record_usage(store, round_.subscription, channel="sink", records=report.records, now_us=now_us, extra=extra)
        _note_round(store, sink, report, now_us=now_us)
    return report


@contextlib.contextmanager
def _round_lock(settings: NodeSettings, sink: SharingSink) -> Iterator[bool]:
    """Hold ``<data_dir>/sinks/<name>.lock`` for the round; False when another process or thread holds it."""
    path = settings.data_dir / "sinks" / f"{sink.name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- table sink --------------------------------------------------------------

_POSITION = Table(
    POSITION_TABLE,
    MetaData(),
    Column("sink", String(64), primary_key=True),
    Column("origin", String(64), primary_key=True),
    Column("subscription", BigInteger, nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)


def _table_name(sink: SharingSink, view: View) -> str:
    return sink.table or f"jg_{view.entry.dataset}"


def sink_table(name: str, fields: Sequence[str], metadata: MetaData) -> Table:
    """The table a table sink writes: ``uid``, the granted ``fields`` as text, then the ``_`` columns."""
    return Table(
        name,
        metadata,
        Column("uid", String(255), primary_key=True),
        *(Column(f, Text) for f in fields),
        Column("_origin", String(64), nullable=False),
        Column("_version", BigInteger, nullable=False),
        Column("_deleted", Boolean, nullable=False),
        Column("_seq", BigInteger, nullable=False),
        Column("_delivered_at", DateTime, nullable=False),
    )


def _deliver_table(round_: _Round, report: SinkReport) -> None:
    sink = round_.sink
    engine = create_engine(sink.url)
    try:
        table = _prepare_table(engine, sink, round_.view)
        position = _target_positions(engine, sink)
        while round_.go_on():
            changes, after = round_.read(position)
            if after == position:
                return
            with engine.begin() as conn:
                _advance(conn, round_, position, after)
                written = _upsert(conn, table, changes, at=round_.clock().replace(tzinfo=None), report=report)
            report.count(written)
            report.positions = position = after
    finally:
        engine.dispose()


def _prepare_table(engine: Engine, sink: SharingSink, view: View) -> Table:
    """The sink's table, created when missing; ConfigError naming the columns an existing one lacks."""
    metadata = MetaData()
    table = sink_table(_table_name(sink, view), view.fields, metadata)
    _POSITION.metadata.create_all(engine)
    metadata.create_all(engine)
    held = {c["name"] for c in inspect(engine).get_columns(table.name)}
    missing = [c.name for c in table.columns if c.name not in held]
    if missing:
        raise ConfigError(
            f"sink {sink.name}: table {table.name} lacks the columns {', '.join(missing)} "
            "(made for another subscription? name another table or add them)"
        )
    return table


def _target_positions(engine: Engine, sink: SharingSink) -> dict[str, int]:
    """The committed positions; ConfigError when they were made for another subscription."""
    query = select(_POSITION.c.origin, _POSITION.c.seq, _POSITION.c.subscription).where(_POSITION.c.sink == sink.name)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    others = sorted({int(r.subscription) for r in rows} - {sink.subscription})
    if others:
        raise ConfigError(
            f"sink {sink.name} delivered subscription {others[0]} into this database, not {sink.subscription}: "
            "give the sink a new name (and table) for the new subscription"
        )
    return {str(r.origin): int(r.seq) for r in rows}


def _advance(conn: Connection, round_: _Round, expected: Mapping[str, int], after: Mapping[str, int]) -> None:
    """Move every origin that moved from ``expected`` to ``after``; _MovedError when one is no longer as read."""
    sink = round_.sink
    now = round_.clock().replace(tzinfo=None)
    for origin in sorted(o for o in after if after[o] != expected.get(o)):
        where = (_POSITION.c.sink == sink.name) & (_POSITION.c.origin == origin)
        if origin not in expected:
            values = {"sink": sink.name, "origin": origin, "subscription": sink.subscription}
            values |= {"dataset": round_.view.entry.dataset, "seq": after[origin], "updated_at": now}
            try:
                conn.execute(insert(_POSITION).values(**values))
            except IntegrityError as exc:  # another run inserted it first
                raise _MovedError from exc
            continue
        moved = conn.execute(
            update(_POSITION)
            .where(where & (_POSITION.c.seq == expected[origin]))
            .values(seq=after[origin], updated_at=now)
        )
        if moved.rowcount != 1:
            raise _MovedError


def _upsert(
    conn: Connection, table: Table, changes: Sequence[Change], *, at: datetime, report: SinkReport
) -> list[Change]:
    """Write ``changes`` in order, each only over an older version; returns those written."""
    uid = table.c.uid
    held: dict[str, int] = {}
    uids = sorted({c.uid for c in changes})
    for start in range(0, len(uids), 500):
        query = select(uid, table.c._version).where(uid.in_(uids[start : start + 500]))
        held.update({str(u): int(v) for u, v in conn.execute(query)})
    final: dict[str, dict[str, Any]] = {}
    written = []
    for change in changes:
        known = final[change.uid]["_version"] if change.uid in final else held.get(change.uid)
        if (known is not None and change.version <= known) or (known is None and change.op == OP_DELETE):
            report.skipped += 1
            continue
        meta = {"_origin": change.origin, "_version": change.version, "_seq": change.seq, "_delivered_at": at}
        if change.op == OP_DELETE:
            final[change.uid] = {**final.get(change.uid, {}), **meta, "_deleted": True}
        else:
            final[change.uid] = {**change.fields, **meta, "_deleted": False}
        written.append(change)
    new = [{"uid": u, **values} for u, values in final.items() if u not in held]
    if new:
        conn.execute(insert(table), new)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for u, values in final.items():
        if u in held:
            shapes.setdefault(tuple(sorted(values)), []).append({"_key": u, **values})
    for _shape, rows in sorted(shapes.items()):
        conn.execute(update(table).where(uid == bindparam("_key")), rows)
    return written


# -- file drop ---------------------------------------------------------------


def _deliver_files(round_: _Round, report: SinkReport) -> None:
    sink = round_.sink
    assert sink.folder is not None  # guaranteed by SharingSink for file sinks
    sink.folder.mkdir(parents=True, exist_ok=True)
    state = _file_state(round_.store, sink)
    _remove_stale_temps(sink, keep=state.pending)
    if state.pending is not None:
        state = _finish(round_, state, report)
    position, last_file = state.position, state.last_file
    while round_.go_on():
        changes, after = _gather(round_, position)
        if after == position:
            return
        if not changes:  # the view left every record out: only the position moves
            if not _move_file_position(round_.store, sink.name, (position, ""), {"position": _canonical(after)}):
                raise _MovedError
        else:
            last_file = _drop(round_, changes, position, after, last_file)
            report.files.append(last_file)
            report.count(changes)
        report.positions = position = after


def _gather(round_: _Round, position: dict[str, int]) -> tuple[list[Change], dict[str, int]]:
    """Changes after ``position`` until a file is full or nothing is left, and the position after them."""
    changes: list[Change] = []
    while len(changes) < FILE_RECORDS:
        more, after = round_.read(position, most=FILE_RECORDS - len(changes))
        if after == position:
            break
        changes += more
        position = after
    return changes, position


def _drop(
    round_: _Round, changes: Sequence[Change], position: dict[str, int], after: dict[str, int], last_file: str
) -> str:
    """Write one file, record the intent, rename it into view and move the position; returns its name."""
    sink = round_.sink
    assert sink.folder is not None
    stamp = round_.clock().replace(microsecond=0, tzinfo=None)
    previous = _stamp_of(sink.name, last_file)
    if previous is not None and stamp <= previous:
        stamp = previous + timedelta(seconds=1)
    digest = hashlib.sha256(_canonical(position).encode()).hexdigest()[:12]
    name = f"{sink.name}-{stamp.strftime(_STAMP)}-{digest}.{sink.format}"
    temp = sink.folder / f".{name}.tmp"
    _write_file(temp, changes, round_.view.fields, sink.format)
    deletes = sum(c.op == OP_DELETE for c in changes)
    intent: dict[str, Any] = {"file": name, "from": position, "to": after, "records": len(changes), "deletes": deletes}
    if not _move_file_position(round_.store, sink.name, (position, ""), {"pending": json.dumps(intent)}):
        temp.unlink(missing_ok=True)
        raise _MovedError
    os.replace(temp, sink.folder / name)
    _sync_folder(sink.folder)
    done = {"position": _canonical(after), "pending": "", "last_file": name}
    if not _move_file_position(round_.store, sink.name, (position, json.dumps(intent)), done):
        raise _MovedError
    return name


def _finish(round_: _Round, state: SinkState, report: SinkReport) -> SinkState:
    """Complete the file a crashed round left between its intent and its position; the state after."""
    sink, intent = round_.sink, state.pending
    assert sink.folder is not None
    assert intent is not None
    pending = json.dumps(intent)
    if intent["from"] != state.position:  # stale: the position moved past it
        _move_file_position(round_.store, sink.name, (state.position, pending), {"pending": ""})
        return _file_state(round_.store, sink)
    temp = sink.folder / f".{intent['file']}.tmp"
    if temp.exists():
        os.replace(temp, sink.folder / intent["file"])
        _sync_folder(sink.folder)
    # else it was renamed already (and maybe taken by the department): never written again
    after = {str(o): int(s) for o, s in intent["to"].items()}
    done = {"position": _canonical(after), "pending": "", "last_file": intent["file"]}
    if not _move_file_position(round_.store, sink.name, (state.position, pending), done):
        raise _MovedError
    log.info("sink %s: finished %s, left by an interrupted round", sink.name, intent["file"])
    report.files.append(intent["file"])
    report.records += int(intent["records"])
    report.deletes += int(intent["deletes"])
    report.upserts += int(intent["records"]) - int(intent["deletes"])
    report.positions = after
    return _file_state(round_.store, sink)


def _stamp_of(sink: str, file_name: str) -> datetime | None:
    match = re.fullmatch(rf"{re.escape(sink)}-(\d{{8}}T\d{{6}})-[0-9a-f]{{12}}\.(csv|jsonl)", file_name)
    return datetime.strptime(match.group(1), _STAMP) if match else None


def _remove_stale_temps(sink: SharingSink, *, keep: dict[str, Any] | None) -> None:
    """Delete temp files of this sink that no intent names (a crash before the intent was recorded)."""
    assert sink.folder is not None
    kept = f".{keep['file']}.tmp" if keep else ""
    for path in sink.folder.glob(f".{sink.name}-*.tmp"):
        if path.name != kept and _stamp_of(sink.name, path.name[1:].removesuffix(".tmp")) is not None:
            path.unlink(missing_ok=True)


def _write_file(path: Path, changes: Sequence[Change], fields: Sequence[str], fmt: str) -> None:
    """Write ``changes`` to ``path`` and flush it to disk."""
    with path.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow([*_FILE_HEAD, *fields])
            writer.writerows([*_head(c), *(c.fields.get(f, "") for f in fields)] for c in changes)
        else:
            for c in changes:
                line = {**dict(zip(_FILE_HEAD, _head(c), strict=True)), **c.fields}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())


def _head(change: Change) -> tuple[str, str, int, str, int]:
    return ("delete" if change.op == OP_DELETE else "upsert", change.origin, change.seq, change.uid, change.version)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


# -- the node's sink_state rows ----------------------------------------------


def _state(row: Any) -> SinkState:
    values = dict(row._mapping)
    values["position"] = {str(o): int(s) for o, s in json.loads(values["position"]).items()}
    values["pending"] = json.loads(values["pending"]) if values["pending"] else None
    return SinkState(**values)


def sink_states(store: Store) -> dict[str, SinkState]:
    """Every sink the node has run, by name."""
    with store.read() as conn:
        return {row.name: _state(row) for row in conn.execute(select(SINK_STATE))}


def _file_state(store: Store, sink: SharingSink) -> SinkState:
    """A file sink's row, made when new; ConfigError when its position was made for another subscription."""
    with store.write() as conn:
        row = conn.execute(select(SINK_STATE).where(SINK_STATE.c.name == sink.name)).one_or_none()
        if row is None:
            conn.execute(insert(SINK_STATE).values(name=sink.name, kind=sink.kind, subscription=sink.subscription))
            row = conn.execute(select(SINK_STATE).where(SINK_STATE.c.name == sink.name)).one()
        state = _state(row)
        if (state.subscription, state.kind) != (sink.subscription, sink.kind):
            if state.position:
                raise ConfigError(
                    f"sink {sink.name} delivered subscription {state.subscription} as a {state.kind} sink, now "
                    f"{sink.subscription} as a {sink.kind} sink: give the sink a new name"
                )
            conn.execute(
                update(SINK_STATE)
                .where(SINK_STATE.c.name == sink.name)
                .values(kind=sink.kind, subscription=sink.subscription)
            )
    return state


def _move_file_position(
    store: Store, name: str, held: tuple[Mapping[str, int], str], values: Mapping[str, str]
) -> bool:
    """Set ``values`` on sink ``name`` if its (position, intent) are still ``held``; False otherwise."""
    position, pending = held
    with store.write() as conn:
        where = (SINK_STATE.c.name == name) & (SINK_STATE.c.position == _canonical(position))
        return bool(
            conn.execute(update(SINK_STATE).where(where & (SINK_STATE.c.pending == pending)).values(**values)).rowcount
        )


def _note_round(store: Store, sink: SharingSink, report: SinkReport, *, now_us: int) -> None:
    """Record the round's outcome (and a table sink's position) in the node's ``sink_state``."""
    values: dict[str, Any] = {"last_run_us": now_us, "last_error": report.problem}
    if report.records:
        values |= {"records": SINK_STATE.c.records + report.records, "last_written_us": now_us}
    if sink.kind == "table":
        values |= {"kind": sink.kind, "subscription": sink.subscription}
        if report.positions:
            values["position"] = _canonical(report.positions)
    with store.write() as conn:
        where = SINK_STATE.c.name == sink.name
        if not conn.execute(update(SINK_STATE).where(where).values(**values)).rowcount:
            fresh = {"name": sink.name, "kind": sink.kind, "subscription": sink.subscription}
            conn.execute(insert(SINK_STATE).values(**fresh))
            conn.execute(update(SINK_STATE).where(where).values(**values))


# -- running in the node -------------------------------------------------------


class SinkWorker(Worker):
    """Runs one sink every ``interval_s`` (at least 1 s) while the node runs; logs when its outcome changes."""

    def __init__(self, store: Store, settings: NodeSettings, sink: SharingSink) -> None:
        """Prepare; nothing runs until :meth:`start`."""
        super().__init__(f"sink-{sink.name}")
        self._store = store
        self._settings = settings
        self._sink = sink
        self._problem = ""

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round()
            except Exception as exc:  # the loop must survive; _round_failed says what it was
                self._round_failed(log, f"sink {self._sink.name}", exc)
            self._wake.wait(max(self._sink.interval_s, _MIN_INTERVAL_S))  # usage audit: at most ~1 entry a second
            self._wake.clear()

    def _round(self) -> None:
        report = run_sink(self._store, self._settings, self._sink, stop=self._stop)
        if report.records:
            log.info("sink %s: %s", self._sink.name, report.summary())
        if report.problem != self._problem:
            if report.problem:
                log.warning("sink %s: %s (retried every %ss)", self._sink.name, report.problem, self._sink.interval_s)
            else:
                log.info("sink %s: delivering again", self._sink.name)
            self._problem = report.problem


class SinkWorkers:
    """The node's configured sinks, one worker thread each."""

    def __init__(self, settings: NodeSettings, store: Store) -> None:
        """Prepare a worker per ``[[sharing.sinks]]`` table; nothing runs until :meth:`start`."""
        self.workers = [SinkWorker(store, settings, sink) for sink in settings.sharing.sinks]

    def start(self) -> None:
        """Start every sink."""
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        """Stop every sink (a round in progress ends after its current chunk)."""
        for worker in self.workers:
            worker.stop()
