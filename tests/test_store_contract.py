"""One contract for the store, run on SQLite and on a real PostgreSQL 15."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from governance import Counterparty, Inspection, Inspector, RegulatedObject
from node.errors import ConfigError
from node.exchange import seal, verify_provenance
from node.exchange._batches import build_provenance, encode_hops
from node.ingest import ingest_records
from node.merkle import leaf_hashes
from node.projector import Projector
from node.serde import encode_record, record_key
from node.signing import KeyRing, Signer, generate_signing_key, load_signer
from node.store import ApplyOutcome, BatchData, Store, StreamKey
from node.store._schema import INSPECTION, QUARANTINE, REGULATED_OBJECT
from tests.test_ingest import sample_inspection

OpenStore = Callable[[str], Store]
KEY = StreamKey("330106", "inspection")


def _signer(tmp_path: Path, node_id: str) -> Signer:
    key = tmp_path / node_id / "signing.key"
    generate_signing_key(key, key.with_suffix(".pub"))
    return load_signer(node_id, key)


def _bodies(first: int, last: int, *, version: int = 1, origin: str = "330106") -> list[bytes]:
    return [
        encode_record(
            origin=origin,
            dataset="inspection",
            uid=f"u{seq}",
            version=version,
            seq=seq,
            op=1,
            event_time_us=seq,
            payload=b"",
        )
        for seq in range(first, last + 1)
    ]


def _apply(store: Store, signer: Signer, first: int, last: int, *, to_parent: bool = False) -> ApplyOutcome:
    bodies = _bodies(first, last)
    batch = seal(signer, KEY, bodies, first_seq=first, now_us=first)
    return store.apply_batch(batch, bodies, received_from="330106", now_us=10, to_parent=to_parent)


def test_apply_is_idempotent_ordered_and_resumable(open_store: OpenStore, tmp_path: Path) -> None:
    county = _signer(tmp_path, "330106")
    city = open_store("330100")
    assert _apply(city, county, 1, 100).status == "applied"
    assert _apply(city, county, 1, 100).status == "duplicate"  # replay changes nothing
    gap = _apply(city, county, 201, 300)
    assert (gap.status, gap.applied_seq) == ("gap", 100)
    overlap = _apply(city, county, 51, 150)  # half already held: only 101..150 are new
    assert (overlap.status, overlap.applied_seq, overlap.records) == ("applied", 150, 50)
    assert city.cursors([KEY]) == [(KEY, 150)]
    count, _digest = city.set_digest(origin="330106")
    assert count == 150
    assert city.status().streams[0].records == 150


def test_own_records_get_versions_and_duplicates_are_counted(open_store: OpenStore) -> None:
    store = open_store("330106")
    first = sample_inspection("330106JC2024000001")
    stored, dups, lo, hi = ingest_records(store, "inspection", [first, sample_inspection("330106JC2024000002")])
    assert (stored, dups, lo, hi) == (2, 0, 1, 2)
    changed = sample_inspection("330106JC2024000001", result="责令整改")
    stored, dups, lo, hi = ingest_records(store, "inspection", [first, changed])
    # the unchanged copy of #1 is a duplicate; the changed one is version 2 at seq 3
    assert (stored, dups, lo, hi) == (1, 1, 3, 3)
    assert (
        store.provenance("330106JC2024000001", key_of=record_key) == []
    )  # not sealed yet: no signed batch, no provenance
    with store.read() as conn:
        rows = conn.execute(select(INSPECTION.c.uid, INSPECTION.c.version, INSPECTION.c.result)).all()
    # own records reach the thematic table in the ingest transaction itself
    assert sorted(rows) == [("330106JC2024000001", 2, "责令整改"), ("330106JC2024000002", 1, "合格")]


def test_seal_outbox_ack_and_realign(open_store: OpenStore, tmp_path: Path) -> None:
    signer = _signer(tmp_path, "330106")
    store = open_store("330106")
    ingest_records(store, "inspection", [sample_inspection(f"330106JC2024{i:06d}") for i in range(1, 26)])
    ((key, sealed, applied, _since),) = store.unsealed_streams()
    assert (key, sealed, applied) == (KEY, 0, 25)
    for first in (1, 11, 21):
        last = min(first + 9, 25)
        batch = seal(signer, KEY, store.records_in_range(KEY, first, last), first_seq=first, now_us=first)
        store.save_sealed(batch, to_parent=True)
    pending = store.pending_batches(after_batch_id=0, limit=10)
    assert [(b.first_seq, b.last_seq, len(b.records)) for b in pending] == [(1, 10, 10), (11, 20, 10), (21, 25, 5)]
    assert (store.outbox_backlog().records, store.outbox_backlog().batches) == (25, 3)
    assert store.record_parent_ack(KEY, 20, now_us=1) == 20
    assert [b.first_seq for b in store.pending_batches(after_batch_id=0, limit=10)] == [21]
    # the parent lost everything after 5 (restored from backup): batches 1..10 and 11..20 come back
    store.realign_outbox(KEY, 5, now_us=2)
    assert [b.first_seq for b in store.pending_batches(after_batch_id=0, limit=10)] == [1, 11, 21]
    assert store.outbox_backlog().records == 5 + 10 + 5
    # a refused batch holds its stream back instead of producing gaps
    first_pending = store.pending_batches(after_batch_id=0, limit=1)[0]
    store.refuse_batch(first_pending.batch_id, "test refusal", now_us=3)
    assert store.pending_batches(after_batch_id=0, limit=10) == []
    assert store.outbox_backlog().refused_batches == 1


def test_provenance_and_digest_survive_storage(open_store: OpenStore, tmp_path: Path) -> None:
    county, city_signer = _signer(tmp_path, "330106"), _signer(tmp_path, "330100")
    ring = KeyRing()
    ring.add_pem("330106", county.public_pem)
    ring.add_pem("330100", city_signer.public_pem)
    city = open_store("330100")
    bodies = _bodies(1, 40)
    batch = seal(county, KEY, bodies, first_seq=1, now_us=1)
    from node.exchange import add_hop

    hops = add_hop(city_signer, batch.header, [], received_from="330106", now_us=2)
    batch = BatchData(batch.key, 1, 40, batch.header, batch.signature, encode_hops(hops), 1)
    city.apply_batch(batch, bodies, received_from="330106", now_us=3, to_parent=True)
    (found,) = city.provenance("u17", key_of=record_key)
    bundle = build_provenance(
        header=found.header,
        signature=found.signature,
        batch_records=found.batch_records,
        first_seq=found.first_seq,
        seq=found.seq,
        hops=found.hops,
    )
    lines = verify_provenance(bundle, ring)
    assert lines[-1].startswith("forwarded by 330100 from 330106")
    count, digest = city.set_digest()
    expected = sum(int.from_bytes(h, "big") for h in leaf_hashes(bodies)) % (1 << 256)
    assert (count, digest) == (40, expected)


def test_projection_keeps_latest_version_and_tombstones(open_store: OpenStore) -> None:
    store = open_store("330106")
    obj = RegulatedObject(
        credit_code="91330106MA2KXXXXXX", name="杭州测试有限公司", object_type="enterprise", region_code="330106"
    )
    ingest_records(store, "regulated_object", [obj])
    ingest_records(store, "inspection", [sample_inspection("A1"), sample_inspection("A2")])
    ingest_records(store, "inspection", [sample_inspection("A1", result="责令整改"), ("A2", None)])
    projector = Projector(store=store, clock=lambda: 1)
    while projector.project_pending():
        pass
    with store.read() as conn:
        rows = {r.uid: r for r in conn.execute(select(INSPECTION)).all()}
        objects = conn.execute(select(func.count()).select_from(REGULATED_OBJECT)).scalar()
    assert objects == 1
    assert (rows["A1"].version, rows["A1"].result, rows["A1"].deleted) == (2, "责令整改", False)
    assert (rows["A2"].version, rows["A2"].deleted) == (2, True)


def test_undecodable_record_is_quarantined_not_lost(open_store: OpenStore, tmp_path: Path) -> None:
    county = _signer(tmp_path, "330106")
    city = open_store("330100")
    bodies = _bodies(1, 3)
    # a payload whose type says RegulatedObject in the inspection dataset
    from node.serde import pack_payload

    wrong = pack_payload(RegulatedObject(credit_code="x", name="n", object_type="enterprise", region_code="330106"))
    bodies[1] = encode_record(
        origin="330106", dataset="inspection", uid="u2", version=1, seq=2, op=1, event_time_us=2, payload=wrong
    )
    batch = seal(county, KEY, bodies, first_seq=1, now_us=1)
    city.apply_batch(batch, bodies, received_from="330106", now_us=3, to_parent=False)
    projector = Projector(store=city, clock=lambda: 1)
    while projector.project_pending():
        pass
    with city.read() as conn:
        (entry,) = conn.execute(select(QUARANTINE)).all()
    assert entry.kind == "projection"
    assert entry.reason == "payload RegulatedObject is not a Inspection"
    assert entry.raw == bodies[1]


def test_database_belongs_to_one_node(store_url: str) -> None:
    Store.open(store_url, "330106").close()
    with pytest.raises(ConfigError, match="belongs to node 330106"):
        Store.open(store_url, "330108")


def test_inspector_fixture_is_valid() -> None:
    record = sample_inspection("X")
    assert isinstance(record, Inspection)
    assert all(isinstance(i, Inspector) for i in record.inspectors)
    assert isinstance(record.header.counterparty, Counterparty)
