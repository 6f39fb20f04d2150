"""The exchange engine: sealing, sending, receiving and verifying signed batches."""

from node.exchange._batches import (
    VerifiedBatch,
    add_hop,
    batch_id,
    build_provenance,
    decode_hops,
    encode_hops,
    seal,
    verify_batch,
    verify_provenance,
)
from node.exchange._receiver import Applied, Children, ChildState, Receiver
from node.exchange._sealer import Sealer
from node.exchange._uplink import Uplink, UplinkState

__all__ = [
    "Applied",
    "ChildState",
    "Children",
    "Receiver",
    "Sealer",
    "Uplink",
    "UplinkState",
    "VerifiedBatch",
    "add_hop",
    "batch_id",
    "build_provenance",
    "decode_hops",
    "encode_hops",
    "seal",
    "verify_batch",
    "verify_provenance",
]
