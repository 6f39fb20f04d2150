"""Thin gRPC servicers: unpack, call the logic, map errors through ``abort_with``.

Who is calling comes from the caller's TLS certificate (checked against the
trust anchors, the CRLs and the node's place in the tree), or, only on an
insecure development node, from the ``jgnode-node-id`` metadata.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from jgnode.exchange.v1 import admin_pb2, admin_pb2_grpc, exchange_pb2, exchange_pb2_grpc

from governance.codes import is_within
from node.errors import BackpressureError, JgnodeError, NotFoundError, VerificationError
from node.exchange import Children, Receiver, build_provenance
from node.grpc_util import abort_with, caller_certificate, caller_chain, caller_node_id
from node.serde import record_key
from node.store import Store, StreamKey
from node.trust import TrustStore

__all__ = ["AdminServicer", "ExchangeServicer", "TrustServicer", "exchange_handler", "identify_caller"]

log = logging.getLogger("jgnode.server")
_READ_AHEAD = 16  # batches verified ahead of their acks, per stream
Pending = Future[exchange_pb2.Ack] | BaseException | None


def identify_caller(trust: TrustStore, *, insecure: bool) -> Callable[[grpc.ServicerContext], str]:
    """How servicers learn the caller's node id."""

    def identify(context: grpc.ServicerContext) -> str:
        pem = caller_certificate(context)
        if pem:
            return trust.peer(pem, intermediates=caller_chain(context))
        if insecure:
            return caller_node_id(context)
        raise VerificationError("no client certificate")

    return identify


class ExchangeServicer:
    """Receives batches from children (Push takes raw bytes, so malformed ones are recorded too)."""

    def __init__(
        self,
        receiver: Receiver,
        store: Store,
        children: Children,
        identify: Callable[[grpc.ServicerContext], str],
        *,
        trust: TrustStore,
        max_message_bytes: int,
    ) -> None:
        """Serve ``receiver``'s logic over gRPC."""
        self._trust = trust
        self._receiver = receiver
        self._store = store
        self._children = children
        self._identify = identify
        self._max_bytes = max_message_bytes

    def _child(self, context: grpc.ServicerContext) -> str:
        try:
            child = self._identify(context)
            self._receiver.admit(child)
        except JgnodeError as exc:
            log.warning("refused a caller from %s: %s", context.peer(), exc)
            self._receiver.record_refused_caller(context.peer(), str(exc))
            abort_with(context, exc)
        return child

    def Push(self, request_iterator: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[exchange_pb2.Ack]:  # noqa: N802
        """Apply each batch and ack it after commit, in order."""
        child = self._child(context)
        self._children.opened(child)
        # A reader thread verifies and queues batches while this generator
        # yields their acks in order as the writer commits them.
        pending: queue.Queue[Pending] = queue.Queue(maxsize=_READ_AHEAD)
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
            level = logging.WARNING if isinstance(exc, BackpressureError) else logging.ERROR
            log.log(level, "push stream from %s ended: %s", child, exc)
            abort_with(context, exc)
        finally:
            self._children.closed(child)

    def _read(
        self, requests: Iterator[bytes], child: str, pending: queue.Queue[Pending], context: grpc.ServicerContext
    ) -> None:
        def put(item: Pending) -> bool:
            while context.is_active():
                try:
                    pending.put(item, timeout=0.5)
                except queue.Full:
                    continue
                return True
            return False

        try:
            for raw in requests:
                future = self._handle(raw, child)
                if future is not None and not put(future):
                    return
        except grpc.RpcError:
            pass  # the child went away; acks already queued still go out
        except Exception as exc:  # handed to the generator, which ends the RPC with it
            put(exc)
            return
        put(None)

    def _handle(self, raw: bytes, child: str) -> Future[exchange_pb2.Ack] | None:
        if len(raw) > self._max_bytes:
            return self._receiver.refuse_raw(raw, child, f"message of {len(raw)} bytes exceeds {self._max_bytes}")
        try:
            request = exchange_pb2.PushRequest.FromString(raw)
        except DecodeError as exc:
            return self._receiver.refuse_raw(raw, child, f"malformed protobuf: {exc}")
        if request.HasField("report"):
            self._children.reported(child, request.report)
            self._learn_trust(child, request.report)
            return None
        if request.HasField("batch"):
            return self._receiver.submit(request.batch, child)
        return self._receiver.refuse_raw(raw, child, "push request carries neither a batch nor a report")

    def _learn_trust(self, child: str, report: exchange_pb2.SenderReport) -> None:
        try:
            self._trust.add_cas(report.ca_certificates)
            self._trust.add_crls(report.crls)
        except JgnodeError as exc:
            log.warning("trust material from %s not usable: %s", child, exc)
            self._receiver.record_refused_trust(child, str(exc))

    def GetCursors(  # noqa: N802
        self, request: exchange_pb2.GetCursorsRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetCursorsResponse:
        """Applied sequence per requested stream."""
        self._child(context)
        try:
            keys = [StreamKey(c.origin, c.dataset) for c in request.streams]
            cursors = self._store.cursors(keys)
        except JgnodeError as exc:
            abort_with(context, exc)
        return exchange_pb2.GetCursorsResponse(
            cursors=[
                exchange_pb2.StreamCursor(origin=k.origin, dataset=k.dataset, applied_seq=seq) for k, seq in cursors
            ]
        )


def exchange_handler(servicer: ExchangeServicer) -> Any:
    """The Exchange service with Push taking raw request bytes."""
    return grpc.method_handlers_generic_handler(
        exchange_pb2.DESCRIPTOR.services_by_name["Exchange"].full_name,
        {
            "Push": grpc.stream_stream_rpc_method_handler(
                servicer.Push, request_deserializer=None, response_serializer=exchange_pb2.Ack.SerializeToString
            ),
            "GetCursors": grpc.unary_unary_rpc_method_handler(
                servicer.GetCursors,
                request_deserializer=exchange_pb2.GetCursorsRequest.FromString,
                response_serializer=exchange_pb2.GetCursorsResponse.SerializeToString,
            ),
        },
    )


class TrustServicer(exchange_pb2_grpc.TrustServicer):
    """Hands CA certificates and CRLs to children."""

    def __init__(self, trust: TrustStore, receiver: Receiver, identify: Callable[[grpc.ServicerContext], str]) -> None:
        """Serve the trust store's bundle to admitted children."""
        self._trust = trust
        self._receiver = receiver
        self._identify = identify

    def GetTrust(  # noqa: N802
        self, request: exchange_pb2.GetTrustRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.TrustBundle:
        """CA certificates and the newest CRL of each CA."""
        try:
            self._receiver.admit(self._identify(context))
        except JgnodeError as exc:
            abort_with(context, exc)
        cas, crls = self._trust.bundle()
        return exchange_pb2.TrustBundle(ca_certificates=cas, crls=crls)


class AdminServicer(admin_pb2_grpc.NodeAdminServicer):
    """Status, provenance and digests for operators: the node itself and the nodes above it."""

    def __init__(
        self,
        store: Store,
        status: Callable[[], admin_pb2.NodeStatus],
        identify: Callable[[grpc.ServicerContext], str],
        *,
        node_id: str,
        crls: Callable[[], list[bytes]],
    ) -> None:
        """Serve the store's read side; ``status`` assembles the live status."""
        self._store = store
        self._status = status
        self._identify = identify
        self._node_id = node_id
        self._crls = crls

    def _allow(self, context: grpc.ServicerContext) -> None:
        try:
            caller = self._identify(context)
        except JgnodeError as exc:
            abort_with(context, exc)
        if caller != self._node_id and not (caller and is_within(self._node_id[:6], caller[:6])):
            abort_with(context, VerificationError(f"{caller or 'an anonymous caller'} may not inspect {self._node_id}"))

    def GetStatus(  # noqa: N802
        self, request: admin_pb2.GetStatusRequest, context: grpc.ServicerContext
    ) -> admin_pb2.NodeStatus:
        """The node's counters and links."""
        self._allow(context)
        try:
            return self._status()
        except JgnodeError as exc:
            abort_with(context, exc)

    def GetProvenance(  # noqa: N802
        self, request: admin_pb2.GetProvenanceRequest, context: grpc.ServicerContext
    ) -> admin_pb2.GetProvenanceResponse:
        """Provenance bundles of a record uid."""
        self._allow(context)
        try:
            found = self._store.provenance(
                request.uid, key_of=record_key, dataset=request.dataset, origin=request.origin, version=request.version
            )
            if not found:
                raise NotFoundError(f"no signed record with uid {request.uid!r}")
        except JgnodeError as exc:
            abort_with(context, exc)
        crls = self._crls()
        return admin_pb2.GetProvenanceResponse(
            provenances=[
                build_provenance(
                    header=p.header,
                    signature=p.signature,
                    batch_records=p.batch_records,
                    first_seq=p.first_seq,
                    seq=p.seq,
                    hops=p.hops,
                    certificates=p.certificates,
                    crls=crls,
                )
                for p in found
            ]
        )

    def GetDigest(  # noqa: N802
        self, request: admin_pb2.GetDigestRequest, context: grpc.ServicerContext
    ) -> admin_pb2.GetDigestResponse:
        """Count and order-independent digest of the records held."""
        self._allow(context)
        try:
            count, digest = self._store.set_digest(dataset=request.dataset, origin=request.origin)
        except JgnodeError as exc:
            abort_with(context, exc)
        return admin_pb2.GetDigestResponse(count=count, digest=digest.to_bytes(32, "big"))
