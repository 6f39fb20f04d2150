"""``jgnode registry show``: the registry snapshot this node holds, read from its data folder.

The snapshot is read from ``<data_dir>/registry/snapshot.bin``, so the command
works while the node is down (an operator checking a node that fails closed
wants exactly that).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from exchange_registry import Snapshot, freshness_alarm, seconds_left
from node.cli import print_json, require_file
from node.errors import NotFoundError
from node.registry_store import read_cached, snapshot_path
from node.registry_wire import SignedSnapshot
from node.settings import NodeSettings, load_settings
from node.tables import render_table, when

__all__ = ["held_snapshot", "registry"]


def held_snapshot(settings: NodeSettings) -> SignedSnapshot:
    """The snapshot cached in the node's data folder; NotFoundError saying why there is none."""
    signed = read_cached(settings.data_dir)
    if signed is None:
        raise NotFoundError(
            f"no registry snapshot in {snapshot_path(settings.data_dir)}: the root publishes one when it runs, "
            "and every other node receives it from its parent (see `jgnode status`)"
        )
    return signed


def registry(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode registry <command>`` (only ``show`` so far)."""
    settings = load_settings(require_file(args.config, "config file"))
    signed = held_snapshot(settings)
    now_us = time.time_ns() // 1000
    alarm_us = int(settings.registry.alarm_before_s * 1e6)
    alarm = freshness_alarm(signed.snapshot.manifest, now_us=now_us, alarm_before_us=alarm_us)
    if args.json:
        print_json(_as_dict(signed, alarm, now_us))
        return 0
    _print(signed, alarm, now_us)
    return 0


def _left(seconds: float) -> str:
    if seconds <= 0:
        return "EXPIRED"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h {rest // 60:02d}m left"


def _resources(snapshot: Snapshot) -> Counter[str]:
    return Counter(e.provider_node for e in snapshot.catalog)


def _as_dict(signed: SignedSnapshot, alarm: str, now_us: int) -> dict[str, object]:
    snapshot = signed.snapshot
    manifest = snapshot.manifest
    resources = _resources(snapshot)
    return {
        "version": manifest.version,
        "root": manifest.root_id,
        "key_id": signed.update.key_id,
        "issued_at_us": manifest.issued_at_us,
        "expires_at_us": manifest.expires_at_us,
        "seconds_left": round(seconds_left(manifest, now_us=now_us), 1),
        "alarm": alarm,
        "parts": {p.name: {"version": p.version, "sha256": p.sha256} for p in manifest.parts},
        "nodes": [
            {
                "node_id": n.node_id,
                "parent_id": n.parent_id,
                "tier": n.tier,
                "endpoint": n.endpoint,
                "certificate_sha256": list(n.fingerprints),
                "reported_at_us": n.reported_at_us,
                "resources": resources[n.node_id],
            }
            for n in snapshot.nodes
        ],
        "crls": len(snapshot.crls),
    }


def _print(signed: SignedSnapshot, alarm: str, now_us: int) -> None:
    snapshot = signed.snapshot
    manifest = snapshot.manifest
    print(f"registry snapshot {manifest.version} signed by {manifest.root_id} (key {signed.update.key_id})")
    left = _left(seconds_left(manifest, now_us=now_us))
    print(f"  issued {when(manifest.issued_at_us)}; expires {when(manifest.expires_at_us)} ({left})")
    print("  parts: " + ", ".join(f"{p.name} v{p.version} sha256 {p.sha256[:16]}" for p in manifest.parts))
    if alarm:
        print(f"REGISTRY ALARM: {alarm}")
    resources = _resources(snapshot)
    rows = [
        [n.node_id, n.parent_id or "-", n.tier, n.endpoint, ", ".join(f[:16] for f in n.fingerprints) or "-",
         resources[n.node_id], when(n.reported_at_us)]
        for n in snapshot.nodes
    ]  # fmt: skip
    headers = ["node", "parent", "tier", "endpoint", "certificate sha256", "resources", "entry since"]
    print(render_table(headers, rows))
    print(f"{len(snapshot.catalog)} resources in the tree's catalog (jgnode catalog list --tree)")
    print(f"{len(snapshot.crls)} CRLs")
