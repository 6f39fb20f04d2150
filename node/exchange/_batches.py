"""Sealing, verifying and forwarding signed batches; checking provenance.

An origin signs one header per batch; the header commits to its records through
an RFC 6962 Merkle root. A forwarding node passes the origin's header, signature
and record bytes on unchanged and appends a hop signature that chains to the
previous hop. Anyone holding a record, its batch header and an inclusion proof
can check it back to the origin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import methodcaller

from google.protobuf.message import DecodeError
from jgnode.exchange.v1 import admin_pb2, exchange_pb2

from governance.codes import is_within
from node.errors import BatchRejectedError, VerificationError
from node.merkle import inclusion_proof, leaf_hashes, root_from_leaves, verify_inclusion
from node.serde import stream_prefix
from node.settings import NODE_ID
from node.signing import KeyRing, Signer
from node.store import BatchData, StreamKey
from node.suites import SUITES, Digest, sha256, suite

# admit(certificates as DER, batch creation time in µs): trusts the keys they certify, or raises
Admit = Callable[[Sequence[bytes], int], object]

__all__ = [
    "Admit",
    "VerifiedBatch",
    "add_hop",
    "batch_id",
    "build_provenance",
    "decode_certificates",
    "decode_hops",
    "encode_certificates",
    "encode_hops",
    "seal",
    "verify_batch",
    "verify_provenance",
]

_OPS = (exchange_pb2.OPERATION_UPSERT, exchange_pb2.OPERATION_DELETE)


@dataclass(frozen=True, slots=True)
class VerifiedBatch:
    """A received batch whose signatures, root and record keys all checked out."""

    batch: BatchData  # hops: as received, without this node's hop
    hops: list[exchange_pb2.Hop]
    records: list[bytes]


def _digest_of(header: bytes) -> Digest:
    """The digest of the suite a serialized header names (SHA-256 when it names none it knows)."""
    try:
        name = exchange_pb2.BatchHeader.FromString(header).suite
    except DecodeError:
        return sha256
    return SUITES[name].digest if name in SUITES else sha256


def batch_id(header: bytes, digest: Digest | None = None) -> bytes:
    """Identity of a batch: the suite digest of its serialized header."""
    return (digest or _digest_of(header))(header)


def seal(signer: Signer, key: StreamKey, records: Sequence[bytes], *, first_seq: int, now_us: int) -> BatchData:
    """Build and sign the header of a batch of this node's records."""
    digest = suite(signer.suite).digest
    leaves = leaf_hashes(records, digest)
    header = exchange_pb2.BatchHeader(
        origin=key.origin,
        dataset=key.dataset,
        first_seq=first_seq,
        last_seq=first_seq + len(records) - 1,
        created_at_us=now_us,
        key_id=signer.key_id,
        suite=signer.suite,
        merkle_root=root_from_leaves(leaves, digest),
    ).SerializeToString()
    last_seq = first_seq + len(records) - 1
    return BatchData(
        key,
        first_seq,
        last_seq,
        header,
        signer.sign(header),
        encode_hops([]),
        now_us,
        encode_certificates(signer.chain),
    )


def _hop_digest(hop: exchange_pb2.Hop, digest: Digest) -> bytes:
    return digest(hop.statement + hop.signature)


def add_hop(
    signer: Signer, header: bytes, hops: Sequence[exchange_pb2.Hop], *, received_from: str, now_us: int
) -> list[exchange_pb2.Hop]:
    """The hop chain with this node's signed statement appended."""
    digest = _digest_of(header)
    statement = exchange_pb2.HopStatement(
        node_id=signer.node_id,
        received_from=received_from,
        received_at_us=now_us,
        batch_id=batch_id(header, digest),
        previous_hop=_hop_digest(hops[-1], digest) if hops else b"",
        key_id=signer.key_id,
        suite=signer.suite,
    ).SerializeToString()
    return [*hops, exchange_pb2.Hop(statement=statement, signature=signer.sign(statement))]


def encode_hops(hops: Sequence[exchange_pb2.Hop]) -> bytes:
    """Hop chain as stored bytes."""
    return exchange_pb2.HopChain(hops=hops).SerializeToString()


def encode_certificates(certificates: Iterable[bytes]) -> bytes:
    """Certificates (DER) as stored with a batch, each once, in first-seen order."""
    return exchange_pb2.CertificateSet(certificates=list(dict.fromkeys(certificates))).SerializeToString()


def decode_certificates(data: bytes) -> list[bytes]:
    """Stored bytes back to certificates (DER)."""
    return list(exchange_pb2.CertificateSet.FromString(data).certificates)


def decode_hops(data: bytes) -> list[exchange_pb2.Hop]:
    """Stored bytes back to a hop chain."""
    return list(exchange_pb2.HopChain.FromString(data).hops)


def _parse_header(data: bytes) -> exchange_pb2.BatchHeader:
    try:
        header = exchange_pb2.BatchHeader.FromString(data)
    except DecodeError as exc:
        raise BatchRejectedError(f"malformed batch header: {exc}") from exc
    if not NODE_ID.match(header.origin) or not header.dataset:
        raise BatchRejectedError(f"batch header has a bad origin {header.origin!r} or no dataset")
    if header.first_seq < 1 or header.last_seq < header.first_seq:
        raise BatchRejectedError(f"bad sequence range {header.first_seq}..{header.last_seq}")
    return header


def _verify_hops(
    header: exchange_pb2.BatchHeader, header_bytes: bytes, hops: Sequence[exchange_pb2.Hop], keyring: KeyRing
) -> None:
    """Each hop signed by its node, naming the batch and the previous hop, in tree order."""
    expected_from, previous = header.origin, b""
    digest = suite(header.suite).digest
    this_batch = batch_id(header_bytes, digest)
    for position, hop in enumerate(hops, start=1):
        try:
            statement = exchange_pb2.HopStatement.FromString(hop.statement)
        except DecodeError as exc:
            raise BatchRejectedError(f"hop {position}: malformed statement: {exc}") from exc
        if not NODE_ID.match(statement.node_id):
            raise BatchRejectedError(f"hop {position}: {statement.node_id!r} is not a node id")
        if statement.batch_id != this_batch:
            raise VerificationError(f"hop {position} ({statement.node_id}) signs a different batch")
        if statement.previous_hop != previous:
            raise VerificationError(f"hop {position} ({statement.node_id}) does not chain to hop {position - 1}")
        if statement.received_from != expected_from:
            raise VerificationError(
                f"hop {position} ({statement.node_id}) says it received from {statement.received_from}, "
                f"expected {expected_from}"
            )
        if not is_within(header.origin[:6], statement.node_id[:6]):
            raise VerificationError(f"hop {position}: {header.origin} is outside {statement.node_id}'s subtree")
        keyring.verify(
            key_id=statement.key_id,
            node_id=statement.node_id,
            suite=statement.suite,
            data=hop.statement,
            signature=hop.signature,
        )
        expected_from, previous = statement.node_id, _hop_digest(hop, digest)


def _verify_origin(header: exchange_pb2.BatchHeader, data: bytes, signature: bytes, keyring: KeyRing) -> None:
    """The origin's signature over the serialized header."""
    keyring.verify(key_id=header.key_id, node_id=header.origin, suite=header.suite, data=data, signature=signature)


def _last_hop_node(hops: Sequence[exchange_pb2.Hop]) -> str:
    return exchange_pb2.HopStatement.FromString(hops[-1].statement).node_id if hops else ""


def verify_batch(
    envelope: exchange_pb2.SignedBatch,
    *,
    sender: str,
    receiver: str,
    keyring: KeyRing,
    max_records: int,
    admit: Admit | None = None,
) -> VerifiedBatch:
    """Check a received batch completely; raise BatchRejectedError or VerificationError.

    Checks, in order of cost: header shape and size, that the sender may send
    it (the origin itself, or the last forwarding hop) and that the origin lies
    in the receiver's subtree, the certificates that came with it (through
    ``admit``, which adds their keys to ``keyring``), the origin's signature, that every record
    belongs to the header's stream, the Merkle root over the record bytes (which
    fixes their order and content), and the hop chain.
    """
    header = _parse_header(envelope.header)
    count = header.last_seq - header.first_seq + 1
    if count > max_records:
        raise BatchRejectedError(f"batch of {count} records exceeds the limit of {max_records}")
    if len(envelope.records) != count:
        raise BatchRejectedError(f"header covers {count} records, batch carries {len(envelope.records)}")
    if header.origin == receiver or not is_within(header.origin[:6], receiver[:6]):
        raise VerificationError(f"origin {header.origin} is not in {receiver}'s subtree")
    claimed_sender = _last_hop_node(envelope.hops) or header.origin
    if claimed_sender != sender:
        raise VerificationError(f"{sender} sent a batch that {claimed_sender} should have sent")
    if admit is not None:
        admit(envelope.certificates, header.created_at_us)
    _verify_origin(header, envelope.header, envelope.signature, keyring)
    records = list(envelope.records)  # one copy out of the message, used three times
    _check_records(header, records)
    digest = suite(header.suite).digest
    leaves = leaf_hashes(records, digest)
    if root_from_leaves(leaves, digest) != header.merkle_root:
        raise VerificationError("Merkle root does not match the records: batch altered in transit")
    _verify_hops(header, envelope.header, envelope.hops, keyring)
    batch = BatchData(
        StreamKey(header.origin, header.dataset),
        header.first_seq,
        header.last_seq,
        envelope.header,
        envelope.signature,
        encode_hops(envelope.hops),
        header.created_at_us,
        encode_certificates(envelope.certificates),
    )
    return VerifiedBatch(batch, list(envelope.hops), records)


def _check_records(header: exchange_pb2.BatchHeader, records: list[bytes]) -> None:
    """Every record must belong to the header's stream: a byte-prefix check, no parsing.

    Records are encoded in field order (every protobuf library does so), so a
    record of (origin, dataset) starts with exactly those two fields. The rest
    of each record (uid, version, seq) is read and checked by the projector.
    """
    prefix = stream_prefix(header.origin, header.dataset)
    if not all(map(methodcaller("startswith", prefix), records)):
        position = next(i for i, r in enumerate(records) if not r.startswith(prefix))
        raise BatchRejectedError(
            f"record {header.first_seq + position} does not belong to ({header.origin}, {header.dataset})"
        )


def build_provenance(
    *,
    header: bytes,
    signature: bytes,
    batch_records: Sequence[bytes],
    first_seq: int,
    seq: int,
    hops: bytes,
    certificates: bytes = b"",
    crls: Sequence[bytes] = (),
) -> admin_pb2.Provenance:
    """A record's provenance bundle from what the store keeps: its batch's header, records and hops."""
    digest = _digest_of(header)
    leaf_list = leaf_hashes(batch_records, digest)
    index = seq - first_seq
    return admin_pb2.Provenance(
        record=batch_records[index],
        header=header,
        signature=signature,
        leaf_index=index,
        tree_size=len(leaf_list),
        inclusion_proof=inclusion_proof(leaf_list, index, digest),
        hops=decode_hops(hops),
        certificates=decode_certificates(certificates) if certificates else [],
        crls=crls,
    )


def verify_provenance(bundle: admin_pb2.Provenance, keyring: KeyRing, admit: Admit | None = None) -> list[str]:
    """Check a record back to its origin; returns one line per check passed.

    Raises VerificationError (or BatchRejectedError for malformed parts) at the first
    failing check.
    """
    header = _parse_header(bundle.header)
    try:
        record = exchange_pb2.Record.FromString(bundle.record)
    except DecodeError as exc:
        raise BatchRejectedError(f"malformed record: {exc}") from exc
    if (record.origin, record.dataset) != (header.origin, header.dataset):
        raise VerificationError("record and batch header name different streams")
    if not header.first_seq <= record.seq <= header.last_seq or bundle.leaf_index != record.seq - header.first_seq:
        raise VerificationError(f"record seq {record.seq} is not at leaf {bundle.leaf_index} of its batch")
    if bundle.tree_size != header.last_seq - header.first_seq + 1:
        raise VerificationError("tree size does not match the batch's sequence range")
    digest = suite(header.suite).digest
    leaf = leaf_hashes([bundle.record], digest)[0]
    proof = bundle.inclusion_proof
    if not verify_inclusion(leaf, bundle.leaf_index, bundle.tree_size, proof, header.merkle_root, digest=digest):
        raise VerificationError("inclusion proof does not lead to the signed Merkle root")
    lines = [
        f"record {record.dataset}/{record.uid} v{record.version} is leaf {bundle.leaf_index} of "
        f"{bundle.tree_size} in batch {header.first_seq}..{header.last_seq}: inclusion proof OK "
        f"({len(bundle.inclusion_proof)} hashes)"
    ]
    if admit is not None:
        admit(bundle.certificates, header.created_at_us)
    _verify_origin(header, bundle.header, bundle.signature, keyring)
    lines.append(f"batch header signed by origin {header.origin} (key {header.key_id}): OK")
    _verify_hops(header, bundle.header, bundle.hops, keyring)
    for hop in bundle.hops:
        statement = exchange_pb2.HopStatement.FromString(hop.statement)
        lines.append(f"forwarded by {statement.node_id} from {statement.received_from} (key {statement.key_id}): OK")
    return lines
