"""Thin gRPC servicers: unpack, call the logic, map errors through ``abort_with``."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import grpc
from jgnode.exchange.v1 import admin_pb2, admin_pb2_grpc, exchange_pb2, exchange_pb2_grpc

from node.errors import JgnodeError, NotFoundError
from node.exchange import Children, Receiver, build_provenance
from node.grpc_util import abort_with, caller_node_id
from node.serde import record_key
from node.store import Store, StreamKey

__all__ = ["AdminServicer", "ExchangeServicer"]

log = logging.getLogger("jgnode.server")
_READ_AHEAD = 16  # batches verified ahead of their acks, per stream


class ExchangeServicer(exchange_pb2_grpc.ExchangeServicer):
    """Receives batches from children."""

    def __init__(self, receiver: Receiver, store: Store, children: Children) -> None:
        """Serve ``receiver``'s logic over gRPC."""
        self._receiver = receiver
        self._store = store
        self._children = children

    def Push(  # noqa: N802 - gRPC method name
        self, request_iterator: Iterator[exchange_pb2.PushRequest], context: grpc.ServicerContext
    ) -> Iterator[exchange_pb2.Ack]:
        """Apply each batch and ack it after commit."""
        child = caller_node_id(context)
        try:
            self._receiver.admit(child)
        except JgnodeError as exc:
            log.warning("refused push stream from %r: %s", child, exc)
            abort_with(context, exc)
        self._children.opened(child)
        # A reader thread verifies and queues batches while this generator
        # yields their acks in order as the writer commits them.
        pending: queue.Queue[Future[exchange_pb2.Ack] | BaseException | None] = queue.Queue(maxsize=_READ_AHEAD)
        reader = threading.Thread(
            target=self._read, args=(request_iterator, child, pending, context), name=f"push-{child}", daemon=True
        )
        reader.start()
        try:
            while True:
                try:
                    item = pending.get(timeout=0.5)
                except queue.Empty:
                    if context.is_active():
                        continue
                    return  # cancelled, or the server is stopping
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item.result()
        except JgnodeError as exc:
            log.error("push stream from %s ended: %s", child, exc)
            abort_with(context, exc)
        finally:
            self._children.closed(child)

    def _read(
        self,
        requests: Iterator[exchange_pb2.PushRequest],
        child: str,
        pending: queue.Queue[Future[exchange_pb2.Ack] | BaseException | None],
        context: grpc.ServicerContext,
    ) -> None:
        def put(item: Future[exchange_pb2.Ack] | BaseException | None) -> bool:
            while context.is_active():
                try:
                    pending.put(item, timeout=0.5)
                except queue.Full:
                    continue
                return True
            return False

        try:
            for request in requests:
                if request.HasField("report"):
                    self._children.reported(child, request.report)
                elif request.HasField("batch") and not put(self._receiver.submit(request.batch, child)):
                    return
        except grpc.RpcError:
            pass  # the child went away; acks already queued still go out
        except Exception as exc:  # handed to the generator, which ends the RPC with it
            put(exc)
            return
        put(None)

    def GetCursors(  # noqa: N802
        self, request: exchange_pb2.GetCursorsRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetCursorsResponse:
        """Applied sequence per requested stream."""
        try:
            self._receiver.admit(caller_node_id(context))
            keys = [StreamKey(c.origin, c.dataset) for c in request.streams]
            cursors = self._store.cursors(keys)
        except JgnodeError as exc:
            abort_with(context, exc)
        return exchange_pb2.GetCursorsResponse(
            cursors=[
                exchange_pb2.StreamCursor(origin=k.origin, dataset=k.dataset, applied_seq=seq) for k, seq in cursors
            ]
        )


class AdminServicer(admin_pb2_grpc.NodeAdminServicer):
    """Status, provenance and digests for operators and tools."""

    def __init__(self, store: Store, status: Callable[[], admin_pb2.NodeStatus]) -> None:
        """Serve the store's read side; ``status`` assembles the live status."""
        self._store = store
        self._status = status

    def GetStatus(  # noqa: N802
        self, request: admin_pb2.GetStatusRequest, context: grpc.ServicerContext
    ) -> admin_pb2.NodeStatus:
        """The node's counters and links."""
        try:
            return self._status()
        except JgnodeError as exc:
            abort_with(context, exc)

    def GetProvenance(  # noqa: N802
        self, request: admin_pb2.GetProvenanceRequest, context: grpc.ServicerContext
    ) -> admin_pb2.GetProvenanceResponse:
        """Provenance bundles of a record uid."""
        try:
            found = self._store.provenance(
                request.uid, key_of=record_key, dataset=request.dataset, origin=request.origin, version=request.version
            )
            if not found:
                raise NotFoundError(f"no signed record with uid {request.uid!r}")
        except JgnodeError as exc:
            abort_with(context, exc)
        return admin_pb2.GetProvenanceResponse(
            provenances=[
                build_provenance(
                    header=p.header,
                    signature=p.signature,
                    batch_records=p.batch_records,
                    first_seq=p.first_seq,
                    seq=p.seq,
                    hops=p.hops,
                )
                for p in found
            ]
        )

    def GetDigest(  # noqa: N802
        self, request: admin_pb2.GetDigestRequest, context: grpc.ServicerContext
    ) -> admin_pb2.GetDigestResponse:
        """Count and order-independent digest of the records held."""
        try:
            count, digest = self._store.set_digest(dataset=request.dataset, origin=request.origin)
        except JgnodeError as exc:
            abort_with(context, exc)
        return admin_pb2.GetDigestResponse(count=count, digest=digest.to_bytes(32, "big"))
