"""Two-node and three-tier exchange over mutual TLS with real gRPC servers on port 0, in one process."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from jgnode.exchange.v1 import admin_pb2, exchange_pb2

from adapters.sample_data import SampleGenerator
from node.client import NodeClient
from node.exchange import verify_provenance
from node.signing import generate_signing_key, load_signer
from tests.conftest import eventually
from tests.harness import Tree, ingest, status


def test_two_nodes_exchange_everything_once(tree: Tree) -> None:
    city = tree.start("330100", "city")
    county = tree.start("330106", "county", parent="330100", batch_size=500)
    stored = ingest(county, seed=1, count=2_500)
    eventually(lambda: city.store.set_digest()[0] == stored, what="city holds every record")
    assert city.store.set_digest() == county.store.set_digest()
    eventually(lambda: status(county).outbox_records == 0, what="county outbox drained")
    reply = status(county)
    assert (reply.records_own, reply.records_forwarded, reply.unsealed_records) == (stored, stored, 0)
    assert reply.pki
    assert not reply.insecure
    city_status = status(city)
    assert city_status.records_received == stored
    assert [c.node_id for c in city_status.children] == ["330106"]
    eventually(lambda: city.projector.project_pending() == 0 and not city.store.projection_backlog())
    kinds = {e.kind for e in city.store.audit_entries()}
    assert {"applied"} <= kinds
    assert city.store.audit_verify()[1] is None


def test_three_tiers_province_verifies_single_records_back_to_county(tree: Tree) -> None:
    assert tree.pki is not None
    tree.pki.intermediate("330100")  # the city runs a CA for its counties
    province = tree.start("330000", "province")
    tree.start("330100", "city", parent="330000")
    counties = [tree.start(c, "county", parent="330100", ca="330100", batch_size=300) for c in ("330106", "330108")]
    expected = {c.settings.node_id: ingest(c, seed=3, count=1_200) for c in counties}
    eventually(lambda: province.store.set_digest()[0] == sum(expected.values()), timeout=60)
    for county in counties:
        assert province.store.set_digest(origin=county.settings.node_id) == county.store.set_digest()
    uid = next(iter(SampleGenerator(3, "330108").inspections(1))).action_number
    with NodeClient(province.settings, address=province.address) as client:
        (bundle,) = client.provenance(admin_pb2.GetProvenanceRequest(uid=uid, origin="330108"))
    with grpc.secure_channel(
        province.address,
        grpc.ssl_channel_credentials(
            province.settings.ca_path.read_bytes(),
            province.settings.tls_key_path.read_bytes(),
            province.settings.cert_path.read_bytes(),
        ),
        options=[("grpc.ssl_target_name_override", "330000.node.jgnode")],
    ) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert len(bundle.certificates) >= 3  # county leaf + city CA, the city's own certificate
    lines = verify_provenance(bundle, province.trust.keyring, admit=lambda c, at: province.trust.admit(c, at_us=at))
    assert "signed by origin 330108" in lines[1]
    assert lines[2].startswith("forwarded by 330100 from 330108")
    record = exchange_pb2.Record.FromString(bundle.record)
    record.version += 1
    bundle.record = record.SerializeToString()
    with pytest.raises(Exception, match="inclusion proof"):
        verify_provenance(bundle, province.trust.keyring)


def test_restart_of_receiver_resumes_without_loss(tree: Tree) -> None:
    city = tree.start("330100", "city")
    county = tree.start("330106", "county", parent="330100", batch_size=100)
    first = ingest(county, seed=5, count=800)
    eventually(lambda: city.store.set_digest()[0] > 0)
    city_settings = tree.stop("330100")  # parent goes away mid-stream
    more = ingest(county, seed=6, count=800)
    restarted = tree.start_settings(city_settings.model_copy(update={"listen": city.address}))
    eventually(lambda: restarted.store.set_digest()[0] == first + more, timeout=60, what="resumed transfer")
    assert restarted.store.set_digest() == county.store.set_digest()


def test_forged_signature_is_refused_quarantined_and_parked(tree: Tree, tmp_path: Path) -> None:
    city = tree.start("330100", "city")
    county = tree.start("330106", "county", parent="330100", batch_size=100)
    # the county signs with a key its certificate does not name
    rogue = tmp_path / "rogue.key"
    generate_signing_key(rogue, rogue.with_suffix(".pub"))
    county._signer = dataclasses.replace(load_signer("330106", rogue), chain=county.signer.chain)
    ingest(county, seed=8, count=250)
    eventually(lambda: city.receiver.rejected >= 1, what="a refused batch")
    eventually(lambda: status(county).outbox_refused_batches >= 1, what="the county parks the refused batch")
    assert city.store.set_digest()[0] == 0
    assert status(city).records_quarantined == city.receiver.rejected
    letters = county.store.dead_letters()
    assert "PERMISSION_DENIED" in letters[0].reason
    assert "unknown signing key" in letters[0].reason
    refused = city.receiver.rejected
    eventually(lambda: status(county).parent_connected)
    assert city.receiver.rejected <= refused + 1  # held back, not resent in a loop
    assert [e.kind for e in city.store.audit_entries(kind="refused")]
    assert [e.kind for e in county.store.audit_entries(kind="dead_lettered")]
