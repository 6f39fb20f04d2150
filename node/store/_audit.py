"""The audit log: append-only, each entry hash-chained to the one before.

An entry's hash is SHA-256 over the previous entry's hash and the entry's own
canonical JSON (sequence number, time, kind, subject, detail). Editing,
deleting or reordering an entry breaks the chain at that point, which
:func:`verify_chain` reports. Entries are written in the same transaction as
what they record, so the log never claims what did not happen.

Kinds: ``ingested`` (local records stored), ``sealed`` (a batch signed here),
``applied`` / ``duplicate`` / ``gap`` / ``refused`` (a batch received from a
child, and what became of it), ``caller_refused`` (a connection that was not
allowed), ``forwarded`` (a received batch queued for the parent),
``delivered`` (the parent acked records), ``dead_lettered`` and ``retried``
(a batch the parent refused, parked and sent again), ``checkpoint`` (the
log's head, signed by the node).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from node.store._schema import AUDIT

__all__ = ["GENESIS", "AuditEntry", "NewEntry", "append", "entry_hash", "verify_chain"]

GENESIS = bytes(32)
# (kind, subject, detail)
NewEntry = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit log entry as stored."""

    seq: int
    at_us: int
    kind: str
    subject: str
    detail: str  # canonical JSON
    prev_hash: bytes
    hash: bytes


def _canonical(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev: bytes, seq: int, at_us: int, kind: str, subject: str, detail: str) -> bytes:  # noqa: PLR0917
    """The chained hash of one entry."""
    body = json.dumps([seq, at_us, kind, subject, detail], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev + body.encode()).digest()


def append(conn: Connection, entries: Sequence[NewEntry], *, now_us: int) -> None:
    """Append entries in order, inside the caller's write transaction."""
    if not entries:
        return
    last = conn.execute(select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)).one_or_none()
    seq, prev = (last[0], last[1]) if last is not None else (0, GENESIS)
    rows = []
    for kind, subject, detail in entries:
        seq += 1
        text = _canonical(detail)
        digest = entry_hash(prev, seq, now_us, kind, subject, text)
        rows.append(
            {
                "seq": seq,
                "at_us": now_us,
                "kind": kind,
                "subject": subject,
                "detail": text,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    conn.execute(AUDIT.insert(), rows)


def entries(conn: Connection, *, kind: str = "", after_seq: int = 0) -> Iterator[AuditEntry]:
    """Entries in order (optionally of one kind)."""
    query = select(AUDIT).where(AUDIT.c.seq > after_seq).order_by(AUDIT.c.seq)
    if kind:
        query = query.where(AUDIT.c.kind == kind)
    for row in conn.execution_options(yield_per=5000).execute(query):
        yield AuditEntry(row.seq, row.at_us, row.kind, row.subject, row.detail, row.prev_hash, row.hash)


def verify_chain(conn: Connection) -> tuple[int, AuditEntry | None, str]:
    """Walk the whole log: (entries checked, first bad entry or None, what is wrong with it)."""
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in entries(conn):
        if entry.seq != expected_seq:
            return count, entry, f"entry {expected_seq} is missing (next is {entry.seq})"
        if entry.prev_hash != prev:
            return count, entry, "does not chain to the entry before it (an entry was removed or reordered)"
        if entry_hash(prev, entry.seq, entry.at_us, entry.kind, entry.subject, entry.detail) != entry.hash:
            return count, entry, "its content does not match its hash (edited)"
        prev, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    return count, None, ""
