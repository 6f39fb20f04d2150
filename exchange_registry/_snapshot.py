"""Signed registry snapshots: what the root publishes and every tier verifies, caches and relays.

Like X-Road's global configuration, the root of the tree publishes what every
node needs to know about the others as one snapshot: the node registry (ids,
parents, tiers, endpoints, certificate fingerprints), the catalog of every node
and the CRLs. A snapshot is a **manifest** plus **parts**. The manifest names
the root, a version that only ever grows, when it was issued and when it
expires, and for each part its name, the version it last changed in and the
SHA-256 of its bytes; the root signs the manifest, so the signature covers the
parts through their hashes. A follower that already holds a part with the same
hash does not need it again: only changed parts travel.

This module is pure: part bytes are opaque here (the node encodes them
deterministically). It works out versions and hashes, which parts a follower
lacks, whether a manifest and its parts agree, whether an offered manifest may
replace the one held, how fresh a snapshot is, and whether a child's report of
its subtree stays inside that subtree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from exchange_registry._catalog import CatalogEntry
from governance.codes import is_within

__all__ = [
    "PART_NAMES",
    "Manifest",
    "NodeEntry",
    "PartRef",
    "RegistryError",
    "Snapshot",
    "changed_parts",
    "check_parts",
    "check_report",
    "check_successor",
    "freshness_alarm",
    "next_manifest",
    "part_digest",
    "seconds_left",
    "sorted_catalog",
    "sorted_nodes",
]

PART_NAMES: Final = ("nodes", "catalog", "crl")
"""The parts of every snapshot, in manifest order."""


class RegistryError(Exception):
    """A snapshot, part or report that cannot be taken; the message says why."""


@dataclass(frozen=True, slots=True)
class NodeEntry:
    """One node of the tree, as the registry lists it."""

    node_id: str
    parent_id: str  # "" at the root
    tier: str
    endpoint: str  # host:port where the node serves its children
    fingerprints: tuple[str, ...] = ()  # SHA-256 (hex) of its TLS certificates; none without a PKI
    # when the root received the entry as it now stands: an unchanged report leaves it alone,
    # so reporting again does not make the nodes part travel
    reported_at_us: int = 0

    def same_as(self, other: NodeEntry) -> bool:
        """Whether both describe the node alike (the report time aside)."""
        return (self.node_id, self.parent_id, self.tier, self.endpoint, self.fingerprints) == (
            other.node_id,
            other.parent_id,
            other.tier,
            other.endpoint,
            other.fingerprints,
        )


@dataclass(frozen=True, slots=True)
class PartRef:
    """A part as the manifest names it."""

    name: str
    version: int  # the snapshot version this part last changed in
    sha256: str  # hex digest of the part's bytes


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the root signs: the snapshot's version, validity and the hash of each part."""

    root_id: str
    version: int
    issued_at_us: int
    expires_at_us: int
    parts: tuple[PartRef, ...]

    def hashes(self) -> dict[str, str]:
        """Part name -> SHA-256 (hex)."""
        return {p.name: p.sha256 for p in self.parts}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A verified snapshot, its parts decoded."""

    manifest: Manifest
    nodes: tuple[NodeEntry, ...]
    catalog: tuple[CatalogEntry, ...]
    crls: tuple[bytes, ...]  # PEM

    def node(self, node_id: str) -> NodeEntry | None:
        """The entry of ``node_id``, if the registry lists it."""
        return next((n for n in self.nodes if n.node_id == node_id), None)

    def resource(self, code: str) -> CatalogEntry | None:
        """The catalog entry with resource code ``code``, from any node of the tree."""
        return next((e for e in self.catalog if e.resource_code == code), None)

    def path_to_root(self, node_id: str) -> list[NodeEntry]:
        """The entries from ``node_id`` up to the root, both included; RegistryError when the chain breaks."""
        path: list[NodeEntry] = []
        current = node_id
        while current:
            entry = self.node(current)
            if entry is None:
                where = f" (parent of {path[-1].node_id})" if path else ""
                raise RegistryError(f"node {current}{where} is not in registry snapshot {self.manifest.version}")
            if entry in path:
                raise RegistryError(f"the registry's parent chain of {node_id} loops at {current}")
            path.append(entry)
            current = entry.parent_id
        return path


def part_digest(data: bytes) -> str:
    """SHA-256 (hex) of a part's bytes."""
    return hashlib.sha256(data).hexdigest()


def sorted_nodes(nodes: Iterable[NodeEntry]) -> list[NodeEntry]:
    """Entries in the order the nodes part keeps them (by node id), so equal registries encode alike."""
    return sorted(nodes, key=lambda n: n.node_id)


def sorted_catalog(entries: Iterable[CatalogEntry]) -> list[CatalogEntry]:
    """Entries in the order the catalog part keeps them (by provider, then resource code)."""
    return sorted(entries, key=lambda e: (e.provider_node, e.resource_code))


def next_manifest(
    previous: Manifest | None, parts: Mapping[str, bytes], *, root_id: str, now_us: int, validity_us: int
) -> Manifest:
    """The manifest that follows ``previous`` for ``parts``: next version, new validity.

    A part keeps the version it last changed in while its bytes stay the same.
    A version is never below the issue time in seconds since the epoch, so a
    root that lost its last snapshot still publishes above what the tree holds.
    """
    if sorted(parts) != sorted(PART_NAMES):
        raise RegistryError(f"a snapshot has exactly the parts {', '.join(PART_NAMES)}, not {', '.join(parts)}")
    version = max(previous.version + 1 if previous else 1, now_us // 1_000_000)
    held = {p.name: p for p in previous.parts} if previous else {}
    refs = []
    for name in PART_NAMES:
        digest = part_digest(parts[name])
        same = name in held and held[name].sha256 == digest
        refs.append(PartRef(name, held[name].version if same else version, digest))
    return Manifest(root_id, version, now_us, now_us + validity_us, tuple(refs))


def changed_parts(manifest: Manifest, held: Mapping[str, str]) -> list[str]:
    """Names of the parts of ``manifest`` whose hash differs from ``held`` (part name -> SHA-256 hex)."""
    return [p.name for p in manifest.parts if held.get(p.name) != p.sha256]


def check_parts(manifest: Manifest, parts: Mapping[str, bytes]) -> None:
    """RegistryError unless ``parts`` are exactly the manifest's parts, each with the hash it names."""
    names = [p.name for p in manifest.parts]
    if sorted(names) != sorted(PART_NAMES):
        raise RegistryError(f"manifest {manifest.version} names the parts {', '.join(names)}, not {PART_NAMES}")
    for ref in manifest.parts:
        data = parts.get(ref.name)
        if data is None:
            raise RegistryError(f"part {ref.name} of snapshot {manifest.version} is missing")
        if part_digest(data) != ref.sha256:
            raise RegistryError(
                f"part {ref.name} does not match the hash in signed manifest {manifest.version}: altered in transit"
            )
    extra = sorted(set(parts) - set(names))
    if extra:
        raise RegistryError(f"snapshot {manifest.version} carries parts its manifest does not name: {extra}")


def check_successor(held: Manifest | None, offered: Manifest, *, now_us: int) -> bool:
    """Whether ``offered`` replaces ``held``: True if newer, False if it is the one held.

    Raises RegistryError for an older version (a rollback), a version held
    with other contents, or a snapshot that has already expired.
    """
    if held is not None and offered.version < held.version:
        raise RegistryError(f"refusing snapshot version {offered.version}: version {held.version} is held (a rollback)")
    if held is not None and offered.version == held.version:
        if offered != held:
            raise RegistryError(f"refusing snapshot version {offered.version}: it differs from the one held")
        return False
    if offered.expires_at_us <= now_us:
        expired = _when(offered.expires_at_us)
        raise RegistryError(f"refusing snapshot version {offered.version}: it expired at {expired}")
    return True


def seconds_left(manifest: Manifest, *, now_us: int) -> float:
    """Seconds until the snapshot expires (negative once it has)."""
    return (manifest.expires_at_us - now_us) / 1e6


def freshness_alarm(manifest: Manifest | None, *, now_us: int, alarm_before_us: int) -> str:
    """Why the snapshot held needs attention ("" when it is fresh and not about to expire)."""
    if manifest is None:
        return "no registry snapshot received yet: new subscriptions are refused until one arrives"
    if manifest.expires_at_us <= now_us:
        return (
            f"registry snapshot {manifest.version} expired at {_when(manifest.expires_at_us)}: "
            "new subscriptions are refused until a fresh one arrives (check the link towards the root)"
        )
    if manifest.expires_at_us - now_us < alarm_before_us:
        return (
            f"registry snapshot {manifest.version} expires at {_when(manifest.expires_at_us)}: "
            "no fresh one has arrived (check the link towards the root)"
        )
    return ""


def check_report(caller: str, receiver: str, nodes: Sequence[NodeEntry], catalog: Sequence[CatalogEntry]) -> None:
    """RegistryError unless ``caller``'s report to ``receiver`` describes only ``caller``'s subtree.

    The report starts with the caller's own entry, naming ``receiver`` as its
    parent; every other entry lies in the caller's subtree and hangs off a
    node of the report; every resource belongs to a node of the report.
    """
    if not nodes or nodes[0].node_id != caller:
        first = nodes[0].node_id if nodes else "nothing"
        raise RegistryError(f"a report from {caller} must start with its own entry, not {first}")
    if nodes[0].parent_id != receiver:
        named = nodes[0].parent_id or "no node"
        raise RegistryError(f"{caller} names {named} as its parent but reported to {receiver}")
    ids = [n.node_id for n in nodes]
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise RegistryError(f"{caller} reports {', '.join(doubled)} more than once")
    for entry in nodes[1:]:
        if not _within(entry.node_id, caller):
            raise RegistryError(f"{caller} may not report node {entry.node_id}: it is outside {caller}'s subtree")
        if entry.parent_id not in ids:
            raise RegistryError(f"{caller} reports {entry.node_id} under {entry.parent_id}, which it does not report")
    for resource in catalog:
        if resource.provider_node not in ids:
            raise RegistryError(
                f"{caller} may not report resource {resource.resource_code} of {resource.provider_node}: "
                f"that node is not in its report (outside {caller}'s subtree)"
            )


def _within(node_id: str, ancestor: str) -> bool:
    try:
        return is_within(node_id[:6], ancestor[:6])
    except ValueError:  # not a region code at all
        return False


def _when(us: int) -> str:
    return f"{dt.datetime.fromtimestamp(us / 1e6, dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
