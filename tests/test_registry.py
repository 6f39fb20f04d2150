"""The signed registry snapshot: published at the root, verified, cached and relayed by every tier."""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from jgnode.exchange.v1 import registry_pb2, registry_pb2_grpc

from exchange_registry import Manifest, NodeEntry, RegistryError, Snapshot, next_manifest
from governance import DATASETS
from node.errors import ConfigError, SnapshotExpiredError, VerificationError
from node.grpc_util import Transport
from node.pki import fingerprint, load_certificates
from node.registry import Registry
from node.registry_wire import encode_report, sign_snapshot
from node.runtime import Node, now_us
from node.settings import load_settings
from tests.conftest import eventually, make_node_dir
from tests.harness import Tree, jgnode, status

HOUR_US = 3600 * 1_000_000
FAST: dict[str, Any] = {
    "registry": {"report_s": 0.3},
    "retry": {"initial_s": 0.05, "max_interval_s": 0.3},
}
TREE = {"330000": ("province", None), "330100": ("city", "330000"), "330106": ("county", "330100")}


def _start(tree: Tree, node_id: str, **overrides: Any) -> Node:
    tier, parent = TREE[node_id]
    return tree.start(node_id, tier, parent=parent, **{**FAST, **overrides})


def _three_tiers(tree: Tree) -> tuple[Node, Node, Node]:
    root, city, county = (_start(tree, n) for n in TREE)
    eventually(lambda: _holds_all(county, root), what="the county to hold the root's snapshot of all three nodes")
    return root, city, county


def _holds_all(node: Node, root: Node) -> bool:
    held, published = node.registry.held(), root.registry.held()
    return bool(held and published and held == published and len(held.nodes) == len(TREE))


def _same_version(node: Node, root: Node) -> bool:
    held, published = node.registry.held(), root.registry.held()
    return bool(held and published and held.manifest.version == published.manifest.version)


def test_the_root_publishes_and_every_tier_holds_the_same_verified_snapshot(tree: Tree) -> None:
    root, city, county = _three_tiers(tree)
    snapshot = county.registry.require_fresh()
    assert city.registry.held() == snapshot
    assert snapshot.manifest.root_id == "330000"
    assert [p.name for p in snapshot.manifest.parts] == ["nodes", "catalog", "crl"]
    for node in (root, city, county):
        entry = snapshot.node(node.settings.node_id)
        assert entry is not None
        assert entry.endpoint == node.address
        leaf = load_certificates(node.settings.cert_path.read_bytes())[0]
        assert entry.fingerprints == (fingerprint(leaf).hex(),)
    assert [n.node_id for n in county.registry.path_to_root("330106")] == ["330106", "330100", "330000"]
    providers = {e.provider_node for e in snapshot.catalog}
    assert providers == set(TREE)
    assert len(snapshot.catalog) == len(TREE) * len(DATASETS)
    assert county.registry.resource("330106JG-0003") is not None  # a county resource, seen from the county
    assert city.registry.resource("330000JG-0001") is not None  # the province's, seen from the city
    assert snapshot.crls
    assert set(snapshot.crls) == set(root.trust.bundle()[1])
    reply = status(county)
    assert (reply.registry_version, reply.registry_root) == (snapshot.manifest.version, "330000")
    assert reply.registry_alarm == ""
    assert set(reply.registry_parts) == {"nodes", "catalog", "crl"}


# -- refusals: the held snapshot stays --------------------------------------------------------------


def _newer(
    root: Node, signed_by: Node, *, root_id: str = "330000", expires_in_us: int = HOUR_US
) -> registry_pb2.SnapshotUpdate:
    """A snapshot following the root's current one, over the same parts, signed by ``signed_by``."""
    held = root.registry.signed()
    assert held is not None
    now = now_us()
    manifest = next_manifest(held.snapshot.manifest, held.parts(), root_id=root_id, now_us=now, validity_us=HOUR_US)
    manifest = dataclasses.replace(manifest, expires_at_us=now + expires_in_us)
    return sign_snapshot(manifest, held.parts(), signed_by.signer).update


def _copy(update: registry_pb2.SnapshotUpdate) -> registry_pb2.SnapshotUpdate:
    copy = registry_pb2.SnapshotUpdate()
    copy.CopyFrom(update)
    return copy


def test_tampered_foreign_rolled_back_and_expired_snapshots_are_refused_and_the_held_one_stays(tree: Tree) -> None:
    root, city = _start(tree, "330000"), _start(tree, "330100")
    eventually(lambda: _same_version(city, root), what="the city to hold the root's snapshot")
    old = city.registry.signed()
    assert old is not None
    root.registry.publish(refresh=True)
    eventually(lambda: _same_version(city, root), what="the city to hold the re-published snapshot")
    held = city.registry.signed()
    assert held is not None
    assert held.version > old.version

    good = _newer(root, root)
    part_altered = _copy(good)
    part_altered.parts[1].data += b"\x00"
    manifest_altered = _copy(good)
    manifest = registry_pb2.RegistryManifest.FromString(good.manifest)
    manifest.expires_at_us += 365 * 24 * HOUR_US
    manifest_altered.manifest = manifest.SerializeToString()
    cases = [
        (part_altered, "part catalog does not match the hash in signed manifest"),
        (manifest_altered, "bad signature by 330000"),
        (_newer(root, city), "belongs to 330100, not 330000"),  # a valid certificate, but not the root's
        (_newer(root, city, root_id="330100"), "names 330100 as the root; this tree's root is 330000"),
        (old.update, f"refusing snapshot version {old.version}: version {held.version} is held"),
        (_newer(root, root, expires_in_us=-1), "expired at"),
    ]
    for update, reason in cases:
        with pytest.raises(VerificationError, match=f"registry snapshot refused: .*{re.escape(reason)}"):
            city.registry.accept(update)
        assert city.registry.signed() is held
    assert city.registry.accept(good)  # the same checks pass a genuine newer one
    assert city.registry.signed() is not held


def test_a_child_may_report_only_its_own_subtree(tree: Tree) -> None:
    root, city = _start(tree, "330000"), _start(tree, "330100")
    county = make_node_dir(tree.root, "330106", "county", pki=tree.pki, parent=city.address)  # not running
    transport = Transport(county)
    own = NodeEntry("330106", "330100", "county", "127.0.0.1:1")
    reports = [
        ([own, NodeEntry("330201", "330106", "county", "127.0.0.1:2")], "may not report node 330201"),
        ([NodeEntry("330108", "330100", "county", "127.0.0.1:3")], "must start with its own entry, not 330108"),
        ([dataclasses.replace(own, parent_id="330000")], "names 330000 as its parent but reported to 330100"),
    ]
    with transport.channel(city.address, peer_id="330100") as channel:
        stub = registry_pb2_grpc.RegistryStub(channel)
        for nodes, reason in reports:
            with pytest.raises(grpc.RpcError) as refused:
                stub.Report(encode_report(nodes, []), metadata=transport.metadata(), timeout=10)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert reason in str(refused.value.details())
        assert stub.Report(encode_report([own], []), metadata=transport.metadata(), timeout=10).changed
    assert (city.settings.data_dir / "registry" / "reports" / "330106.bin").exists()
    eventually(lambda: root.registry.node("330106"), what="the root to learn 330106")
    entry = root.registry.node("330106")
    assert entry is not None
    assert entry.same_as(own)
    assert status(city).callers_refused >= len(reports)


# -- only changed parts travel --------------------------------------------------------------------


def _collect(call: Iterator[registry_pb2.SnapshotUpdate], into: queue.Queue[registry_pb2.SnapshotUpdate]) -> None:
    try:
        for update in call:
            into.put(update)
    except grpc.RpcError:
        pass  # cancelled at the end of the test


def _version(update: registry_pb2.SnapshotUpdate) -> int:
    return registry_pb2.RegistryManifest.FromString(update.manifest).version


def test_only_changed_parts_travel(tree: Tree) -> None:
    root, city, county = _three_tiers(tree)
    held = city.registry.signed()
    assert held is not None
    transport = Transport(county.settings)  # the test follows the city as the county would
    updates: queue.Queue[registry_pb2.SnapshotUpdate] = queue.Queue()
    with transport.channel(city.address, peer_id="330100") as channel:
        call: Any = registry_pb2_grpc.RegistryStub(channel).Follow(held.follow_request(), metadata=transport.metadata())
        threading.Thread(target=_collect, args=(call, updates), daemon=True).start()
        first = updates.get(timeout=10)
        assert (_version(first), len(first.parts)) == (held.version, 0)  # up to date: nothing travels

        root.registry.publish(refresh=True)  # a pure re-publish: new version and expiry, no part changed
        again = updates.get(timeout=10)
        assert _version(again) > held.version
        assert list(again.parts) == []

        address = county.address  # the county comes back on the same address with another catalog
        tree.stop("330106")
        _start(tree, "330106", listen=address, catalog={"department": "杭州市西湖区市场监督管理局"})
        changed = updates.get(timeout=20)
        call.cancel()
    assert [p.name for p in changed.parts] == ["catalog"]
    eventually(lambda: _department_changed(city), what="the city to hold the new catalog")
    assert city.registry.require_fresh().manifest.version == _version(changed)


def _department_changed(node: Node) -> bool:
    return any(e.provider_department == "杭州市西湖区市场监督管理局" for e in node.registry.catalog())


# -- freshness: alarm first, then fail closed -------------------------------------------------------


def test_an_expired_snapshot_fails_closed_and_the_alarm_comes_first(tree: Tree, tmp_path: Path) -> None:
    root, city = _start(tree, "330000"), _start(tree, "330100")
    eventually(lambda: _same_version(city, root), what="the city to hold the root's snapshot")
    clock = [now_us()]

    def registry(folder: str) -> Registry:
        settings = city.settings.model_copy(update={"data_dir": tmp_path / folder})
        return Registry(
            settings=settings, trust=city.trust, signer=city.signer_now, catalog=[], endpoint="", clock=lambda: clock[0]
        )

    follower = registry("follower")
    with pytest.raises(SnapshotExpiredError, match="no registry snapshot received yet"):
        follower.require_fresh()
    assert "no registry snapshot received yet" in follower.status().alarm
    update = root.registry.signed().update  # type: ignore[union-attr]
    assert follower.accept(update)
    assert follower.status().alarm == ""
    expires = follower.require_fresh().manifest.expires_at_us

    clock[0] = expires - 7 * HOUR_US  # inside the 8 h alarm window: still good, but shouting
    assert follower.require_fresh()
    assert "expires at" in follower.status().alarm
    assert follower.status().seconds_left == pytest.approx(7 * 3600)

    clock[0] = expires
    with pytest.raises(SnapshotExpiredError, match=r"expired at .*new subscriptions are refused") as refused:
        follower.require_fresh()
    assert grpc.StatusCode[refused.value.grpc_status] == grpc.StatusCode.FAILED_PRECONDITION
    assert "expired at" in follower.status().alarm
    with pytest.raises(VerificationError, match="expired at"):
        registry("late").accept(update)  # arriving too late is no better


def test_a_node_that_never_received_a_snapshot_alarms_and_refuses(tree: Tree, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="jgnode.registry")
    settings = make_node_dir(tree.root, "330106", "county", pki=tree.pki, parent=_free_address(), **FAST)
    county = tree.start_settings(settings)
    eventually(lambda: "REGISTRY ALARM: no registry snapshot received yet" in caplog.text, what="the alarm")
    with pytest.raises(SnapshotExpiredError):
        county.registry.require_fresh()
    eventually(lambda: status(county).registry_error, what="the stream's error in status")
    reply = status(county)
    assert "no registry snapshot received yet" in reply.registry_alarm
    assert reply.registry_version == 0


def _free_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


# -- restarts and outages -------------------------------------------------------------------------


def test_a_restarted_child_works_from_its_cache_while_its_parent_is_down(tree: Tree) -> None:
    _root, _city, county = _three_tiers(tree)
    snapshot = county.registry.held()
    settings = tree.stop("330106")
    tree.stop("330100")
    county = tree.start_settings(settings)
    assert snapshot is not None
    assert county.registry.require_fresh() == snapshot
    assert county.registry.catalog() == list(snapshot.catalog)
    assert eventually(lambda: status(county).registry_error, what="the parent link's error")


def test_after_an_outage_the_child_catches_up_by_itself(tree: Tree) -> None:
    root, city, county = _three_tiers(tree)
    address = root.address
    settings = tree.stop("330000")
    eventually(lambda: city.registry_sync.error, what="the city to notice its parent is gone")
    root = tree.start_settings(settings.model_copy(update={"listen": address}))
    held = root.registry.held()
    assert held is not None
    assert held.node("330106") is not None  # what the children reported survived the restart
    before = held.manifest.version
    root.registry.publish(refresh=True)
    eventually(lambda: _same_version(city, root) and _same_version(county, root), what="both tiers to catch up")
    assert county.registry.require_fresh().manifest.version > before


# -- settings and the command line ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["alarm_before_s", "refresh_s"])
def test_alarm_and_refresh_must_come_before_expiry(tmp_path: Path, key: str) -> None:
    make_node_dir(tmp_path, "330106", "county")
    with pytest.raises(ConfigError, match=f"registry.{key} must be shorter than registry.validity_s"):
        load_settings(tmp_path / "330106" / "node.toml", registry={"validity_s": 36000, key: 36000})


def test_registry_show_and_the_tree_catalog_work_while_the_node_is_down(tree: Tree) -> None:
    _root, _city, county = _three_tiers(tree)
    snapshot = county.registry.held()
    assert snapshot is not None
    tree.stop("330106")
    config = str(tree.root / "330106" / "node.toml")
    shown = json.loads(jgnode("registry", "show", "--json", "-c", config).stdout)
    assert (shown["version"], shown["root"], shown["alarm"]) == (snapshot.manifest.version, "330000", "")
    assert {n["node_id"]: n["parent_id"] for n in shown["nodes"]} == {
        "330000": "",
        "330100": "330000",
        "330106": "330100",
    }
    assert {n["resources"] for n in shown["nodes"]} == {len(DATASETS)}
    assert shown["crls"] == len(snapshot.crls) > 0
    text = jgnode("registry", "show", "-c", config).stdout
    assert f"registry snapshot {snapshot.manifest.version} signed by 330000" in text
    listing = jgnode("catalog", "list", "--tree", "-c", config).stdout
    assert "330000JG-0001" in listing
    assert "330106JG-0014" in listing


def test_registry_show_says_why_there_is_no_snapshot(tmp_path: Path) -> None:
    config = make_node_dir(tmp_path, "330106", "county").data_dir / "node.toml"
    missing = jgnode("registry", "show", "-c", str(config), check=False)
    assert missing.returncode == 1
    assert "no registry snapshot in" in missing.stderr


# -- the model ------------------------------------------------------------------------------------


def test_a_part_keeps_its_version_until_its_bytes_change() -> None:
    parts = {"nodes": b"n", "catalog": b"c", "crl": b"r"}
    first = next_manifest(None, parts, root_id="330000", now_us=0, validity_us=10)
    second = next_manifest(first, {**parts, "catalog": b"c2"}, root_id="330000", now_us=1, validity_us=10)
    assert second.version == first.version + 1
    assert {p.name: p.version for p in second.parts} == {"nodes": 1, "catalog": 2, "crl": 1}
    later = next_manifest(second, {**parts, "catalog": b"c2"}, root_id="330000", now_us=5_000_000_000, validity_us=10)
    assert later.version == 5000  # never below the issue time in seconds: a rebuilt root stays ahead
    assert {p.name: p.version for p in later.parts} == {"nodes": 1, "catalog": 2, "crl": 1}


def test_a_broken_parent_chain_is_named() -> None:
    manifest = Manifest("330000", 1, 0, 1, ())
    nodes = (NodeEntry("330106", "330100", "county", ""), NodeEntry("330000", "", "province", ""))
    with pytest.raises(RegistryError, match=r"node 330100 \(parent of 330106\) is not in registry snapshot 1"):
        Snapshot(manifest, nodes, (), ()).path_to_root("330106")
