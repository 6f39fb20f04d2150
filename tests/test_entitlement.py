"""What a subscriber sees: predicates, region, projection, personal data masked or pseudonymised, ciphers at rest,
and reading by position with no gap and no duplicate."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from adapters.csv_records import to_row
from adapters.sample_data import SampleGenerator
from exchange_registry import (
    Application,
    CatalogEntry,
    FieldCipher,
    Protector,
    SubscriptionError,
    View,
    check_application,
    first_state,
    mask_text,
    parse_predicates,
)
from governance import DatasetRecord
from node.catalog import find_resource, node_catalog
from node.entitlements import entitled, node_secret, protector, view_for
from node.errors import NotEntitledError
from node.ingest import ingest_records
from node.serde import OP_UPSERT, dataset_of, decode_record, encode_record, pack_payload, payload_row
from node.settings import NodeSettings, load_settings
from node.shared_reader import read_changes, read_raw, through
from node.store import Store
from node.subscriptions import act_on, apply_for
from tests.harness import jgnode

TODAY = date(2026, 11, 27)
KEY = bytes(range(32))


@pytest.fixture
def settings(tmp_path: Path) -> NodeSettings:
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    return load_settings(tmp_path / "n" / "node.toml")


def _entry(settings: NodeSettings, dataset: str) -> CatalogEntry:
    return find_resource(node_catalog(settings), dataset)


def _citizen_penalty_row(settings: NodeSettings) -> dict[str, str]:
    generator = SampleGenerator(7, "330106")
    inspections = list(generator.inspections(30, objects=generator.enterprises(10)))
    penalty = next(generator.penalties(1, inspections=inspections))
    row = to_row(penalty)
    row |= {
        "counterparty_nature": "1",
        "counterparty_name": "张三丰",
        "counterparty_cert_number": "330106198503071234",
        "counterparty_registered_address": "杭州市西湖区文三路100号",
        "facts": "当事人张三丰(电话13812345678,身份证330106198503071234)销售过期食品",
    }
    return row


def test_a_view_masks_a_citizens_identity_but_not_a_companys(settings: NodeSettings) -> None:
    entry = _entry(settings, "penalty")
    view = View(entry, tuple(f.name for f in entry.fields), protector=Protector("mask", KEY))
    row = _citizen_penalty_row(settings)
    shown = view.show(row)
    assert shown["counterparty_name"] == "张**"
    assert shown["counterparty_cert_number"] == "330106********1234"
    assert shown["counterparty_registered_address"] == "杭州市西湖区***"
    assert "13812345678" not in shown["facts"]
    assert "138****5678" in shown["facts"]
    assert "330106198503071234" not in shown["facts"]
    assert shown["agency_name"] == row["agency_name"]  # not personal: as is
    company = {**row, "counterparty_nature": "2", "counterparty_name": "杭州某某食品有限公司"}
    assert view.show(company)["counterparty_name"] == "杭州某某食品有限公司"
    entitled_view = dataclasses.replace(view, personal=True)
    assert entitled_view.show(row) == {name: row[name] for name in view.fields}


def test_pseudonyms_are_stable_keyed_and_hide_the_value(settings: NodeSettings) -> None:
    entry = _entry(settings, "penalty")
    fields = ("action_number", "counterparty_cert_number")
    row = _citizen_penalty_row(settings)
    sha = View(entry, fields, protector=Protector("pseudonymise", KEY)).show(row)
    again = View(entry, fields, protector=Protector("pseudonymise", KEY)).show(row)
    sm3 = View(entry, fields, protector=Protector("pseudonymise", KEY, "sm3")).show(row)
    other_key = View(entry, fields, protector=Protector("pseudonymise", bytes(32))).show(row)
    assert sha == again
    assert sha["counterparty_cert_number"].startswith("p:")
    assert len(sha["counterparty_cert_number"]) == 22
    assert (
        len({sha["counterparty_cert_number"], sm3["counterparty_cert_number"], other_key["counterparty_cert_number"]})
        == 3
    )
    assert "1234" not in sha["counterparty_cert_number"][2:6]


def test_a_personal_uid_is_always_pseudonymised_so_records_stay_distinct(settings: NodeSettings) -> None:
    entry = _entry(settings, "personnel")
    view = View(entry, ("id_number", "name", "birth_date", "organisation"), protector=Protector("mask", KEY))
    row = {
        "id_number": "330106198503071234",
        "name": "李四",
        "birth_date": "1985-03-07",
        "organisation": "西湖区市场监管局",
    }
    shown = view.show(row)
    assert shown["id_number"] == view.protected_uid("330106198503071234")
    assert shown["id_number"].startswith("p:")
    assert shown["name"] == "李*"
    assert shown["birth_date"] == "1985-**-**"
    assert shown["organisation"] == "西湖区市场监管局"


def test_mask_text_finds_ids_and_phones_only_where_they_stand_alone() -> None:
    text = "联系0571-88886666或13912345678;证件33010619850307123X;订单号2026112712345678901"
    masked = mask_text(text)
    assert "88886666" not in masked
    assert "13912345678" not in masked
    assert "33010619850307123X" not in masked
    assert "2026112712345678901" in masked  # a longer digit run is not an ID number


def test_predicates_name_indexed_fields_only_and_compare_by_type(settings: NodeSettings) -> None:
    entry = _entry(settings, "penalty")
    predicates = parse_predicates(["decision_date>=2026-01-01", "fine_fen>900", "matter_code^=33"], entry)
    row = {"decision_date": "2026-03-01", "fine_fen": "1000", "matter_code": "330100001"}
    assert all(p.holds(row) for p in predicates)
    assert not predicates[1].holds({**row, "fine_fen": "95"})  # numbers, not text: 95 < 900
    with pytest.raises(SubscriptionError, match="facts is not an indexed field"):
        parse_predicates(["facts=x"], entry)
    with pytest.raises(SubscriptionError, match="not 'field op value'"):
        parse_predicates(["decision_date"], entry)


def test_applications_check_filters_and_region_and_review_personal_data(settings: NodeSettings) -> None:
    matter = _entry(settings, "matter")
    with pytest.raises(SubscriptionError, match="has no region field"):
        check_application(Application("330106/卫健", matter.resource_code, "p", region="3301"), matter, today=TODAY)
    objects = _entry(settings, "regulated_object")
    with pytest.raises(SubscriptionError, match="not an indexed field"):
        check_application(Application("330106/卫健", "x", "p", filters=("name=某",)), objects, today=TODAY)
    assert first_state(objects)[0] == "active"
    assert first_state(objects, personal=True)[0] == "applied"  # personal data always reviewed
    assert first_state(matter, personal=True)[0] == "active"  # nothing personal to review


@pytest.mark.parametrize("name", ["aes-gcm", "sm4-gcm"])
def test_field_cipher_round_trips_and_refuses_a_moved_or_altered_value(name: str) -> None:
    cipher = FieldCipher(name, KEY)  # type: ignore[arg-type]
    sealed = cipher.seal("330106198503071234", b"personnel|330106|a|id_number")
    assert b"330106198503071234" not in sealed
    assert cipher.open(sealed, b"personnel|330106|a|id_number") == "330106198503071234"
    with pytest.raises(ValueError, match="does not open"):
        cipher.open(sealed, b"personnel|330106|b|id_number")
    with pytest.raises(ValueError, match="does not open"):
        cipher.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), b"personnel|330106|a|id_number")


def test_node_secrets_are_made_once_private_and_reused(settings: NodeSettings) -> None:
    first = node_secret(settings, "pseudonym")
    path = settings.data_dir / "keys" / "pseudonym.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert node_secret(settings, "pseudonym") == first
    assert protector(settings).key == first


def test_reading_by_position_resumes_with_no_gap_and_no_duplicate(settings: NodeSettings) -> None:
    store = Store.open(settings.db_url, settings.node_id)
    try:
        generator = SampleGenerator(3, "330106")
        objects = generator.enterprises(120)
        ingest_records(store, "regulated_object", objects[:70])
        subscription = apply_for(
            store,
            settings,
            Application("330106/卫健", "regulated_object", "联合监管", fields=("credit_code", "name", "region_code")),
            today=TODAY,
            now_us=1,
        )
        view = view_for(subscription, _entry(settings, "regulated_object"), protector(settings))
        seen: list[tuple[str, int]] = []
        cursor: dict[str, int] = {}
        changes, cursor = read_changes(store, view, cursor, limit=25)
        seen += [(c.origin, c.seq) for c in changes]
        ingest_records(store, "regulated_object", objects[70:])  # arrives between two reads
        while True:
            changes, cursor = read_changes(store, view, cursor, limit=25)
            if not changes:
                break
            seen += [(c.origin, c.seq) for c in changes]
            assert set(changes[0].fields) == {"credit_code", "name", "region_code"}
        assert seen == [("330106", seq) for seq in range(1, 121)]
        assert cursor == {"330106": 120}
    finally:
        store.close()


def test_region_filters_move_the_cursor_past_what_they_leave_out(settings: NodeSettings) -> None:
    store = Store.open(settings.db_url, settings.node_id)
    try:
        objects = SampleGenerator(5, "330100").enterprises(60)
        ingest_records(store, "regulated_object", objects)
        region = objects[0].region_code
        application = Application("330106/卫健", "regulated_object", "联合监管", region=region)
        subscription = apply_for(store, settings, application, today=TODAY, now_us=1)
        view = view_for(subscription, _entry(settings, "regulated_object"), protector(settings))
        changes, cursor = read_changes(store, view, {}, limit=1000)
        assert {c.fields["region_code"] for c in changes} == {region}
        assert len(changes) == sum(o.region_code == region for o in objects) < 60
        assert cursor == {"330106": 60}
        raws, _ = read_raw(store, "regulated_object", {}, limit=1000)
        assert [c for c in (through(view, r) for r in raws) if c is not None] == changes
    finally:
        store.close()


def test_only_the_subscribers_own_active_subscription_entitles(settings: NodeSettings) -> None:
    store = Store.open(settings.db_url, settings.node_id)
    try:
        penalty = apply_for(store, settings, Application("330106/卫健", "penalty", "联合监管"), today=TODAY, now_us=1)
        with pytest.raises(NotEntitledError, match="is applied"):
            entitled(store, penalty.id, "330106/卫健", today=TODAY)
        act_on(store, penalty.id, "approve", by="科长", reason="", now_us=2)
        assert entitled(store, penalty.id, "330106/卫健", today=TODAY).state == "active"
        with pytest.raises(NotEntitledError, match="not 330106/公安's"):
            entitled(store, penalty.id, "330106/公安", today=TODAY)
        act_on(store, penalty.id, "revoke", by="科长", reason="职责调整", now_us=3)
        with pytest.raises(NotEntitledError, match="is revoked"):
            entitled(store, penalty.id, "330106/卫健", today=TODAY)
    finally:
        store.close()


def test_a_version_4_database_gains_the_subscription_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = Store.open(f"sqlite:///{db}", "330106")
    store.close()
    with sqlite3.connect(db) as conn:  # make it look like a version-4 database
        conn.execute("ALTER TABLE subscription DROP COLUMN filters")
        conn.execute("ALTER TABLE subscription DROP COLUMN personal")
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    store = Store.open(f"sqlite:///{db}", "330106")
    store.close()
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(subscription)")}
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert {"filters", "personal"} <= columns
    assert version == "5"


def test_a_delete_reaches_only_the_views_that_saw_the_record(settings: NodeSettings) -> None:
    store = Store.open(settings.db_url, settings.node_id)
    try:
        objects = SampleGenerator(5, "330100").enterprises(60)
        ingest_records(store, "regulated_object", objects)
        here = objects[0]
        there = next(o for o in objects if o.region_code != here.region_code)
        ingest_records(store, "regulated_object", [(here.credit_code, None), (there.credit_code, None)])
        application = Application("330106/卫健", "regulated_object", "联合监管", region=here.region_code)
        subscription = apply_for(store, settings, application, today=TODAY, now_us=1)
        view = view_for(subscription, _entry(settings, "regulated_object"), protector(settings))
        changes, _ = read_changes(store, view, {"330106": 60}, limit=10)
        assert [(c.uid, c.fields) for c in changes] == [(here.credit_code, {})]
    finally:
        store.close()


def test_rows_read_straight_from_the_messages_equal_the_csv_rows_of_every_dataset(tmp_path: Path) -> None:
    generator = SampleGenerator(11, "330106")
    objects = generator.enterprises(40)
    checks = list(generator.inspections(60, objects=objects))
    samples: list[DatasetRecord] = [
        *generator.matters()[:5],
        *generator.matter_subs()[:5],
        *generator.impl_lists()[:5],
        *generator.matter_mappings()[:5],
        *generator.personnel()[:5],
        *objects[:5],
        *generator.credit_grades(objects=objects)[:5],
        *generator.list_entries(3, objects=objects),
        *checks[:5],
        *generator.penalties(5, inspections=checks),
        *generator.enforcements(3, inspections=checks),
        *generator.other_actions(3, inspections=checks),
        *generator.complaints(5, objects=objects),
        *generator.public_opinion(3, objects=objects),
    ]
    assert len({dataset_of(r) for r in samples}) == 14
    for n, item in enumerate(samples, 1):
        body = encode_record(
            origin="330106",
            dataset=dataset_of(item),
            uid=f"u{n}",
            version=1,
            seq=n,
            op=OP_UPSERT,
            event_time_us=1,
            payload=pack_payload(item),
        )
        assert payload_row(decode_record(body)) == to_row(item), dataset_of(item)


def test_inspectors_keep_their_certificates_but_not_their_names(settings: NodeSettings) -> None:
    entry = _entry(settings, "inspection")
    view = View(entry, ("inspectors",), protector=Protector("mask", KEY))
    assert view.show({"inspectors": "叶刚|33010220130026;范思雨|33010220190040"}) == {
        "inspectors": "叶*|33010220130026;范**|33010220190040"
    }
