"""Sending side of the exchange: push the outbox to the parent, resume after any failure.

A session asks the parent where each stream stands (GetCursors), drops what is
acked, re-queues what the parent no longer has, then streams batches with a
bounded window of unacked batches. Acks arrive in order; each moves the
stream's acked sequence and clears the outbox. Any failure ends the session
and the next one starts again from the parent's cursors, so a restart of
either side loses and doubles nothing.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from jgnode.exchange.v1 import exchange_pb2, exchange_pb2_grpc

from node.errors import JgnodeError, PeerUnavailableError, VerificationError
from node.exchange._batches import decode_certificates, decode_hops
from node.grpc_util import Transport
from node.retry import build_retrier, describe_error, is_recoverable
from node.settings import NodeSettings
from node.store import PendingBatch, Store, StreamKey
from node.trust import TrustStore
from node.worker import Worker

__all__ = ["Uplink", "UplinkState"]

log = logging.getLogger("jgnode.uplink")
_REPORT_EVERY_S = 2.0
_ACK_SAVE_S = 0.2  # longest an ack waits in memory before it is written
_KNOWN_RECORDS = 50_000  # record bytes held for sending without a read-back (~20 MB)


@dataclass(slots=True)
class UplinkState:
    """What an operator wants to know about the link to the parent."""

    connected: bool = False
    last_error: str = ""
    last_ack_at_us: int = 0
    records_acked: int = 0
    sessions: int = 0


class _ResyncError(Exception):
    """The parent asked for a resync (gap) or the node is stopping."""


class Uplink(Worker):
    """Keeps one push stream to the parent alive for as long as the node runs."""

    def __init__(
        self,
        *,
        settings: NodeSettings,
        store: Store,
        transport: Transport,
        trust: TrustStore,
        clock: Callable[[], int],
    ) -> None:
        """Wire the uplink to ``settings.parent``."""
        assert settings.parent, "an uplink needs a parent address"
        self._parent = settings.parent
        self._parent_id = settings.expected_parent_id
        self._transport = transport
        self._trust = trust
        self._settings = settings
        self._store = store
        self._clock = clock
        self._window = settings.limits.max_inflight_batches
        super().__init__("uplink")
        self._call: Any = None  # the live Push call, cancelled by stop()
        self._known: dict[int, list[bytes]] = {}  # record bytes of fresh batches, so they need no read-back
        self._known_records = 0
        self._known_lock = threading.Lock()
        self._unsaved: dict[StreamKey, int] = {}  # acks received, not yet written
        self._last_save = 0.0
        self.state = UplinkState()
        self._recheck = threading.Event()  # new CRLs: reconnect, so the parent's certificate is checked again
        trust.on_new_crls(self._recheck_parent)

    def stop(self) -> None:
        """Cancel the stream and stop; unacked batches stay in the outbox."""
        self._stop.set()
        call = self._call
        if call is not None:
            call.cancel()
        super().stop()

    def _recheck_parent(self) -> None:
        call = self._call
        if call is not None:
            self._recheck.set()
            call.cancel()

    def offer(self, batch_id: int, records: list[bytes]) -> None:
        """The record bytes of a batch just queued; kept (bounded) so sending needs no read-back."""
        with self._known_lock:
            if self._known_records + len(records) <= _KNOWN_RECORDS:
                self._known[batch_id] = records
                self._known_records += len(records)
        self._wake.set()

    def _pending(self, after: int) -> list[PendingBatch]:
        with self._known_lock:
            batches = self._store.pending_batches(after_batch_id=after, limit=self._window, known=self._known)
            self._known_records = sum(len(r) for r in self._known.values())
            # anything older than what was just read will not be asked for again in this session
            for stale in [k for k in self._known if batches and k < batches[0].batch_id]:
                self._known_records -= len(self._known.pop(stale))
        return batches

    def _failed(self, error: str) -> None:
        self.state.last_error = error

    def _run(self) -> None:
        retrier = build_retrier(
            self._settings.retry, stop=self._stop, what=f"uplink to {self._parent}", on_failure=self._failed
        )
        while not self._stop.is_set():
            try:
                retrier(self._session)
            except (grpc.RpcError, JgnodeError) as exc:
                if self._stop.is_set():
                    break
                self.state.last_error = describe_error(exc)
                log.error(
                    "uplink to %s failed: %s; trying again in %.0fs",
                    self._parent,
                    self.state.last_error,
                    self._settings.retry.max_interval_s,
                )
                self._stop.wait(self._settings.retry.max_interval_s)
            except Exception:
                log.exception("uplink to %s crashed; restarting it", self._parent)
                self._stop.wait(self._settings.retry.max_interval_s)

    def _check_parent(self) -> None:
        """The parent's certificate, as it presents it now, passes the trust store (revocation, CRL freshness)."""
        if self._transport.insecure:
            return
        presented = self._transport.probe_certificates(self._parent, peer_id=self._parent_id)
        try:
            self._trust.peer(presented[0], intermediates=presented[1:])
        except VerificationError as exc:
            # retried like an outage: a renewed certificate or a fresh CRL lets the link come back by itself
            raise PeerUnavailableError(f"the certificate of parent {self._parent_id} is refused: {exc}") from exc

    def _session(self) -> None:
        self._recheck.clear()
        self._check_parent()
        channel = self._transport.channel(self._parent, peer_id=self._parent_id)
        acked_any = False
        try:
            stub = exchange_pb2_grpc.ExchangeStub(channel)
            metadata = self._transport.metadata()
            self._resync(stub, metadata)
            inflight: collections.deque[PendingBatch] = collections.deque()
            slots = threading.Semaphore(self._window)
            over = threading.Event()
            call: Any = stub.Push(self._requests(inflight, slots, over), metadata=metadata)
            self._call = call
            self.state.sessions += 1
            self.state.connected = True
            self.state.last_error = ""
            try:
                for ack in call:
                    self._on_ack(ack, inflight.popleft(), idle=not inflight)
                    acked_any = True
                    slots.release()
            except _ResyncError:
                call.cancel()
            finally:
                over.set()
                self._save_acks()
        except grpc.RpcError as exc:
            if self._stop.is_set():
                return
            if self._recheck.is_set():
                log.info("new CRLs: reconnecting to %s to check its certificate again", self._parent)
                return
            if acked_any and is_recoverable(exc):
                # the link worked and then dropped: start over at once, with a fresh backoff
                log.warning("link to %s lost (%s); reconnecting", self._parent, describe_error(exc))
                return
            raise
        finally:
            self.state.connected = False
            self._call = None
            channel.close()

    def _resync(self, stub: exchange_pb2_grpc.ExchangeStub, metadata: tuple[tuple[str, str | bytes], ...]) -> None:
        """Align the outbox with what the parent has durably applied."""
        held = self._store.cursors()
        if not held:
            return
        request = exchange_pb2.GetCursorsRequest(
            streams=[exchange_pb2.StreamCursor(origin=k.origin, dataset=k.dataset) for k, _ in held]
        )
        reply = stub.GetCursors(request, metadata=metadata, timeout=30)
        for cursor in reply.cursors:
            key = StreamKey(cursor.origin, cursor.dataset)
            self._store.realign_outbox(key, cursor.applied_seq, now_us=self._clock())

    def _requests(
        self,
        inflight: collections.deque[PendingBatch],
        slots: threading.Semaphore,
        over: threading.Event,
    ) -> Iterator[exchange_pb2.PushRequest]:
        yield exchange_pb2.PushRequest(report=self._report())
        after = 0
        last_report = self._clock()
        while not (over.is_set() or self._stop.is_set()):
            self._wake.clear()
            batches = self._pending(after)
            if not batches:
                self._wake.wait(0.2)
                if self._clock() - last_report > _REPORT_EVERY_S * 1e6:
                    last_report = self._clock()
                    yield exchange_pb2.PushRequest(report=self._report())
                continue
            for batch in batches:
                while not slots.acquire(timeout=0.2):
                    if over.is_set() or self._stop.is_set():
                        return
                inflight.append(batch)
                after = batch.batch_id
                yield exchange_pb2.PushRequest(batch=_signed_batch(batch))

    def _report(self) -> exchange_pb2.SenderReport:
        backlog = self._store.outbox_backlog()
        cas, crls = self._trust.bundle()
        return exchange_pb2.SenderReport(
            ca_certificates=cas,
            crls=crls,
            pending_records=backlog.records + backlog.unsealed_records,
            pending_batches=backlog.batches,
            oldest_pending_us=backlog.oldest_enqueued_us,
        )

    def _save_acks(self) -> None:
        """Persist the acks received since the last save (one transaction for all streams).

        Acks are kept in memory for up to ``_ACK_SAVE_S``: losing them in a crash
        costs nothing, since every session starts from the parent's own cursors.
        """
        if self._unsaved:
            acks, self._unsaved = self._unsaved, {}
            self.state.records_acked += self._store.record_parent_acks(acks, now_us=self._clock())
        self._last_save = time.monotonic()

    def _on_ack(self, ack: exchange_pb2.Ack, sent: PendingBatch, *, idle: bool) -> None:
        if (ack.origin, ack.dataset, ack.batch_last_seq) != (sent.stream.origin, sent.stream.dataset, sent.last_seq):
            log.error(
                "parent acked %s/%s@%d, expected %s/%s@%d: resyncing",
                ack.origin,
                ack.dataset,
                ack.batch_last_seq,
                sent.stream.origin,
                sent.stream.dataset,
                sent.last_seq,
            )
            raise _ResyncError
        if ack.status == exchange_pb2.ACK_STATUS_REJECTED:
            log.error(
                "parent refused batch %s/%s %d..%d: %s",
                ack.origin,
                ack.dataset,
                sent.first_seq,
                sent.last_seq,
                ack.detail,
            )
            self._save_acks()
            self._store.refuse_batch(sent.batch_id, ack.detail, now_us=self._clock())
            return
        self.state.last_ack_at_us = self._clock()
        self._unsaved[sent.stream] = max(self._unsaved.get(sent.stream, 0), ack.applied_seq)
        if idle or time.monotonic() - self._last_save > _ACK_SAVE_S:
            self._save_acks()
        if ack.status == exchange_pb2.ACK_STATUS_GAP:
            log.warning("parent is missing %s/%s after %d: resyncing", ack.origin, ack.dataset, ack.applied_seq)
            raise _ResyncError


def _signed_batch(batch: PendingBatch) -> exchange_pb2.SignedBatch:
    return exchange_pb2.SignedBatch(
        header=batch.header,
        signature=batch.signature,
        records=batch.records,
        hops=decode_hops(batch.hops),
        certificates=decode_certificates(batch.certificates) if batch.certificates else [],
    )
