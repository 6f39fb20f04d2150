"""Receiving side of the exchange: verify, apply, ack; track children."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from jgnode.exchange.v1 import exchange_pb2

from governance.codes import is_within
from node.errors import BatchRejectedError, VerificationError
from node.exchange._batches import add_hop, encode_hops, verify_batch
from node.settings import NODE_ID
from node.signing import KeyRing, Signer
from node.store import Store

__all__ = ["ChildState", "Children", "Receiver"]

log = logging.getLogger("jgnode.receiver")
_STATUS = {
    "applied": exchange_pb2.ACK_STATUS_APPLIED,
    "duplicate": exchange_pb2.ACK_STATUS_DUPLICATE,
    "gap": exchange_pb2.ACK_STATUS_GAP,
}


@dataclass(slots=True)
class ChildState:
    """What a child last told us about itself while connected."""

    streams_open: int = 0
    pending_records: int = 0
    oldest_pending_us: int = 0


class Children:
    """Live state of child connections (counters that survive restarts are in the store)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, ChildState] = {}

    def opened(self, child: str) -> None:
        """A push stream from ``child`` started."""
        with self._lock:
            self._state.setdefault(child, ChildState()).streams_open += 1

    def closed(self, child: str) -> None:
        """A push stream from ``child`` ended."""
        with self._lock:
            self._state[child].streams_open -= 1

    def reported(self, child: str, report: exchange_pb2.SenderReport) -> None:
        """The child told us its backlog."""
        with self._lock:
            state = self._state.setdefault(child, ChildState())
            state.pending_records = report.pending_records
            state.oldest_pending_us = report.oldest_pending_us

    def snapshot(self) -> dict[str, ChildState]:
        """A copy of every child's state."""
        with self._lock:
            return {child: dataclasses.replace(state) for child, state in self._state.items()}


class Receiver:
    """Verifies and applies batches from children; refused batches go to quarantine."""

    def __init__(
        self,
        *,
        store: Store,
        keyring: KeyRing,
        signer: Signer,
        forward: bool,
        max_records: int,
        allowed_children: tuple[str, ...],
        clock: Callable[[], int],
        on_applied: Callable[[], None],
    ) -> None:
        """Wire the receiver; ``forward`` is True when this node has a parent."""
        self._store = store
        self._keyring = keyring
        self._signer = signer
        self._forward = forward
        self._max_records = max_records
        self._allowed = allowed_children
        self._clock = clock
        self._on_applied = on_applied
        self.rejected = 0

    @property
    def node_id(self) -> str:
        """This node's id."""
        return self._signer.node_id

    def admit(self, child: str) -> None:
        """Raise VerificationError unless ``child`` may push to this node."""
        if not NODE_ID.match(child):
            raise VerificationError(f"caller did not state a valid node id (got {child!r})")
        if self._allowed and child not in self._allowed:
            raise VerificationError(f"{child} is not a configured child of {self.node_id}")
        if child == self.node_id or not is_within(child[:6], self.node_id[:6]):
            raise VerificationError(f"{child} is not in {self.node_id}'s subtree")
        if child not in self._keyring.node_ids():
            raise VerificationError(f"no trusted key for {child}")

    def receive(self, envelope: exchange_pb2.SignedBatch, sender: str) -> exchange_pb2.Ack:
        """Verify and apply one batch; the ack says what happened. Never raises for bad input."""
        now = self._clock()
        try:
            verified = verify_batch(
                envelope, sender=sender, receiver=self.node_id, keyring=self._keyring, max_records=self._max_records
            )
        except (VerificationError, BatchRejectedError) as exc:
            return self._refuse(envelope, sender, exc, now)
        batch = verified.batch
        if self._forward:
            hops = add_hop(self._signer, batch.header, verified.hops, received_from=sender, now_us=now)
            batch = dataclasses.replace(batch, hops=encode_hops(hops))
        outcome = self._store.apply_batch(
            batch, verified.records, received_from=sender, now_us=now, to_parent=self._forward
        )
        if outcome.status == "applied":
            self._on_applied()
        elif outcome.status == "gap":
            log.warning(
                "%s/%s from %s starts at %d, %d applied: asking to resend",
                batch.key.origin,
                batch.key.dataset,
                sender,
                batch.first_seq,
                outcome.applied_seq,
            )
        return exchange_pb2.Ack(
            origin=batch.key.origin,
            dataset=batch.key.dataset,
            applied_seq=outcome.applied_seq,
            status=_STATUS[outcome.status],
            batch_last_seq=batch.last_seq,
        )

    def _refuse(self, envelope: exchange_pb2.SignedBatch, sender: str, exc: Exception, now: int) -> exchange_pb2.Ack:
        self.rejected += 1
        header = exchange_pb2.BatchHeader()
        try:
            header.ParseFromString(envelope.header)
        except DecodeError:
            header.Clear()
        reason = f"{type(exc).__name__}: {exc}"
        log.error(
            "refused batch %s/%s %d..%d from %s: %s",
            header.origin,
            header.dataset,
            header.first_seq,
            header.last_seq,
            sender,
            reason,
        )
        self._store.quarantine(
            kind="batch",
            source=sender,
            dataset=header.dataset,
            reason=reason,
            raw=envelope.SerializeToString(),
            now_us=now,
        )
        return exchange_pb2.Ack(
            origin=header.origin,
            dataset=header.dataset,
            status=exchange_pb2.ACK_STATUS_REJECTED,
            detail=reason,
            batch_last_seq=header.last_seq,
        )
