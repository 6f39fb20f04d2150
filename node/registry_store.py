"""Where a node keeps its registry on disk: the snapshot it holds and what its children reported.

Both live under ``<data_dir>/registry/`` and are written atomically (a
temporary file, fsync, rename), so a crash leaves the old or the new version,
never half of one: a restarted node works offline from its snapshot until it
expires, and a restarted parent still knows its subtree before the children
report again.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from google.protobuf.message import DecodeError
from jgnode.exchange.v1 import registry_pb2

from exchange_registry import CatalogEntry, NodeEntry, RegistryError, check_report
from node.errors import ConfigError, VerificationError
from node.registry_wire import SignedSnapshot, decode_report, read_snapshot

__all__ = ["ReportBook", "read_cached", "snapshot_path", "write_snapshot"]

log = logging.getLogger("jgnode.registry")
Subtree = tuple[list[NodeEntry], list[CatalogEntry]]


def snapshot_path(data_dir: Path) -> Path:
    """Where a node keeps the snapshot it holds."""
    return data_dir / "registry" / "snapshot.bin"


def read_cached(data_dir: Path) -> SignedSnapshot | None:
    """The snapshot cached under ``data_dir`` (checked against its manifest, not its signature), if any.

    The signature was checked when the snapshot arrived; like the database,
    the data folder is trusted. ConfigError when the file is damaged.
    """
    path = snapshot_path(data_dir)
    if not path.exists():
        return None
    try:
        return read_snapshot(registry_pb2.SnapshotUpdate.FromString(path.read_bytes()), None)
    except (OSError, DecodeError, RegistryError) as exc:
        raise ConfigError(f"the cached registry snapshot {path} is not usable: {exc}; delete it") from exc


def write_snapshot(data_dir: Path, signed: SignedSnapshot) -> None:
    """Cache ``signed`` (every part) under ``data_dir``."""
    _write_atomically(snapshot_path(data_dir), signed.update.SerializeToString())


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


class ReportBook:
    """The last report of each child (``<data_dir>/registry/reports/<child>.bin``)."""

    def __init__(self, data_dir: Path, node_id: str) -> None:
        """Load the reports kept in ``data_dir`` of node ``node_id``."""
        self._folder = data_dir / "registry" / "reports"
        self._node_id = node_id
        self._lock = threading.Lock()
        self._reports = self._load()

    def _load(self) -> dict[str, Subtree]:
        reports: dict[str, Subtree] = {}
        for path in sorted(self._folder.glob("*.bin")) if self._folder.is_dir() else []:
            try:
                reports[path.stem] = decode_report(registry_pb2.NodeReport.FromString(path.read_bytes()))
            except (OSError, DecodeError, RegistryError) as exc:
                log.warning("ignoring the saved report %s (the child reports again): %s", path, exc)
        return reports

    def take(self, child: str, report: registry_pb2.NodeReport) -> bool:
        """Keep ``child``'s report; True when it differs from the one kept.

        Raises VerificationError when it names anything outside the child's
        subtree (or does not start with the child's own entry under this node).
        """
        try:
            nodes, catalog = decode_report(report)
            check_report(child, self._node_id, nodes, catalog)
        except RegistryError as exc:
            raise VerificationError(f"report refused: {exc}") from None
        with self._lock:
            if self._reports.get(child) == (nodes, catalog):
                return False
            _write_atomically(self._folder / f"{child}.bin", report.SerializeToString())
            self._reports[child] = (nodes, catalog)
        log.info("%s reported %d node(s) and %d resource(s)", child, len(nodes), len(catalog))
        return True

    def subtrees(self) -> Subtree:
        """Every node and resource the children reported."""
        with self._lock:
            reports = list(self._reports.values())
        return [n for nodes, _ in reports for n in nodes], [e for _, catalog in reports for e in catalog]
