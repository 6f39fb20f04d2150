"""The gRPC ``Registry`` service: children follow the snapshot held here and report their subtrees."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import NoReturn

import grpc
from jgnode.exchange.v1 import registry_pb2, registry_pb2_grpc

from node.errors import JgnodeError
from node.grpc_util import abort_with
from node.registry import Registry
from node.registry_wire import held_hashes

__all__ = ["RegistryServicer"]

log = logging.getLogger("jgnode.registry")


class RegistryServicer(registry_pb2_grpc.RegistryServicer):
    """Serves the registry to this node's children only."""

    def __init__(
        self,
        registry: Registry,
        identify: Callable[[grpc.ServicerContext], str],
        *,
        admit: Callable[[str], None],
        refused: Callable[[str, str], None],
        poll_s: float = 1.0,
    ) -> None:
        """Serve ``registry`` to callers ``identify`` names and ``admit`` lets in; ``refused`` audits the others.

        ``poll_s``: how often a waiting Follow stream checks that its caller is still there.
        """
        self._registry = registry
        self._identify = identify
        self._admit = admit
        self._refused = refused
        self._poll_s = poll_s

    def _child(self, context: grpc.ServicerContext) -> str:
        try:
            child = self._identify(context)
            self._admit(child)
        except JgnodeError as exc:
            self._refuse(context, exc)
        return child

    def _refuse(self, context: grpc.ServicerContext, exc: JgnodeError) -> NoReturn:
        log.warning("refused a registry call from %s: %s", context.peer(), exc)
        self._refused(context.peer(), str(exc))
        abort_with(context, exc)

    def Follow(  # noqa: N802
        self, request: registry_pb2.FollowRequest, context: grpc.ServicerContext
    ) -> Iterator[registry_pb2.SnapshotUpdate]:
        """What the child lacks of the snapshot held here, at once and after every change."""
        self._child(context)
        held = held_hashes(request)
        version = request.version - 1  # the child hears at once, even when it is up to date
        while context.is_active():
            signed = self._registry.wait_newer(version, timeout=self._poll_s)
            if signed is None:
                if self._registry.closed:
                    return
                continue
            yield signed.update_for(held)
            version, held = signed.version, signed.snapshot.manifest.hashes()

    def Report(  # noqa: N802
        self, request: registry_pb2.NodeReport, context: grpc.ServicerContext
    ) -> registry_pb2.ReportReply:
        """Keep what the child reports of its subtree (only its own subtree)."""
        child = self._child(context)
        try:
            changed = self._registry.take_report(child, request)
        except JgnodeError as exc:
            self._refuse(context, exc)
        return registry_pb2.ReportReply(nodes=len(request.nodes), changed=changed)
