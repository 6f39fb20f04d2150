"""Adversarial exchange: a child (or an impostor) pushes hand-crafted traffic to a city over mutual TLS.

Every attack must be refused with a clear status or ack code, counted,
written to the audit log (and, for data, kept in quarantine), and must leave
the city able to take the next valid batch. The last test fuzzes the
decode-and-verify path in-process with hypothesis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jgnode.exchange.v1 import exchange_pb2
from sqlalchemy import select

from node.enroll import anchor_of, publish_crl
from node.errors import BatchRejectedError, VerificationError
from node.exchange import add_hop, verify_batch
from node.grpc_util import CHAIN_METADATA, NODE_ID_METADATA
from node.merkle import leaf_hashes, root_from_leaves
from node.pki import load_certificates
from node.runtime import Node
from node.signing import KeyRing
from node.store import Store, StreamKey
from node.store._schema import QUARANTINE
from node.suites import suite
from node.trust import TrustStore
from tests.conftest import PkiFixture, eventually, make_node_dir
from tests.forge import (
    DATASET,
    Sender,
    record_bytes,
    resigned,
    rogue_signer,
    signed_batch,
    status_code,
    status_detail,
    with_duplicate_extension,
)
from tests.harness import Tree, status

APPLIED = exchange_pb2.ACK_STATUS_APPLIED
DUPLICATE = exchange_pb2.ACK_STATUS_DUPLICATE
GAP = exchange_pb2.ACK_STATUS_GAP
REJECTED = exchange_pb2.ACK_STATUS_REJECTED
DENIED = grpc.StatusCode.PERMISSION_DENIED
INVALID = grpc.StatusCode.INVALID_ARGUMENT
SUITE_NAMES = ("ed25519", "sm2")


# -- what a refusal must leave behind -------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """The city's counters and logs that a refusal must move (or leave alone)."""

    rejected: int
    callers_refused: int
    quarantined: int
    refused_entries: int
    caller_entries: int
    held: tuple[int, int]  # (records, order-independent digest)

    @classmethod
    def of(cls, node: Node) -> Tally:
        return cls(
            node.receiver.rejected,
            node.receiver.callers_refused,
            node.store.status().quarantined,
            len(node.store.audit_entries(kind="refused")),
            len(node.store.audit_entries(kind="caller_refused")),
            node.store.set_digest(),
        )


def last_quarantined(store: Store) -> tuple[str, str, str, bytes]:
    """(kind, source, reason, raw) of the newest quarantine entry."""
    with store.read() as conn:
        row = conn.execute(
            select(QUARANTINE.c.kind, QUARANTINE.c.source, QUARANTINE.c.reason, QUARANTINE.c.raw)
            .order_by(QUARANTINE.c.id.desc())
            .limit(1)
        ).one()
    return str(row[0]), str(row[1]), str(row[2]), bytes(row[3])


def assert_refused_batch(
    city: Node, ack: exchange_pb2.Ack, before: Tally, *, code: grpc.StatusCode, reason: str, sender: str
) -> None:
    """One REJECTED ack with ``code`` and ``reason``; counted, quarantined, audited, nothing applied."""
    assert ack.status == REJECTED, ack
    assert ack.code == code.value[0]
    assert ack.detail.startswith(f"{code.name}: ")
    assert reason in ack.detail
    after = Tally.of(city)
    assert after.rejected == before.rejected + 1
    assert after.quarantined == before.quarantined + 1
    assert after.refused_entries == before.refused_entries + 1
    assert after.held == before.held
    entry = city.store.audit_entries(kind="refused")[-1]
    assert entry.subject == sender
    assert json.loads(entry.detail)["reason"] == ack.detail
    kind, source, kept_reason, _raw = last_quarantined(city.store)
    assert (kind, source, kept_reason) == ("batch", sender, ack.detail)


def assert_caller_refused(
    city: Node, error: grpc.RpcError, before: Tally, *, code: grpc.StatusCode, reason: str
) -> None:
    """The whole call was turned away with ``code``; counted and audited as a refused caller."""
    assert status_code(error) == code
    assert reason in status_detail(error)
    after = Tally.of(city)
    assert after.callers_refused == before.callers_refused + 1
    assert after.caller_entries == before.caller_entries + 1
    assert (after.rejected, after.held) == (before.rejected, before.held)
    entry = city.store.audit_entries(kind="caller_refused")[-1]
    assert reason in json.loads(entry.detail)["reason"]


def assert_accepts(city: Node, sender: Sender, first_seq: int, count: int = 5) -> None:
    """The city applies the next valid batch of ``sender``'s stream: it survived the attack."""
    records = city.store.set_digest()[0]
    (ack,) = sender.push(city.address, sender.batch(first_seq, count))
    assert (ack.status, ack.applied_seq, ack.code, ack.detail) == (APPLIED, first_seq + count - 1, 0, "")
    assert city.store.set_digest()[0] == records + count


def county(tmp_path: Path, pki: PkiFixture, node_id: str = "330106", suite_name: str = "ed25519") -> Sender:
    return Sender.of(make_node_dir(tmp_path, node_id, "county", pki=pki, suite=suite_name))


def city_and_county(tree: Tree, tmp_path: Path, pki: PkiFixture, suite_name: str = "ed25519") -> tuple[Node, Sender]:
    """A city, and a county that has already delivered records 1..5."""
    city = tree.start("330100", "city", suite=suite_name)
    sender = county(tmp_path, pki, suite_name=suite_name)
    assert_accepts(city, sender, 1)
    return city, sender


# -- 1-3: signatures and Merkle roots, on both suites ------------------------------------------------


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_forged_signature_is_refused(tree: Tree, tmp_path: Path, pki: PkiFixture, suite_name: str) -> None:
    city, sender = city_and_county(tree, tmp_path, pki, suite_name)
    rogue = rogue_signer(sender.signer, tmp_path)
    batch = sender.batch(6, 5)
    # a key the certificate does not name, claiming to be the certified key
    claiming = exchange_pb2.SignedBatch()
    claiming.CopyFrom(batch)
    claiming.signature = rogue.sign(batch.header)
    # a key the certificate does not name, under its own key id
    own_id = signed_batch(rogue, list(batch.records), first_seq=6)
    before = Tally.of(city)
    (ack,) = sender.push(city.address, claiming)
    reason = f"bad signature by 330106 (key {sender.signer.key_id})"
    assert_refused_batch(city, ack, before, code=DENIED, reason=reason, sender="330106")
    assert last_quarantined(city.store)[3] == claiming.SerializeToString()  # kept whole
    before = Tally.of(city)
    (ack,) = sender.push(city.address, own_id)
    reason = f"unknown signing key {rogue.key_id} (claimed by 330106)"
    assert_refused_batch(city, ack, before, code=DENIED, reason=reason, sender="330106")
    assert_accepts(city, sender, 6)


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_tampered_record_is_refused(tree: Tree, tmp_path: Path, pki: PkiFixture, suite_name: str) -> None:
    city, sender = city_and_county(tree, tmp_path, pki, suite_name)
    batch = sender.batch(6, 5)
    record = bytearray(batch.records[2])
    record[-1] ^= 0x01  # one bit of the payload, after signing
    batch.records[2] = bytes(record)
    before = Tally.of(city)
    (ack,) = sender.push(city.address, batch)
    assert_refused_batch(city, ack, before, code=DENIED, reason="Merkle root does not match", sender="330106")
    assert last_quarantined(city.store)[3] == batch.SerializeToString()
    assert_accepts(city, sender, 6)


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_wrong_merkle_root_is_refused(tree: Tree, tmp_path: Path, pki: PkiFixture, suite_name: str) -> None:
    city, sender = city_and_county(tree, tmp_path, pki, suite_name)
    batch = sender.batch(6, 5)
    digest = suite(suite_name).digest
    other = record_bytes("330106", first_seq=11, count=5)

    def other_root(header: exchange_pb2.BatchHeader) -> None:
        header.merkle_root = root_from_leaves(leaf_hashes(other, digest), digest)

    def sha256_root(header: exchange_pb2.BatchHeader) -> None:  # the right records, the wrong digest
        header.merkle_root = root_from_leaves(leaf_hashes(list(batch.records), suite("ed25519").digest))

    # correctly signed by the county: only the root is wrong
    forged = [resigned(batch, sender.signer, other_root)]
    if suite_name != "ed25519":
        forged.append(resigned(batch, sender.signer, sha256_root))
    for envelope in forged:
        before = Tally.of(city)
        (ack,) = sender.push(city.address, envelope)
        assert_refused_batch(city, ack, before, code=DENIED, reason="Merkle root does not match", sender="330106")
    assert_accepts(city, sender, 6)


# -- 4-5: replay and order -----------------------------------------------------------------------------


def test_replayed_batch_is_a_counted_no_op(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    before = Tally.of(city)
    again, partly = sender.push(city.address, sender.batch(1, 5), sender.batch(3, 3))
    assert (again.status, again.applied_seq, again.batch_last_seq) == (DUPLICATE, 5, 5)
    assert (partly.status, partly.applied_seq) == (DUPLICATE, 5)
    assert Tally.of(city) == before  # nothing stored, nothing refused
    duplicates = city.store.audit_entries(kind="duplicate")
    assert [e.subject for e in duplicates] == ["330106/regulated_object/1-5", "330106/regulated_object/3-5"]
    assert json.loads(duplicates[0].detail) == {"from": "330106", "held": 5}
    assert_accepts(city, sender, 6)


def test_batches_out_of_order_are_not_applied(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    before = Tally.of(city)
    (ack,) = sender.push(city.address, sender.batch(11, 5))  # 6..10 skipped
    assert (ack.status, ack.applied_seq, ack.batch_last_seq, ack.code) == (GAP, 5, 15, 0)
    assert Tally.of(city) == before
    gap = city.store.audit_entries(kind="gap")[-1]
    assert (gap.subject, json.loads(gap.detail)) == ("330106/regulated_object/11-15", {"from": "330106", "held": 5})
    assert city.store.cursors() == [(StreamKey("330106", DATASET), 5)]

    batch = sender.batch(6, 5)  # records swapped inside a correctly signed batch
    batch.records[0], batch.records[1] = batch.records[1], batch.records[0]
    (ack,) = sender.push(city.address, batch)
    assert_refused_batch(city, ack, before, code=DENIED, reason="Merkle root does not match", sender="330106")
    assert_accepts(city, sender, 6)
    assert_accepts(city, sender, 11)  # the batch refused as a gap fits now


def test_records_out_of_order_under_the_origins_own_signature_are_quarantined(
    tree: Tree, tmp_path: Path, pki: PkiFixture
) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    batch = sender.batch(6, 5)
    batch.records[0], batch.records[1] = batch.records[1], batch.records[0]

    def signed_root(header: exchange_pb2.BatchHeader) -> None:
        header.merkle_root = root_from_leaves(leaf_hashes(list(batch.records)))

    # the receiver checks bytes, not record fields: the batch is what its origin signed, so it is held ...
    (ack,) = sender.push(city.address, resigned(batch, sender.signer, signed_root))
    assert (ack.status, ack.applied_seq) == (APPLIED, 10)
    # ... and the projector, which reads every record, quarantines the two that sit at the wrong seq
    eventually(lambda: city.store.status().quarantined == 2, what="two records quarantined")
    refused = [(e.subject, json.loads(e.detail)) for e in city.store.audit_entries(kind="refused")]
    assert refused == [
        (
            f"330106/{DATASET}/{seq}",
            {
                "kind": "projection",
                "dataset": DATASET,
                "reason": f"record says (330106, {DATASET}, seq {said}), stored as seq {seq}",
            },
        )
        for seq, said in ((6, 7), (7, 6))
    ]
    assert_accepts(city, sender, 11)


# -- 6-8: who may push what ------------------------------------------------------------------------------


def test_certificate_from_a_foreign_root_is_refused(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    # a second root CA with the very same name and node id as the real one
    foreign_pki = PkiFixture(tmp_path / "foreign-pki")
    impostor = make_node_dir(tmp_path / "foreign", "330106", "county", pki=foreign_pki)
    impostor.ca_path.write_bytes(anchor_of(pki.root))  # it knows the real root, so it accepts the city
    forged = Sender.of(impostor)
    before = Tally.of(city)
    with pytest.raises(grpc.RpcError) as refused:  # the TLS handshake fails: no handler ever runs
        forged.push(city.address, forged.batch(6, 5))
    assert status_code(refused.value) == grpc.StatusCode.UNAVAILABLE
    assert Tally.of(city) == before

    # the real county's connection carrying a batch signed under the foreign certificate
    (ack,) = sender.push(city.address, forged.batch(6, 5))
    assert_refused_batch(city, ack, before, code=DENIED, reason="does not chain to a trusted root", sender="330106")
    assert_accepts(city, sender, 6)


def test_revoked_certificate_is_refused(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    city = tree.start("330100", "city", tls={"refresh_s": 0.1})
    sender = county(tmp_path, pki)
    other = county(tmp_path, pki, "330108")
    assert_accepts(city, sender, 1)
    pki.root.revoke("330106", crl_days=7)
    publish_crl(city.settings, (pki.root.folder / "crl.pem").read_bytes(), "ca-330000")
    # the city's trust keeper reads the CRL folder by itself and drops the county's key
    eventually(lambda: city.trust.keyring.get(sender.signer.key_id) is None, what="the revoked key dropped")
    before = Tally.of(city)
    with pytest.raises(grpc.RpcError) as refused:
        sender.push(city.address, sender.batch(6, 5))
    serial = load_certificates(sender.settings.cert_path.read_bytes())[0].serial_number
    assert_caller_refused(city, refused.value, before, code=DENIED, reason=f"certificate serial {serial:x} was revoked")
    assert_accepts(city, other, 1)


def test_origin_outside_the_senders_subtree_is_refused(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    signer = sender.signer

    def batch_of(origin: str) -> exchange_pb2.SignedBatch:  # signed by 330106's own, certified key
        return signed_batch(signer, record_bytes(origin, first_seq=1, count=3), first_seq=1, origin=origin)

    sibling = batch_of("330108")
    with_hop = exchange_pb2.SignedBatch()
    with_hop.CopyFrom(sibling)  # ... and a hop claiming 330106 merely forwards 330108's batch
    with_hop.hops.extend(add_hop(signer, sibling.header, [], received_from="330108", now_us=1))
    cases = [
        (sibling, "330106 sent a batch that 330108 should have sent"),
        (batch_of("330100"), "origin 330100 is not in 330100's subtree"),
        (batch_of("330100-x"), "330106 sent a batch that 330100-x should have sent"),  # a city-level office
        (batch_of("330206"), "origin 330206 is not in 330100's subtree"),
        (with_hop, f"key {signer.key_id} belongs to 330106, not 330108"),
    ]
    before = Tally.of(city)
    acks = sender.push(city.address, *(envelope for envelope, _ in cases))
    assert len(acks) == len(cases)
    for ack, (_, reason) in zip(acks, cases, strict=True):
        assert (ack.status, ack.code) == (REJECTED, DENIED.value[0])
        assert reason in ack.detail
    after = Tally.of(city)
    assert (after.rejected, after.quarantined) == (before.rejected + 5, before.quarantined + 5)
    assert after.refused_entries == before.refused_entries + 5
    assert after.held == before.held
    assert city.store.set_digest(origin="330108")[0] == 0

    # a county of another city, properly certified, may not even connect
    stranger = county(tmp_path, pki, "330206")
    before = Tally.of(city)
    with pytest.raises(grpc.RpcError) as refused:
        stranger.push(city.address, stranger.batch(1, 3))
    assert_caller_refused(city, refused.value, before, code=DENIED, reason="330206 is not in 330100's subtree")
    assert_accepts(city, sender, 6)


# -- 9-11: size, garbage and unknown suites ----------------------------------------------------------------


def test_oversize_messages_and_batches_are_refused(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    limit = 1024 * 1024
    city = tree.start("330100", "city", limits={"max_message_bytes": limit, "max_batch_records": 50})
    sender = county(tmp_path, pki)
    assert_accepts(city, sender, 1)

    too_many = sender.batch(6, 51)
    huge = sender.batch(6, 5)
    huge.records.append(b"\x0a" + b"x" * (limit + limit // 2))  # 1.5 MiB: above our limit, below gRPC's cap
    claims_a_lot = resigned(sender.batch(6, 3), sender.signer, lambda h: setattr(h, "last_seq", 2**62))
    before = Tally.of(city)
    (ack,) = sender.push(city.address, too_many)
    reason = "batch of 51 records exceeds the limit of 50"
    assert_refused_batch(city, ack, before, code=INVALID, reason=reason, sender="330106")

    raw = exchange_pb2.PushRequest(batch=huge).SerializeToString()
    before = Tally.of(city)
    (ack,) = sender.push(city.address, huge)
    reason = f"message of {len(raw)} bytes exceeds {limit} (first {limit} of {len(raw)} bytes kept)"
    assert_refused_batch(city, ack, before, code=INVALID, reason=reason, sender="330106")
    assert last_quarantined(city.store)[3] == raw[:limit]

    before = Tally.of(city)
    (ack,) = sender.push(city.address, claims_a_lot)
    reason = f"batch of {2**62 - 5} records exceeds the limit of 50"
    assert_refused_batch(city, ack, before, code=INVALID, reason=reason, sender="330106")

    # past gRPC's own cap (our limit + 1 MiB) the transport refuses it before the node sees it
    enormous = sender.batch(6, 5)
    enormous.records.append(b"\x0a" + b"x" * (2 * limit + 1024))
    before = Tally.of(city)
    with pytest.raises(grpc.RpcError) as refused:
        sender.push(city.address, enormous)
    assert status_code(refused.value) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert Tally.of(city) == before
    assert_accepts(city, sender, 6, count=50)


def test_malformed_push_messages_are_refused_and_the_stream_goes_on(
    tree: Tree, tmp_path: Path, pki: PkiFixture
) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    garbage = b"\x0a\xff\xff\xff\xff\x0f" + b"\x00" * 10  # a field that claims more bytes than follow
    with pytest.raises(DecodeError):
        exchange_pb2.PushRequest.FromString(garbage)
    bad_header = sender.batch(6, 5)
    bad_header.header = b"\xff\x01garbage"
    before = Tally.of(city)
    acks = sender.push(city.address, garbage, b"", bad_header, sender.batch(6, 5))
    assert [a.status for a in acks] == [REJECTED, REJECTED, REJECTED, APPLIED]
    assert [a.code for a in acks] == [INVALID.value[0]] * 3 + [0]
    assert acks[0].detail.startswith("INVALID_ARGUMENT: malformed protobuf: ")
    assert acks[1].detail == "INVALID_ARGUMENT: push request carries neither a batch nor a report"
    assert acks[2].detail.startswith("INVALID_ARGUMENT: malformed batch header: ")
    after = Tally.of(city)
    assert (after.rejected, after.quarantined, after.refused_entries) == (
        before.rejected + 3,
        before.quarantined + 3,
        before.refused_entries + 3,
    )
    assert after.held[0] == before.held[0] + 5
    reasons = [json.loads(e.detail)["reason"] for e in city.store.audit_entries(kind="refused")[-3:]]
    assert reasons == [a.detail for a in acks[:3]]


def test_unparsable_certificates_are_refused_and_the_stream_goes_on(
    tree: Tree, tmp_path: Path, pki: PkiFixture
) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    garbage = sender.batch(6, 5)
    garbage.certificates[:] = [b"not a certificate"]
    broken = sender.batch(6, 5)  # parses as a certificate; its extensions do not
    broken.certificates[:] = [with_duplicate_extension(sender.signer.chain[0])]
    for envelope, reason in ((garbage, "not a certificate"), (broken, "Duplicate 2.5.29.17 extension")):
        before = Tally.of(city)
        (ack,) = sender.push(city.address, envelope)
        assert_refused_batch(city, ack, before, code=DENIED, reason=reason, sender="330106")

    # trust material a child relays is only learnt if usable: a broken CA certificate is skipped
    root_der = pki.root.cert.public_bytes(serialization.Encoding.DER)
    report = exchange_pb2.SenderReport(ca_certificates=[with_duplicate_extension(root_der), b"junk"])
    before = Tally.of(city)
    (ack,) = sender.push(city.address, exchange_pb2.PushRequest(report=report), sender.batch(6, 5))
    assert (ack.status, ack.applied_seq) == (APPLIED, 10)
    assert Tally.of(city).rejected == before.rejected
    assert city.receiver.trust_refused == 1  # counted and audited, not only logged
    (entry,) = city.store.audit_entries(kind="refused")[-1:]
    assert entry.subject == "trust material from 330106"
    assert "not a certificate" in entry.detail

    # a broken intermediate CA certificate in the caller's chain metadata
    before = Tally.of(city)
    chain = (CHAIN_METADATA, with_duplicate_extension(root_der))
    with pytest.raises(grpc.RpcError) as refused:
        sender.push(city.address, sender.batch(11, 5), metadata=[(NODE_ID_METADATA, "330106"), chain])
    assert_caller_refused(city, refused.value, before, code=DENIED, reason="Duplicate 2.5.29.17 extension")
    assert_accepts(city, sender, 11)
    reply = status(city)  # what an operator sees
    assert (reply.callers_refused, reply.trust_refused) == (city.receiver.callers_refused, 1)
    assert reply.callers_refused >= 1


def test_unknown_signature_suite_is_refused(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    forged = resigned(sender.batch(6, 5), sender.signer, lambda h: setattr(h, "suite", "rsa-md5"))
    before = Tally.of(city)
    (ack,) = sender.push(city.address, forged)
    assert_refused_batch(
        city,
        ack,
        before,
        code=DENIED,
        reason="unknown signature suite 'rsa-md5' (known: ed25519, sm2)",
        sender="330106",
    )
    assert_accepts(city, sender, 6)


# -- trust material from a child -------------------------------------------------------------------------


def test_a_child_cannot_revoke_other_nodes_with_a_look_alike_ca(tree: Tree, tmp_path: Path, pki: PkiFixture) -> None:
    city, sender = city_and_county(tree, tmp_path, pki)
    victim = county(tmp_path, pki, "330108")
    assert_accepts(city, victim, 1)
    # a root CA of its own, with the real root's name, "revoking" the victim's (public) certificate
    look_alike = PkiFixture(tmp_path / "look-alike")
    serial = load_certificates(victim.settings.cert_path.read_bytes())[0].serial_number
    issued = json.loads((look_alike.root.folder / "issued.json").read_text())
    issued[f"{serial:x}"] = {"node_id": "330108", "not_after": "2099-01-01T00:00:00+00:00", "ca": "False"}
    (look_alike.root.folder / "issued.json").write_text(json.dumps(issued))
    look_alike.root.revoke("330108", crl_days=7)
    crl = x509.load_pem_x509_crl((look_alike.root.folder / "crl.pem").read_bytes())
    assert crl.issuer == pki.root.cert.subject
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    report = exchange_pb2.SenderReport(
        ca_certificates=[anchor_of(look_alike.root)], crls=[(look_alike.root.folder / "crl.pem").read_bytes()]
    )
    assert sender.push(city.address, exchange_pb2.PushRequest(report=report)) == []
    assert city.trust.keyring.get(victim.signer.key_id) is not None
    assert_accepts(city, victim, 6)
    assert_accepts(city, sender, 6)


# -- property: no mutation of a valid batch crashes the checks or gets through changed --------------------


@dataclass(frozen=True)
class Valid:
    """A valid batch as the wire carries it, and what its sender's parent trusts."""

    envelope: bytes  # serialized SignedBatch
    header: bytes
    records: list[bytes]
    chain: tuple[bytes, ...]
    anchor: x509.Certificate
    crl: bytes


@pytest.fixture(scope="module", params=SUITE_NAMES)
def valid(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Valid:
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    pki = PkiFixture(folder / "pki")
    sender = county(folder, pki, suite_name=request.param)
    batch = sender.batch(1, 4)
    crl = (pki.root.folder / "crl.pem").read_bytes()
    return Valid(batch.SerializeToString(), batch.header, list(batch.records), sender.signer.chain, pki.root.cert, crl)


def parent_trust(valid: Valid) -> TrustStore:
    """The city's trust after the county's first batch: the root, its CRL, the county's key."""
    trust = TrustStore(keyring=KeyRing(), anchors=[valid.anchor])
    trust.add_crls([valid.crl])
    trust.admit(valid.chain)
    return trust


_index = st.integers(min_value=0, max_value=2**31)
_FIELDS = ("header", "signature", "records", "certificates", "hops")
_HEADER_FIELDS = ("origin", "dataset", "first_seq", "last_seq", "created_at_us", "key_id", "suite", "merkle_root")
_header_values = st.one_of(
    st.integers(min_value=0, max_value=2**63 - 1),
    st.text(max_size=12),
    st.binary(max_size=40),
    st.sampled_from(SUITE_NAMES),
)
Mutation = tuple[str, object]
mutations: st.SearchStrategy[Mutation] = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(_index, st.integers(1, 255)), min_size=1, max_size=4)),
    st.tuples(st.just("truncate"), _index),
    st.tuples(st.just("insert"), st.tuples(_index, st.binary(min_size=1, max_size=16))),
    st.tuples(st.just("delete"), st.tuples(_index, st.integers(1, 64))),
    st.tuples(st.just("random"), st.binary(max_size=1024)),
    st.tuples(st.just("field"), st.tuples(st.sampled_from(_FIELDS), _index, st.binary(max_size=64))),
    st.tuples(st.just("swap"), st.tuples(st.sampled_from(_FIELDS), st.sampled_from(_FIELDS), _index)),
    st.tuples(st.just("header"), st.tuples(st.sampled_from(_HEADER_FIELDS), _header_values)),
)


def mutate(data: bytes, mutation: Mutation) -> bytes:  # noqa: PLR0911 - one branch per kind of mutation
    """``data`` (a serialized SignedBatch) changed as ``mutation`` says."""
    kind, how = mutation
    match kind, how:
        case "flip", list(flips):
            out = bytearray(data)
            for index, mask in flips:
                out[index % len(out)] ^= mask
            return bytes(out)
        case "truncate", int(index):
            return data[: index % len(data)]
        case "insert", (int(index), bytes(extra)):
            return data[: index % len(data)] + extra + data[index % len(data) :]
        case "delete", (int(index), int(length)):
            return data[: index % len(data)] + data[index % len(data) + length :]
        case "random", bytes(junk):
            return junk
        case "field", (str(name), int(index), bytes(value)):
            return _with_field(data, name, index, value)
        case "swap", (str(source), str(target), int(index)):
            return _with_field(data, target, index, _field(data, source, index))
        case "header", (str(name), value):
            return _with_header_field(data, name, value)
    raise AssertionError(f"unknown mutation {mutation!r}")


def _field(data: bytes, name: str, index: int) -> bytes:
    """One field of a SignedBatch as bytes (an element of a repeated one)."""
    batch = exchange_pb2.SignedBatch.FromString(data)
    value = getattr(batch, name)
    if isinstance(value, bytes):
        return value
    items = [v if isinstance(v, bytes) else v.SerializeToString() for v in value]
    return items[index % len(items)] if items else b""


def _with_field(data: bytes, name: str, index: int, value: bytes) -> bytes:
    """The SignedBatch with one field (or one element of a repeated field) replaced, re-serialized."""
    batch = exchange_pb2.SignedBatch.FromString(data)
    if name in {"header", "signature"}:
        setattr(batch, name, value)
    elif name == "hops":
        batch.hops.append(exchange_pb2.Hop(statement=value, signature=value[::-1]))
    else:
        items = getattr(batch, name)
        if items:
            items[index % len(items)] = value
        else:
            items.append(value)
    return batch.SerializeToString()


def _with_header_field(data: bytes, name: str, value: object) -> bytes:
    """The SignedBatch with one header field changed (where the value fits its type), signature kept."""
    batch = exchange_pb2.SignedBatch.FromString(data)
    header = exchange_pb2.BatchHeader.FromString(batch.header)
    current = getattr(header, name)
    if isinstance(current, int) and isinstance(value, int):
        setattr(header, name, value if name != "created_at_us" else value - 2**62)
    elif type(current) is type(value):  # str or bytes
        setattr(header, name, value)
    else:
        setattr(header, name, type(current)())
    batch.header = header.SerializeToString()
    return batch.SerializeToString()


def _length_prefixed(field: int, data: bytes) -> bytes:
    """A length-delimited protobuf field, as the wire carries the batch inside a PushRequest."""
    size, varint = len(data), bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        varint.append(byte | (0x80 if size else 0))
        if not size:
            return bytes([field << 3 | 2]) + bytes(varint) + data


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # mangled serials warn
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=mutations)
def test_mutated_batches_are_refused_cleanly_or_are_the_same_batch(valid: Valid, mutation: Mutation) -> None:
    raw = _length_prefixed(1, mutate(valid.envelope, mutation))
    trust = parent_trust(valid)
    try:  # what the Push servicer and the receiver do with the bytes of one message
        request = exchange_pb2.PushRequest.FromString(raw)
        verified = verify_batch(
            request.batch,
            sender="330106",
            receiver="330100",
            keyring=trust.keyring,
            max_records=10_000,
            admit=lambda certificates, at_us: trust.admit(certificates, at_us=at_us),
        )
    except (DecodeError, VerificationError, BatchRejectedError) as exc:
        event(f"refused: {type(exc).__name__}")
        return  # refused: quarantined and answered with REJECTED
    event("accepted")
    assert verified.records == valid.records
    assert verified.batch.header == valid.header
    assert (verified.batch.key, verified.batch.first_seq, verified.batch.last_seq) == (
        StreamKey("330106", DATASET),
        1,
        4,
    )
