"""The registry snapshot a node holds: the tree's nodes, catalog and CRLs, signed by the root.

The root of the tree publishes the snapshot (see ``exchange_registry`` for the
model): it assembles the parts from its own entry and catalog, what its
children reported of their subtrees and the CRLs it holds, signs the manifest
and publishes a new version whenever something changed, and at least every
``registry.refresh_s`` (a new expiry, no changed parts). Every other node
follows its parent (``node.registry_sync``): it verifies each update (signed by
the root, part hashes as the manifest says, no rollback, not expired), keeps
it in ``<data_dir>/registry/snapshot.bin`` so that a restart works offline
until it expires, and relays it to its own children. Children report their
subtree up the tree (``Report``), which is how the root learns it.

A node whose snapshot has expired, or that has none yet, fails closed for new
subscriptions (:meth:`Registry.require_fresh`) and raises the alarm
``registry.alarm_before_s`` before that moment. A node without a parent is the
root of its own tree (a single development node is).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from jgnode.exchange.v1 import registry_pb2

from exchange_registry import (
    CatalogEntry,
    NodeEntry,
    RegistryError,
    Snapshot,
    changed_parts,
    check_successor,
    freshness_alarm,
    next_manifest,
    part_digest,
    seconds_left,
)
from node.errors import ConfigError, JgnodeError, NotFoundError, SnapshotExpiredError, VerificationError
from node.pki import fingerprint, load_certificates, node_certificate
from node.registry_store import ReportBook, read_cached, write_snapshot
from node.registry_wire import (
    SignedSnapshot,
    encode_parts,
    encode_report,
    manifest_statement,
    read_snapshot,
    sign_snapshot,
)
from node.settings import NodeSettings
from node.signing import Signer
from node.trust import TrustStore

__all__ = ["Registry", "RegistryStatus", "registry_root"]

log = logging.getLogger("jgnode.registry")


@dataclass(frozen=True, slots=True)
class RegistryStatus:
    """For ``jgnode status``: the snapshot held and whether it needs attention."""

    root_id: str
    version: int  # 0: none held
    issued_at_us: int
    expires_at_us: int
    seconds_left: float
    parts: Mapping[str, int]  # part name -> the version it last changed in
    alarm: str  # "" when all is well


def registry_root(settings: NodeSettings, trust: TrustStore) -> str:
    """The node whose signature snapshots must carry.

    The node itself when it has no parent; else ``registry.root_id`` when set;
    else the node the trust anchor names; without a PKI, the province.
    """
    if settings.parent is None:
        return settings.node_id
    if settings.registry.root_id:
        return settings.registry.root_id
    if not trust.pki:
        return settings.region_code[:2] + "0000"
    roots = sorted({node_certificate(anchor).node_id for anchor in trust.anchors})
    if len(roots) != 1:
        raise ConfigError(f"the trust anchors name several nodes ({', '.join(roots)}): set registry.root_id")
    return roots[0]


class Registry:
    """The snapshot this node holds, its children's reports, and the root's publishing."""

    def __init__(
        self,
        *,
        settings: NodeSettings,
        trust: TrustStore,
        signer: Callable[[], Signer],
        catalog: Sequence[CatalogEntry],
        endpoint: str,
        clock: Callable[[], int],
    ) -> None:
        """Load the cached snapshot and reports; ``catalog`` is this node's own, ``endpoint`` where it serves."""
        self.node_id = settings.node_id
        self.root_id = registry_root(settings, trust)
        self._settings = settings
        self._trust = trust
        self._signer = signer
        self._catalog = list(catalog)
        self._endpoint = settings.registry.advertise or endpoint
        self._clock = clock
        self._changed = threading.Condition()
        self._closed = False
        self._listeners: list[Callable[[], None]] = []
        self._held = self._load_held()
        self._reports = ReportBook(settings.data_dir, settings.node_id)

    # -- what the node holds ----------------------------------------------------

    def held(self) -> Snapshot | None:
        """The snapshot held (it may have expired), or None."""
        signed = self._held
        return signed.snapshot if signed else None

    def signed(self) -> SignedSnapshot | None:
        """The snapshot held with its signature and every part, as it is relayed."""
        return self._held

    def require_fresh(self) -> Snapshot:
        """The snapshot held; SnapshotExpiredError when it has expired or none has arrived (fail closed)."""
        held = self.held()
        now = self._clock()
        if held is None or held.manifest.expires_at_us <= now:
            manifest = held.manifest if held else None
            raise SnapshotExpiredError(freshness_alarm(manifest, now_us=now, alarm_before_us=0))
        return held

    def status(self) -> RegistryStatus:
        """Version, validity, parts and the alarm (none held, expired, or expiring within ``alarm_before_s``)."""
        held = self.held()
        now = self._clock()
        alarm_us = int(self._settings.registry.alarm_before_s * 1e6)
        alarm = freshness_alarm(held.manifest if held else None, now_us=now, alarm_before_us=alarm_us)
        if held is None:
            return RegistryStatus(self.root_id, 0, 0, 0, 0.0, {}, alarm)
        manifest = held.manifest
        return RegistryStatus(
            self.root_id,
            manifest.version,
            manifest.issued_at_us,
            manifest.expires_at_us,
            seconds_left(manifest, now_us=now),
            {p.name: p.version for p in manifest.parts},
            alarm,
        )

    def catalog(self) -> list[CatalogEntry]:
        """Every resource of every node of the tree, as the snapshot held lists them."""
        held = self.held()
        return list(held.catalog) if held else []

    def resource(self, code: str) -> CatalogEntry | None:
        """The resource with code ``code``, from any node of the tree."""
        held = self.held()
        return held.resource(code) if held else None

    def node(self, node_id: str) -> NodeEntry | None:
        """The registry entry of ``node_id``."""
        held = self.held()
        return held.node(node_id) if held else None

    def path_to_root(self, node_id: str) -> list[NodeEntry]:
        """The entries from ``node_id`` up to the root; NotFoundError when the snapshot does not connect them."""
        held = self.held()
        if held is None:
            raise NotFoundError("no registry snapshot held yet")
        try:
            return held.path_to_root(node_id)
        except RegistryError as exc:
            raise NotFoundError(str(exc)) from None

    # -- following the parent ------------------------------------------------------

    def accept(self, update: registry_pb2.SnapshotUpdate) -> bool:
        """Verify an update from the parent and hold it; False when it is the snapshot held already.

        Raises VerificationError, saying why, when the manifest is not signed by
        the root, a part does not match its hash, the version is older than the
        one held (a rollback) or the snapshot has expired; the held snapshot
        stays as it was.
        """
        try:
            with self._changed:
                held = self._held
                offered = read_snapshot(update, held)
                manifest = offered.snapshot.manifest
                self._check_signer(update, manifest.root_id, manifest.issued_at_us)
                if not check_successor(held.snapshot.manifest if held else None, manifest, now_us=self._clock()):
                    return False
                self._install(offered)
        except (RegistryError, VerificationError) as exc:
            raise VerificationError(f"registry snapshot refused: {exc}") from None
        self._take_crls(offered.snapshot.crls)
        log.info("registry snapshot %d from %s held", manifest.version, manifest.root_id)
        return True

    def _check_signer(self, update: registry_pb2.SnapshotUpdate, root_id: str, issued_at_us: int) -> None:
        if root_id != self.root_id:
            raise VerificationError(f"it names {root_id or 'no node'} as the root; this tree's root is {self.root_id}")
        self._trust.admit(update.signer_chain, at_us=issued_at_us)
        try:
            self._trust.keyring.verify(
                key_id=update.key_id,
                node_id=self.root_id,
                suite=update.suite,
                data=manifest_statement(update.manifest),
                signature=update.signature,
            )
        except VerificationError as exc:
            if self._trust.pki:
                raise
            folder = self._settings.trust_path
            raise VerificationError(
                f"{exc} (no PKI: the root's signing.pub belongs in {folder}/{self.root_id}.pub)"
            ) from None

    def _take_crls(self, crls: Sequence[bytes]) -> None:
        if not self._trust.pki:
            return
        try:
            self._trust.add_crls(crls)
        except JgnodeError as exc:
            log.warning("a CRL in the registry snapshot is not usable: %s", exc)

    def wait_newer(self, version: int, timeout: float) -> SignedSnapshot | None:
        """The snapshot held once it is newer than ``version``; None after ``timeout`` seconds or on close."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._newer(version), timeout)
            return self._held if self._newer(version) and not self._closed else None

    def _newer(self, version: int) -> bool:
        return self._held is not None and self._held.version > version

    @property
    def closed(self) -> bool:
        """True once the node is stopping."""
        return self._closed

    def close(self) -> None:
        """Let every Follow stream end (the node is stopping)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # -- the subtree, reported upwards ---------------------------------------------

    def own_entry(self) -> NodeEntry:
        """This node's registry entry: parent, tier, endpoint, certificate fingerprint."""
        parent = self._settings.expected_parent_id if self._settings.parent else ""
        return NodeEntry(self.node_id, parent, self._settings.tier, self._endpoint, self._fingerprints())

    def _fingerprints(self) -> tuple[str, ...]:
        if not self._trust.pki:
            return ()
        try:
            leaf = load_certificates(self._settings.cert_path.read_bytes())[0]
        except (OSError, ConfigError) as exc:
            log.warning("cannot read this node's certificate for the registry: %s", exc)
            return ()
        return (fingerprint(leaf).hex(),)

    def subtree(self) -> tuple[list[NodeEntry], list[CatalogEntry]]:
        """This node's entry and catalog, then what its children reported of their subtrees."""
        nodes, catalog = self._reports.subtrees()
        return [self.own_entry(), *nodes], [*self._catalog, *catalog]

    def subtree_report(self) -> registry_pb2.NodeReport:
        """What this node reports to its parent."""
        nodes, catalog = self.subtree()
        return encode_report(nodes, catalog)

    def take_report(self, child: str, report: registry_pb2.NodeReport) -> bool:
        """Keep what ``child`` reported of its subtree; True when it changed.

        Raises VerificationError when the report names anything outside the
        child's subtree.
        """
        if not self._reports.take(child, report):
            return False
        for listener in self._listeners:
            listener()
        return True

    def on_subtree_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (quickly, without blocking) whenever a child's report changes."""
        self._listeners.append(listener)

    # -- publishing, at the root -----------------------------------------------------

    def publish(self, *, refresh: bool = False) -> bool:
        """At the root: sign and hold a new version if any part changed, or anyway with ``refresh``.

        Returns True when a new version was published.
        """
        with self._changed:
            held = self._held
            previous = held.snapshot.manifest if held else None
            now = self._clock()
            nodes, catalog = self.subtree()
            parts = encode_parts(self._stamped(nodes, held, now), catalog, self._trust.bundle()[1])
            digests = {name: part_digest(data) for name, data in parts.items()}
            if previous is not None and not refresh and not changed_parts(previous, digests):
                return False
            validity_us = int(self._settings.registry.validity_s * 1e6)
            manifest = next_manifest(previous, parts, root_id=self.node_id, now_us=now, validity_us=validity_us)
            self._install(sign_snapshot(manifest, parts, self._signer()))
        changed = changed_parts(previous, digests) if previous else list(parts)
        log.info("published registry snapshot %d (changed: %s)", manifest.version, ", ".join(changed) or "none")
        return True

    @staticmethod
    def _stamped(nodes: list[NodeEntry], held: SignedSnapshot | None, now: int) -> list[NodeEntry]:
        """Entries stamped with when the root first saw them as they stand (unchanged ones keep their stamp)."""
        known = {n.node_id: n for n in held.snapshot.nodes} if held else {}
        stamped = []
        for entry in nodes:
            old = known.get(entry.node_id)
            stamp = old.reported_at_us if old is not None and old.same_as(entry) else now
            stamped.append(dataclasses.replace(entry, reported_at_us=stamp))
        return stamped

    # -- keeping it on disk ----------------------------------------------------------

    def _install(self, signed: SignedSnapshot) -> None:
        """Hold ``signed`` (call with the lock held): cache it first, then wake the Follow streams."""
        write_snapshot(self._settings.data_dir, signed)
        self._held = signed
        self._changed.notify_all()

    def _load_held(self) -> SignedSnapshot | None:
        try:
            cached = read_cached(self._settings.data_dir)
        except ConfigError as exc:
            log.warning("%s", exc)
            return None
        if cached is not None and cached.snapshot.manifest.root_id != self.root_id:
            log.warning(
                "ignoring the cached registry snapshot of root %s: this tree's root is %s",
                cached.snapshot.manifest.root_id,
                self.root_id,
            )
            return None
        return cached
