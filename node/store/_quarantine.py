"""Quarantine entries and intake counters, read and written inside the store's transactions.

What the counters count (per dataset and source; the source of a file ingest
is the file's path as given, of :func:`node.ingest.ingest_records` "api"):

- ``received``: every row or record offered to the intake;
- ``accepted``: stored as a new record version (a sequence number, the outbox);
- ``duplicates``: same content as the version held, dropped and counted;
- ``quarantined``: held in the quarantine table, state ``open`` or ``fixed``;
- ``dismissed``: quarantined, then given up by an operator.

Invariant: ``received = accepted + duplicates + quarantined + dismissed``, and
the ``quarantined`` and ``dismissed`` counters equal the ``ingest_row`` entries
of the quarantine table in those states. A replay moves one record from
``quarantined`` to ``accepted`` (or ``duplicates``) in the transaction that
stores it. Batches refused from children (kind ``batch``) and records the
projector flags (kind ``projection``) are not intake rows: they are listed,
shown and may be dismissed, but never counted or replayed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, func, select, update

from node.store._schema import INTAKE_COUNTER, QUARANTINE

__all__ = [
    "COUNTED_KIND",
    "HELD_STATES",
    "STATES",
    "IntakeCounters",
    "QuarantineEntry",
    "bump",
    "check",
    "counters",
    "entries",
    "insert",
    "source_of",
]

COUNTED_KIND: Final = "ingest_row"
STATES: Final = ("open", "fixed", "replayed", "dismissed")
HELD_STATES: Final = ("open", "fixed")
_TERMS: Final = ("received", "accepted", "duplicates", "quarantined", "dismissed")


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """Refused input kept whole, with every finding and what became of it."""

    id: int
    kind: str
    source: str
    dataset: str
    reason: str
    findings: tuple[str, ...]
    raw: bytes
    state: str  # open | fixed | replayed | dismissed
    outcome: str
    created_at_us: int
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class IntakeCounters:
    """Records taken in for one dataset and source, and what became of them."""

    dataset: str
    source: str
    received: int
    accepted: int
    duplicates: int
    quarantined: int
    dismissed: int

    @property
    def balanced(self) -> bool:
        """Whether received = accepted + duplicates + quarantined + dismissed."""
        return self.received == self.accepted + self.duplicates + self.quarantined + self.dismissed


def source_of(entry_source: str) -> str:
    """The counter source of an ``ingest_row`` entry (``path:line`` -> ``path``)."""
    head, _sep, line = entry_source.rpartition(":")
    return head if head and line.isdigit() else entry_source


def insert(
    conn: Connection,
    entries: Sequence[tuple[str, str, str, str, bytes]],
    now_us: int,
    findings: Sequence[Sequence[str]] | None = None,
) -> None:
    """Add entries (kind, source, dataset, reason, raw); findings default to the reason alone."""
    if not entries:
        return
    lists = findings if findings is not None else [[reason] for _k, _s, _d, reason, _raw in entries]
    conn.execute(
        QUARANTINE.insert(),
        [
            {
                "kind": k,
                "source": s,
                "dataset": d,
                "reason": r,
                "raw": raw,
                "created_at_us": now_us,
                "findings": json.dumps(list(f), ensure_ascii=False),
                "state": "open",
                "outcome": "",
                "updated_at_us": now_us,
            }
            for (k, s, d, r, raw), f in zip(entries, lists, strict=True)
        ],
    )


def bump(conn: Connection, dataset: str, source: str, now_us: int, **deltas: int) -> None:
    """Add ``deltas`` (counter name -> change) to one counter row, creating it when new."""
    unknown = set(deltas) - set(_TERMS)
    if unknown:
        raise ValueError(f"unknown intake counters {sorted(unknown)}")
    if not any(deltas.values()):
        return
    where = (INTAKE_COUNTER.c.dataset == dataset) & (INTAKE_COUNTER.c.source == source)
    values = {name: INTAKE_COUNTER.c[name] + delta for name, delta in deltas.items()}
    if conn.execute(update(INTAKE_COUNTER).where(where).values(updated_at_us=now_us, **values)).rowcount == 0:
        row = dict.fromkeys(_TERMS, 0) | deltas
        conn.execute(INTAKE_COUNTER.insert().values(dataset=dataset, source=source, updated_at_us=now_us, **row))


def counters(conn: Connection) -> list[IntakeCounters]:
    """Every counter row, by dataset and source."""
    columns = [INTAKE_COUNTER.c[name] for name in ("dataset", "source", *_TERMS)]
    query = select(*columns).order_by(INTAKE_COUNTER.c.dataset, INTAKE_COUNTER.c.source)
    return [IntakeCounters(*row) for row in conn.execute(query)]


def check(conn: Connection) -> list[str]:
    """Where the invariant fails (empty when it holds): per counter row, and counters against the table."""
    problems = [
        f"{c.dataset} from {c.source}: received {c.received} != accepted {c.accepted} + duplicates "
        f"{c.duplicates} + quarantined {c.quarantined} + dismissed {c.dismissed}"
        for c in counters(conn)
        if not c.balanced
    ]
    counted: dict[tuple[str, str], int] = {}
    for c in counters(conn):
        for term, value in (("quarantined", c.quarantined), ("dismissed", c.dismissed)):
            counted[(c.dataset, term)] = counted.get((c.dataset, term), 0) + value
    held: dict[tuple[str, str], int] = {}
    rows = conn.execute(
        select(QUARANTINE.c.dataset, QUARANTINE.c.state, func.count())
        .where(QUARANTINE.c.kind == COUNTED_KIND)
        .group_by(QUARANTINE.c.dataset, QUARANTINE.c.state)
    )
    for dataset, state, number in rows:
        term = "quarantined" if state in HELD_STATES else state
        held[(dataset, term)] = held.get((dataset, term), 0) + int(number)
    for dataset, term in sorted(set(counted) | {k for k in held if k[1] in {"quarantined", "dismissed"}}):
        if counted.get((dataset, term), 0) != held.get((dataset, term), 0):
            problems.append(
                f"{dataset}: {term} counter {counted.get((dataset, term), 0)} "
                f"but the quarantine table holds {held.get((dataset, term), 0)}"
            )
    return problems


def entries(
    conn: Connection, *, ids: Sequence[int] = (), dataset: str = "", kind: str = "", state: str = "", last: int = 0
) -> list[QuarantineEntry]:
    """Entries matching every filter given, oldest first (the newest ``last`` when set)."""
    query = select(
        QUARANTINE.c.id,
        QUARANTINE.c.kind,
        QUARANTINE.c.source,
        QUARANTINE.c.dataset,
        QUARANTINE.c.reason,
        QUARANTINE.c.findings,
        QUARANTINE.c.raw,
        QUARANTINE.c.state,
        QUARANTINE.c.outcome,
        QUARANTINE.c.created_at_us,
        QUARANTINE.c.updated_at_us,
    )
    if ids:
        query = query.where(QUARANTINE.c.id.in_(list(ids)))
    for column, wanted in ((QUARANTINE.c.dataset, dataset), (QUARANTINE.c.kind, kind), (QUARANTINE.c.state, state)):
        if wanted:
            query = query.where(column == wanted)
    query = query.order_by(QUARANTINE.c.id.desc()).limit(last) if last else query.order_by(QUARANTINE.c.id)
    found = [
        QuarantineEntry(i, k, s, d, r, tuple(json.loads(f or "[]")), bytes(raw), st, o, c, u)
        for i, k, s, d, r, f, raw, st, o, c, u in conn.execute(query)
    ]
    return sorted(found, key=lambda e: e.id)
