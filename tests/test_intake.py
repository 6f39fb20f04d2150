"""The push intake: department systems stream rows over mutual TLS as configured sources (real node, real PKI)."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import grpc
import pytest
from google.protobuf import any_pb2
from jgnode.exchange.v1 import intake_pb2

from adapters.csv_records import columns, to_row
from adapters.sample_data import SampleGenerator
from governance import Inspection
from node.cli import main
from node.enroll import publish_crl
from node.errors import BackpressureError, IngestError, VerificationError
from node.intake_client import IntakeClient, SourceIdentity, issue_source_identity
from node.pki import dns_name
from node.runtime import Node
from node.serde import pack_payload
from tests.conftest import PkiFixture, make_node_dir
from tests.harness import Tree

COUNTY = "330106"
SOURCE = "amr-system"
INTAKE = [{"name": SOURCE, "datasets": ["inspection", "penalty"]}]


@pytest.fixture
def county(tree: Tree) -> Node:
    return tree.start(COUNTY, "county", intake=INTAKE)


@pytest.fixture
def identity(tmp_path: Path, pki: PkiFixture) -> SourceIdentity:
    return issue_source_identity(pki.root, tmp_path / "amr", node_id=COUNTY, name=SOURCE, days=30)


def _inspections(count: int, seed: int = 5) -> list[Inspection]:
    return list(SampleGenerator(seed, COUNTY).inspections(count))


def _request(records: list[Inspection], *, batch: str = "b1", dataset: str = "inspection") -> intake_pb2.SubmitRequest:
    rows = [intake_pb2.IntakeRow(columns=to_row(r)) for r in records]
    return intake_pb2.SubmitRequest(dataset=dataset, batch=batch, rows=rows)


def _push(node: Node, identity: SourceIdentity, *requests: intake_pb2.SubmitRequest) -> list[intake_pb2.SubmitAck]:
    with IntakeClient(node.address, identity=identity) as client:
        return list(client.submit(requests, timeout=60))


def _assert_invariant(node: Node) -> None:
    assert node.store.intake_check() == []
    for c in node.store.intake_counters():
        assert c.received == c.accepted + c.duplicates + c.quarantined + c.dismissed


def _refusals(node: Node) -> tuple[int, int]:
    return node.receiver.callers_refused, len(node.store.audit_entries(kind="caller_refused"))


def test_good_rows_are_stored_and_acked_in_order(county: Node, identity: SourceIdentity) -> None:
    records = _inspections(30)
    acks = _push(county, identity, _request(records[:20]), _request(records[20:], batch="b2"))
    assert [(a.request, a.batch, a.rows, a.stored, a.quarantined) for a in acks] == [
        (1, "b1", 20, 20, 0),
        (2, "b2", 10, 10, 0),
    ]
    assert (acks[0].first_seq, acks[0].last_seq, acks[1].first_seq, acks[1].last_seq) == (1, 20, 21, 30)
    assert county.store.set_digest(dataset="inspection", origin=COUNTY)[0] == 30
    again = _push(county, identity, _request(records[:20]))  # sent twice: counted, not stored twice
    assert (again[0].stored, again[0].duplicates) == (0, 20)
    counters = {c.source: c for c in county.store.intake_counters()}
    assert counters[f"intake:{SOURCE}/b1"].received == 40
    assert counters[f"intake:{SOURCE}/b1"].duplicates == 20
    assert county.store.audit_entries(kind="ingested")[-1].subject == f"intake:{SOURCE}/b1"
    _assert_invariant(county)


def test_bad_rows_are_quarantined_and_reported_back(county: Node, identity: SourceIdentity) -> None:
    records = _inspections(8)
    request = _request(records)
    request.rows[2].columns["inspectors"] = request.rows[2].columns["inspectors"].split(";")[0]  # one inspector
    request.rows[5].columns["op"] = "x"
    del request.rows[6].columns["action_date"]
    request.rows.append(intake_pb2.IntakeRow(columns={"action_number": "X1"}, line=99, read_error="3 values for 26"))
    (ack,) = _push(county, identity, request)
    assert (ack.rows, ack.stored, ack.duplicates, ack.quarantined) == (9, 5, 0, 4)
    found = {(e.index, e.line): list(e.reasons) for e in ack.errors}
    assert found == {
        (2, 3): ["an inspection needs at least two inspectors with certificate numbers, has 1"],
        (5, 6): ["op must be i, u or d, not 'x'"],
        (6, 7): ["missing value for column 'action_date'"],
        (8, 99): ["3 values for 26"],
    }
    held = {e.id: e for e in county.store.quarantined(kind="ingest_row")}
    for error in ack.errors:
        entry = held[error.quarantine_id]
        assert entry.source == f"intake:{SOURCE}/b1:{error.line}"
        assert list(entry.findings) == list(error.reasons)
    _assert_invariant(county)


def test_rows_are_numbered_per_batch_across_requests(county: Node, identity: SourceIdentity) -> None:
    records = _inspections(6)
    first, second = _request(records[:3]), _request(records[3:])
    second.rows[1].columns["op"] = "x"  # the 5th row of batch b1 on this stream
    acks = _push(county, identity, first, second)
    assert [(e.index, e.line) for e in acks[1].errors] == [(1, 5)]


def test_typed_records_take_the_same_path(county: Node, identity: SourceIdentity) -> None:
    records = _inspections(3)
    rows = [intake_pb2.IntakeRow(record=any_pb2.Any.FromString(pack_payload(r))) for r in records]
    rows.append(intake_pb2.IntakeRow(record=any_pb2.Any(type_url="type.googleapis.com/x.Unknown", value=b"1")))
    (ack,) = _push(county, identity, intake_pb2.SubmitRequest(dataset="inspection", batch="typed", rows=rows))
    assert (ack.stored, ack.quarantined) == (3, 1)
    assert "unknown payload type" in ack.errors[0].reasons[0]
    (columns_ack,) = _push(county, identity, _request(records, batch="typed"))
    assert columns_ack.duplicates == 3  # the same records as columns: identical content


def test_a_source_not_configured_is_refused_and_audited(
    tmp_path: Path, pki: PkiFixture, county: Node, identity: SourceIdentity
) -> None:
    before = _refusals(county)
    stranger = issue_source_identity(pki.root, tmp_path / "x", node_id=COUNTY, name="stranger", days=30)
    with pytest.raises(VerificationError, match="source 'stranger' may not push to this node"):
        _push(county, stranger, _request(_inspections(2)))
    elsewhere = issue_source_identity(pki.root, tmp_path / "y", node_id="330108", name=SOURCE, days=30)
    wrong_node = f"names source 330108/{SOURCE}, not a source of {COUNTY}"
    with (
        IntakeClient(county.address, identity=elsewhere, node_id=COUNTY) as client,
        pytest.raises(VerificationError, match=wrong_node),
    ):
        list(client.submit([_request(_inspections(2))], timeout=30))
    assert _refusals(county) == (before[0] + 2, before[1] + 2)
    assert "stranger" in county.store.audit_entries(kind="caller_refused")[-2].detail
    assert county.store.set_digest()[0] == 0


def test_a_node_certificate_is_not_a_source(tree: Tree, county: Node) -> None:
    other = tree.start("330108", "county")
    identity = SourceIdentity(other.settings.cert_path, other.settings.tls_key_path, other.settings.ca_path)
    credentials = grpc.ssl_channel_credentials(*[p.read_bytes() for p in (identity.ca, identity.key, identity.cert)])
    options = [("grpc.ssl_target_name_override", dns_name(COUNTY))]
    with grpc.secure_channel(county.address, credentials, options=options) as channel:
        submit = channel.stream_stream(
            "/jgnode.exchange.v1.Intake/Submit", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as refused:
            list(submit(iter([_request(_inspections(1)).SerializeToString()]), timeout=30))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "must name exactly one source" in str(refused.value.details())


def test_a_source_certified_by_an_intermediate_ca(tmp_path: Path, pki: PkiFixture, tree: Tree) -> None:
    city_ca = pki.intermediate("330100")  # before the county starts, so that it holds the city CA's CRL
    county = tree.start(COUNTY, "county", intake=INTAKE)  # certified by the root: the city CA is news to it
    identity = issue_source_identity(city_ca, tmp_path / "via-city", node_id=COUNTY, name=SOURCE, days=30)
    assert _push(county, identity, _request(_inspections(2)))[0].stored == 2


def test_a_revoked_source_is_refused(pki: PkiFixture, county: Node, identity: SourceIdentity) -> None:
    assert _push(county, identity, _request(_inspections(1)))[0].stored == 1
    pki.root.revoke(f"{COUNTY}/{SOURCE}", crl_days=7)
    crl = (pki.root.folder / "crl.pem").read_bytes()
    publish_crl(county.settings, crl, "ca-330000")
    county.trust.add_crls([crl])  # what the trust keeper does within tls.refresh_s
    with pytest.raises(VerificationError, match="revoked"):
        _push(county, identity, _request(_inspections(2)))


def test_a_dataset_the_source_may_not_push_is_refused(county: Node, identity: SourceIdentity) -> None:
    before = _refusals(county)
    acks: list[intake_pb2.SubmitAck] = []
    requests = [_request(_inspections(2)), _request(_inspections(2, seed=6), dataset="complaint")]
    with IntakeClient(county.address, identity=identity) as client, pytest.raises(VerificationError) as refused:
        acks.extend(client.submit(requests, timeout=30))
    assert f"source {SOURCE} may not push complaint (allowed: inspection, penalty)" in str(refused.value)
    assert [a.stored for a in acks] == [2]  # the request before stays taken
    assert _refusals(county) == (before[0] + 1, before[1] + 1)
    _assert_invariant(county)


def test_unknown_dataset_and_malformed_requests_are_invalid(county: Node, identity: SourceIdentity) -> None:
    with pytest.raises(IngestError, match="unknown dataset 'nope'"):
        _push(county, identity, _request(_inspections(1), dataset="nope"))
    too_many = _request(_inspections(1))
    too_many.rows.extend([too_many.rows[0]] * 10_000)
    with pytest.raises(IngestError, match="may send at most 10000"):
        _push(county, identity, too_many)
    chain, key, root = identity.read()
    credentials = grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=chain)
    options = [("grpc.ssl_target_name_override", dns_name(COUNTY))]
    with grpc.secure_channel(county.address, credentials, options=options) as channel:
        submit = channel.stream_stream(
            "/jgnode.exchange.v1.Intake/Submit", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as malformed:
            list(submit(iter([b"\x0a\xff\xff\xff"]), timeout=30))
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed request" in str(malformed.value.details())
    assert county.store.set_digest()[0] == 0


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_a_full_outbox_gives_resource_exhausted(tree: Tree, identity: SourceIdentity) -> None:
    # the parent never answers, so the outbox only fills; it holds at most 5 records
    limits = {"outbox_max_records": 5}
    settings = make_node_dir(
        tree.root, COUNTY, "county", pki=tree.pki, parent=_closed_port(), intake=INTAKE, limits=limits
    )
    county = tree.start_settings(settings)
    records = _inspections(16)
    acks: list[intake_pb2.SubmitAck] = []
    with IntakeClient(county.address, identity=identity) as client, pytest.raises(BackpressureError) as full:
        acks.extend(client.submit([_request(records[:8]), _request(records[8:])], timeout=30))
    assert "outbox full" in str(full.value)
    assert [a.stored for a in acks] == [8]
    assert county.store.set_digest()[0] == 8  # nothing of the refused request was taken
    _assert_invariant(county)


def test_an_insecure_node_takes_the_source_from_metadata(tmp_path: Path) -> None:
    tree = Tree(tmp_path / "dev", None)
    try:
        node = tree.start(COUNTY, "county", intake=INTAKE)
        with IntakeClient(node.address, source=SOURCE) as client:
            (ack,) = client.submit([_request(_inspections(3))], timeout=30)
        assert ack.stored == 3
        with IntakeClient(node.address, source="nobody") as client, pytest.raises(VerificationError):
            list(client.submit([_request(_inspections(3))], timeout=30))
    finally:
        tree.stop_all()


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    records = _inspections(12)
    path = tmp_path / "检查-2024.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns(Inspection))
        for number, record in enumerate(records):
            row = to_row(record)
            if number == 4:
                row["inspectors"] = row["inspectors"].split(";")[0]  # an inspection needs two
            writer.writerow(row.values())
        writer.writerow(["330106JC209900000001", "too", "few"])  # line 14: cannot be read whole
    return path


def test_push_command_prints_counts_and_errors(
    county: Node, identity: SourceIdentity, csv_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["push", str(csv_file), "--dataset", "inspection", "--node", county.address, "--no-progress"]
    assert main([*args, "--identity", str(identity.key.parent), "--rows-per-request", "5"]) == 3
    out = capsys.readouterr().out
    assert f"as intake:{SOURCE}/{csv_file.name}" in out
    assert "13 rows acked in 3 requests: 11 stored, 0 duplicates, 2 quarantined" in out
    assert "  line 6 (quarantine " in out
    assert "  line 14 (quarantine " in out
    assert f"3 values for {len(columns(Inspection))} columns" in out
    assert main([*args, "--identity", str(identity.key.parent)]) == 3  # again: duplicates, same two rows held
    assert "13 rows acked in 1 requests: 0 stored, 11 duplicates, 2 quarantined" in capsys.readouterr().out
    _assert_invariant(county)


def test_issue_source_command_writes_an_identity(
    tmp_path: Path, pki: PkiFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dept"
    args = ["pki", "issue-source", SOURCE, "--ca", str(pki.root.folder), "--node-id", COUNTY, "--out", str(out)]
    assert main(args) == 0
    identity = SourceIdentity.in_folder(out)
    assert identity.source().label == f"{COUNTY}/{SOURCE}"
    assert identity.key.stat().st_mode & 0o777 == 0o600
    assert main(["pki", "show", str(identity.cert)]) == 0
    assert f"{COUNTY}/{SOURCE} (source, TLS client)" in capsys.readouterr().out
    outside = ["pki", "issue-source", SOURCE, "--ca", str(pki.intermediate("330100").folder)]
    assert main([*outside, "--node-id", "330206", "--out", str(tmp_path / "far")]) == 1  # not in the CA's subtree
    assert main([*args[:2], "other", *args[3:]]) == 1  # the key file is there: never overwritten
