"""Trust and reliability: CRL freshness, renewal, suites across tiers, dead letters, backpressure, audit log."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jgnode.exchange.v1 import admin_pb2, exchange_pb2

from adapters.sample_data import SampleGenerator
from node.client import NodeClient
from node.enroll import install_certificate, issue_from, publish_crl, write_request
from node.errors import BackpressureError, VerificationError
from node.exchange import verify_provenance
from node.ingest import ingest_file
from node.pki import fingerprint, load_certificates
from node.runtime import Node
from node.settings import Limits
from node.signing import KeyRing
from node.store import Store
from node.trust import TrustStore, load_identity
from tests.conftest import PkiFixture, eventually, make_node_dir
from tests.harness import Tree, ingest, init_node, jgnode, status

# -- CRL freshness: fail closed for new peers, alarm first ------------------------------------------


def test_stale_crl_alarms_first_then_refuses_new_peers_but_keeps_known_ones(tmp_path: Path, pki: PkiFixture) -> None:
    known = make_node_dir(tmp_path, "330106", "county", pki=pki)
    stranger = make_node_dir(tmp_path, "330108", "county", pki=pki)
    start = dt.datetime.now(dt.UTC)
    clock = [start]
    trust = TrustStore(
        keyring=KeyRing(), anchors=[pki.root.cert], crl_alarm_s=2 * 86400, clock=lambda: clock[0]
    )  # the root's CRL is valid for 7 days
    assert "no CRL from" in trust.status().alarm  # nothing to rule out revocation with yet
    with pytest.raises(VerificationError, match="no CRL from"):
        trust.peer(known.cert_path.read_bytes())
    trust.add_crls([(pki.root.folder / "crl.pem").read_bytes()])
    assert trust.status().alarm == ""
    assert trust.peer(known.cert_path.read_bytes()) == "330106"

    clock[0] = start + dt.timedelta(days=6)  # inside the alarm window: still accepting, but shouting
    assert "publish a fresh one" in trust.status().alarm
    assert trust.peer(known.cert_path.read_bytes()) == "330106"

    clock[0] = start + dt.timedelta(days=8)  # stale
    assert "new peers are refused" in trust.status().alarm
    with pytest.raises(VerificationError, match="stale"):
        trust.peer(stranger.cert_path.read_bytes())
    assert trust.peer(known.cert_path.read_bytes()) == "330106"  # a connection already vetted keeps going

    pki.root.write_crl(days=30)
    trust.add_crls([(pki.root.folder / "crl.pem").read_bytes()])
    assert trust.status().alarm == ""
    assert trust.peer(stranger.cert_path.read_bytes()) == "330108"


def test_own_certificate_near_expiry_raises_the_alarm(tmp_path: Path, pki: PkiFixture) -> None:
    settings = make_node_dir(tmp_path, "330106", "county", pki=pki)  # certified for 90 days
    start = dt.datetime.now(dt.UTC)
    clock = [start]
    trust = TrustStore(keyring=KeyRing(), anchors=[pki.root.cert], cert_alarm_s=30 * 86400, clock=lambda: clock[0])
    pki.root.write_crl(days=365)
    trust.add_crls([(pki.root.folder / "crl.pem").read_bytes()])
    signer, chain = load_identity(settings, trust.anchors)
    trust.trust_own(signer, chain[0])
    assert trust.status().alarm == ""
    clock[0] = start + dt.timedelta(days=61)
    assert "this node's certificate expires at" in trust.status().alarm
    assert "renew it" in trust.status().alarm


def test_revocation_drops_the_signing_key_and_the_peer(tmp_path: Path, pki: PkiFixture) -> None:
    county = make_node_dir(tmp_path, "330106", "county", pki=pki)
    trust = TrustStore(keyring=KeyRing(), anchors=[pki.root.cert])
    trust.add_crls([(pki.root.folder / "crl.pem").read_bytes()])
    chain = [c.public_bytes(serialization.Encoding.DER) for c in load_certificates(county.cert_path.read_bytes())]
    (key,) = trust.admit(chain)
    assert trust.keyring.get(key.key_id) is not None
    pki.root.revoke("330106", crl_days=7)
    assert trust.add_crls([(pki.root.folder / "crl.pem").read_bytes()]) == 1
    with pytest.raises(VerificationError, match="revoked"):
        trust.keyring.verify(key_id=key.key_id, node_id="330106", suite=key.suite, data=b"x", signature=b"y")
    with pytest.raises(VerificationError, match="revoked"):
        trust.peer(county.cert_path.read_bytes())


def test_ca_certificates_relayed_by_anyone_are_kept_only_if_they_chain_to_the_root(
    tmp_path: Path, pki: PkiFixture
) -> None:
    trust = TrustStore(keyring=KeyRing(), anchors=[pki.root.cert])
    trust.add_crls([(pki.root.folder / "crl.pem").read_bytes()])
    impostor = PkiFixture(tmp_path / "impostor")  # a root with the same name and node id as the real one
    fake_city = impostor.intermediate("330100")
    trust.add_cas([(fake_city.folder / "ca.crt").read_bytes(), (impostor.root.folder / "ca.crt").read_bytes()])
    assert trust.add_crls([(fake_city.folder / "crl.pem").read_bytes()]) == 0  # its CRL is not taken either
    real_city = pki.intermediate("330100")
    trust.add_cas([(real_city.folder / "ca.crt").read_bytes()])
    assert trust.add_crls([(real_city.folder / "crl.pem").read_bytes()]) == 1
    cas, crls = trust.bundle()  # what this node would hand its children
    held = {fingerprint(c) for pem in cas for c in load_certificates(pem)}
    assert held == {fingerprint(pki.root.cert), fingerprint(real_city.cert)}  # names alike, keys not
    assert len(crls) == 2
    assert trust.status().alarm == ""


# -- signature suites across the tree --------------------------------------------------------------


@pytest.mark.parametrize(
    "suites",
    [("sm2", "sm2", "sm2"), ("ed25519", "ed25519", "sm2"), ("sm2", "ed25519", "sm2")],
    ids=["all-sm2", "sm2-county-under-ed25519", "alternating"],
)
def test_three_tiers_verify_end_to_end_with_any_mix_of_suites(tree: Tree, suites: tuple[str, str, str]) -> None:
    assert tree.pki is not None
    province = tree.start("330000", "province", suite=suites[0])
    tree.start("330100", "city", parent="330000", suite=suites[1])
    county = tree.start("330106", "county", parent="330100", suite=suites[2], batch_size=200)
    stored = ingest(county, seed=11, count=600)
    eventually(lambda: province.store.set_digest()[0] == stored, timeout=60, what="province holds every record")
    assert province.store.set_digest(origin="330106") == county.store.set_digest()
    uid = next(iter(SampleGenerator(11, "330106").inspections(1))).action_number
    (bundle,) = _provenance(province, uid)
    lines = verify_provenance(bundle, province.trust.keyring)
    assert f"signed by origin 330106 (key {county.signer.key_id})" in lines[1]
    assert county.signer.suite == suites[2]
    assert lines[2].startswith("forwarded by 330100 from 330106")
    assert province.store.audit_verify()[1] is None
    city = tree.nodes["330100"]
    for node in (county, city):
        eventually(lambda n=node: n.store.outbox_backlog().records == 0, what="outboxes to drain")  # type: ignore[misc]
    assert {"sealed", "delivered"} <= {e.kind for e in county.store.audit_entries()}
    assert {"applied", "forwarded", "delivered"} <= {e.kind for e in city.store.audit_entries()}
    assert "applied" in {e.kind for e in province.store.audit_entries()}


def _provenance(node: Node, uid: str) -> list[admin_pb2.Provenance]:
    with NodeClient(node.settings, address=node.address) as client:
        return client.provenance(admin_pb2.GetProvenanceRequest(uid=uid, origin="330106"))


# -- renewal without downtime ---------------------------------------------------------------------


def _presented_serial(address: str, settings_of_client: Path, key: Path, ca: Path) -> int:
    """The serial of the certificate a node's TLS server presents right now."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca)
    context.load_cert_chain(settings_of_client, key)
    context.check_hostname = False
    context.set_alpn_protocols(["h2"])
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def test_certificate_renewal_takes_effect_without_a_restart(tree: Tree) -> None:
    assert tree.pki is not None
    city = tree.start("330100", "city", tls={"refresh_s": 0.2})
    county = tree.start("330106", "county", parent="330100", batch_size=100, tls={"refresh_s": 0.2})
    first = ingest(county, seed=21, count=300)
    eventually(lambda: city.store.set_digest()[0] == first, what="the first records")
    old_key = county.signer.key_id
    client = (city.settings.cert_path, city.settings.tls_key_path, city.settings.ca_path)
    old_serial = _presented_serial(county.address, *client)

    # the operator's renewal: new keys, a request, the CA signs, install — the node keeps running
    request = write_request(county.settings, new_keys=True)
    install_certificate(county.settings, issue_from(tree.pki.root, request, days=30))
    eventually(lambda: county.signer.key_id != old_key, what="the county to sign with its new key")
    eventually(lambda: _presented_serial(county.address, *client) != old_serial, what="the new TLS certificate")

    more = ingest(county, seed=22, count=300)
    eventually(lambda: city.store.set_digest()[0] == first + more, what="records signed with the new key")
    assert city.store.set_digest() == county.store.set_digest()
    uids = [next(iter(SampleGenerator(seed, "330106").inspections(1))).action_number for seed in (21, 22)]
    bundles = [_provenance(city, uid)[0] for uid in uids]
    keys = [exchange_pb2.BatchHeader.FromString(b.header).key_id for b in bundles]
    assert keys == [old_key, county.signer.key_id]
    for bundle in bundles:  # old batches stay verifiable beside the new ones
        assert "signed by origin 330106" in verify_provenance(bundle, city.trust.keyring)[1]
    assert status(county).parent_connected


def test_a_child_stops_sending_to_a_revoked_parent_and_resumes_when_it_is_renewed(tree: Tree) -> None:
    assert tree.pki is not None
    city = tree.start("330100", "city", tls={"refresh_s": 0.2})
    county = tree.start(
        "330106", "county", parent="330100", batch_size=100, tls={"refresh_s": 0.2}, retry={"max_interval_s": 0.3}
    )
    first = ingest(county, seed=51, count=200)
    eventually(lambda: city.store.set_digest()[0] == first, what="the first records")

    tree.pki.root.revoke("330100", crl_days=7)  # the city's certificate; the county hears of it first
    publish_crl(county.settings, (tree.pki.root.folder / "crl.pem").read_bytes(), "ca-330000")
    eventually(lambda: "was revoked" in status(county).parent_error, what="the county to refuse its parent")
    assert "the certificate of parent 330100 is refused" in status(county).parent_error
    more = ingest(county, seed=52, count=200)
    eventually(lambda: county.store.outbox_backlog().records >= more, what="new batches waiting at the county")
    assert city.store.set_digest()[0] == first  # nothing goes to a revoked parent

    request = write_request(city.settings, new_keys=True)  # the city is re-certified, without a restart
    install_certificate(city.settings, issue_from(tree.pki.root, request, days=90))
    eventually(lambda: city.store.set_digest()[0] == first + more, timeout=60, what="the link to come back")
    assert city.store.set_digest() == county.store.set_digest()


# -- dead letters: parked with the reason, sent again after the cause is fixed -----------------------


def test_refused_batches_are_parked_and_sent_again_by_the_cli(tree: Tree, tmp_path: Path) -> None:
    city = tree.start("330100", "city", limits={"max_batch_records": 50})  # misconfigured: too small
    county = tree.start("330106", "county", parent="330100", batch_size=100)
    stored = ingest(county, seed=31, count=260)
    eventually(lambda: status(county).outbox_refused_batches >= 1, what="the county parks a refused batch")
    listing = jgnode("deadletter", "list", "-c", str(county.settings.data_dir / "node.toml")).stdout
    assert "exceeds the limit" in listing
    letters = county.store.dead_letters()
    shown = jgnode("deadletter", "show", str(letters[0].batch_id), "-c", str(county.settings.data_dir / "node.toml"))
    assert f"seq {letters[0].first_seq}..{letters[0].last_seq}" in shown.stdout
    assert city.store.set_digest()[0] < stored

    address = city.address  # the operator fixes the limit and restarts the city at the same address
    settings = tree.stop("330100")
    tree.start_settings(settings.model_copy(update={"listen": address, "limits": Limits(max_batch_records=1000)}))
    retried = jgnode("deadletter", "retry", "--all", "-c", str(county.settings.data_dir / "node.toml"))
    assert "will be sent again" in retried.stdout
    city = tree.nodes["330100"]
    eventually(lambda: city.store.set_digest()[0] == stored, timeout=60, what="the parked batches to arrive")
    assert city.store.set_digest() == county.store.set_digest()
    assert county.store.dead_letters() == []
    kinds = [e.kind for e in county.store.audit_entries()]
    assert "dead_lettered" in kinds
    assert "retried" in kinds


# -- backpressure: a full outbox refuses more, never drops ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_full_outbox_pushes_back_on_children_and_ingest_then_drains(tree: Tree, tmp_path: Path) -> None:
    province_address = f"127.0.0.1:{_free_port()}"  # the province is down to begin with
    city = tree.start(
        "330100",
        "city",
        parent=None,
        limits={"outbox_max_records": 300},
        retry={"initial_s": 0.05, "max_interval_s": 0.3},
    )
    city_settings = tree.stop("330100")
    city = tree.start_settings(city_settings.model_copy(update={"parent": province_address, "listen": city.address}))
    county = tree.start("330106", "county", parent="330100", batch_size=100, retry={"max_interval_s": 0.3})
    stored = ingest(county, seed=41, count=900)
    eventually(lambda: "RESOURCE_EXHAUSTED" in status(county).parent_error, what="the city to push back")
    assert 300 <= city.store.set_digest()[0] < stored  # the city took what fits, and stops there
    assert county.store.outbox_backlog().records > 0  # the rest waits at the county, nothing dropped

    # local ingest at the city is refused too, with a clear reason and nothing lost
    csv_path = tmp_path / "city-in"
    jgnode("sample", "--region", "330100", "--out", str(csv_path), "--inspections", "10")
    with pytest.raises(BackpressureError, match="outbox full"):
        ingest_file(
            city.store,
            csv_path / "regulated_object.csv",
            dataset="regulated_object",
            guard=city.store.backlog_guard(city.settings.limits),
        )

    province = tree.start("330000", "province", listen=province_address)
    eventually(lambda: province.store.set_digest()[0] == stored, timeout=90, what="everything to drain upwards")
    assert province.store.set_digest(origin="330106") == county.store.set_digest()


def test_cli_ingest_reports_backpressure(tmp_path: Path) -> None:
    config = init_node(tmp_path, "330106", "county")
    jgnode("sample", "--region", "330106", "--out", str(tmp_path / "in"), "--inspections", "3000")
    env_limit = {"JGNODE_LIMITS__OUTBOX_MAX_RECORDS": "1000"}
    env = {**os.environ, **env_limit}
    first = jgnode(
        "ingest", "-c", str(config), "--no-progress", str(tmp_path / "in" / "inspection.csv"), env=env, check=False
    )
    assert first.returncode == 1
    assert "outbox full" in first.stderr
    assert "ingest it again later" in first.stderr
    done = int(first.stderr.split(" stored)")[0].rsplit("(", 1)[-1])
    store = Store.open(f"sqlite:///{config.parent / 'node.db'}", "330106")
    try:
        assert store.set_digest(dataset="inspection")[0] == done  # what it says it stored, it stored
        assert store.outbox_backlog().unsealed_records >= 1000
    finally:
        store.close()


# -- the audit log names the first bad entry ---------------------------------------------------------


def _audit_db(tmp_path: Path) -> tuple[Path, Path]:
    config = init_node(tmp_path, "330106", "county")
    store = Store.open(f"sqlite:///{config.parent / 'node.db'}", "330106")
    for i in range(1, 11):
        store.audit([("applied", f"batch {i}", {"records": i})], now_us=1_700_000_000_000_000 + i)
    store.close()
    return config, config.parent / "node.db"


@pytest.mark.parametrize(
    ("tamper", "first_bad", "why"),
    [
        ("UPDATE audit SET detail = '{\"records\":99}' WHERE seq = 4", 4, "edited"),
        ("DELETE FROM audit WHERE seq = 6", 7, "entry 6 is missing"),
        (
            "UPDATE audit SET kind = CASE seq WHEN 3 THEN (SELECT kind FROM audit WHERE seq = 5) "
            "ELSE (SELECT kind FROM audit WHERE seq = 3) END, "
            "subject = CASE seq WHEN 3 THEN 'batch 5' ELSE 'batch 3' END, "
            "detail = CASE seq WHEN 3 THEN '{\"records\":5}' ELSE '{\"records\":3}' END, "
            "hash = CASE seq WHEN 3 THEN (SELECT hash FROM audit WHERE seq = 5) "
            "ELSE (SELECT hash FROM audit WHERE seq = 3) END, "
            "prev_hash = CASE seq WHEN 3 THEN (SELECT prev_hash FROM audit WHERE seq = 5) "
            "ELSE (SELECT prev_hash FROM audit WHERE seq = 3) END "
            "WHERE seq IN (3, 5)",
            3,
            "removed or reordered",
        ),
    ],
    ids=["edited", "deleted", "reordered"],
)
def test_audit_verify_names_the_first_bad_entry(tmp_path: Path, tamper: str, first_bad: int, why: str) -> None:
    config, db = _audit_db(tmp_path)
    intact = jgnode("audit", "verify", "-c", str(config))
    assert "audit log intact: 10 entries" in intact.stdout
    with sqlite3.connect(db) as conn:
        conn.execute(tamper)
    broken = jgnode("audit", "verify", "-c", str(config), check=False)
    assert broken.returncode == 1
    message = broken.stdout + broken.stderr
    assert f"BROKEN at entry {first_bad} " in message
    assert why in message
