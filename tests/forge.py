"""Hand-crafted exchange traffic for adversarial tests: records, signed batches, raw pushes over mutual TLS.

A :class:`Sender` speaks the Push protocol byte by byte with a node's own
certificate and keys, so a test can send exactly what a misbehaving (or
compromised) child would: forged signatures, altered records, garbage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import grpc
from jgnode.exchange.v1 import exchange_pb2

from adapters.sample_data import SampleGenerator
from node.exchange import seal
from node.grpc_util import Transport
from node.serde import OP_UPSERT, encode_record, pack_payload
from node.settings import NodeSettings
from node.signing import Signer, generate_signing_key, load_signer
from node.store import StreamKey
from node.trust import load_anchors, load_identity

PUSH = "/jgnode.exchange.v1.Exchange/Push"
DATASET = "regulated_object"
EVENT_TIME_US = 1_700_000_000_000_000  # fixed, so the same records always have the same bytes
CREATED_AT_US = 1_700_000_000_000_000

Message = exchange_pb2.PushRequest | exchange_pb2.SignedBatch | bytes


def record_bytes(origin: str, *, first_seq: int, count: int, seed: int = 1) -> list[bytes]:
    """Signed-record bytes of regulated objects ``first_seq..first_seq+count-1`` of ``origin``'s stream.

    The object at position ``seq`` is always the same one, so batches of one
    stream never repeat a uid.
    """
    objects = SampleGenerator(seed, origin[:6]).enterprises(first_seq + count - 1)[first_seq - 1 :]
    return [
        encode_record(
            origin=origin,
            dataset=DATASET,
            uid=item.uid,
            version=1,
            seq=first_seq + index,
            op=OP_UPSERT,
            event_time_us=EVENT_TIME_US,
            payload=pack_payload(item),
        )
        for index, item in enumerate(objects)
    ]


def signed_batch(
    signer: Signer, records: Sequence[bytes], *, first_seq: int, origin: str = ""
) -> exchange_pb2.SignedBatch:
    """A batch sealed and signed exactly as the node's own sealer does it."""
    key = StreamKey(origin or signer.node_id, DATASET)
    data = seal(signer, key, records, first_seq=first_seq, now_us=CREATED_AT_US)
    return exchange_pb2.SignedBatch(
        header=data.header, signature=data.signature, records=records, certificates=signer.chain
    )


def resigned(
    envelope: exchange_pb2.SignedBatch, signer: Signer, change: Callable[[exchange_pb2.BatchHeader], None]
) -> exchange_pb2.SignedBatch:
    """A copy of ``envelope`` whose header was changed by ``change`` and signed again by ``signer``."""
    header = exchange_pb2.BatchHeader.FromString(envelope.header)
    change(header)
    forged = exchange_pb2.SignedBatch()
    forged.CopyFrom(envelope)
    forged.header = header.SerializeToString()
    forged.signature = signer.sign(forged.header)
    return forged


def rogue_signer(signer: Signer, folder: Path) -> Signer:
    """A fresh key of ``signer``'s suite, presented with ``signer``'s node id and certificates."""
    path = folder / f"rogue-{signer.suite}.key"
    generate_signing_key(path, path.with_suffix(".pub"), signer.suite)
    return dataclasses.replace(load_signer(signer.node_id, path, signer.suite), chain=signer.chain)


def with_duplicate_extension(der: bytes) -> bytes:
    """A certificate that parses, but whose extensions do not: its key identifier turned into a second SAN.

    (The signature no longer matches, but the extensions are read before any signature is checked.)
    """
    ski, san = bytes.fromhex("0603551d0e"), bytes.fromhex("0603551d11")  # OIDs 2.5.29.14 and 2.5.29.17
    assert der.count(ski) == 1
    return der.replace(ski, san)


def to_bytes(message: Message) -> bytes:
    """What goes on the wire for one Push message."""
    if isinstance(message, exchange_pb2.SignedBatch):
        message = exchange_pb2.PushRequest(batch=message)
    return message if isinstance(message, bytes) else message.SerializeToString()


@dataclasses.dataclass(frozen=True)
class Sender:
    """A child node's identity (certificate, TLS and signing keys) used to push whatever a test wants."""

    settings: NodeSettings
    signer: Signer
    transport: Transport

    @classmethod
    def of(cls, settings: NodeSettings) -> Sender:
        """The sender for a node folder made with ``make_node_dir`` (or any enrolled node)."""
        anchors = load_anchors(settings.ca_path.read_bytes(), str(settings.ca_path))
        signer, _chain = load_identity(settings, anchors)
        return cls(settings, signer, Transport(settings))

    @property
    def node_id(self) -> str:
        """The node id this sender's certificate names."""
        return self.settings.node_id

    def batch(self, first_seq: int, count: int) -> exchange_pb2.SignedBatch:
        """A valid batch of this node's own records."""
        return signed_batch(
            self.signer, record_bytes(self.node_id, first_seq=first_seq, count=count), first_seq=first_seq
        )

    def push(
        self,
        address: str,
        *messages: Message,
        peer_id: str = "330100",
        metadata: Sequence[tuple[str, str | bytes]] = (),
    ) -> list[exchange_pb2.Ack]:
        """Send ``messages`` on one Push stream and return every ack; grpc.RpcError if the call fails.

        ``metadata`` replaces what the node's transport would send.
        """
        with self.transport.channel(address, peer_id=peer_id) as channel:
            call = channel.stream_stream(
                PUSH, request_serializer=None, response_deserializer=exchange_pb2.Ack.FromString
            )
            sent = tuple(metadata) or self.transport.metadata()
            replies = call(iter([to_bytes(m) for m in messages]), metadata=sent, timeout=30)
            return list(cast("list[exchange_pb2.Ack]", list(replies)))


def status_code(error: grpc.RpcError) -> grpc.StatusCode:
    """The status code of a failed call."""
    return cast("grpc.Call", error).code()


def status_detail(error: grpc.RpcError) -> str:
    """The detail message of a failed call."""
    return str(cast("grpc.Call", error).details())
