"""Merkle trees, inclusion proofs, signatures and batch verification, including tampering."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import gmssl_pyx  # type: ignore[import-untyped]
import pytest
from jgnode.exchange.v1 import exchange_pb2

from node.errors import BatchRejectedError, VerificationError
from node.exchange import add_hop, build_provenance, decode_hops, encode_hops, seal, verify_batch, verify_provenance
from node.merkle import EMPTY_ROOT, inclusion_proof, leaf_hash, leaf_hashes, root_from_leaves, verify_inclusion
from node.serde import encode_record
from node.signing import KeyRing, Signer, generate_signing_key, load_signer
from node.store import BatchData, StreamKey
from node.suites import suite

Tree = tuple[Signer, Signer, Signer, KeyRing]


def rfc6962_root(items: list[bytes]) -> bytes:
    """The RFC 6962 definition, recursively: split at the largest power of two below n."""
    if not items:
        return hashlib.sha256(b"").digest()
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    k = 1
    while k * 2 < len(items):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_root(items[:k]) + rfc6962_root(items[k:])).digest()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 1000])
def test_root_matches_rfc6962_definition(n: int) -> None:
    items = [f"record-{i}".encode() for i in range(n)]
    assert root_from_leaves(leaf_hashes(items)) == rfc6962_root(items)


def test_empty_tree_root() -> None:
    assert root_from_leaves([]) == EMPTY_ROOT


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 7, 13, 64, 100])
def test_every_inclusion_proof_verifies_and_only_for_its_leaf(n: int) -> None:
    items = [f"r{i}".encode() for i in range(n)]
    leaves = leaf_hashes(items)
    root = root_from_leaves(leaves)
    for index in range(n):
        proof = inclusion_proof(leaves, index)
        assert verify_inclusion(leaves[index], index, n, proof, root)
        assert not verify_inclusion(leaf_hash(b"forged"), index, n, proof, root)
        if n > 1:
            assert not verify_inclusion(leaves[index], (index + 1) % n, n, proof, root)
            assert not verify_inclusion(leaves[index], index, n, proof, hashlib.sha256(b"other").digest())


def test_tampered_proof_fails() -> None:
    leaves = leaf_hashes([bytes([i]) for i in range(10)])
    root = root_from_leaves(leaves)
    proof = inclusion_proof(leaves, 3)
    proof[1] = bytes(32)
    assert not verify_inclusion(leaves[3], 3, 10, proof, root)
    assert not verify_inclusion(leaves[3], 3, 10, proof[:-1], root)


def _signer(tmp_path: Path, node_id: str, suite: str = "ed25519") -> Signer:
    key = tmp_path / node_id / "signing.key"
    generate_signing_key(key, key.with_suffix(".pub"), suite)
    return load_signer(node_id, key, suite)


# every batch test runs on each suite, and on a mixed tree (an SM2 county under Ed25519 city and province)
SUITES = {
    "ed25519": ("ed25519", "ed25519", "ed25519"),
    "sm2": ("sm2", "sm2", "sm2"),
    "mixed": ("sm2", "ed25519", "ed25519"),
}


def _records(origin: str, n: int, first_seq: int = 1, dataset: str = "inspection") -> list[bytes]:
    return [
        encode_record(
            origin=origin,
            dataset=dataset,
            uid=f"u{first_seq + i}",
            version=1,
            seq=first_seq + i,
            op=1,
            event_time_us=1_700_000_000_000_000,
            payload=b"",
        )
        for i in range(n)
    ]


@pytest.fixture(params=list(SUITES))
def tree(tmp_path: Path, request: pytest.FixtureRequest) -> Tree:
    nodes = ("330106", "330100", "330000")
    county, city, province = (_signer(tmp_path, n, s) for n, s in zip(nodes, SUITES[request.param], strict=True))
    ring = KeyRing()
    for s in (county, city, province):
        ring.add_pem(s.node_id, s.public_pem, s.suite)
    return county, city, province, ring


def _envelope(
    batch: BatchData, records: list[bytes], hops: Sequence[exchange_pb2.Hop] = ()
) -> exchange_pb2.SignedBatch:
    return exchange_pb2.SignedBatch(header=batch.header, signature=batch.signature, records=records, hops=list(hops))


def test_signed_batch_verifies_at_parent(tree: Tree) -> None:
    county, _city, _province, ring = tree
    records = _records("330106", 50)
    batch = seal(county, StreamKey("330106", "inspection"), records, first_seq=1, now_us=1)
    verified = verify_batch(
        _envelope(batch, records), sender="330106", receiver="330100", keyring=ring, max_records=1000
    )
    assert verified.records == records


@pytest.mark.parametrize(
    ("tamper", "error", "message"),
    [
        ("payload", VerificationError, "Merkle root"),
        ("signature", VerificationError, "bad signature"),
        ("drop_record", BatchRejectedError, "carries 49"),
        ("reorder", VerificationError, "Merkle root"),
        ("wrong_sender", VerificationError, "should have sent"),
        ("foreign_origin", VerificationError, "subtree"),
        ("unknown_key", VerificationError, "unknown signing key"),
        ("garbage_header", BatchRejectedError, "malformed batch header"),
        ("oversize", BatchRejectedError, "exceeds the limit"),
    ],
)
def test_tampered_batches_are_refused(tree: Tree, tmp_path: Path, tamper: str, error: type, message: str) -> None:
    county, _city, _province, ring = tree
    origin, sender, limit = "330106", "330106", 1000
    records = _records(origin, 50)
    signer = county
    if tamper == "foreign_origin":
        origin = sender = "330203"
        signer = _signer(tmp_path, origin, county.suite)
        ring.add_pem(origin, signer.public_pem, signer.suite)
        records = _records(origin, 50)
    if tamper == "unknown_key":
        signer = _signer(tmp_path / "impostor", "330106", county.suite)
    batch = seal(signer, StreamKey(origin, "inspection"), records, first_seq=1, now_us=1)
    envelope = _envelope(batch, records)
    if tamper == "payload":
        envelope.records[7] = envelope.records[7].replace(b"u8", b"u9")
    elif tamper == "signature":
        envelope.signature = bytes(64)
    elif tamper == "drop_record":
        del envelope.records[-1]
    elif tamper == "reorder":
        envelope.records[0], envelope.records[1] = envelope.records[1], envelope.records[0]
    elif tamper == "wrong_sender":
        sender = "330108"
    elif tamper == "garbage_header":
        envelope.header = b"\xff\xff\xff"
    elif tamper == "oversize":
        limit = 10
    with pytest.raises(error, match=message):
        verify_batch(envelope, sender=sender, receiver="330100", keyring=ring, max_records=limit)


def test_record_key_must_match_header(tree: Tree) -> None:
    county, _city, _province, ring = tree
    records = _records("330106", 3, dataset="penalty")  # records say penalty, header says inspection
    batch = seal(county, StreamKey("330106", "inspection"), records, first_seq=1, now_us=1)
    with pytest.raises(BatchRejectedError, match=r"record 1 does not belong to \(330106, inspection\)"):
        verify_batch(_envelope(batch, records), sender="330106", receiver="330100", keyring=ring, max_records=10)


def test_hop_chain_verifies_three_tiers_and_single_record_provenance(tree: Tree) -> None:
    county, city, _province, ring = tree
    records = _records("330106", 37)
    batch = seal(county, StreamKey("330106", "inspection"), records, first_seq=1, now_us=1)
    hops = add_hop(city, batch.header, [], received_from="330106", now_us=2)
    verified = verify_batch(
        _envelope(batch, records, hops), sender="330100", receiver="330000", keyring=ring, max_records=1000
    )
    assert len(verified.hops) == 1
    bundle = build_provenance(
        header=batch.header,
        signature=batch.signature,
        batch_records=verified.records,
        first_seq=1,
        seq=21,
        hops=encode_hops(hops),
    )
    lines = verify_provenance(bundle, ring)
    assert "inclusion proof OK" in lines[0]
    assert lines[-1].startswith("forwarded by 330100 from 330106")
    # a proof for another record's bytes fails
    bundle.record = records[21]
    with pytest.raises(VerificationError):
        verify_provenance(bundle, ring)


def test_forged_or_misordered_hops_are_refused(tree: Tree, tmp_path: Path) -> None:
    county, city, _province, ring = tree
    records = _records("330106", 5)
    batch = seal(county, StreamKey("330106", "inspection"), records, first_seq=1, now_us=1)
    hops = add_hop(city, batch.header, [], received_from="330106", now_us=2)
    forged = exchange_pb2.Hop(statement=hops[0].statement, signature=bytes(64))
    with pytest.raises(VerificationError, match="bad signature by 330100"):
        verify_batch(
            _envelope(batch, records, [forged]), sender="330100", receiver="330000", keyring=ring, max_records=10
        )
    lying = add_hop(city, batch.header, [], received_from="330108", now_us=2)
    with pytest.raises(VerificationError, match="received from 330108"):
        verify_batch(_envelope(batch, records, lying), sender="330100", receiver="330000", keyring=ring, max_records=10)
    other = seal(county, StreamKey("330106", "inspection"), _records("330106", 5, 6), first_seq=6, now_us=3)
    replayed = add_hop(city, other.header, [], received_from="330106", now_us=2)
    with pytest.raises(VerificationError, match="different batch"):
        verify_batch(
            _envelope(batch, records, replayed), sender="330100", receiver="330000", keyring=ring, max_records=10
        )
    assert decode_hops(encode_hops(hops)) == hops


def test_keyring_binds_keys_to_nodes(tmp_path: Path) -> None:
    signer = _signer(tmp_path, "330106")
    ring = KeyRing()
    ring.add_pem("330106", signer.public_pem)
    data = b"header"
    ring.verify(key_id=signer.key_id, node_id="330106", suite="ed25519", data=data, signature=signer.sign(data))
    with pytest.raises(VerificationError, match="belongs to 330106"):
        ring.verify(key_id=signer.key_id, node_id="330108", suite="ed25519", data=data, signature=signer.sign(data))
    with pytest.raises(VerificationError, match="unknown signature suite"):
        ring.verify(key_id=signer.key_id, node_id="330106", suite="rsa", data=data, signature=signer.sign(data))


def test_sm2_suite_interoperates_with_the_reference_calls(tmp_path: Path) -> None:
    """Our faster signing (Z computed once) makes the signatures GmSSL's all-in-one calls make and check."""
    sm2 = suite("sm2")
    assert sm2.digest(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"  # GB/T 32905
    private_pem = sm2.generate_private_pem()
    public = sm2.public_raw(private_pem)
    for size in (0, 1, 200, 5000):
        data = bytes(range(256)) * (size // 256) + bytes(size % 256)
        ours = sm2.sign(private_pem, data)
        assert gmssl_pyx.sm2_verify(public, data, ours)
        assert not gmssl_pyx.sm2_verify(public, data + b"x", ours)
        scalar = sm2._keypair(private_pem)[0]  # type: ignore[attr-defined]
        reference = gmssl_pyx.sm2_sign(scalar, public, data)
        assert sm2.verify(public, data, reference)
        assert not sm2.verify(public, data + b"x", reference)
