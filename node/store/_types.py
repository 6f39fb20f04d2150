"""Plain values that go in and out of the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

__all__ = [
    "AppendResult",
    "ApplyOutcome",
    "BacklogGuard",
    "BatchData",
    "NewRecord",
    "PendingBatch",
    "StreamKey",
]


class BacklogGuard(Protocol):
    """Why no more may be taken, given what the caller is about to add ("" while there is room)."""

    def __call__(self, records: int = 0, size: int = 0) -> str: ...


@dataclass(frozen=True, slots=True)
class StreamKey:
    """An (origin, dataset) sequence."""

    origin: str
    dataset: str


@dataclass(frozen=True, slots=True)
class BatchData:
    """A signed batch as the store keeps it (records are stored apart)."""

    key: StreamKey
    first_seq: int
    last_seq: int
    header: bytes  # serialized, signed header
    signature: bytes
    hops: bytes  # encoded hop chain, this node's hop included when it forwards
    created_at_us: int
    certificates: bytes = b""  # encoded certificates vouching for the origin and every hop

    @property
    def size(self) -> int:
        """Records the batch covers."""
        return self.last_seq - self.first_seq + 1


class NewRecord(NamedTuple):
    """A record this node collected, before it has a version and a sequence number.

    A named tuple rather than a dataclass: bulk ingest makes one per row, and a
    tuple is built in a third of the time.
    """

    uid: str
    op: int
    event_time_us: int
    payload: bytes  # opaque to the store; the encoder turns it into record bytes
    record: Any = None  # the domain record, to fill the thematic table at once (None: tombstone)
    thematic: tuple[Any, ...] | None = None  # or its thematic columns already worked out (see thematic_layout)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append of own records did."""

    appended: int
    duplicates: int
    first_seq: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """Result of applying a received batch."""

    status: Literal["applied", "duplicate", "gap"]
    applied_seq: int
    records: int
    batch_id: int = 0  # local id of the stored batch when applied


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A batch owed to the parent, with everything needed to send it."""

    batch_id: int
    stream: StreamKey
    first_seq: int
    last_seq: int
    header: bytes
    signature: bytes
    hops: bytes
    records: list[bytes]
    created_at_us: int
    certificates: bytes


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """Batches owed to the parent."""

    records: int  # in batches owed to the parent (refused ones included)
    batches: int
    oldest_enqueued_us: int
    refused_batches: int  # parked after the parent refused them; their streams are held back
    bytes: int = 0
    unsealed_records: int = 0  # own records not yet in a signed batch
    unsealed_bytes: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A batch the parent refused, parked with the reason it gave."""

    batch_id: int
    stream: StreamKey
    first_seq: int
    last_seq: int
    enqueued_at_us: int
    reason: str
