"""Cleaning findings of ingested rows: what cleaning corrected, per row, kept with the rows it took in.

One row per correction (rule, field, value before, value after), keyed by the
input (``source``, the file as given), the row's line and the record uid it
became; written in the transaction that takes the row in, so a row's findings
exist exactly when the row was counted. A new table: ``create_all`` adds it to
an older database, so no migration step is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import BigInteger, Column, Index, Text, func, select
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

__all__ = ["FINDING", "IngestFinding", "IngestFindingRow", "counts", "insert", "rows"]


class IngestFindingRow(SQLModel, table=True):
    """One correction cleaning made to one ingested row."""

    __tablename__: ClassVar[str] = "ingest_finding"
    __table_args__ = (Index("ix_ingest_finding_source", "dataset", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset: str
    source: str  # the input (file path as given)
    line: int  # the row's line in it
    uid: str  # the record the row became ("" when it had none)
    rule: str  # governance.clean rule id: whitespace, width, date.format, enum.penalty_kind, ...
    field: str
    old: str = Field(sa_column=Column(Text, nullable=False))
    new: str = Field(sa_column=Column(Text, nullable=False))
    at_us: int = Field(sa_column=Column(BigInteger, nullable=False))


FINDING = IngestFindingRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class IngestFinding:
    """One correction as kept: where (source, line, uid) and what (rule, field, old, new)."""

    dataset: str
    source: str
    line: int
    uid: str
    rule: str
    field: str
    old: str
    new: str


def insert(conn: Connection, findings: Sequence[IngestFinding], now_us: int) -> None:
    """Keep ``findings``, inside the caller's write transaction."""
    if findings:
        conn.execute(
            FINDING.insert(),
            [
                {
                    "dataset": f.dataset,
                    "source": f.source,
                    "line": f.line,
                    "uid": f.uid,
                    "rule": f.rule,
                    "field": f.field,
                    "old": f.old,
                    "new": f.new,
                    "at_us": now_us,
                }
                for f in findings
            ],
        )


def rows(conn: Connection, *, dataset: str = "", source: str = "", limit: int = 0) -> list[IngestFinding]:
    """Findings kept, in the order they were made, optionally of one dataset and source."""
    query = select(
        FINDING.c.dataset,
        FINDING.c.source,
        FINDING.c.line,
        FINDING.c.uid,
        FINDING.c.rule,
        FINDING.c.field,
        FINDING.c.old,
        FINDING.c.new,
    ).order_by(FINDING.c.id)
    if dataset:
        query = query.where(FINDING.c.dataset == dataset)
    if source:
        query = query.where(FINDING.c.source == source)
    if limit:
        query = query.limit(limit)
    return [IngestFinding(*row) for row in conn.execute(query)]


def counts(conn: Connection, *, dataset: str = "", source: str = "") -> dict[str, int]:
    """Findings per rule, optionally of one dataset and source."""
    query = select(FINDING.c.rule, func.count()).group_by(FINDING.c.rule).order_by(FINDING.c.rule)
    if dataset:
        query = query.where(FINDING.c.dataset == dataset)
    if source:
        query = query.where(FINDING.c.source == source)
    return {rule: int(number) for rule, number in conn.execute(query)}
