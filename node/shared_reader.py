"""Reading a dataset's record versions by position, once, and through one subscription's view.

Every way a subscriber receives records (the subscribe stream, the table and
file sinks) reads them here. A delete is judged by the version it
deletes: a subscriber limited to one region is told of deletes there only. A
position (``cursor``) is, per origin, the last
sequence number processed in that origin's stream of the dataset; streams are
contiguous and append-only, so reading "after the cursor" never skips and never
repeats a record. Records a view does not admit still move the cursor.

:func:`read_raw` decodes each record once; :func:`through` applies a view to
it, so one decoding serves many subscribers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from jgnode.exchange.v1 import sharing_pb2

from exchange_registry import View
from node.errors import BatchRejectedError
from node.serde import OP_DELETE, decode_record, payload_row
from node.store import Store

__all__ = ["Change", "RawChange", "admits", "decode_change", "read_changes", "read_raw", "through", "to_proto"]

log = logging.getLogger("jgnode.sharing")


@dataclass(frozen=True, slots=True)
class RawChange:
    """One record version decoded once, before any view."""

    origin: str
    seq: int
    uid: str
    version: int
    op: int
    event_time_us: int
    row: dict[str, str] | None  # the CSV row; None for a delete
    scope: dict[str, str] | None = None  # for a delete: the row of the version it deletes, when held


@dataclass(frozen=True, slots=True)
class Change:
    """What one subscription sees of a record version."""

    origin: str
    seq: int
    uid: str
    version: int
    op: int
    event_time_us: int
    fields: dict[str, str]  # {} for a delete


def decode_change(body: bytes, *, where: str) -> RawChange | None:
    """A stored record as a RawChange; None (logged) for one this node cannot read, e.g. a newer schema."""
    try:
        record = decode_record(body)
        row = payload_row(record)
    except BatchRejectedError as exc:
        log.warning("cannot share record %s: %s", where, exc)
        return None
    if row is None and record.op != OP_DELETE:
        log.warning("cannot share record %s: it carries no payload", where)
        return None
    return RawChange(record.origin, record.seq, record.uid, record.version, record.op, record.event_time_us, row)


def read_raw(
    store: Store, dataset: str, cursor: Mapping[str, int], *, limit: int = 1000
) -> tuple[list[RawChange], dict[str, int]]:
    """The next record versions of ``dataset`` after ``cursor`` (at most ``limit``), and the cursor after them.

    Origins are read in sorted order; the cursor returned keeps every origin of
    ``cursor`` and adds those that moved, including past records that could not
    be read (they are logged).
    """
    after = dict(cursor)
    changes: list[RawChange] = []
    for key, applied in store.cursors():
        if key.dataset != dataset or applied <= after.get(key.origin, 0):
            continue
        stream_id = store.stream_id(key)
        done = after.get(key.origin, 0)
        while stream_id is not None and done < applied and len(changes) < limit:
            chunk = [(s, b) for s, b in store.records_after(stream_id, done, limit - len(changes)) if s <= applied]
            if not chunk:
                break
            for seq, body in chunk:
                change = decode_change(body, where=f"{key.origin}/{dataset}/{seq}")
                if change is not None and change.row is None:
                    change = _scoped(store, stream_id, change)
                if change is not None:
                    changes.append(change)
            done = chunk[-1][0]
        after[key.origin] = done
        if len(changes) >= limit:
            break
    return changes, after


def _scoped(store: Store, stream_id: int, change: RawChange) -> RawChange:
    """A delete with the row of the version it deletes, so views judge it like that version."""
    before = store.version_body(stream_id, change.uid, change.version - 1) if change.version > 1 else None
    deleted = decode_change(before, where=f"{change.origin}/{change.uid}@{change.version - 1}") if before else None
    return dataclasses.replace(change, scope=deleted.row) if deleted is not None else change


def admits(view: View, raw: RawChange) -> bool:
    """Whether ``view`` admits ``raw``; a delete as the version it deletes would be (passes when not held)."""
    row = raw.row if raw.row is not None else raw.scope
    return row is None or view.admits(row)


def through(view: View, raw: RawChange) -> Change | None:
    """What ``view`` shows of ``raw``: None when it does not admit it."""
    if not admits(view, raw):
        return None
    uid = view.protected_uid(raw.uid)
    if raw.row is None:
        return Change(raw.origin, raw.seq, uid, raw.version, raw.op, raw.event_time_us, {})
    return Change(raw.origin, raw.seq, uid, raw.version, raw.op, raw.event_time_us, view.show(raw.row))


def read_changes(
    store: Store, view: View, cursor: Mapping[str, int], *, limit: int = 1000
) -> tuple[list[Change], dict[str, int]]:
    """The next changes ``view`` admits after ``cursor``, and the cursor after every record examined."""
    raws, after = read_raw(store, view.entry.dataset, cursor, limit=limit)
    return [c for c in (through(view, r) for r in raws) if c is not None], after


def to_proto(change: Change) -> sharing_pb2.SharedRecord:
    """A change as it travels to a subscriber."""
    return sharing_pb2.SharedRecord(
        origin=change.origin,
        seq=change.seq,
        uid=change.uid,
        version=change.version,
        op=change.op,  # type: ignore[arg-type]
        event_time_us=change.event_time_us,
        fields=change.fields,
    )
