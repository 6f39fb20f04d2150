"""Entity-resolution decisions: which regulated object a record is about, and which objects are one.

A decision never changes a record (records are kept as their origin signed
them); it is an overlay the node's own queries read. One row per (kind, origin,
dataset, uid), where kind is ``link`` (a record about an object: an action,
complaint or opinion item whose code is missing or wrong) or ``merge`` (a
regulated object that is a duplicate of another). States:

- ``linked`` / ``merged``: the engine found strong, unique evidence;
- ``flagged``: some evidence, not strong or not unique; candidates kept;
- ``unmatched``: no candidate (link only);
- ``accepted``: an operator confirmed it, or chose the object;
- ``rejected``: an operator said the record is about none of the candidates;
- ``reverted``: an operator undid a link or merge; the record's own code stands;
- ``superseded``: a newer version of the record carries a code that is confirmed.

Operator states (accepted, rejected, reverted) are never overwritten by the
engine. Every change is audited in the same transaction (``resolved`` for an
engine run, ``resolution_<state>`` for an operator's act, with who and why).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from sqlalchemy import BigInteger, Column, Connection, Float, Text, UniqueConstraint, delete, func, select, update
from sqlmodel import Field, SQLModel

from node.store import _audit
from node.store._schema import INSPECTION, META, REGULATED_OBJECT, STREAM

if TYPE_CHECKING:
    from node.store._store import Store

__all__ = [
    "ACTIVE_STATES",
    "DECISION",
    "OPERATOR_STATES",
    "Decision",
    "DecisionBook",
    "DecisionRow",
    "NewDecision",
    "fetch",
    "record_engine",
    "set_state",
]

OPERATOR_STATES: Final = ("accepted", "rejected", "reverted")
ACTIVE_STATES: Final = ("linked", "merged", "accepted")  # states in which the overlay applies
_MARK: Final = "resolve_mark:"  # meta key prefix: highest seq of a stream the engine has looked at


class DecisionRow(SQLModel, table=True):
    """One entity-resolution decision (see the module docstring)."""

    __tablename__: ClassVar[str] = "entity_decision"
    __table_args__ = (UniqueConstraint("kind", "origin", "dataset", "uid", name="uq_decision_record"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # link | merge
    origin: str
    dataset: str
    uid: str  # the record (link) or the duplicate object (merge)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))  # record version decided on
    claimed_code: str  # the code the record carries
    object_code: str = Field(index=True)  # the object it is about / merged into ("" when none)
    state: str = Field(index=True)
    probability: float = Field(sa_column=Column(Float, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    candidates: str = Field(sa_column=Column(Text, nullable=False))  # JSON [[code, name, probability], ...]
    party: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON [name, code, region, address]
    decided_by: str  # "engine" or the operator
    note: str = Field(default="", sa_column=Column(Text, nullable=False))  # the operator's reason
    created_at_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at_us: int = Field(sa_column=Column(BigInteger, nullable=False))


DECISION = DecisionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class NewDecision:
    """What the engine concluded about one record version."""

    kind: str
    origin: str
    dataset: str
    uid: str
    version: int
    claimed_code: str
    object_code: str
    state: str
    probability: float
    reason: str
    candidates: tuple[tuple[str, str, float], ...]
    party: tuple[str, ...] = ("", "", "", "")  # (name, code, region, address) as the record names it


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision(NewDecision):
    """A decision as held: what was concluded, by whom and when."""

    id: int
    decided_by: str
    note: str
    created_at_us: int
    updated_at_us: int

    @property
    def active(self) -> bool:
        """Whether the overlay applies (the record counts as about ``object_code``)."""
        return self.state in ACTIVE_STATES


def _decision(row: Any) -> Decision:
    values = dict(row._mapping)
    values["candidates"] = tuple(tuple(c) for c in json.loads(values["candidates"]))
    values["party"] = tuple(json.loads(values["party"]))
    return Decision(**values)


def fetch(
    conn: Connection,
    *,
    ids: Sequence[int] = (),
    kind: str = "",
    states: Sequence[str] = (),
    object_code: str = "",
) -> list[Decision]:
    """Decisions matching every filter given, oldest first."""
    query = select(DECISION).order_by(DECISION.c.id)
    if ids:
        query = query.where(DECISION.c.id.in_(list(ids)))
    if kind:
        query = query.where(DECISION.c.kind == kind)
    if states:
        query = query.where(DECISION.c.state.in_(list(states)))
    if object_code:
        query = query.where(DECISION.c.object_code == object_code)
    return [_decision(row) for row in conn.execute(query)]


def record_engine(conn: Connection, decisions: Sequence[NewDecision], *, now_us: int) -> dict[str, int]:
    """Insert or update the engine's decisions; operator decisions stay. Returns counts by state written."""
    held = _held(conn, decisions)
    written: dict[str, int] = {}
    for new in decisions:
        key = (new.kind, new.origin, new.dataset, new.uid)
        found = held.get(key)
        if found is not None and (found[1] in OPERATOR_STATES or found[2] > new.version):
            continue
        values = _values(new, now_us)
        if found is None:
            if new.state == "superseded":
                continue  # nothing to supersede
            conn.execute(DECISION.insert().values(**values, created_at_us=now_us, decided_by="engine", note=""))
        else:
            conn.execute(update(DECISION).where(DECISION.c.id == found[0]).values(**values))
        written[new.state] = written.get(new.state, 0) + 1
    return written


def _held(conn: Connection, decisions: Sequence[NewDecision]) -> dict[tuple[str, str, str, str], tuple[int, str, int]]:
    """(id, state, version) of the decisions held for these records."""
    out: dict[tuple[str, str, str, str], tuple[int, str, int]] = {}
    uids = sorted({d.uid for d in decisions})
    for start in range(0, len(uids), 500):
        query = select(
            DECISION.c.kind,
            DECISION.c.origin,
            DECISION.c.dataset,
            DECISION.c.uid,
            DECISION.c.id,
            DECISION.c.state,
            DECISION.c.version,
        ).where(DECISION.c.uid.in_(uids[start : start + 500]))
        for kind, origin, dataset, uid, row_id, state, version in conn.execute(query):
            out[(kind, origin, dataset, uid)] = (row_id, state, version)
    return out


def _values(new: NewDecision, now_us: int) -> dict[str, Any]:
    return {
        "kind": new.kind,
        "origin": new.origin,
        "dataset": new.dataset,
        "uid": new.uid,
        "version": new.version,
        "claimed_code": new.claimed_code,
        "object_code": new.object_code,
        "state": new.state,
        "probability": new.probability,
        "reason": new.reason,
        "candidates": json.dumps([list(c) for c in new.candidates], ensure_ascii=False),
        "party": json.dumps(list(new.party), ensure_ascii=False),
        "updated_at_us": now_us,
    }


def set_state(
    conn: Connection, decision: Decision, *, state: str, object_code: str, by: str, note: str, now_us: int
) -> int:
    """An operator's act on a decision still as ``decision`` shows it; returns rows changed (0: it moved on)."""
    result = conn.execute(
        update(DECISION)
        .where((DECISION.c.id == decision.id) & (DECISION.c.updated_at_us == decision.updated_at_us))
        .values(state=state, object_code=object_code, decided_by=by, note=note, updated_at_us=now_us)
    )
    return int(result.rowcount)


class DecisionBook:
    """The decisions of one store, and where the engine has got to in each stream.

    Every write is one transaction with its audit entry; an engine run's
    decisions and its new stream positions commit together, so a crash neither
    skips nor repeats a record.
    """

    def __init__(self, store: Store) -> None:
        """Read and write the decisions of ``store``."""
        self._store = store

    def streams(self, datasets: Sequence[str]) -> list[tuple[int, str, str, int, int]]:
        """(stream id, origin, dataset, position, projected seq) of the streams of ``datasets``."""
        with self._store.read() as conn:
            marks = {
                int(key.removeprefix(_MARK)): int(value)
                for key, value in conn.execute(select(META.c.key, META.c.value).where(META.c.key.like(_MARK + "%")))
            }
            rows = conn.execute(
                select(STREAM.c.id, STREAM.c.origin, STREAM.c.dataset, STREAM.c.projected_seq)
                .where(STREAM.c.dataset.in_(list(datasets)))
                .order_by(STREAM.c.id)
            ).all()
        return [(sid, origin, dataset, marks.get(sid, 0), projected) for sid, origin, dataset, projected in rows]

    def known_objects(self) -> list[tuple[str, str, str, str, str, str]]:
        """(origin, uid, credit code, name, region code, address) of the regulated objects held, not deleted."""
        table = REGULATED_OBJECT
        address = func.coalesce(func.nullif(table.c.operating_address, ""), table.c.registered_address)
        with self._store.read() as conn:
            query = (
                select(table.c.origin, table.c.uid, table.c.credit_code, table.c.name, table.c.region_code, address)
                .where(table.c.deleted.is_(False))
                .order_by(table.c.origin, table.c.uid)
            )
            return [tuple(row) for row in conn.execute(query)]

    def sample_counterparties(self, limit: int) -> list[tuple[str, str, str]]:
        """(name, certificate number, region code) of up to ``limit`` inspections' counterparties, newest first."""
        with self._store.read() as conn:
            query = (
                select(INSPECTION.c.counterparty_name, INSPECTION.c.counterparty_cert_number, INSPECTION.c.region_code)
                .where(INSPECTION.c.deleted.is_(False))
                .order_by(INSPECTION.c.action_date.desc())
                .limit(limit)
            )
            return [tuple(row) for row in conn.execute(query)]

    def record_run(
        self, decisions: Sequence[NewDecision], positions: dict[int, int], *, summary: dict[str, Any], now_us: int
    ) -> dict[str, int]:
        """Store an engine run's decisions and stream positions with one ``resolved`` audit entry."""
        with self._store.write() as conn:
            written = record_engine(conn, decisions, now_us=now_us)
            for sid, seq in positions.items():
                conn.execute(delete(META).where(META.c.key == f"{_MARK}{sid}"))
                conn.execute(META.insert().values(key=f"{_MARK}{sid}", value=str(seq)))
            if written:
                _audit.append(conn, [("resolved", "entity_decision", {**summary, "written": written})], now_us=now_us)
        return written

    def find(self, **filters: Any) -> list[Decision]:
        """Decisions matching ``filters`` (see :func:`fetch`)."""
        with self._store.read() as conn:
            return fetch(conn, **filters)

    def act(self, decision: Decision, *, state: str, object_code: str, by: str, note: str, now_us: int) -> bool:
        """An operator's act (accepted, rejected, reverted), audited; False when the decision changed meanwhile."""
        with self._store.write() as conn:
            if not set_state(conn, decision, state=state, object_code=object_code, by=by, note=note, now_us=now_us):
                return False
            detail = {
                "id": decision.id,
                "record": f"{decision.origin}/{decision.dataset}/{decision.uid}",
                "from": [decision.state, decision.object_code],
                "to": [state, object_code],
                "by": by,
                "note": note,
            }
            _audit.append(conn, [(f"resolution_{state}", f"decision/{decision.id}", detail)], now_us=now_us)
        return True

    def counts(self) -> dict[str, int]:
        """Decisions held, by state."""
        with self._store.read() as conn:
            rows = conn.execute(select(DECISION.c.state, func.count()).group_by(DECISION.c.state))
            return {state: int(count) for state, count in rows}

    def object_of(self, origin: str, dataset: str, uid: str) -> str | None:
        """The object a record is about by an active link decision; None when no decision applies."""
        with self._store.read() as conn:
            found = conn.execute(
                select(DECISION.c.object_code).where(
                    (DECISION.c.kind == "link")
                    & (DECISION.c.origin == origin)
                    & (DECISION.c.dataset == dataset)
                    & (DECISION.c.uid == uid)
                    & DECISION.c.state.in_(ACTIVE_STATES)
                )
            ).scalar_one_or_none()
        return str(found) if found is not None else None
