"""Two-node and three-tier exchange with real gRPC servers on port 0, in one process."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from jgnode.exchange.v1 import admin_pb2, admin_pb2_grpc, exchange_pb2, exchange_pb2_grpc

from adapters.sample_data import SampleGenerator
from node.exchange import verify_provenance
from node.ingest import ingest_records
from node.runtime import Node
from node.settings import NodeSettings
from tests.conftest import eventually, make_node_dir


class Tree:
    """Nodes started in a test, stopped at its end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: dict[str, Node] = {}

    def start(self, node_id: str, tier: str, *, parent: str | None = None, **overrides: object) -> Node:
        settings = make_node_dir(
            self.root, node_id, tier, parent=self.nodes[parent].address if parent else None, **overrides
        )
        return self.start_settings(settings)

    def start_settings(self, settings: NodeSettings) -> Node:
        # every running ancestor must trust this node's key: copy it before they (re)load
        node = Node(settings)
        node.start()
        self.nodes[settings.node_id] = node
        return node

    def stop(self, node_id: str) -> NodeSettings:
        node = self.nodes.pop(node_id)
        node.stop(grace_s=1)
        return node.settings

    def stop_all(self) -> None:
        for node_id in list(self.nodes)[::-1]:
            self.stop(node_id)


def trust(root: Path, child: str, *ancestors: str) -> None:
    """Give each ancestor folder the child's public key (before the ancestor starts)."""
    for ancestor in ancestors:
        target = root / ancestor / "trust"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / child / "keys" / "signing.pub", target / f"{child}.pub")


def keys_for(root: Path, *node_ids: str) -> None:
    """Create key folders up front so trust can be arranged before any node starts."""
    from node.signing import generate_signing_key

    for node_id in node_ids:
        key = root / node_id / "keys" / "signing.key"
        if not key.exists():
            generate_signing_key(key, key.with_suffix(".pub"))


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Tree]:
    t = Tree(tmp_path)
    yield t
    t.stop_all()


def _ingest(node: Node, seed: int, count: int) -> int:
    generator = SampleGenerator(seed, node.settings.node_id)
    objects = generator.enterprises(40)
    inspections = list(generator.inspections(count, objects=objects))
    stored = ingest_records(node.store, "regulated_object", objects)[0]
    stored += ingest_records(node.store, "inspection", inspections)[0]
    node.sealer.wake()
    return stored


def _status(node: Node) -> admin_pb2.NodeStatus:
    with grpc.insecure_channel(node.address) as channel:
        return admin_pb2_grpc.NodeAdminStub(channel).GetStatus(admin_pb2.GetStatusRequest(), timeout=10)


def test_two_nodes_exchange_everything_once(tree: Tree, tmp_path: Path) -> None:
    keys_for(tmp_path, "330100", "330106")
    trust(tmp_path, "330106", "330100")
    city = tree.start("330100", "city")
    county = tree.start("330106", "county", parent="330100", batch_size=500)
    stored = _ingest(county, seed=1, count=2_500)
    eventually(lambda: city.store.set_digest()[0] == stored, what="city holds every record")
    assert city.store.set_digest() == county.store.set_digest()
    eventually(lambda: _status(county).outbox_records == 0, what="county outbox drained")
    status = _status(county)
    assert (status.records_own, status.records_forwarded, status.unsealed_records) == (stored, stored, 0)
    city_status = _status(city)
    assert city_status.records_received == stored
    assert [c.node_id for c in city_status.children] == ["330106"]
    # the thematic tables catch up from the records
    eventually(lambda: city.projector.project_pending() == 0 and not city.store.projection_backlog())


def test_three_tiers_province_verifies_single_records_back_to_county(tree: Tree, tmp_path: Path) -> None:
    keys_for(tmp_path, "330000", "330100", "330106", "330108")
    trust(tmp_path, "330100", "330000")
    for county_id in ("330106", "330108"):
        trust(tmp_path, county_id, "330100", "330000")
    province = tree.start("330000", "province")
    tree.start("330100", "city", parent="330000")
    counties = [tree.start(c, "county", parent="330100", batch_size=300) for c in ("330106", "330108")]
    expected = {c.settings.node_id: _ingest(c, seed=3, count=1_200) for c in counties}
    eventually(lambda: province.store.set_digest()[0] == sum(expected.values()), timeout=60)
    for county in counties:
        assert province.store.set_digest(origin=county.settings.node_id) == county.store.set_digest()
    with grpc.insecure_channel(province.address) as channel:
        stub = admin_pb2_grpc.NodeAdminStub(channel)
        uid = next(iter(SampleGenerator(3, "330108").inspections(1))).action_number
        reply = stub.GetProvenance(admin_pb2.GetProvenanceRequest(uid=uid, origin="330108"), timeout=10)
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    (bundle,) = reply.provenances
    lines = verify_provenance(bundle, province.keyring)
    assert "signed by origin 330108" in lines[1]
    assert lines[2].startswith("forwarded by 330100 from 330108")
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    # the same bundle, tampered, fails
    record = exchange_pb2.Record.FromString(bundle.record)
    record.version += 1
    bundle.record = record.SerializeToString()
    with pytest.raises(Exception, match="inclusion proof"):
        verify_provenance(bundle, province.keyring)


def test_restart_of_receiver_resumes_without_loss(tree: Tree, tmp_path: Path) -> None:
    keys_for(tmp_path, "330100", "330106")
    trust(tmp_path, "330106", "330100")
    city = tree.start("330100", "city")
    county = tree.start("330106", "county", parent="330100", batch_size=100)
    first = _ingest(county, seed=5, count=800)
    eventually(lambda: city.store.set_digest()[0] > 0)
    city_settings = tree.stop("330100")  # parent goes away mid-stream
    more = _ingest(county, seed=6, count=800)
    restarted = tree.start_settings(city_settings.model_copy(update={"listen": city.address}))
    eventually(lambda: restarted.store.set_digest()[0] == first + more, timeout=60, what="resumed transfer")
    assert restarted.store.set_digest() == county.store.set_digest()


def test_refused_batch_is_quarantined_and_parked(tree: Tree, tmp_path: Path) -> None:
    # the city does not trust the county's key: its batches are refused, kept and reported, never applied
    keys_for(tmp_path, "330100", "330106")
    keys_for(tmp_path / "impostor", "330106")
    (tmp_path / "330100" / "trust").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        tmp_path / "impostor" / "330106" / "keys" / "signing.pub", tmp_path / "330100" / "trust" / "330106.pub"
    )
    city = tree.start("330100", "city")
    county = tree.start("330106", "county", parent="330100", batch_size=100)
    _ingest(county, seed=8, count=250)
    eventually(lambda: city.receiver.rejected >= 1, what="a refused batch")
    eventually(lambda: _status(county).outbox_refused_batches >= 1, what="the county parks the refused batch")
    assert city.store.set_digest()[0] == 0
    assert _status(city).records_quarantined == city.receiver.rejected
    # the stream is held back rather than resent in a loop: no new refusals pile up
    refused = city.receiver.rejected
    eventually(lambda: _status(county).parent_connected)
    assert city.receiver.rejected <= refused + 1


def test_push_from_a_stranger_is_refused(tree: Tree) -> None:
    city = tree.start("330100", "city")
    with grpc.insecure_channel(city.address) as channel:
        stub = exchange_pb2_grpc.ExchangeStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            list(stub.Push(iter([exchange_pb2.PushRequest()]), metadata=(("jgnode-node-id", "330203"),), timeout=5))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "subtree" in (info.value.details() or "")
