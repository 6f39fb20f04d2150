"""The node's database: own records, received batches, outbox, acks.

Every write runs in one transaction under a process-wide lock (SQLite has one
writer; on SQLite the transaction also starts with ``BEGIN IMMEDIATE`` so a
second process such as ``jgnode ingest`` waits instead of deadlocking). Hot
paths insert with :class:`BulkInsert`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count, repeat
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from node.errors import ConfigError, StoreError
from node.settings import Limits
from node.store import _audit, _findings, _migrate, _projection, _quarantine, _queries
from node.store._engine import WRITE_OPTION, BulkInsert, Checkpointer, RawQuery, make_engine
from node.store._quarantine import IntakeCounters, QuarantineEntry
from node.store._queries import ProvenanceData, StoreStatus
from node.store._schema import (
    AUDIT,
    BATCH,
    CHILD,
    META,
    OUTBOX,
    QUARANTINE,
    RECORD,
    RECORD_KEY,
    SCHEMA_VERSION,
    STREAM,
)
from node.store._types import (
    AppendResult,
    ApplyOutcome,
    BacklogGuard,
    BatchData,
    DeadLetter,
    NewRecord,
    OutboxBacklog,
    PendingBatch,
    StreamKey,
)

__all__ = ["Store"]


RECORD_COLUMNS = ("stream_id", "seq", "body")
KEY_COLUMNS = ("stream_id", "uid", "version", "seq")
_IN_CHUNK = 500
_MARK = "collect_mark:"  # meta key prefix of a collector's committed position


_LATEST_SQLITE = """
SELECT k.uid, k.version, r.body FROM record_key AS k JOIN record AS r ON r.stream_id = k.stream_id AND r.seq = k.seq
WHERE k.stream_id = ? AND k.uid IN (SELECT value FROM json_each(?))
AND k.version = (SELECT max(m.version) FROM record_key AS m WHERE m.stream_id = k.stream_id AND m.uid = k.uid)
"""


class _Stream(NamedTuple):
    id: int
    applied_seq: int
    sealed_seq: int
    unsealed_since_us: int
    projected_seq: int


# encode(uid, version, seq, record) -> record bytes; same(existing body, record) -> unchanged?
Encoder = Callable[[str, int, int, NewRecord], bytes]
SameContent = Callable[[bytes, NewRecord], bool]


class Store:
    """A node's database on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, node_id: str) -> None:
        """Wrap an engine whose schema is already created; prefer :meth:`open`."""
        self.engine = engine
        self.node_id = node_id
        self._write_lock = threading.RLock()
        self._insert_records = BulkInsert(engine, RECORD, RECORD_COLUMNS, ignore_conflicts=True)
        self._insert_keys = BulkInsert(engine, RECORD_KEY, KEY_COLUMNS, ignore_conflicts=True)
        self._stream_ids: dict[StreamKey, int] = {}
        self._select_bodies = RawQuery(
            engine,
            select(RECORD.c.body)
            .where((RECORD.c.stream_id == bindparam("sid")) & RECORD.c.seq.between(bindparam("lo"), bindparam("hi")))
            .order_by(RECORD.c.seq),
        )
        self._checkpointer = Checkpointer(engine)
        self._checkpointer.start()

    @classmethod
    def open(cls, url: str, node_id: str, *, busy_timeout_s: float = 30.0) -> Store:
        """Open (and create if new) the database of node ``node_id``."""
        engine = make_engine(url, busy_timeout_s=busy_timeout_s)
        try:
            SQLModel.metadata.create_all(engine)
        except OperationalError as exc:
            engine.dispose()
            raise StoreError(f"cannot open database {engine.url!r}: {exc.orig}") from exc
        store = cls(engine, node_id)
        try:
            store._claim()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Checkpoint the log and release the connection pool."""
        self._checkpointer.stop()
        self.engine.dispose()

    def _claim(self) -> None:
        with self.write() as conn:
            facts: dict[str, str] = {row.key: row.value for row in conn.execute(select(META.c.key, META.c.value))}
            if not facts:
                conn.execute(
                    META.insert(),
                    [
                        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                        {"key": "node_id", "value": self.node_id},
                    ],
                )
                return
        if facts.get("node_id") != self.node_id:
            raise ConfigError(f"database belongs to node {facts.get('node_id')}, not {self.node_id}")
        if facts.get("schema_version") != str(SCHEMA_VERSION) and not self._upgrade(facts.get("schema_version")):
            raise ConfigError(
                f"database schema version {facts.get('schema_version')} is not {SCHEMA_VERSION}: migrate it first"
            )

    def _upgrade(self, found: str | None) -> bool:
        if found is None or not found.isdigit():
            return False
        with self.write() as conn:
            return _migrate.upgrade(conn, int(found), SCHEMA_VERSION, now_us=time.time_ns() // 1000)

    # -- transactions --------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, serialised with every other writer of this process."""
        with self._write_lock:
            try:
                with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
                    yield conn
            except OperationalError as exc:
                raise StoreError(f"database write failed: {exc.orig}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot on both backends)."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise StoreError(f"database read failed: {exc.orig}") from exc

    # -- streams -------------------------------------------------------------

    def _stream(self, conn: Connection, key: StreamKey, received_from: str) -> _Stream:
        """The stream's positions (row created when new), read inside the current write transaction."""
        where = (STREAM.c.origin == key.origin) & (STREAM.c.dataset == key.dataset)
        query = select(
            STREAM.c.id, STREAM.c.applied_seq, STREAM.c.sealed_seq, STREAM.c.unsealed_since_us, STREAM.c.projected_seq
        ).where(where)
        row = conn.execute(query).one_or_none()
        if row is None:
            conn.execute(STREAM.insert().values(origin=key.origin, dataset=key.dataset, received_from=received_from))
            row = conn.execute(query).one()
        return _Stream(*row)

    def stream_id(self, key: StreamKey) -> int | None:
        """Local id of a stream, or None when nothing of it is held."""
        cached = self._stream_ids.get(key)
        if cached is None:
            with self.read() as conn:
                cached = conn.execute(
                    select(STREAM.c.id).where((STREAM.c.origin == key.origin) & (STREAM.c.dataset == key.dataset))
                ).scalar_one_or_none()
            if cached is not None:
                self._stream_ids[key] = cached
        return cached

    # -- own records ---------------------------------------------------------

    def append_own(
        self, dataset: str, records: Sequence[NewRecord], *, encode: Encoder, same: SameContent, now_us: int
    ) -> AppendResult:
        """Give new records of this node a version and a sequence number and store them.

        A record whose uid is held with the same content is a duplicate: counted,
        not stored again. A changed record becomes the next version of its uid.
        """
        with self.write() as conn:
            return self._append_own(conn, dataset, records, encode=encode, same=same, now_us=now_us)

    def _append_own(
        self,
        conn: Connection,
        dataset: str,
        records: Sequence[NewRecord],
        *,
        encode: Encoder,
        same: SameContent,
        now_us: int,
    ) -> AppendResult:
        stream = self._stream(conn, StreamKey(self.node_id, dataset), "")
        latest = self._latest_versions(conn, stream.id, {r.uid for r in records})
        sid = stream.id
        bodies: list[tuple[int, int, bytes]] = []  # (stream, seq, record bytes)
        keys: list[tuple[int, str, int, int]] = []  # (stream, uid, version, seq)
        projected: list[tuple[int, str, int, Any]] = []  # (seq, uid, version, record or its thematic values)
        seq = stream.applied_seq
        duplicates = 0
        for record in records:
            uid = record.uid
            held = latest.get(uid)
            if held is not None and same(held[1], record):
                duplicates += 1
                continue
            seq += 1
            version = held[0] + 1 if held else 1
            body = encode(uid, version, seq, record)
            latest[uid] = (version, body)
            bodies.append((sid, seq, body))
            keys.append((sid, uid, version, seq))
            projected.append((seq, uid, version, record.record if record.thematic is None else record.thematic))
        self._insert_records.run(conn, bodies)
        self._insert_keys.run(conn, keys)
        if bodies:
            # project at once when the thematic table is up to date: the objects are in hand
            caught_up = stream.projected_seq == stream.applied_seq
            if caught_up:
                _projection.upsert_thematic(self.engine, conn, origin=self.node_id, dataset=dataset, rows=projected)
            conn.execute(
                update(STREAM)
                .where(STREAM.c.id == sid)
                .values(
                    applied_seq=seq,
                    projected_seq=seq if caught_up else stream.projected_seq,
                    records=STREAM.c.records + len(bodies),
                    updated_at_us=now_us,
                    unsealed_since_us=stream.unsealed_since_us or now_us,
                )
            )
        return AppendResult(len(bodies), duplicates, stream.applied_seq + 1, seq)

    def _latest_versions(self, conn: Connection, stream_id: int, uids: set[str]) -> dict[str, tuple[int, bytes]]:
        """Latest (version, record bytes) per uid of an own stream (own keys are indexed at once)."""
        if not uids:
            return {}
        if self.engine.dialect.name == "sqlite":
            # one statement for the whole chunk: the uids go in as one JSON array
            found = conn.exec_driver_sql(_LATEST_SQLITE, (stream_id, json.dumps(sorted(uids)))).all()
            return {uid: (version, body) for uid, version, body in found}
        latest: dict[str, tuple[int, int]] = {}
        ordered = sorted(uids)
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            rows = conn.execute(
                select(RECORD_KEY.c.uid, RECORD_KEY.c.version, RECORD_KEY.c.seq).where(
                    (RECORD_KEY.c.stream_id == stream_id) & RECORD_KEY.c.uid.in_(chunk)
                )
            )
            for uid, version, seq in rows:
                if uid not in latest or version > latest[uid][0]:
                    latest[uid] = (version, seq)
        bodies: dict[int, bytes] = {}
        seqs = sorted(seq for _, seq in latest.values())
        for start in range(0, len(seqs), _IN_CHUNK):
            chunk_seqs = seqs[start : start + _IN_CHUNK]
            bodies.update(
                conn.execute(
                    select(RECORD.c.seq, RECORD.c.body).where(
                        (RECORD.c.stream_id == stream_id) & RECORD.c.seq.in_(chunk_seqs)
                    )
                ).all()
            )
        return {uid: (version, bodies[seq]) for uid, (version, seq) in latest.items()}

    def unsealed_streams(self) -> list[tuple[StreamKey, int, int, int]]:
        """Own streams with records not yet in a signed batch.

        Returns (stream, sealed_seq, applied_seq, unsealed_since_us) for each.
        """
        with self.read() as conn:
            rows = conn.execute(
                select(
                    STREAM.c.origin,
                    STREAM.c.dataset,
                    STREAM.c.sealed_seq,
                    STREAM.c.applied_seq,
                    STREAM.c.unsealed_since_us,
                )
                .where((STREAM.c.origin == self.node_id) & (STREAM.c.applied_seq > STREAM.c.sealed_seq))
                .order_by(STREAM.c.id)
            )
            return [
                (StreamKey(origin, dataset), sealed, applied, since) for origin, dataset, sealed, applied, since in rows
            ]

    def _bodies(self, conn: Connection, stream_id: int, first_seq: int, last_seq: int) -> list[bytes]:
        """Record bytes of seq first..last of a stream, in order (a hot path: raw cursor)."""
        return [body for (body,) in self._select_bodies.rows(conn, sid=stream_id, lo=first_seq, hi=last_seq)]

    def records_in_range(self, key: StreamKey, first_seq: int, last_seq: int) -> list[bytes]:
        """Record bytes of one stream, seq first..last, in order."""
        stream_id = self.stream_id(key)
        if stream_id is None:
            return []
        with self.read() as conn:
            return self._bodies(conn, stream_id, first_seq, last_seq)

    def save_sealed(self, batch: BatchData, *, to_parent: bool, record_bytes: int = 0) -> int:
        """Keep a batch this node signed and queue it for the parent; returns its id."""
        with self.write() as conn:
            stream = self._stream(conn, batch.key, "")
            if stream.sealed_seq + 1 != batch.first_seq:
                raise StoreError(
                    f"{batch.key.dataset}: sealing from {batch.first_seq}, but {stream.sealed_seq} is sealed"
                )
            batch_id = self._insert_batch(conn, stream, batch, received_from="", received_at_us=batch.created_at_us)
            still_unsealed = stream.applied_seq > batch.last_seq
            conn.execute(
                update(STREAM)
                .where(STREAM.c.id == stream.id)
                .values(sealed_seq=batch.last_seq, unsealed_since_us=batch.created_at_us if still_unsealed else 0)
            )
            if to_parent:
                self._enqueue(conn, batch_id, stream, batch, batch.size, size=record_bytes, now_us=batch.created_at_us)
            _audit.append(conn, [("sealed", _subject(batch), {"records": batch.size})], now_us=batch.created_at_us)
        return batch_id

    def _insert_batch(
        self,
        conn: Connection,
        stream: _Stream,
        batch: BatchData,
        *,
        received_from: str,
        received_at_us: int,
    ) -> int:
        result = conn.execute(
            BATCH.insert().values(
                stream_id=stream.id,
                first_seq=batch.first_seq,
                last_seq=batch.last_seq,
                header=batch.header,
                signature=batch.signature,
                hops=batch.hops,
                certificates=batch.certificates,
                received_from=received_from,
                created_at_us=batch.created_at_us,
                received_at_us=received_at_us,
            )
        )
        batch_id = result.inserted_primary_key
        assert batch_id is not None
        return int(batch_id[0])

    def _enqueue(
        self,
        conn: Connection,
        batch_id: int,
        stream: _Stream,
        batch: BatchData,
        records: int,
        *,
        size: int,
        now_us: int,
    ) -> None:
        conn.execute(
            OUTBOX.insert().values(
                bytes=size,
                batch_id=batch_id,
                stream_id=stream.id,
                last_seq=batch.last_seq,
                records=records,
                enqueued_at_us=now_us,
            )
        )

    # -- received batches ----------------------------------------------------

    def apply_batch(
        self,
        batch: BatchData,
        records: Sequence[bytes],
        *,
        received_from: str,
        now_us: int,
        to_parent: bool,
    ) -> ApplyOutcome:
        """Apply one verified batch in its own transaction (see :meth:`apply_batches`)."""
        (outcome,) = self.apply_batches([(batch, records, received_from)], now_us=now_us, to_parent=to_parent)
        return outcome

    def apply_batches(
        self, items: Sequence[tuple[BatchData, Sequence[bytes], str]], *, now_us: int, to_parent: bool
    ) -> list[ApplyOutcome]:
        """Apply verified batches, each (batch, record bytes, received_from), in ONE transaction.

        Idempotent and in order per stream: a batch wholly at or below the
        applied sequence changes nothing; one that starts past ``applied_seq + 1``
        is a gap and is not applied; records of a partly applied batch at or
        below the applied sequence are skipped. Nothing is acked before the
        commit, so grouping batches only saves commits.
        """
        entries: list[_audit.NewEntry] = []  # one audit append and one count per child for the whole group
        children: dict[str, tuple[int, int]] = {}  # child -> (records, batches)
        with self.write() as conn:
            outcomes = [
                self._apply(conn, b, r, received_from=f, now_us=now_us, to_parent=to_parent, done=(entries, children))
                for b, r, f in items
            ]
            for child, (records, batches) in children.items():
                self._count_child(conn, child, records, batches, now_us)
            _audit.append(conn, entries, now_us=now_us)
        return outcomes

    def _apply(
        self,
        conn: Connection,
        batch: BatchData,
        records: Sequence[bytes],
        *,
        received_from: str,
        now_us: int,
        to_parent: bool,
        done: tuple[list[_audit.NewEntry], dict[str, tuple[int, int]]],
    ) -> ApplyOutcome:
        """Apply one batch; its audit entries and child counts go to ``done`` for the caller to write."""
        entries, children = done
        stream = self._stream(conn, batch.key, received_from)
        applied = stream.applied_seq
        if batch.last_seq <= applied or batch.first_seq > applied + 1:
            status: Literal["duplicate", "gap"] = "duplicate" if batch.last_seq <= applied else "gap"
            entries.append((status, _subject(batch), {"from": received_from, "held": applied}))
            return ApplyOutcome(status, applied, 0)
        sid = stream.id
        first_new = max(applied + 1, batch.first_seq)
        fresh = records[first_new - batch.first_seq :]
        batch_id = self._insert_batch(conn, stream, batch, received_from=received_from, received_at_us=now_us)
        written = self._insert_records.run(conn, list(zip(repeat(sid), count(first_new), fresh)))
        conn.execute(
            update(STREAM)
            .where(STREAM.c.id == sid)
            .values(applied_seq=batch.last_seq, records=STREAM.c.records + written, updated_at_us=now_us)
        )
        if to_parent:
            self._enqueue(conn, batch_id, stream, batch, len(fresh), size=sum(map(len, fresh)), now_us=now_us)
        records_before, batches_before = children.get(received_from, (0, 0))
        children[received_from] = (records_before + len(fresh), batches_before + 1)
        entries.append(("applied", _subject(batch), {"from": received_from, "records": written}))
        if to_parent:
            entries.append(("forwarded", _subject(batch), {"from": received_from, "records": len(fresh)}))
        return ApplyOutcome("applied", batch.last_seq, written, batch_id)

    def _count_child(self, conn: Connection, child: str, records: int, batches: int, now_us: int) -> None:
        updated = conn.execute(
            update(CHILD)
            .where(CHILD.c.node_id == child)
            .values(
                records_received=CHILD.c.records_received + records,
                batches_received=CHILD.c.batches_received + batches,
                last_batch_at_us=now_us,
            )
        )
        if updated.rowcount == 0:
            conn.execute(
                CHILD.insert().values(
                    node_id=child, records_received=records, batches_received=batches, last_batch_at_us=now_us
                )
            )

    def cursors(self, keys: Sequence[StreamKey] = ()) -> list[tuple[StreamKey, int]]:
        """Applied sequence per stream (all streams held when ``keys`` is empty)."""
        with self.read() as conn:
            rows = conn.execute(select(STREAM.c.origin, STREAM.c.dataset, STREAM.c.applied_seq)).all()
        held = {StreamKey(o, d): seq for o, d, seq in rows}
        if not keys:
            return sorted(held.items(), key=lambda kv: (kv[0].origin, kv[0].dataset))
        return [(key, held.get(key, 0)) for key in keys]

    # -- towards the parent --------------------------------------------------

    def pending_batches(
        self, *, after_batch_id: int, limit: int, known: dict[int, list[bytes]] | None = None
    ) -> list[PendingBatch]:
        """Batches owed to the parent, oldest first, after ``after_batch_id``.

        Record bytes found in ``known`` (batch id -> records, taken out of it)
        are not read back from the database.
        """
        with self.read() as conn:
            rows = conn.execute(
                select(
                    BATCH.c.id,
                    STREAM.c.origin,
                    STREAM.c.dataset,
                    BATCH.c.stream_id,
                    BATCH.c.first_seq,
                    BATCH.c.last_seq,
                    BATCH.c.header,
                    BATCH.c.signature,
                    BATCH.c.hops,
                    BATCH.c.created_at_us,
                    BATCH.c.certificates,
                )
                .join(OUTBOX, OUTBOX.c.batch_id == BATCH.c.id)
                .join(STREAM, STREAM.c.id == BATCH.c.stream_id)
                .where(
                    (OUTBOX.c.state == "pending")
                    & (BATCH.c.id > after_batch_id)
                    # a stream with a refused batch is held back: what follows would only be a gap
                    & OUTBOX.c.stream_id.not_in(select(OUTBOX.c.stream_id).where(OUTBOX.c.state == "refused"))
                )
                .order_by(BATCH.c.id)
                .limit(limit)
            )
            batches = []
            for batch_id, origin, dataset, stream_id, first, last, header, signature, hops, created, certs in rows:
                cached = known.pop(batch_id, None) if known is not None else None
                bodies = cached if cached is not None else self._bodies(conn, stream_id, first, last)
                batches.append(
                    PendingBatch(
                        batch_id,
                        StreamKey(origin, dataset),
                        first,
                        last,
                        header,
                        signature,
                        hops,
                        bodies,
                        created,
                        certs,
                    )
                )
            return batches

    def record_parent_ack(self, key: StreamKey, applied_seq: int, *, now_us: int) -> int:
        """Note the parent's ack for one stream (see :meth:`record_parent_acks`)."""
        return self.record_parent_acks({key: applied_seq}, now_us=now_us)

    def record_parent_acks(self, acks: dict[StreamKey, int], *, now_us: int) -> int:
        """Note the parent's acks (stream -> applied seq); drops acked batches from the outbox.

        Returns the number of records newly acked.
        """
        newly = 0
        with self.write() as conn:
            for key, applied_seq in acks.items():
                row = conn.execute(
                    select(STREAM.c.id, STREAM.c.parent_acked_seq).where(
                        (STREAM.c.origin == key.origin) & (STREAM.c.dataset == key.dataset)
                    )
                ).one_or_none()
                if row is None or applied_seq <= row.parent_acked_seq:
                    continue
                done = (OUTBOX.c.stream_id == row.id) & (OUTBOX.c.last_seq <= applied_seq)
                acked = conn.execute(select(func.coalesce(func.sum(OUTBOX.c.records), 0)).where(done)).scalar_one()
                newly += acked
                conn.execute(delete(OUTBOX).where(done))
                _audit.append(
                    conn,
                    [("delivered", f"{key.origin}/{key.dataset}", {"acked_seq": applied_seq, "records": int(acked)})],
                    now_us=now_us,
                )
                conn.execute(
                    update(STREAM)
                    .where(STREAM.c.id == row.id)
                    .values(parent_acked_seq=applied_seq, last_ack_at_us=now_us)
                )
        return int(newly)

    def realign_outbox(self, key: StreamKey, parent_applied: int, *, now_us: int) -> None:
        """Make the outbox match the parent's cursor for one stream.

        Batches the parent holds leave the outbox; if the parent holds less than
        it once acked (its database was restored), batches past its cursor are
        queued again from the batch table.
        """
        with self.write() as conn:
            row = conn.execute(
                select(STREAM.c.id, STREAM.c.parent_acked_seq, STREAM.c.applied_seq).where(
                    (STREAM.c.origin == key.origin) & (STREAM.c.dataset == key.dataset)
                )
            ).one_or_none()
            if row is None:
                return
            conn.execute(delete(OUTBOX).where((OUTBOX.c.stream_id == row.id) & (OUTBOX.c.last_seq <= parent_applied)))
            if parent_applied < row.parent_acked_seq:
                queued = select(OUTBOX.c.batch_id).where(OUTBOX.c.stream_id == row.id)
                lost = conn.execute(
                    select(BATCH.c.id, BATCH.c.first_seq, BATCH.c.last_seq).where(
                        (BATCH.c.stream_id == row.id) & (BATCH.c.last_seq > parent_applied) & BATCH.c.id.not_in(queued)
                    )
                )
                for batch_id, first, last in lost:
                    start = max(first, parent_applied + 1)
                    size = conn.execute(
                        select(func.coalesce(func.sum(func.length(RECORD.c.body)), 0)).where(
                            (RECORD.c.stream_id == row.id) & RECORD.c.seq.between(start, last)
                        )
                    ).scalar_one()
                    conn.execute(
                        OUTBOX.insert().values(
                            batch_id=batch_id,
                            stream_id=row.id,
                            last_seq=last,
                            records=last - start + 1,
                            bytes=int(size),
                            enqueued_at_us=now_us,
                        )
                    )
            if parent_applied != row.parent_acked_seq:
                conn.execute(update(STREAM).where(STREAM.c.id == row.id).values(parent_acked_seq=parent_applied))

    def refuse_batch(self, batch_id: int, detail: str, *, now_us: int) -> None:
        """Park a batch the parent refused (the dead letters), with its reason, so it is not resent blindly."""
        with self.write() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.batch_id == batch_id).values(state="refused", detail=detail))
            _audit.append(conn, [("dead_lettered", f"batch {batch_id}", {"reason": detail})], now_us=now_us)

    def dead_letters(self) -> list[DeadLetter]:
        """Batches the parent refused, with the reason it gave."""
        with self.read() as conn:
            rows = conn.execute(
                select(
                    OUTBOX.c.batch_id,
                    STREAM.c.origin,
                    STREAM.c.dataset,
                    BATCH.c.first_seq,
                    BATCH.c.last_seq,
                    OUTBOX.c.enqueued_at_us,
                    OUTBOX.c.detail,
                )
                .join(BATCH, BATCH.c.id == OUTBOX.c.batch_id)
                .join(STREAM, STREAM.c.id == OUTBOX.c.stream_id)
                .where(OUTBOX.c.state == "refused")
                .order_by(OUTBOX.c.batch_id)
            ).all()
        return [DeadLetter(b, StreamKey(o, d), f, last, at, detail) for b, o, d, f, last, at, detail in rows]

    def retry_dead_letters(self, batch_ids: Sequence[int], *, now_us: int) -> int:
        """Send parked batches again (after the cause was fixed); returns how many were parked."""
        with self.write() as conn:
            done = conn.execute(
                update(OUTBOX)
                .where((OUTBOX.c.state == "refused") & OUTBOX.c.batch_id.in_(list(batch_ids)))
                .values(state="pending", detail="")
            ).rowcount
            _audit.append(conn, [("retried", f"batch {b}", {}) for b in batch_ids], now_us=now_us)
        return int(done)

    def outbox_backlog(self) -> OutboxBacklog:
        """What is still owed to the parent, and what it refused."""
        with self.read() as conn:
            records, size, batches, oldest = conn.execute(
                select(
                    func.coalesce(func.sum(OUTBOX.c.records), 0),
                    func.coalesce(func.sum(OUTBOX.c.bytes), 0),
                    func.count(),
                    func.coalesce(func.min(OUTBOX.c.enqueued_at_us), 0),
                ).where(OUTBOX.c.state != "acked")
            ).one()
            refused = conn.execute(select(func.count()).where(OUTBOX.c.state == "refused")).scalar_one()
            unsealed_records, unsealed_bytes = conn.execute(
                select(func.count(), func.coalesce(func.sum(func.length(RECORD.c.body)), 0))
                .select_from(RECORD.join(STREAM, STREAM.c.id == RECORD.c.stream_id))
                .where((STREAM.c.origin == self.node_id) & (RECORD.c.seq > STREAM.c.sealed_seq))
            ).one()
        return OutboxBacklog(
            int(records), int(batches), int(oldest), int(refused), int(size), int(unsealed_records), int(unsealed_bytes)
        )

    def backlog_guard(self, limits: Limits, *, every_s: float = 1.0) -> BacklogGuard:
        """A cheap check for hot paths: why no more may be taken ("" while there is room).

        The outbox (batches owed to the parent, refused ones included, plus
        records not yet sealed) is bounded by records and by bytes. The
        backlog is re-read at most every ``every_s`` seconds; in between, what
        the callers say they are adding is counted on top, so a burst cannot
        overshoot the bound by more than one batch.
        """
        state: list[Any] = [-every_s, 0, 0]  # when read, records, bytes

        def guard(records: int = 0, size: int = 0) -> str:
            now = time.monotonic()
            if now - state[0] >= every_s:
                backlog = self.outbox_backlog()
                state[:] = [now, backlog.records + backlog.unsealed_records, backlog.bytes + backlog.unsealed_bytes]
            held, held_bytes = int(state[1]), int(state[2])
            if held >= limits.outbox_max_records or held_bytes >= limits.outbox_max_bytes:
                return (
                    f"outbox full: {held:,} records / {held_bytes:,} bytes wait for the parent "
                    f"(limits {limits.outbox_max_records:,} / {limits.outbox_max_bytes:,})"
                )
            state[1], state[2] = held + records, held_bytes + size
            return ""

        return guard

    # -- quarantine ----------------------------------------------------------

    def quarantine(self, *, kind: str, source: str, dataset: str, reason: str, raw: bytes, now_us: int) -> None:
        """Keep refused input whole, with the reason."""
        self.quarantine_many([(kind, source, dataset, reason, raw)], now_us=now_us)

    def quarantine_many(self, entries: Sequence[tuple[str, str, str, str, bytes]], *, now_us: int) -> None:
        """Keep many refused inputs: (kind, source, dataset, reason, raw) each."""
        if not entries:
            return
        with self.write() as conn:
            _insert_quarantine(conn, entries, now_us)
            _audit.append(
                conn,
                [("refused", s, {"kind": k, "dataset": d, "reason": r}) for k, s, d, r, _raw in entries],
                now_us=now_us,
            )

    def take_in(
        self,
        dataset: str,
        source: str,
        records: Sequence[NewRecord],
        refused: Sequence[tuple[str, Sequence[str], bytes]],
        *,
        encode: Encoder,
        same: SameContent,
        now_us: int,
        findings: Sequence[_findings.IngestFinding] = (),
    ) -> AppendResult:
        """Store good records, quarantine refused rows (source, findings, raw) and count both, in one transaction.

        The intake counters of (dataset, source) move with the writes they count
        (see ``_quarantine``); refused rows are kept whole as kind "ingest_row".
        ``findings`` (what cleaning corrected in these rows) are kept in the same
        transaction.
        """
        with self.write() as conn:
            result = self._append_own(conn, dataset, records, encode=encode, same=same, now_us=now_us)
            _findings.insert(conn, findings, now_us)
            entries = [(_quarantine.COUNTED_KIND, s, dataset, "; ".join(f), raw) for s, f, raw in refused]
            _quarantine.insert(conn, entries, now_us, [f for _s, f, _raw in refused])
            _audit.append(
                conn,
                [("refused", s, {"kind": k, "dataset": d, "reason": r}) for k, s, d, r, _ in entries],
                now_us=now_us,
            )
            _quarantine.bump(
                conn,
                dataset,
                source,
                now_us,
                received=len(records) + len(refused),
                accepted=result.appended,
                duplicates=result.duplicates,
                quarantined=len(refused),
            )
        return result

    def held_uids(self, dataset: str, uids: Sequence[str]) -> set[str]:
        """Which of ``uids`` name a live record of ``dataset`` (any origin) in its thematic table; empty without one."""
        with self.read() as conn:
            return _projection.held_uids(conn, dataset, uids)

    def ingest_findings(self, *, dataset: str = "", source: str = "", limit: int = 0) -> list[_findings.IngestFinding]:
        """What cleaning corrected in ingested rows, in order (optionally of one dataset and input)."""
        with self.read() as conn:
            return _findings.rows(conn, dataset=dataset, source=source, limit=limit)

    def finding_counts(self, *, dataset: str = "", source: str = "") -> dict[str, int]:
        """Cleaning findings per rule (optionally of one dataset and input)."""
        with self.read() as conn:
            return _findings.counts(conn, dataset=dataset, source=source)

    def quarantined(
        self, *, ids: Sequence[int] = (), dataset: str = "", kind: str = "", state: str = "", last: int = 0
    ) -> list[QuarantineEntry]:
        """Quarantine entries matching every filter given, oldest first (the newest ``last`` when set)."""
        with self.read() as conn:
            return _quarantine.entries(conn, ids=ids, dataset=dataset, kind=kind, state=state, last=last)

    def amend_quarantined(
        self, entry: QuarantineEntry, raw: bytes, findings: Sequence[str], *, changes: dict[str, Any], now_us: int
    ) -> None:
        """Replace a held entry's raw input (an operator's fix) and its findings; "fixed" once none remain."""
        with self.write() as conn:
            self._still_held(conn, entry)
            self._set_entry(
                conn, entry.id, raw=raw, findings=findings, state="fixed" if not findings else "open", now_us=now_us
            )
            _audit.append(conn, [("quarantine_fixed", f"quarantine {entry.id}", changes)], now_us=now_us)

    def replay_quarantined(
        self,
        entry: QuarantineEntry,
        record: NewRecord | None,
        findings: Sequence[str],
        *,
        encode: Encoder,
        same: SameContent,
        now_us: int,
    ) -> str:
        """Store a held ``ingest_row`` entry's record, or (None) keep it with the new findings; returns its outcome.

        Stored or dropped as an exact duplicate, the entry leaves the
        ``quarantined`` counter for ``accepted`` or ``duplicates`` in the same
        transaction; a replayed entry cannot be replayed again.
        """
        subject = f"quarantine {entry.id}"
        with self.write() as conn:
            self._still_held(conn, entry)
            if record is None or findings:
                self._set_entry(
                    conn,
                    entry.id,
                    raw=entry.raw,
                    findings=findings,
                    state="open",
                    now_us=now_us,
                    outcome="replay refused",
                )
                _audit.append(conn, [("replay_refused", subject, {"reasons": list(findings)})], now_us=now_us)
                return f"still quarantined: {'; '.join(findings)}"
            result = self._append_own(conn, entry.dataset, [record], encode=encode, same=same, now_us=now_us)
            outcome = (
                f"stored as {self.node_id}/{entry.dataset} seq {result.first_seq}"
                if result.appended
                else "exact duplicate of the version held: dropped, counted"
            )
            self._set_entry(
                conn, entry.id, raw=entry.raw, findings=(), state="replayed", now_us=now_us, outcome=outcome
            )
            _quarantine.bump(
                conn,
                entry.dataset,
                _quarantine.source_of(entry.source),
                now_us,
                quarantined=-1,
                accepted=result.appended,
                duplicates=result.duplicates,
            )
            _audit.append(conn, [("replayed", subject, {"dataset": entry.dataset, "outcome": outcome})], now_us=now_us)
        return outcome

    def dismiss_quarantined(self, entry: QuarantineEntry, reason: str, *, now_us: int) -> None:
        """Give up a held entry, saying why; a counted row moves from ``quarantined`` to ``dismissed``."""
        with self.write() as conn:
            self._still_held(conn, entry)
            conn.execute(
                update(QUARANTINE)
                .where(QUARANTINE.c.id == entry.id)
                .values(state="dismissed", outcome=f"dismissed: {reason}", updated_at_us=now_us)
            )
            if entry.kind == _quarantine.COUNTED_KIND:
                source = _quarantine.source_of(entry.source)
                _quarantine.bump(conn, entry.dataset, source, now_us, quarantined=-1, dismissed=1)
            _audit.append(conn, [("dismissed", f"quarantine {entry.id}", {"reason": reason})], now_us=now_us)

    def intake_counters(self) -> list[IntakeCounters]:
        """Records received per dataset and source, and what became of them."""
        with self.read() as conn:
            return _quarantine.counters(conn)

    def intake_check(self) -> list[str]:
        """Where the intake invariant fails, in one snapshot (empty when it holds)."""
        with self.read() as conn:
            return _quarantine.check(conn)

    def _still_held(self, conn: Connection, entry: QuarantineEntry) -> None:
        """Refuse to act on an entry that changed since it was read, or that is no longer held."""
        now = _quarantine.entries(conn, ids=[entry.id])
        if not now or now[0].raw != entry.raw or now[0].state != entry.state:
            raise StoreError(f"quarantine entry {entry.id} changed meanwhile; look at it again")
        if entry.state not in _quarantine.HELD_STATES:
            raise ConfigError(f"quarantine entry {entry.id} is {entry.state}: {entry.outcome}")

    def _set_entry(
        self,
        conn: Connection,
        entry_id: int,
        *,
        raw: bytes,
        findings: Sequence[str],
        state: str,
        now_us: int,
        outcome: str = "",
    ) -> None:
        conn.execute(
            update(QUARANTINE)
            .where(QUARANTINE.c.id == entry_id)
            .values(
                raw=raw,
                findings=json.dumps(list(findings), ensure_ascii=False),
                reason="; ".join(findings),
                state=state,
                outcome=outcome,
                updated_at_us=now_us,
            )
        )

    # -- collector positions -------------------------------------------------

    def collector_mark(self, name: str) -> str | None:
        """The position collector ``name`` last committed (its own text), or None before its first run."""
        with self.read() as conn:
            return conn.execute(select(META.c.value).where(META.c.key == _MARK + name)).scalar_one_or_none()

    def advance_collector_mark(self, name: str, expected: str | None, mark: str) -> bool:
        """Set collector ``name``'s position to ``mark`` if still ``expected``; False when another run moved it."""
        key = _MARK + name
        with self.write() as conn:
            held = conn.execute(select(META.c.value).where(META.c.key == key)).scalar_one_or_none()
            if held != expected:
                return False
            conn.execute(delete(META).where(META.c.key == key))
            conn.execute(META.insert().values(key=key, value=mark))
        return True

    # -- audit log -----------------------------------------------------------

    def audit(self, entries: Sequence[tuple[str, str, dict[str, Any]]], *, now_us: int) -> None:
        """Append entries (kind, subject, detail) to the audit log."""
        with self.write() as conn:
            _audit.append(conn, entries, now_us=now_us)

    def audit_head(self) -> tuple[int, bytes]:
        """(seq, hash) of the last audit entry; (0, zeros) for an empty log."""
        with self.read() as conn:
            row = conn.execute(select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)).one_or_none()
        return (int(row[0]), bytes(row[1])) if row is not None else (0, _audit.GENESIS)

    def audit_entries(self, *, kind: str = "", after_seq: int = 0) -> list[_audit.AuditEntry]:
        """Audit entries in order."""
        with self.read() as conn:
            return list(_audit.entries(conn, kind=kind, after_seq=after_seq))

    def audit_verify(self) -> tuple[int, _audit.AuditEntry | None, str]:
        """Check the whole hash chain: (entries, first bad entry, why)."""
        with self.read() as conn:
            return _audit.verify_chain(conn)

    # -- queries -------------------------------------------------------------

    def status(self) -> StoreStatus:
        """Counters per stream and per child."""
        with self.read() as conn:
            return _queries.status(conn)

    def provenance(
        self, uid: str, *, key_of: _queries.KeyOf, dataset: str = "", origin: str = "", version: int = 0
    ) -> list[ProvenanceData]:
        """Record versions with this uid (latest per stream unless ``version``) and their batches.

        ``key_of`` reads (uid, version) from record bytes not yet indexed.
        """
        with self.read() as conn:
            return _queries.provenance(conn, uid, key_of=key_of, dataset=dataset, origin=origin, version=version)

    def set_digest(self, *, dataset: str = "", origin: str = "") -> tuple[int, int]:
        """(count, order-independent digest) of the record versions held."""
        with self.read() as conn:
            return _queries.set_digest(conn, dataset=dataset, origin=origin)

    # -- thematic projection -------------------------------------------------

    def projection_backlog(self, limit: int = 100) -> list[tuple[int, str, str, int, int]]:
        """Streams with unprojected records: (stream id, origin, dataset, projected_seq, applied_seq)."""
        with self.read() as conn:
            return _projection.projection_backlog(conn, limit)

    def version_body(self, stream_id: int, uid: str, version: int) -> bytes | None:
        """The bytes of one version of a record, if held and indexed (``record_key`` fills in the background)."""
        query = (
            select(RECORD.c.body)
            .join(RECORD_KEY, (RECORD_KEY.c.stream_id == RECORD.c.stream_id) & (RECORD_KEY.c.seq == RECORD.c.seq))
            .where(
                (RECORD_KEY.c.stream_id == stream_id) & (RECORD_KEY.c.uid == uid) & (RECORD_KEY.c.version == version)
            )
        )
        with self.read() as conn:
            body = conn.execute(query).scalar_one_or_none()
        return bytes(body) if body is not None else None

    def records_after(self, stream_id: int, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        """(seq, record bytes) of a stream after ``after_seq``, in order."""
        with self.read() as conn:
            return [
                (seq, body)
                for seq, body in conn.execute(
                    select(RECORD.c.seq, RECORD.c.body)
                    .where((RECORD.c.stream_id == stream_id) & (RECORD.c.seq > after_seq))
                    .order_by(RECORD.c.seq)
                    .limit(limit)
                ).all()
            ]

    def project(
        self,
        *,
        stream_id: int,
        origin: str,
        dataset: str,
        rows: Sequence[_projection.ProjectedRow],
        keys: Sequence[tuple[int, str, int, int]],
        up_to_seq: int,
        refused: Sequence[tuple[str, str, str, str, bytes]],
        now_us: int,
    ) -> None:
        """Index record keys, apply decoded rows to the thematic tables, quarantine what does not fit.

        ``keys`` are (stream id, uid, version, seq) of the well-formed records
        looked at. A key already held at another seq breaks idempotency: that
        record is flagged in quarantine and not projected (its bytes stay, as
        signed, in the record table). The watermark moves to ``up_to_seq`` in
        the same transaction.
        """
        with self.write() as conn:
            refused = list(refused)
            if self._insert_keys.run(conn, keys) < len(keys):
                doubled = self._doubled_keys(conn, stream_id, keys)
                rows = [row for row in rows if row[0] not in doubled]
                refused += [
                    ("projection", f"{origin}/{dataset}/{seq}", dataset, reason, b"") for seq, reason in doubled.items()
                ]
            _projection.project_rows(
                self.engine, conn, stream_id=stream_id, origin=origin, dataset=dataset, rows=rows, up_to_seq=up_to_seq
            )
            _insert_quarantine(conn, refused, now_us)
            _audit.append(  # as quarantine_many does: what is quarantined is audited
                conn,
                [("refused", s, {"kind": k, "dataset": d, "reason": r}) for k, s, d, r, _raw in refused],
                now_us=now_us,
            )

    def _doubled_keys(
        self, conn: Connection, stream_id: int, keys: Sequence[tuple[int, str, int, int]]
    ) -> dict[int, str]:
        """Seqs whose (uid, version) is held at another seq, with the reason."""
        held: dict[tuple[str, int], int] = {}
        uids = sorted({uid for _sid, uid, _version, _seq in keys})
        for start in range(0, len(uids), _IN_CHUNK):
            query = select(RECORD_KEY.c.uid, RECORD_KEY.c.version, RECORD_KEY.c.seq).where(
                (RECORD_KEY.c.stream_id == stream_id) & RECORD_KEY.c.uid.in_(uids[start : start + _IN_CHUNK])
            )
            held.update({(uid, version): seq for uid, version, seq in conn.execute(query)})
        return {
            seq: f"idempotency key ({uid}, version {version}) is already held at seq {held[(uid, version)]}"
            for _sid, uid, version, seq in keys
            if held.get((uid, version), seq) != seq
        }


def _subject(batch: BatchData) -> str:
    return f"{batch.key.origin}/{batch.key.dataset}/{batch.first_seq}-{batch.last_seq}"


def _insert_quarantine(conn: Connection, entries: Sequence[tuple[str, str, str, str, bytes]], now_us: int) -> None:
    _quarantine.insert(conn, entries, now_us)
