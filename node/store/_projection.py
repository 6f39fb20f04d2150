"""Projection of record versions into the thematic tables.

The record table is the source of truth (it carries provenance); thematic
tables hold the current version per (origin, uid) for queries and analytics.
They are filled in bulk behind a per-stream watermark, so the exchange path
acks without waiting for them and a table can always be rebuilt from records.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, select, update

from governance import INSPECTION, REGULATED_OBJECT, Inspection, RegulatedObject
from node.store._engine import BulkInsert
from node.store._schema import INSPECTION as INSPECTION_TABLE
from node.store._schema import REGULATED_OBJECT as OBJECT_TABLE
from node.store._schema import STREAM

__all__ = [
    "PROJECTED_DATASETS",
    "ProjectedRow",
    "held_uids",
    "project_rows",
    "projection_backlog",
    "thematic_layout",
    "upsert_thematic",
]

# (seq, uid, version, domain record, or its thematic values as a tuple, or None for a tombstone)
ProjectedRow = tuple[int, str, int, Any]
_KEYS = ("origin", "uid", "version", "deleted")  # the columns of a thematic row that are not the record's


def _object_columns(record: RegulatedObject) -> dict[str, Any]:
    return {
        "credit_code": record.credit_code,
        "name": record.name,
        "object_type": record.object_type,
        "region_code": record.region_code,
        "industry_code": record.industry_code,
        "legal_representative": record.legal_representative,
        "established_on": record.established_on,
        "status": record.status,
        "registered_address": record.registered_address,
        "operating_address": record.operating_address,
    }


def _inspection_columns(record: Inspection) -> dict[str, Any]:
    header, party = record.header, record.header.counterparty
    return {
        "action_number": record.action_number,
        "action_name": record.action_name,
        "action_date": record.action_date,
        "matter_code": header.matter_code,
        "impl_list_code": header.impl_list_code,
        "agency_name": header.agency_name,
        "agency_credit_code": header.agency_credit_code,
        "counterparty_name": party.name,
        "counterparty_nature": party.nature,
        "counterparty_cert_type": party.cert_type,
        "counterparty_cert_number": party.cert_number,
        "region_code": header.region_code,
        "plan_id": record.plan_id,
        "form": record.form,
        "category": record.category,
        "method": record.method,
        "result": record.result,
        "inspectors": ";".join(f"{i.name}:{i.cert_number}" for i in record.inspectors),
        "check_items": ";".join(f"{c.item}:{c.result}" for c in record.check_items),
        "submitted_at_us": header.submitted_at_us,
        "submitter": header.submitter,
    }


_IN_CHUNK = 500
# built once per engine and dataset; gone with the engine
_upserts: weakref.WeakKeyDictionary[Engine, dict[str, BulkInsert]] = weakref.WeakKeyDictionary()

# dataset -> (table, record class, columns of a record)
PROJECTED_DATASETS: dict[str, tuple[Table, type, Callable[[Any], dict[str, Any]]]] = {
    REGULATED_OBJECT: (OBJECT_TABLE, RegulatedObject, _object_columns),
    INSPECTION: (INSPECTION_TABLE, Inspection, _inspection_columns),
}


def thematic_layout(dataset: str) -> tuple[tuple[str, ...], Callable[[Any], dict[str, Any]]] | None:
    """The columns a record of ``dataset`` fills in its thematic table, and how from a domain record; None: no table.

    A :class:`~node.store.NewRecord` may carry these values (a tuple in this
    column order) instead of its domain record.
    """
    spec = PROJECTED_DATASETS.get(dataset)
    if spec is None:
        return None
    table, _cls, to_columns = spec
    return tuple(c.name for c in table.columns if c.name not in _KEYS), to_columns


def held_uids(conn: Connection, dataset: str, uids: Sequence[str]) -> set[str]:
    """Which of ``uids`` name a live (not deleted) record of ``dataset`` from any origin, in its thematic table."""
    spec = PROJECTED_DATASETS.get(dataset)
    if spec is None or not uids:
        return set()
    table = spec[0]
    found: set[str] = set()
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), _IN_CHUNK):
        query = select(table.c.uid).where(table.c.uid.in_(ordered[start : start + _IN_CHUNK]) & ~table.c.deleted)
        found.update(conn.execute(query).scalars())
    return found


def projection_backlog(conn: Connection, limit: int) -> list[tuple[int, str, str, int, int]]:
    """Streams with records not yet projected: (stream id, origin, dataset, projected, applied)."""
    return list(
        conn.execute(
            select(STREAM.c.id, STREAM.c.origin, STREAM.c.dataset, STREAM.c.projected_seq, STREAM.c.applied_seq)
            .where(STREAM.c.applied_seq > STREAM.c.projected_seq)
            .order_by(STREAM.c.id)
            .limit(limit)
        )
    )


def project_rows(
    engine: Engine,
    conn: Connection,
    *,
    stream_id: int,
    origin: str,
    dataset: str,
    rows: Sequence[ProjectedRow],
    up_to_seq: int,
) -> None:
    """Upsert the newest version of each row (tombstones mark ``deleted``) and move the watermark."""
    upsert_thematic(engine, conn, origin=origin, dataset=dataset, rows=rows)
    # never backwards: the ingest of own records may have projected further already
    conn.execute(
        update(STREAM)
        .where((STREAM.c.id == stream_id) & (STREAM.c.projected_seq < up_to_seq))
        .values(projected_seq=up_to_seq)
    )


def upsert_thematic(
    engine: Engine, conn: Connection, *, origin: str, dataset: str, rows: Sequence[ProjectedRow]
) -> None:
    """Write the newest version of each row into the dataset's thematic table, if it has one."""
    spec = PROJECTED_DATASETS.get(dataset)
    if spec is not None and rows:
        table, _cls, to_columns = spec
        # newest live version and newest tombstone per uid: one statement must not
        # touch a row twice (PostgreSQL refuses), and a tombstone must find its row
        live: dict[str, ProjectedRow] = {}
        dead: dict[str, ProjectedRow] = {}
        for row in rows:
            newest = live if row[3] is not None else dead
            if row[1] not in newest or row[2] > newest[row[1]][2]:
                newest[row[1]] = row
        if live:
            prepared = _upserts.setdefault(engine, {})
            upsert = prepared.get(dataset)
            if upsert is None:
                columns = [c.name for c in table.columns]
                upsert = prepared[dataset] = BulkInsert(engine, table, columns, upsert_newer_on=("origin", "uid"))
            if tuple(upsert.columns[:4]) == _KEYS:  # thematic values of the fast path go in as they are
                values = [
                    (origin, uid, version, False, *record)
                    if isinstance(record, tuple)
                    else _thematic_row(upsert.columns, origin, (seq, uid, version, record), to_columns)
                    for seq, uid, version, record in live.values()
                ]
            else:
                values = [_thematic_row(upsert.columns, origin, row, to_columns) for row in live.values()]
            upsert.run(conn, values)
        for _seq, uid, version, _record in dead.values():
            conn.execute(
                update(table)
                .where((table.c.origin == origin) & (table.c.uid == uid) & (table.c.version < version))
                .values(deleted=True, version=version)
            )


def _thematic_row(
    columns: Sequence[str], origin: str, row: ProjectedRow, to_columns: Callable[[Any], dict[str, Any]]
) -> tuple[Any, ...]:
    """One row of the table's upsert, in ``columns`` order."""
    _seq, uid, version, record = row
    values = (
        dict(zip([c for c in columns if c not in _KEYS], record, strict=True)) if isinstance(record, tuple) else None
    )
    named = {"origin": origin, "uid": uid, "version": version, "deleted": False, **(values or to_columns(record))}
    return tuple(named[c] for c in columns)
