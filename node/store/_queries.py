"""Read-side queries of the store: status, provenance, set digests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from node.merkle import leaf_hash
from node.store._schema import BATCH, CHILD, QUARANTINE, RECORD, RECORD_KEY, STREAM
from node.store._types import StreamKey

__all__ = [
    "ChildCounters",
    "KeyOf",
    "ProvenanceData",
    "StoreStatus",
    "StreamCounters",
    "provenance",
    "set_digest",
    "status",
]


@dataclass(frozen=True, slots=True)
class StreamCounters:
    """One stream as held."""

    key: StreamKey
    received_from: str
    records: int
    applied_seq: int
    sealed_seq: int
    parent_acked_seq: int
    last_ack_at_us: int
    projected_seq: int


@dataclass(frozen=True, slots=True)
class ChildCounters:
    """What arrived from one child."""

    node_id: str
    records_received: int
    batches_received: int
    last_batch_at_us: int


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """Counters of a node's database."""

    streams: list[StreamCounters]
    children: list[ChildCounters]
    quarantined: int
    first_received_at_us: int
    last_received_at_us: int


@dataclass(frozen=True, slots=True)
class ProvenanceData:
    """A record version with the batch that carried it."""

    key: StreamKey
    seq: int
    version: int
    body: bytes
    header: bytes
    signature: bytes
    batch_records: list[bytes]  # every record of the batch, in order: the Merkle leaves
    first_seq: int
    hops: bytes
    certificates: bytes


def status(conn: Connection) -> StoreStatus:
    """Counters per stream and per child."""
    streams = [
        StreamCounters(StreamKey(o, d), rf, n, applied, sealed, acked, ack_at, projected)
        for o, d, rf, n, applied, sealed, acked, ack_at, projected in conn.execute(
            select(
                STREAM.c.origin,
                STREAM.c.dataset,
                STREAM.c.received_from,
                STREAM.c.records,
                STREAM.c.applied_seq,
                STREAM.c.sealed_seq,
                STREAM.c.parent_acked_seq,
                STREAM.c.last_ack_at_us,
                STREAM.c.projected_seq,
            ).order_by(STREAM.c.origin, STREAM.c.dataset)
        )
    ]
    children = [
        ChildCounters(*row)
        for row in conn.execute(
            select(CHILD.c.node_id, CHILD.c.records_received, CHILD.c.batches_received, CHILD.c.last_batch_at_us)
        )
    ]
    held = QUARANTINE.c.state.in_(["open", "fixed"])  # replayed and dismissed entries are kept, no longer held
    quarantined = conn.execute(select(func.count()).select_from(QUARANTINE).where(held)).scalar_one()
    first, last = conn.execute(
        select(
            func.coalesce(func.min(BATCH.c.received_at_us), 0),
            func.coalesce(func.max(BATCH.c.received_at_us), 0),
        ).where(BATCH.c.received_from != "")
    ).one()
    return StoreStatus(streams, children, int(quarantined), int(first), int(last))


# record bytes -> (uid, version); the store itself never parses records
KeyOf = Callable[[bytes], tuple[str, int]]


def _versions_of(
    conn: Connection, stream_id: int, uid: str, *, projected_seq: int, version: int, key_of: KeyOf
) -> list[tuple[int, int]]:
    """(version, seq) of ``uid`` in a stream: from the key index, plus the tail not yet indexed."""
    indexed = select(RECORD_KEY.c.version, RECORD_KEY.c.seq).where(
        (RECORD_KEY.c.stream_id == stream_id) & (RECORD_KEY.c.uid == uid)
    )
    if version:
        indexed = indexed.where(RECORD_KEY.c.version == version)
    found = [(int(v), int(s)) for v, s in conn.execute(indexed)]
    tail = select(RECORD.c.seq, RECORD.c.body).where((RECORD.c.stream_id == stream_id) & (RECORD.c.seq > projected_seq))
    for seq, body in conn.execution_options(yield_per=2000).execute(tail):
        held_uid, held_version = key_of(body)
        if held_uid == uid and (not version or held_version == version):
            found.append((held_version, int(seq)))
    return found


def provenance(
    conn: Connection, uid: str, *, key_of: KeyOf, dataset: str = "", origin: str = "", version: int = 0
) -> list[ProvenanceData]:
    """Every matching record version (the latest per stream unless ``version``) and its batch."""
    streams = select(STREAM.c.id, STREAM.c.origin, STREAM.c.dataset, STREAM.c.projected_seq).order_by(STREAM.c.id)
    if dataset:
        streams = streams.where(STREAM.c.dataset == dataset)
    if origin:
        streams = streams.where(STREAM.c.origin == origin)
    found = []
    for stream_id, o, d, projected in conn.execute(streams).all():
        versions = _versions_of(conn, stream_id, uid, projected_seq=projected, version=version, key_of=key_of)
        if not versions:
            continue
        ver, seq = max(versions)
        batch = conn.execute(
            select(
                BATCH.c.header,
                BATCH.c.signature,
                BATCH.c.first_seq,
                BATCH.c.last_seq,
                BATCH.c.hops,
                BATCH.c.certificates,
            )
            .where((BATCH.c.stream_id == stream_id) & (BATCH.c.first_seq <= seq) & (BATCH.c.last_seq >= seq))
            .order_by(BATCH.c.first_seq.desc())
            .limit(1)
        ).one_or_none()
        if batch is None:
            continue  # an own record not sealed yet: no provenance to show
        header, signature, first, last, hops, certificates = batch
        records = list(
            conn.execute(
                select(RECORD.c.body)
                .where((RECORD.c.stream_id == stream_id) & RECORD.c.seq.between(first, last))
                .order_by(RECORD.c.seq)
            )
            .scalars()
            .all()
        )
        found.append(
            ProvenanceData(
                StreamKey(o, d), seq, ver, records[seq - first], header, signature, records, first, hops, certificates
            )
        )
    return found


def set_digest(conn: Connection, *, dataset: str = "", origin: str = "") -> tuple[int, int]:
    """(count, sum of leaf hashes mod 2^256) of the record versions held: order-independent."""
    query = select(RECORD.c.body).join(STREAM, STREAM.c.id == RECORD.c.stream_id)
    if dataset:
        query = query.where(STREAM.c.dataset == dataset)
    if origin:
        query = query.where(STREAM.c.origin == origin)
    count = total = 0
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    for body in result.scalars():
        count += 1
        total += int.from_bytes(leaf_hash(body), "big")
    return count, total % (1 << 256)
