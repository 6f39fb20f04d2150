"""Receiving side of the exchange: verify, apply, ack; track children."""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import grpc
from google.protobuf.message import DecodeError
from jgnode.exchange.v1 import exchange_pb2

from governance.codes import is_within
from node.errors import BackpressureError, BatchRejectedError, VerificationError
from node.exchange._batches import add_hop, encode_certificates, encode_hops, verify_batch
from node.settings import NODE_ID
from node.signing import Signer
from node.store import BacklogGuard, BatchData, Store
from node.trust import TrustStore

__all__ = ["Applied", "ChildState", "Children", "Receiver"]

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


@dataclass(slots=True)
class _Pending:
    batch: BatchData
    records: list[bytes]
    sender: str
    future: Future[exchange_pb2.Ack]


@dataclass(frozen=True, slots=True)
class Applied:
    """A batch just committed: what the uplink needs to forward it without reading it back."""

    batch_id: int
    batch: BatchData
    records: list[bytes]


_QUARANTINE_CAP = 1024 * 1024  # bytes of a refused message kept (oversize ones are cut, and say so)


class Receiver:
    """Verifies batches from children and applies them in a writer thread with group commit.

    Verification runs in the caller's thread (one per push stream) while the
    writer thread commits earlier batches, so checking and storing overlap.
    Batches waiting for the writer are bounded; a full queue blocks the stream,
    which slows the child through gRPC flow control instead of growing memory.
    Refused batches go to quarantine and the audit log and get a REJECTED ack
    carrying the gRPC status code and the reason.
    """

    def __init__(
        self,
        *,
        store: Store,
        trust: TrustStore,
        signer: Callable[[], Signer],
        forward: bool,
        max_records: int,
        allowed_children: tuple[str, ...],
        clock: Callable[[], int],
        on_applied: Callable[[list[Applied]], None],
        backlog: BacklogGuard | None = None,
        queue_batches: int = 8,
        group_records: int = 20_000,
    ) -> None:
        """Wire the receiver; ``forward`` is True when this node has a parent.

        ``backlog`` says why this node cannot take more (its own outbox is full),
        or "" when it can.
        """
        self._store = store
        self._trust = trust
        self._signer = signer
        self._forward = forward
        self._max_records = max_records
        self._allowed = allowed_children
        self._clock = clock
        self._on_applied = on_applied
        self._backlog = backlog
        self._group_records = group_records
        self._queue: queue.Queue[_Pending | None] = queue.Queue(maxsize=queue_batches)
        self._writer = threading.Thread(target=self._write_loop, name="applier", daemon=True)
        self.rejected = 0
        self.callers_refused = 0
        self.trust_refused = 0

    @property
    def node_id(self) -> str:
        """This node's id."""
        return self._signer().node_id

    def start(self) -> None:
        """Start the writer thread."""
        self._writer.start()

    def stop(self) -> None:
        """Finish the batches queued so far, then stop the writer."""
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join(timeout=60)

    def admit(self, child: str) -> None:
        """Raise VerificationError unless ``child`` may push to this node."""
        if not NODE_ID.match(child):
            raise VerificationError(f"caller did not state a valid node id (got {child!r})")
        if self._allowed and child not in self._allowed:
            raise VerificationError(f"{child} is not a configured child of {self.node_id}")
        if child == self.node_id or not is_within(child[:6], self.node_id[:6]):
            raise VerificationError(f"{child} is not in {self.node_id}'s subtree")
        if not self._trust.pki and child not in self._trust.keyring.node_ids():
            raise VerificationError(f"no trusted key for {child}")

    def record_refused_caller(self, peer: str, reason: str) -> None:
        """A connection was turned away: count it and keep it in the audit log."""
        self.callers_refused += 1
        self._store.audit([("caller_refused", peer, {"reason": reason})], now_us=self._clock())

    def record_refused_trust(self, child: str, reason: str) -> None:
        """CA certificates or CRLs a child relayed were not usable: count it and keep it in the audit log."""
        self.trust_refused += 1
        self._store.audit([("refused", f"trust material from {child}", {"reason": reason})], now_us=self._clock())

    def receive(self, envelope: exchange_pb2.SignedBatch, sender: str) -> exchange_pb2.Ack:
        """Verify and apply one batch and wait for its ack."""
        return self.submit(envelope, sender).result()

    def submit(self, envelope: exchange_pb2.SignedBatch, sender: str) -> Future[exchange_pb2.Ack]:
        """Verify a batch now and queue it for the writer; the future holds its ack.

        Bad input never raises: it is quarantined and answered with a REJECTED
        ack. BackpressureError is raised when this node's own outbox is full
        (the stream ends with RESOURCE_EXHAUSTED and the child retries later);
        the future fails with StoreError only if the database does.
        """
        records = envelope.records
        busy = self._backlog(len(records), sum(map(len, records))) if self._backlog and self._forward else ""
        if busy:
            raise BackpressureError(busy)
        future: Future[exchange_pb2.Ack] = Future()
        now = self._clock()
        try:
            verified = verify_batch(
                envelope,
                sender=sender,
                receiver=self.node_id,
                keyring=self._trust.keyring,
                max_records=self._max_records,
                admit=self._admit_certificates,
            )
        except (VerificationError, BatchRejectedError) as exc:
            future.set_result(self._refuse(envelope.SerializeToString(), envelope.header, sender, exc, now))
            return future
        batch = verified.batch
        if self._forward:
            signer = self._signer()
            hops = add_hop(signer, batch.header, verified.hops, received_from=sender, now_us=now)
            certificates = encode_certificates([*envelope.certificates, *signer.chain])
            batch = dataclasses.replace(batch, hops=encode_hops(hops), certificates=certificates)
        self._queue.put(_Pending(batch, verified.records, sender, future))
        return future

    def _admit_certificates(self, certificates: Sequence[bytes], at_us: int) -> None:
        self._trust.admit(certificates, at_us=at_us)

    def refuse_raw(self, raw: bytes, sender: str, reason: str) -> Future[exchange_pb2.Ack]:
        """Answer and record a message that is not a usable batch at all (malformed, oversize, empty)."""
        future: Future[exchange_pb2.Ack] = Future()
        future.set_result(self._refuse(raw, b"", sender, BatchRejectedError(reason), self._clock()))
        return future

    def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            group, size = [first], len(first.records)
            while size < self._group_records:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                size += len(more.records)
            self._commit(group)

    def _commit(self, group: list[_Pending]) -> None:
        try:
            outcomes = self._store.apply_batches(
                [(p.batch, p.records, p.sender) for p in group], now_us=self._clock(), to_parent=self._forward
            )
        except Exception as exc:  # the database failed: no ack, the sender will resend
            log.error("applying %d batches failed: %s", len(group), exc)
            for pending in group:
                pending.future.set_exception(exc)
            return
        applied = []
        for pending, outcome in zip(group, outcomes, strict=True):
            batch = pending.batch
            if outcome.status == "applied":
                applied.append(Applied(outcome.batch_id, batch, pending.records))
            elif outcome.status == "gap":
                log.warning(
                    "%s/%s from %s starts at %d, %d applied: asking to resend",
                    batch.key.origin,
                    batch.key.dataset,
                    pending.sender,
                    batch.first_seq,
                    outcome.applied_seq,
                )
            pending.future.set_result(
                exchange_pb2.Ack(
                    origin=batch.key.origin,
                    dataset=batch.key.dataset,
                    applied_seq=outcome.applied_seq,
                    status=_STATUS[outcome.status],
                    batch_last_seq=batch.last_seq,
                )
            )
        if applied:
            self._on_applied(applied)

    def _refuse(self, raw: bytes, header_bytes: bytes, sender: str, exc: Exception, now: int) -> exchange_pb2.Ack:
        self.rejected += 1
        header = exchange_pb2.BatchHeader()
        try:
            header.ParseFromString(header_bytes)
        except DecodeError:
            header.Clear()
        code = (
            grpc.StatusCode.PERMISSION_DENIED
            if isinstance(exc, VerificationError)
            else grpc.StatusCode.INVALID_ARGUMENT
        )
        reason = f"{code.name}: {exc}"
        log.error(
            "refused batch %s/%s %d..%d from %s: %s",
            header.origin,
            header.dataset,
            header.first_seq,
            header.last_seq,
            sender,
            reason,
        )
        kept = raw[:_QUARANTINE_CAP]
        if len(raw) > len(kept):
            reason += f" (first {len(kept)} of {len(raw)} bytes kept)"
        self._store.quarantine(kind="batch", source=sender, dataset=header.dataset, reason=reason, raw=kept, now_us=now)
        return exchange_pb2.Ack(
            origin=header.origin,
            dataset=header.dataset,
            status=exchange_pb2.ACK_STATUS_REJECTED,
            detail=reason,
            batch_last_seq=header.last_seq,
            code=code.value[0],
        )
