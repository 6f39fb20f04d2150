"""A department's client of the ``Sharing`` service: apply, list, subscribe (resuming by itself) and acknowledge.

A department talks to its own node only; the node relays to the provider
when it is a node above. Its client file (TOML, written by ``jgnode pki
issue-department --address``) says where the node is and who the department
is::

    address = "city.example:7400"   # the department's node
    node_id = "330100"              # what that node's certificate must name (default: the department's node)
    cert = "department.crt"         # chain from jgnode pki issue-department (paths relative to this file)
    key = "department.key"
    ca = "ca.crt"

or, for an insecure development node, ``insecure = true`` and
``subscriber = "330100/market"``.

:meth:`SharingClient.subscribe` returns a :class:`DeliveryStream`: an iterator
of Delivery messages that keeps the cursor of what the caller has processed
(everything it was handed before asking for the next message) and, when the
connection drops, subscribes again from that cursor with backoff
(``[retry]``), so the caller sees neither a gap nor a record twice.
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import grpc
from cryptography.hazmat.primitives import serialization
from jgnode.exchange.v1 import exchange_pb2, sharing_pb2, sharing_pb2_grpc
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from node.departments import SUBSCRIBER_METADATA, check_label
from node.errors import (
    BackpressureError,
    ConfigError,
    JgnodeError,
    NotEntitledError,
    NotFoundError,
    PeerUnavailableError,
)
from node.grpc_util import CHAIN_METADATA
from node.pki import (
    CaDir,
    department_certificate,
    dns_name,
    generate_tls_key,
    load_certificates,
    private_pem,
    write_private,
)
from node.retry import build_retrier, describe_error, is_recoverable
from node.settings import RetrySettings

__all__ = [
    "ClientSettings",
    "DeliveryStream",
    "Metadata",
    "SharingClient",
    "issue_department_identity",
    "load_client_settings",
    "open_channel",
]

log = logging.getLogger("jgnode.share")
Metadata = list[tuple[str, str | bytes]]
_MESSAGE_BYTES: Final = 64 * 1024 * 1024
_OPTIONS: Final = [
    ("grpc.max_send_message_length", _MESSAGE_BYTES),
    ("grpc.max_receive_message_length", _MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
]
_ERRORS: Final[Mapping[grpc.StatusCode, type[JgnodeError]]] = {
    grpc.StatusCode.PERMISSION_DENIED: NotEntitledError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.FAILED_PRECONDITION: ConfigError,
    grpc.StatusCode.INVALID_ARGUMENT: ConfigError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: BackpressureError,
}


class ClientSettings(BaseModel):
    """Where a department's node is and how the department proves who it is (its client file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str
    """host:port of the department's node."""
    node_id: str = ""
    """Node id the node's certificate must name; default the node the department certificate names."""
    cert: Path | None = None
    """The department certificate chain (``jgnode pki issue-department``)."""
    key: Path | None = None
    """Its private key."""
    ca: Path | None = None
    """The root certificate the node's certificate chains to."""
    insecure: bool = False
    """Insecure development nodes only: plain text, the department named by ``subscriber``."""
    subscriber: str = ""
    """With ``insecure``: the department, ``<node id>/<name>``."""
    retry: RetrySettings = RetrySettings()
    """How a dropped subscribe stream is resumed: backoff between attempts."""

    @model_validator(mode="after")
    def _identity_given(self) -> ClientSettings:
        if self.insecure:
            try:
                check_label(self.subscriber)
            except JgnodeError as exc:
                raise ValueError(str(exc)) from None
        elif not (self.cert and self.key and self.ca):
            raise ValueError("give cert, key and ca (from jgnode pki issue-department), or insecure and subscriber")
        return self


def load_client_settings(path: Path) -> ClientSettings:
    """Read a client file; relative paths are taken from its folder. ConfigError naming what is wrong."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read client file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"client file {path} is not TOML: {exc}") from exc
    for name in ("cert", "key", "ca"):
        if isinstance(data.get(name), str) and not Path(data[name]).is_absolute():
            data[name] = str(path.parent / data[name])
    try:
        return ClientSettings(**data)
    except (ValidationError, JgnodeError) as exc:
        raise ConfigError(f"invalid client file {path}: {exc}") from None


def _read(path: Path | None, what: str) -> bytes:
    assert path is not None  # checked by ClientSettings
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc


def open_channel(settings: ClientSettings) -> tuple[grpc.Channel, Metadata]:
    """A channel to the department's node and the metadata every call must carry (who the department is)."""
    if settings.insecure:
        channel = grpc.insecure_channel(settings.address, options=_OPTIONS)
        return channel, [(SUBSCRIBER_METADATA, settings.subscriber)]
    chain = _read(settings.cert, "department certificate")
    key = _read(settings.key, "department key")
    root = _read(settings.ca, "root certificate")
    certs = load_certificates(chain)
    node_id = settings.node_id or department_certificate(certs[0]).node_id
    credentials = grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=chain)
    target = ("grpc.ssl_target_name_override", dns_name(node_id))
    channel = grpc.secure_channel(settings.address, credentials, options=[*_OPTIONS, target])
    # TLS hands the node only the leaf: the intermediate CAs travel as metadata
    intermediates = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certs[1:] if c.issuer != c.subject)
    return channel, [(CHAIN_METADATA, intermediates)] if intermediates else []


def issue_department_identity(
    ca: CaDir, folder: Path, *, label: str, days: int, address: str = "", node_id: str = ""
) -> Path:
    """Key, certificate chain and root for department ``label`` in ``folder``, and its client file; returns it."""
    department_node, _, name = label.partition("/")
    key = generate_tls_key()
    chain = ca.issue_department(key.public_key(), node_id=department_node, name=name, days=days)
    folder.mkdir(parents=True, exist_ok=True)
    write_private(folder / "department.key", private_pem(key))
    (folder / "department.crt").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
    (folder / "ca.crt").write_bytes(ca.chain[-1].public_bytes(serialization.Encoding.PEM))
    client = folder / "client.toml"
    lines = [
        f'address = "{address or "HOST:PORT"}"  # the node of {department_node}',
        f'node_id = "{node_id or department_node}"',
        'cert = "department.crt"',
        'key = "department.key"',
        'ca = "ca.crt"',
    ]
    client.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return client


def _cursor(cursors: Iterable[exchange_pb2.StreamCursor]) -> dict[str, int]:
    return {c.origin: c.applied_seq for c in cursors}


def _cursor_proto(cursor: Mapping[str, int]) -> list[exchange_pb2.StreamCursor]:
    return [exchange_pb2.StreamCursor(origin=o, applied_seq=s) for o, s in sorted(cursor.items())]


def _error(exc: grpc.RpcError, where: str) -> JgnodeError:
    """A refusal of the node as the jgnode error of its status."""
    code = exc.code() if isinstance(exc, grpc.Call) else None
    detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
    kind = _ERRORS.get(code) if code is not None else None
    return (kind or PeerUnavailableError)(f"{where}: {detail or describe_error(exc)}")


class SharingClient:
    """One department's connection to its node."""

    def __init__(self, settings: ClientSettings) -> None:
        """Open the channel (nothing is sent until a call)."""
        self.settings = settings
        self._channel, metadata = open_channel(settings)
        self._metadata = tuple(metadata)
        self._stub = sharing_pb2_grpc.SharingStub(self._channel)

    def __enter__(self) -> SharingClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def _unary(self, method: str, request: Any, *, timeout: float) -> Any:
        try:
            return getattr(self._stub, method)(request, metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as exc:
            raise _error(exc, f"node at {self.settings.address}") from exc

    def apply(
        self,
        resource: str,
        *,
        purpose: str,
        provider: str = "",
        fields: Sequence[str] = (),
        region: str = "",
        filters: Sequence[str] = (),
        valid_from: str = "",
        valid_until: str = "",
        personal: bool = False,
        timeout: float = 30.0,
    ) -> sharing_pb2.SubscriptionInfo:
        """Apply for a subscription to ``resource`` of ``provider`` (default: the department's node)."""
        request = sharing_pb2.ApplyRequest(
            provider=provider,
            resource_code=resource,
            purpose=purpose,
            fields=list(fields),
            region=region,
            filters=list(filters),
            valid_from=valid_from,
            valid_until=valid_until,
            personal=personal,
        )
        reply: sharing_pb2.SubscriptionInfo = self._unary("Apply", request, timeout=timeout)
        return reply

    def list(self, *, provider: str = "", timeout: float = 30.0) -> list[sharing_pb2.SubscriptionInfo]:
        """The department's subscriptions held by ``provider``."""
        request = sharing_pb2.ListSubscriptionsRequest(provider=provider)
        reply: sharing_pb2.ListSubscriptionsResponse = self._unary("ListSubscriptions", request, timeout=timeout)
        return list(reply.subscriptions)

    def ack(
        self, subscription_id: int, cursor: Mapping[str, int], *, provider: str = "", timeout: float = 30.0
    ) -> dict[str, int]:
        """Tell the provider the department has processed up to ``cursor``; the positions it now holds."""
        request = sharing_pb2.AckRequest(
            provider=provider, subscription_id=subscription_id, cursor=_cursor_proto(cursor)
        )
        reply: sharing_pb2.AckReply = self._unary("Ack", request, timeout=timeout)
        return _cursor(reply.acked)

    def subscribe(
        self, subscription_id: int, *, provider: str = "", cursor: Mapping[str, int] | None = None
    ) -> DeliveryStream:
        """The subscription's records from ``cursor`` (None: from the last ack), resuming by itself."""
        return DeliveryStream(self, subscription_id, provider=provider, cursor=cursor)

    def open_stream(self, request: sharing_pb2.SubscribeRequest) -> tuple[Any, sharing_pb2.Delivery]:
        """One Subscribe call and its first message (the node sends one at once: where the stream starts)."""
        call: Any = self._stub.Subscribe(request, metadata=self._metadata)
        try:
            return call, next(call)
        except StopIteration:
            raise PeerUnavailableError("the subscribe stream ended at once") from None


class DeliveryStream(Iterator[sharing_pb2.Delivery]):
    """Delivery messages of one subscription; ``cursor`` is what the caller has been handed (and so processed)."""

    def __init__(
        self, client: SharingClient, subscription_id: int, *, provider: str, cursor: Mapping[str, int] | None
    ) -> None:
        """Subscribe through ``client``; nothing is sent until the first message is asked for."""
        self.subscription_id = subscription_id
        self.provider = provider
        self.cursor: dict[str, int] = dict(cursor or {})
        self.connects = 0
        self._client = client
        self._stop = threading.Event()
        self._call: Any = None
        self._messages = self._run()

    def __next__(self) -> sharing_pb2.Delivery:
        return next(self._messages)

    def cancel(self) -> None:
        """End the stream (any thread); the iterator stops."""
        self._stop.set()
        call = self._call
        if call is not None:
            call.cancel()

    def _request(self) -> sharing_pb2.SubscribeRequest:
        # an empty cursor asks the provider for the last ack (or the start): right before anything was handed over
        return sharing_pb2.SubscribeRequest(
            provider=self.provider, subscription_id=self.subscription_id, cursor=_cursor_proto(self.cursor)
        )

    def _take(self, delivery: sharing_pb2.Delivery) -> sharing_pb2.Delivery:
        self.cursor.update(_cursor(delivery.cursor))
        return delivery

    def _run(self) -> Iterator[sharing_pb2.Delivery]:
        where = f"subscription {self.subscription_id} at {self._client.settings.address}"
        retrier = build_retrier(self._client.settings.retry, stop=self._stop, what=f"subscribe to {where}")
        while not self._stop.is_set():
            try:
                self._call, first = retrier(self._client.open_stream, self._request())
                self.connects += 1
                yield self._take(first)
                for delivery in self._call:
                    yield self._take(delivery)
                log.info("%s: the stream ended; subscribing again", where)
            except (grpc.RpcError, PeerUnavailableError) as exc:
                if self._stop.is_set():
                    return
                if isinstance(exc, grpc.RpcError) and not is_recoverable(exc):
                    raise _error(exc, where) from exc
                log.warning("%s: %s; subscribing again from the cursor", where, describe_error(exc))
            finally:
                if self._call is not None:
                    self._call.cancel()
