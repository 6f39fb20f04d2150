"""The ``Sharing`` gRPC service: departments apply for subscriptions, list them, subscribe and acknowledge.

Thin: each method learns which department the call is for
(:mod:`node.departments`), then either serves it here (the provider is this
node) or relays it to the parent (the provider is another node: children
always dial their parent, so data subscribed from above flows down on calls
the child opened). A relay passes the parent's answers through unchanged:
the cursor of a relayed stream is the provider's, and its Delivery messages
are forwarded as the bytes the provider encoded. The root answers NOT_FOUND
for a provider it is not.

Deny by default: subscribing and acknowledging need the caller's own active
subscription (:func:`node.entitlements.entitled`); a refusal is audited
(``usage_refused``) and answered PERMISSION_DENIED. Applying and subscribing
need a fresh registry snapshot (fail closed: FAILED_PRECONDITION otherwise).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Final, NoReturn, TypeVar, cast

import grpc
from google.protobuf.message import Message
from jgnode.exchange.v1 import exchange_pb2, sharing_pb2, sharing_pb2_grpc

from exchange_registry import Application
from node.delivery import Deliveries
from node.departments import ON_BEHALF_METADATA, Caller
from node.errors import JgnodeError, NotFoundError, PeerUnavailableError
from node.grpc_util import Transport, abort_with
from node.settings import NodeSettings
from node.store import Subscription, SubscriptionBook
from node.subscriptions import apply_for, effective_state

__all__ = [
    "ParentRelay",
    "SharingServicer",
    "application_from_proto",
    "cursor_from_proto",
    "cursor_to_proto",
    "sharing_handler",
    "subscription_to_proto",
]

log = logging.getLogger("jgnode.sharing")
_M = TypeVar("_M", bound=Message)
SERVICE: Final = sharing_pb2.DESCRIPTOR.services_by_name["Sharing"].full_name


def application_from_proto(request: sharing_pb2.ApplyRequest, subscriber: str) -> Application:
    """What a department asks for, as the subscription rules take it."""
    return Application(
        subscriber=subscriber,
        resource_code=request.resource_code,
        purpose=request.purpose,
        fields=tuple(request.fields),
        region=request.region,
        valid_from=request.valid_from,
        valid_until=request.valid_until,
        filters=tuple(request.filters),
        personal=request.personal,
    )


def subscription_to_proto(held: Subscription, *, provider: str, today: date) -> sharing_pb2.SubscriptionInfo:
    """A subscription as its subscriber sees it (the state as of ``today``)."""
    return sharing_pb2.SubscriptionInfo(
        id=held.id,
        provider=provider,
        subscriber=held.subscriber,
        resource_code=held.resource_code,
        dataset=held.dataset,
        state=effective_state(held, today=today),
        reason=held.reason,
        fields=held.fields,
        region=held.region,
        filters=held.filters,
        personal=held.personal,
        valid_from=held.valid_from,
        valid_until=held.valid_until,
    )


def cursor_from_proto(cursors: Iterable[exchange_pb2.StreamCursor]) -> dict[str, int]:
    """Per origin, the last seq processed."""
    return {c.origin: c.applied_seq for c in cursors}


def cursor_to_proto(cursor: Mapping[str, int], dataset: str) -> list[exchange_pb2.StreamCursor]:
    """A cursor on the wire, origins in order."""
    return [exchange_pb2.StreamCursor(origin=o, dataset=dataset, applied_seq=s) for o, s in sorted(cursor.items())]


class ParentRelay:
    """Calls for a provider above, relayed to this node's parent on channels this node opens.

    Each relayed stream has a channel of its own (closed with it); Apply, List
    and Ack share one that is rebuilt every ``renew_s`` so a renewed
    certificate is picked up (the one before stays open for calls in flight).
    """

    def __init__(self, transport: Transport, *, address: str, peer_id: str, renew_s: float = 600.0) -> None:
        """Relay to the node ``peer_id`` at ``address``."""
        self._transport = transport
        self._address = address
        self._peer_id = peer_id
        self._renew_s = renew_s
        self._lock = threading.Lock()
        self._channels: list[tuple[float, grpc.Channel]] = []  # newest last; at most two
        self._calls: set[Any] = set()  # relayed Subscribe calls (grpc futures), cancelled on close
        self._closed = False

    def _shared(self) -> grpc.Channel:
        with self._lock:
            if self._closed:
                raise PeerUnavailableError("this node is stopping")
            now = time.monotonic()
            if not self._channels or now - self._channels[-1][0] > self._renew_s:
                self._channels.append((now, self._transport.channel(self._address, peer_id=self._peer_id)))
                if len(self._channels) > 2:
                    self._channels.pop(0)[1].close()
            return self._channels[-1][1]

    def metadata(self, caller: Caller) -> tuple[tuple[str, str | bytes], ...]:
        """This node's own metadata and the department it calls for."""
        return (*self._transport.metadata(), (ON_BEHALF_METADATA, caller.subscriber))

    def unary(self, method: str, request: Message, caller: Caller, *, reply: type[_M], timeout: float | None) -> _M:
        """The parent's answer to ``method`` (Apply, ListSubscriptions, Ack)."""
        call = getattr(sharing_pb2_grpc.SharingStub(self._shared()), method)
        return cast(_M, call(request, metadata=self.metadata(caller), timeout=timeout))

    def subscribe(
        self, request: sharing_pb2.SubscribeRequest, caller: Caller, context: grpc.ServicerContext
    ) -> Iterator[bytes]:
        """The parent's Delivery messages, as the bytes it sent, until either side ends the stream."""
        with self._transport.channel(self._address, peer_id=self._peer_id) as channel:
            method = channel.unary_stream(
                f"/{SERVICE}/Subscribe",
                request_serializer=sharing_pb2.SubscribeRequest.SerializeToString,
                response_deserializer=None,
            )
            call: Any = method(request, metadata=self.metadata(caller))
            with self._lock:
                if self._closed:
                    raise PeerUnavailableError("this node is stopping")
                self._calls.add(call)
            context.add_callback(call.cancel)
            try:
                yield from call
            finally:
                call.cancel()
                with self._lock:
                    self._calls.discard(call)

    def close(self) -> None:
        """Cancel every relayed stream and close the channels."""
        with self._lock:
            self._closed = True
            calls, self._calls = list(self._calls), set()
            channels, self._channels = self._channels, []
        for call in calls:
            call.cancel()
        for _at, channel in channels:
            channel.close()


class SharingServicer:
    """Serves :class:`node.delivery.Deliveries` and the subscription records, or relays to the parent."""

    def __init__(
        self,
        deliveries: Deliveries,
        identify: Callable[[grpc.ServicerContext], Caller],
        *,
        settings: NodeSettings,
        relay: ParentRelay | None,
        check_registry: Callable[[], object],
        refused: Callable[[str, str], None],
        clock: Callable[[], int],
        today: Callable[[], date] = date.today,
        above: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        """``refused(peer, reason)`` counts and audits a caller that is not let in.

        ``above()`` names the nodes above this one as the registry snapshot
        knows them (empty when it knows none): a provider not among them is
        not relayed.
        """
        self._deliveries = deliveries
        self._identify = identify
        self._settings = settings
        self._node_id = settings.node_id
        self._relay = relay
        self._check_registry = check_registry
        self._refused = refused
        self._clock = clock
        self._today = today
        self._above = above

    def _caller(self, context: grpc.ServicerContext) -> Caller:
        try:
            return self._identify(context)
        except JgnodeError as exc:
            log.warning("refused a sharing caller from %s: %s", context.peer(), exc)
            self._refused(context.peer(), str(exc))
            abort_with(context, exc)

    def _relay_for(self, provider: str) -> ParentRelay | None:
        """The relay when ``provider`` is another node; None when it is this one."""
        if provider in ("", self._node_id):
            return None
        if self._relay is None:
            raise NotFoundError(
                f"no provider {provider} on the way up: {self._node_id} is the root; a department reaches the "
                "resources of its own node and of the nodes above it"
            )
        above = self._above()
        if above and provider not in above:
            raise NotFoundError(
                f"provider {provider} is not above {self._node_id} (above it: {', '.join(above)}); a department "
                "reaches the resources of its own node and of the nodes above it"
            )
        return self._relay

    def Apply(self, request: sharing_pb2.ApplyRequest, context: grpc.ServicerContext) -> sharing_pb2.SubscriptionInfo:  # noqa: N802
        """Record the caller's application: active, awaiting review or refused by the resource's sharing class."""
        caller = self._caller(context)
        try:
            self._check_registry()
            relay = self._relay_for(request.provider)
            if relay is not None:
                return _relayed(context, relay, "Apply", request, caller=caller, reply=sharing_pb2.SubscriptionInfo)
            application = application_from_proto(request, caller.subscriber)
            held = apply_for(
                self._deliveries.store, self._settings, application, today=self._today(), now_us=self._clock()
            )
        except JgnodeError as exc:
            abort_with(context, exc)
        return subscription_to_proto(held, provider=self._node_id, today=self._today())

    def ListSubscriptions(  # noqa: N802
        self, request: sharing_pb2.ListSubscriptionsRequest, context: grpc.ServicerContext
    ) -> sharing_pb2.ListSubscriptionsResponse:
        """The caller's own subscriptions held by the provider."""
        caller = self._caller(context)
        try:
            relay = self._relay_for(request.provider)
            if relay is not None:
                return _relayed(
                    context,
                    relay,
                    "ListSubscriptions",
                    request,
                    caller=caller,
                    reply=sharing_pb2.ListSubscriptionsResponse,
                )
            held = SubscriptionBook(self._deliveries.store).find(subscriber=caller.subscriber)
        except JgnodeError as exc:
            abort_with(context, exc)
        today = self._today()
        return sharing_pb2.ListSubscriptionsResponse(
            subscriptions=[subscription_to_proto(s, provider=self._node_id, today=today) for s in held]
        )

    def Ack(self, request: sharing_pb2.AckRequest, context: grpc.ServicerContext) -> sharing_pb2.AckReply:  # noqa: N802
        """Keep how far the caller has processed its subscription; its streams may send further."""
        caller = self._caller(context)
        try:
            relay = self._relay_for(request.provider)
            if relay is not None:
                return _relayed(context, relay, "Ack", request, caller=caller, reply=sharing_pb2.AckReply)
            held, acked = self._deliveries.ack(caller, request.subscription_id, cursor_from_proto(request.cursor))
        except JgnodeError as exc:
            abort_with(context, exc)
        return sharing_pb2.AckReply(acked=cursor_to_proto(acked, held.dataset))

    def Subscribe(self, request: sharing_pb2.SubscribeRequest, context: grpc.ServicerContext) -> Iterator[bytes]:  # noqa: N802
        """Delivery messages (encoded): history from the cursor, then the live tail."""
        caller = self._caller(context)
        try:
            self._check_registry()
            relay = self._relay_for(request.provider)
        except JgnodeError as exc:
            abort_with(context, exc)
        if relay is None:
            yield from self._local_stream(request, caller, context)
        else:
            yield from self._relay_stream(relay, request, caller, context)

    def _local_stream(
        self, request: sharing_pb2.SubscribeRequest, caller: Caller, context: grpc.ServicerContext
    ) -> Iterator[bytes]:
        cursor = None if request.from_acked or not request.cursor else cursor_from_proto(request.cursor)
        try:
            stream = self._deliveries.open(caller, request.subscription_id, cursor=cursor, is_active=context.is_active)
        except JgnodeError as exc:
            abort_with(context, exc)
        context.add_callback(stream.stream.close)
        try:
            yield from stream
        except JgnodeError as exc:
            log.info("subscribe stream of %s ended: %s", caller.subscriber, exc)
            abort_with(context, exc)
        finally:
            stream.close()

    def _relay_stream(
        self, relay: ParentRelay, request: sharing_pb2.SubscribeRequest, caller: Caller, context: grpc.ServicerContext
    ) -> Iterator[bytes]:
        try:
            self._deliveries.take_slot()  # a relayed stream holds a server thread too
        except JgnodeError as exc:
            abort_with(context, exc)
        try:
            yield from relay.subscribe(request, caller, context)
        except grpc.RpcError as exc:
            if not context.is_active():
                return  # the department went away: its cancel ended the parent's stream
            if self._deliveries.stopping:
                abort_with(context, PeerUnavailableError(f"node {self._node_id} is stopping; subscribe again later"))
            _abort_as(context, exc)
        except JgnodeError as exc:
            abort_with(context, exc)
        finally:
            self._deliveries.free_slot()


def _relayed(
    context: grpc.ServicerContext, relay: ParentRelay, method: str, request: Message, *, caller: Caller, reply: type[_M]
) -> _M:
    """The parent's answer to ``method``, or its refusal passed on with the same status."""
    try:
        return relay.unary(method, request, caller, reply=reply, timeout=context.time_remaining())
    except grpc.RpcError as exc:
        _abort_as(context, exc)


def _abort_as(context: grpc.ServicerContext, exc: grpc.RpcError) -> NoReturn:
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNAVAILABLE
    details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
    context.abort(code, details or code.name)
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


def sharing_handler(servicer: SharingServicer) -> Any:
    """The Sharing service; Subscribe yields Delivery messages already encoded."""
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Apply": _unary(servicer.Apply, sharing_pb2.ApplyRequest, sharing_pb2.SubscriptionInfo),
            "ListSubscriptions": _unary(
                servicer.ListSubscriptions, sharing_pb2.ListSubscriptionsRequest, sharing_pb2.ListSubscriptionsResponse
            ),
            "Ack": _unary(servicer.Ack, sharing_pb2.AckRequest, sharing_pb2.AckReply),
            "Subscribe": grpc.unary_stream_rpc_method_handler(
                servicer.Subscribe,
                request_deserializer=sharing_pb2.SubscribeRequest.FromString,
                response_serializer=None,
            ),
        },
    )


def _unary(method: Callable[..., Any], request: type[Message], response: type[Message]) -> Any:
    return grpc.unary_unary_rpc_method_handler(
        method, request_deserializer=request.FromString, response_serializer=response.SerializeToString
    )
