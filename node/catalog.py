"""A node's resource catalog, from its settings, and the gRPC ``Catalog`` service that serves it.

Any node of the tree may read a node's catalog (a certificate under the tree's
PKI is enough): the catalog says what exists and on which terms, never the data
itself. Department clients will read it the same way once they have
certificates of their own (issue 5, subscriptions).
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from jgnode.exchange.v1 import catalog_pb2, catalog_pb2_grpc

from exchange_registry import CatalogEntry, build_catalog
from node.errors import JgnodeError, NotFoundError
from node.grpc_util import abort_with
from node.serde import SCHEMA_VERSIONS, catalog_entry_to_proto, sharing_class_to_proto
from node.settings import NodeSettings

__all__ = ["CatalogServicer", "find_resource", "node_catalog"]


def node_catalog(settings: NodeSettings) -> list[CatalogEntry]:
    """The catalog of the node ``settings`` describe."""
    catalog = settings.catalog
    return build_catalog(
        node_id=settings.node_id,
        classification=catalog.classification or f"{settings.node_id[:6]}JG",
        department=catalog.department,
        schema_versions=SCHEMA_VERSIONS,
        overrides=[r.model_dump(exclude_defaults=True) | {"dataset": r.dataset} for r in catalog.resources],
    )


def find_resource(entries: list[CatalogEntry], key: str) -> CatalogEntry:
    """The entry whose resource code (or dataset) is ``key``; NotFoundError naming the codes held otherwise."""
    found = next((e for e in entries if key in (e.resource_code, e.dataset)), None)
    if found is None:
        codes = ", ".join(e.resource_code for e in entries)
        raise NotFoundError(f"no resource {key!r} in the catalog of {entries[0].provider_node}; it has {codes}")
    return found


class CatalogServicer(catalog_pb2_grpc.CatalogServicer):
    """Serves the node's catalog to any node the tree's PKI vouches for."""

    def __init__(
        self, entries: Callable[[], list[CatalogEntry]], identify: Callable[[grpc.ServicerContext], str]
    ) -> None:
        """Serve ``entries()`` to callers ``identify`` accepts."""
        self._entries = entries
        self._identify = identify

    def _allow(self, context: grpc.ServicerContext) -> None:
        try:
            self._identify(context)
        except JgnodeError as exc:
            abort_with(context, exc)

    def ListResources(  # noqa: N802
        self, request: catalog_pb2.ListResourcesRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ListResourcesResponse:
        """Every resource, or those of one sharing class."""
        self._allow(context)
        wanted = request.sharing_class
        return catalog_pb2.ListResourcesResponse(
            entries=[
                catalog_entry_to_proto(e)
                for e in self._entries()
                if not wanted or sharing_class_to_proto(e.sharing_class) == wanted
            ]
        )

    def GetResource(  # noqa: N802
        self, request: catalog_pb2.GetResourceRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.CatalogEntry:
        """One resource by code or dataset name."""
        self._allow(context)
        try:
            return catalog_entry_to_proto(find_resource(self._entries(), request.resource_code))
        except NotFoundError as exc:
            abort_with(context, exc)
