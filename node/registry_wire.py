"""Where registry snapshots meet protobuf: parts, manifests, signed updates and reports.

Part bytes are serialized protobuf messages with their entries sorted (see
``exchange_registry.sorted_nodes`` / ``sorted_catalog``), so the same registry
always encodes to the same bytes and its hash only moves when it changes. The
root signs the manifest's exact bytes, prefixed with a context string so that
a manifest signature can never pass for a batch or hop signature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from jgnode.exchange.v1 import registry_pb2

from exchange_registry import (
    PART_NAMES,
    CatalogEntry,
    Manifest,
    NodeEntry,
    PartRef,
    RegistryError,
    Snapshot,
    check_parts,
    sorted_catalog,
    sorted_nodes,
)
from node.serde import catalog_entry_from_proto, catalog_entry_to_proto
from node.signing import Signer

__all__ = [
    "SignedSnapshot",
    "decode_report",
    "encode_parts",
    "encode_report",
    "held_hashes",
    "manifest_statement",
    "read_snapshot",
    "sign_snapshot",
]

_CONTEXT = b"jgnode-registry-manifest:"


def manifest_statement(manifest: bytes) -> bytes:
    """The bytes the root's signature covers."""
    return _CONTEXT + manifest


def _node_to_proto(entry: NodeEntry) -> registry_pb2.RegistryNode:
    return registry_pb2.RegistryNode(
        node_id=entry.node_id,
        parent_id=entry.parent_id,
        tier=entry.tier,
        endpoint=entry.endpoint,
        certificate_sha256=entry.fingerprints,
        reported_at_us=entry.reported_at_us,
    )


def _node_from_proto(message: registry_pb2.RegistryNode) -> NodeEntry:
    return NodeEntry(
        node_id=message.node_id,
        parent_id=message.parent_id,
        tier=message.tier,
        endpoint=message.endpoint,
        fingerprints=tuple(message.certificate_sha256),
        reported_at_us=message.reported_at_us,
    )


def encode_parts(
    nodes: Iterable[NodeEntry], catalog: Iterable[CatalogEntry], crls: Iterable[bytes]
) -> dict[str, bytes]:
    """The parts of a snapshot as deterministic bytes, by part name."""
    return {
        "nodes": registry_pb2.RegistryNodes(nodes=[_node_to_proto(n) for n in sorted_nodes(nodes)]).SerializeToString(),
        "catalog": registry_pb2.RegistryCatalog(
            entries=[catalog_entry_to_proto(e) for e in sorted_catalog(catalog)]
        ).SerializeToString(),
        "crl": registry_pb2.RegistryCrls(crls=sorted(set(crls))).SerializeToString(),
    }


def _decode_parts(manifest: Manifest, parts: Mapping[str, bytes]) -> Snapshot:
    """The snapshot ``parts`` make up under ``manifest``; RegistryError when they do not match or parse."""
    check_parts(manifest, parts)
    try:
        nodes = registry_pb2.RegistryNodes.FromString(parts["nodes"]).nodes
        entries = registry_pb2.RegistryCatalog.FromString(parts["catalog"]).entries
        crls = registry_pb2.RegistryCrls.FromString(parts["crl"]).crls
        catalog = tuple(catalog_entry_from_proto(e) for e in entries)
    except (DecodeError, ValueError) as exc:
        raise RegistryError(f"a part of snapshot {manifest.version} does not parse: {exc}") from exc
    return Snapshot(manifest, tuple(_node_from_proto(n) for n in nodes), catalog, tuple(crls))


def _manifest_to_bytes(manifest: Manifest) -> bytes:
    return registry_pb2.RegistryManifest(
        root_id=manifest.root_id,
        version=manifest.version,
        issued_at_us=manifest.issued_at_us,
        expires_at_us=manifest.expires_at_us,
        parts=[
            registry_pb2.PartRef(name=p.name, version=p.version, sha256=bytes.fromhex(p.sha256)) for p in manifest.parts
        ],
    ).SerializeToString()


def _manifest_from_bytes(data: bytes) -> Manifest:
    try:
        message = registry_pb2.RegistryManifest.FromString(data)
    except DecodeError as exc:
        raise RegistryError(f"the snapshot manifest does not parse: {exc}") from exc
    parts = tuple(PartRef(p.name, p.version, p.sha256.hex()) for p in message.parts)
    return Manifest(message.root_id, message.version, message.issued_at_us, message.expires_at_us, parts)


@dataclass(frozen=True, slots=True)
class SignedSnapshot:
    """A snapshot with what proves it: the update carrying every part, as the root signed it."""

    snapshot: Snapshot
    update: registry_pb2.SnapshotUpdate  # every part; never modified

    @property
    def version(self) -> int:
        """The snapshot's version."""
        return self.snapshot.manifest.version

    def parts(self) -> dict[str, bytes]:
        """Part name -> bytes."""
        return {p.name: p.data for p in self.update.parts}

    def update_for(self, held: Mapping[str, str]) -> registry_pb2.SnapshotUpdate:
        """The update a follower holding ``held`` (part name -> SHA-256 hex) needs: only the parts that differ."""
        lacking = {p.name for p in self.snapshot.manifest.parts if held.get(p.name) != p.sha256}
        return _with_parts(self.update, [p for p in self.update.parts if p.name in lacking])

    def follow_request(self) -> registry_pb2.FollowRequest:
        """What a follower holding this snapshot asks its parent for."""
        return registry_pb2.FollowRequest(
            version=self.version,
            held=[
                registry_pb2.PartRef(name=p.name, sha256=bytes.fromhex(p.sha256)) for p in self.snapshot.manifest.parts
            ],
        )


def sign_snapshot(manifest: Manifest, parts: Mapping[str, bytes], signer: Signer) -> SignedSnapshot:
    """Sign ``manifest`` (the root does) and bundle it with its parts."""
    data = _manifest_to_bytes(manifest)
    update = registry_pb2.SnapshotUpdate(
        manifest=data,
        signature=signer.sign(manifest_statement(data)),
        key_id=signer.key_id,
        suite=signer.suite,
        signer_chain=signer.chain,
        parts=[registry_pb2.RegistryPart(name=name, data=parts[name]) for name in PART_NAMES],
    )
    return SignedSnapshot(_decode_parts(manifest, parts), update)


def read_snapshot(update: registry_pb2.SnapshotUpdate, held: SignedSnapshot | None) -> SignedSnapshot:
    """The snapshot an update brings, completed with the unchanged parts of ``held``; checks hashes, not signature.

    Raises RegistryError when the manifest or a part does not parse, a part is
    missing, or a part's hash differs from the manifest's.
    """
    manifest = _manifest_from_bytes(update.manifest)
    wanted = manifest.hashes()
    parts = {}
    if held is not None:  # the parts that did not travel because the follower holds them
        same = {name for name, digest in held.snapshot.manifest.hashes().items() if wanted.get(name) == digest}
        parts = {name: data for name, data in held.parts().items() if name in same}
    parts.update((p.name, p.data) for p in update.parts)
    snapshot = _decode_parts(manifest, parts)
    every = [registry_pb2.RegistryPart(name=name, data=parts[name]) for name in PART_NAMES]
    return SignedSnapshot(snapshot, _with_parts(update, every))


def _with_parts(
    update: registry_pb2.SnapshotUpdate, parts: Iterable[registry_pb2.RegistryPart]
) -> registry_pb2.SnapshotUpdate:
    """``update``'s manifest and signature with ``parts``."""
    return registry_pb2.SnapshotUpdate(
        manifest=update.manifest,
        signature=update.signature,
        key_id=update.key_id,
        suite=update.suite,
        signer_chain=update.signer_chain,
        parts=parts,
    )


def held_hashes(request: registry_pb2.FollowRequest) -> dict[str, str]:
    """Part name -> SHA-256 (hex) of what a follower says it holds."""
    return {p.name: p.sha256.hex() for p in request.held}


def encode_report(nodes: Sequence[NodeEntry], catalog: Iterable[CatalogEntry]) -> registry_pb2.NodeReport:
    """A subtree report: the reporting node's entry first, then its descendants (sorted), and their resources."""
    return registry_pb2.NodeReport(
        nodes=[_node_to_proto(nodes[0]), *(_node_to_proto(n) for n in sorted_nodes(nodes[1:]))],
        catalog=[catalog_entry_to_proto(e) for e in sorted_catalog(catalog)],
    )


def decode_report(report: registry_pb2.NodeReport) -> tuple[list[NodeEntry], list[CatalogEntry]]:
    """The entries and resources of a subtree report; RegistryError when a resource does not parse."""
    try:
        catalog = [catalog_entry_from_proto(e) for e in report.catalog]
    except ValueError as exc:
        raise RegistryError(f"the report's catalog does not parse: {exc}") from exc
    return [_node_from_proto(n) for n in report.nodes], catalog
