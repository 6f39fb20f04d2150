"""Tables of a node's database (sqlmodel).

Exchange tables hold what travels: ``stream`` (per origin and dataset sequence
state), ``record`` (every record version held, as the exact bytes its origin
signed), ``batch`` (signed headers and hop signatures: the
provenance of every record), ``outbox`` (batches owed to the parent),
``child_link``, ``quarantine`` and ``intake_counter``. Thematic tables (``regulated_object``,
``inspection``) are projections of the records, rebuilt from them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "AUDIT",
    "BATCH",
    "CHILD",
    "INSPECTION",
    "INTAKE_COUNTER",
    "META",
    "OUTBOX",
    "QUARANTINE",
    "RECORD",
    "RECORD_KEY",
    "REGULATED_OBJECT",
    "SCHEMA_VERSION",
    "STREAM",
    "AuditRow",
    "BatchRow",
    "ChildLink",
    "InspectionRow",
    "IntakeCounterRow",
    "Meta",
    "OutboxRow",
    "QuarantineRow",
    "RecordKeyRow",
    "RecordRow",
    "RegulatedObjectRow",
    "StreamRow",
]

SCHEMA_VERSION = 5  # 4: quarantine findings/state/outcome, intake_counter; 5: subscription filters (see _migrate)


def _big(**kwargs: Any) -> Any:
    return Field(sa_column=Column(BigInteger, nullable=False, **kwargs))


class Meta(SQLModel, table=True):
    """Key/value facts about the database: schema version, owning node."""

    __tablename__: ClassVar[str] = "meta"
    key: str = Field(primary_key=True)
    value: str


class StreamRow(SQLModel, table=True):
    """One (origin, dataset) sequence as this node holds it."""

    __tablename__: ClassVar[str] = "stream"
    __table_args__ = (UniqueConstraint("origin", "dataset", name="uq_stream_origin_dataset"),)

    id: int | None = Field(default=None, primary_key=True)
    origin: str
    dataset: str
    received_from: str = ""  # child it arrives through; "" for this node's own records
    applied_seq: int = _big(default=0)  # highest contiguous seq held
    sealed_seq: int = _big(default=0)  # own streams: highest seq in a signed batch
    parent_acked_seq: int = _big(default=0)
    projected_seq: int = _big(default=0)  # highest seq applied to the thematic tables
    records: int = _big(default=0)
    unsealed_since_us: int = _big(default=0)
    updated_at_us: int = _big(default=0)
    last_ack_at_us: int = _big(default=0)


class RecordRow(SQLModel, table=True):
    """One record version, stored as the exact bytes its origin signed, by position.

    Applying a batch appends in key order and parses nothing: the key fields
    inside the bytes are read, checked and indexed (``record_key``) by the
    projector in bulk; random-order uid keys would cost a B-tree page write
    per record on the hot path.
    """

    __tablename__: ClassVar[str] = "record"
    __table_args__ = ({"sqlite_with_rowid": False},)

    stream_id: int = Field(sa_column=Column(Integer, primary_key=True))
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RecordKeyRow(SQLModel, table=True):
    """The idempotency key (origin, dataset, uid, version) of a record version, and where it is."""

    __tablename__: ClassVar[str] = "record_key"
    __table_args__ = ({"sqlite_with_rowid": False},)

    stream_id: int = Field(sa_column=Column(Integer, primary_key=True))
    uid: str = Field(primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    seq: int = _big()


class BatchRow(SQLModel, table=True):
    """A signed batch: its header, signature and hop chain (its records are in ``record``)."""

    __tablename__: ClassVar[str] = "batch"
    __table_args__ = (UniqueConstraint("stream_id", "first_seq", name="uq_batch_stream_first"),)

    id: int | None = Field(default=None, primary_key=True)
    stream_id: int = Field(index=True)
    first_seq: int = _big()
    last_seq: int = _big()
    header: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    hops: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # encoded hop chain incl. ours
    certificates: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # encoded DER certificates
    received_from: str = ""
    created_at_us: int = _big()
    received_at_us: int = _big()


class OutboxRow(SQLModel, table=True):
    """A batch owed to the parent; deleted once the parent acks it."""

    __tablename__: ClassVar[str] = "outbox"

    batch_id: int = Field(primary_key=True)
    stream_id: int
    last_seq: int = _big()
    records: int
    bytes: int = _big(default=0)  # size of those records
    state: str = "pending"  # pending | refused
    enqueued_at_us: int = _big()
    detail: str = ""


class ChildLink(SQLModel, table=True):
    """What this node has received from one child."""

    __tablename__: ClassVar[str] = "child_link"

    node_id: str = Field(primary_key=True)
    records_received: int = _big(default=0)
    batches_received: int = _big(default=0)
    last_batch_at_us: int = _big(default=0)


class QuarantineRow(SQLModel, table=True):
    """Input that was refused, kept whole with the reason."""

    __tablename__: ClassVar[str] = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # "ingest_row" | "batch" | "projection"
    source: str  # file:line, child node id, or origin/dataset/seq
    dataset: str = ""
    reason: str = Field(sa_column=Column(Text, nullable=False))  # every finding, joined with "; "
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at_us: int = _big()
    findings: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))  # JSON list
    state: str = Field(default="open", sa_column=Column(String, nullable=False, server_default="open"))
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # after replay
    updated_at_us: int = _big(default=0, server_default="0")


class IntakeCounterRow(SQLModel, table=True):
    """Records taken in per dataset and source, and what became of them (see ``_quarantine``).

    received = accepted + duplicates + quarantined + dismissed holds per row:
    every change moves a record between the right-hand terms in one transaction
    with the write it counts.
    """

    __tablename__: ClassVar[str] = "intake_counter"

    dataset: str = Field(primary_key=True)
    source: str = Field(primary_key=True)  # the file ingested, or "api"
    received: int = _big(default=0)
    accepted: int = _big(default=0)  # stored as a new record version
    duplicates: int = _big(default=0)  # same content as the version held: dropped, counted
    quarantined: int = _big(default=0)  # held in quarantine, open or fixed
    dismissed: int = _big(default=0)  # quarantined, then given up by an operator
    updated_at_us: int = _big(default=0)


class AuditRow(SQLModel, table=True):
    """One entry of the hash-chained audit log (see ``_audit``)."""

    __tablename__: ClassVar[str] = "audit"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at_us: int = _big()
    kind: str = Field(index=True)  # applied, refused, forwarded, sealed, ingested, ...
    subject: str  # what it is about: a batch, a node, a file
    detail: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    prev_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RegulatedObjectRow(SQLModel, table=True):
    """监管对象, current version per (origin, uid)."""

    __tablename__: ClassVar[str] = "regulated_object"
    __table_args__ = (Index("ix_regulated_object_credit_code", "credit_code"),)

    origin: str = Field(primary_key=True)
    uid: str = Field(primary_key=True)
    version: int = _big()
    deleted: bool = False
    credit_code: str
    name: str
    object_type: str
    region_code: str = Field(index=True)
    industry_code: str
    legal_representative: str
    established_on: str
    status: str
    registered_address: str
    operating_address: str


class InspectionRow(SQLModel, table=True):
    """行政检查, current version per (origin, uid)."""

    __tablename__: ClassVar[str] = "inspection"
    __table_args__ = (Index("ix_inspection_counterparty", "counterparty_cert_number"),)

    origin: str = Field(primary_key=True)
    uid: str = Field(primary_key=True)
    version: int = _big()
    deleted: bool = False
    action_number: str
    action_name: str
    action_date: str = Field(index=True)
    matter_code: str
    impl_list_code: str
    agency_name: str
    agency_credit_code: str
    counterparty_name: str
    counterparty_nature: str
    counterparty_cert_type: str
    counterparty_cert_number: str
    region_code: str = Field(sa_column=Column(String, nullable=False, index=True))
    plan_id: str
    form: str
    category: str
    method: str
    result: str
    inspectors: str  # "name:cert;name:cert"
    check_items: str  # "item:result;..."
    submitted_at_us: int = _big()
    submitter: str


STREAM = StreamRow.__table__  # type: ignore[attr-defined]
RECORD = RecordRow.__table__  # type: ignore[attr-defined]
RECORD_KEY = RecordKeyRow.__table__  # type: ignore[attr-defined]
BATCH = BatchRow.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
CHILD = ChildLink.__table__  # type: ignore[attr-defined]
QUARANTINE = QuarantineRow.__table__  # type: ignore[attr-defined]
META = Meta.__table__  # type: ignore[attr-defined]
REGULATED_OBJECT = RegulatedObjectRow.__table__  # type: ignore[attr-defined]
INSPECTION = InspectionRow.__table__  # type: ignore[attr-defined]
INTAKE_COUNTER = IntakeCounterRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditRow.__table__  # type: ignore[attr-defined]
