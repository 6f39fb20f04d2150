"""Talking to a running node as an operator tool: status, provenance, digests, its resource catalog.

A tool connects with the identity of the node whose config it was given (its
certificate over mutual TLS, or its node id on an insecure development node),
so a node answers its own operator and the nodes above it.
"""

from __future__ import annotations

from types import TracebackType

import grpc
from jgnode.exchange.v1 import admin_pb2, admin_pb2_grpc, catalog_pb2, catalog_pb2_grpc

from exchange_registry import CatalogEntry
from node.errors import NotFoundError, PeerUnavailableError, VerificationError
from node.grpc_util import Transport
from node.serde import catalog_entry_from_proto
from node.settings import NodeSettings

__all__ = ["ADDRESS_FILE", "NodeClient", "node_address"]

ADDRESS_FILE = "node.addr"


def node_address(settings: NodeSettings) -> str:
    """Where the node of ``settings`` listens, as it wrote into its data folder when it started."""
    path = settings.data_dir / ADDRESS_FILE
    if not path.exists():
        raise PeerUnavailableError(
            f"node {settings.node_id} is not running ({path} not found); start it with jgnode run"
        )
    return path.read_text(encoding="utf-8").strip()


class NodeClient:
    """An admin connection to a node (``settings``' own node unless ``address``/``peer_id`` say otherwise)."""

    def __init__(self, settings: NodeSettings, *, address: str | None = None, peer_id: str | None = None) -> None:
        """Connect lazily; nothing is sent until a call."""
        self.address = address or node_address(settings)
        self.peer_id = peer_id or settings.node_id
        self._channel = Transport(settings).channel(self.address, peer_id=self.peer_id)
        self._metadata = Transport(settings).metadata()
        self._stub = admin_pb2_grpc.NodeAdminStub(self._channel)
        self._catalog = catalog_pb2_grpc.CatalogStub(self._channel)

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def _fail(self, exc: grpc.RpcError) -> Exception:
        code = exc.code() if isinstance(exc, grpc.Call) else None
        detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
        if code == grpc.StatusCode.NOT_FOUND:
            return NotFoundError(detail or "not found")
        if code == grpc.StatusCode.PERMISSION_DENIED:
            return VerificationError(f"node {self.peer_id} at {self.address} refused: {detail}")
        return PeerUnavailableError(f"cannot reach node {self.peer_id} at {self.address}: {detail}")

    def status(self, timeout: float = 10) -> admin_pb2.NodeStatus:
        """The node's status."""
        try:
            reply: admin_pb2.NodeStatus = self._stub.GetStatus(
                admin_pb2.GetStatusRequest(), metadata=self._metadata, timeout=timeout
            )
        except grpc.RpcError as exc:
            raise self._fail(exc) from exc
        return reply

    def provenance(self, request: admin_pb2.GetProvenanceRequest) -> list[admin_pb2.Provenance]:
        """Provenance bundles of a record uid."""
        try:
            reply = self._stub.GetProvenance(request, metadata=self._metadata, timeout=60)
        except grpc.RpcError as exc:
            raise self._fail(exc) from exc
        return list(reply.provenances)

    def digest(self, *, dataset: str = "", origin: str = "") -> tuple[int, bytes]:
        """(count, digest) of the records held."""
        try:
            reply = self._stub.GetDigest(
                admin_pb2.GetDigestRequest(dataset=dataset, origin=origin), metadata=self._metadata, timeout=300
            )
        except grpc.RpcError as exc:
            raise self._fail(exc) from exc
        return reply.count, reply.digest

    def catalog(self, timeout: float = 10) -> list[CatalogEntry]:
        """The node's resource catalog."""
        try:
            reply = self._catalog.ListResources(
                catalog_pb2.ListResourcesRequest(), metadata=self._metadata, timeout=timeout
            )
        except grpc.RpcError as exc:
            raise self._fail(exc) from exc
        return [catalog_entry_from_proto(entry) for entry in reply.entries]
