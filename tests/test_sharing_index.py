"""The sharing index: follows ingest on SQLite and PostgreSQL, personal fields sealed at rest, full-text search,
predicates answered in SQL exactly as the view answers them."""
# ruff: noqa: RUF001 - Chinese text has full-width punctuation

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from adapters.csv_records import to_row
from adapters.sample_data import SampleGenerator
from exchange_registry import parse_predicates
from governance import Complaint, Inspection, Personnel
from node.ingest import ingest_records
from node.settings import NodeSettings, load_settings
from node.sharing_index import (
    SHARED_RECORD,
    QueryError,
    Scan,
    SealedValueError,
    SharingIndex,
    text_tokens,
)
from node.store import Store

NODE = "330100"
ID_NUMBER = "330106198503071234"
PHONE = "13812345678"
CRAFTED = f"消费者张先生（身份证号{ID_NUMBER}，电话{PHONE}）投诉ABC Foods超市销售过期牛奶，食品安全堪忧。"


@dataclass
class Held:
    """What a test ingested, as CSV rows per dataset and uid."""

    rows: dict[str, dict[str, dict[str, str]]]

    def of(self, dataset: str) -> dict[str, dict[str, str]]:
        return self.rows[dataset]


def node_settings(folder: Path, url: str | None = None, *, cipher: str = "aes-gcm") -> NodeSettings:
    return load_settings(None, node_id=NODE, tier="city", data_dir=folder, database_url=url, sharing={"cipher": cipher})


def crafted_complaint(base: Complaint) -> Complaint:
    return dataclasses.replace(base, complaint_number=base.complaint_number[:-4] + "9999", details=CRAFTED)


def citizen(inspection: Inspection, n: int) -> Inspection:
    party = dataclasses.replace(
        inspection.header.counterparty,
        name="王小明",
        nature="1",
        cert_type="id_card",
        cert_number=f"3301061990010{n:04d}"[:17] + "X",
    )
    return dataclasses.replace(inspection, header=dataclasses.replace(inspection.header, counterparty=party))


def fill(store: Store, *, seed: int = 5) -> Held:
    """Objects, inspections (a few with citizen counterparties), complaints (one with an ID and phone number in its
    text), penalties and the personnel of a city's counties."""
    generator = SampleGenerator(seed, NODE)
    objects = generator.enterprises(30)
    inspections = list(generator.inspections(40, objects=objects))
    inspections[:5] = [citizen(item, n) for n, item in enumerate(inspections[:5])]
    complaints = list(generator.complaints(30, objects=objects))
    complaints.append(crafted_complaint(complaints[0]))
    penalties = list(generator.penalties(15, inspections=inspections))
    personnel: list[Personnel] = generator.personnel()
    held: dict[str, dict[str, dict[str, str]]] = {}
    for dataset, records in (
        ("regulated_object", objects),
        ("inspection", inspections),
        ("complaint", complaints),
        ("penalty", penalties),
        ("personnel", personnel),
    ):
        ingest_records(store, dataset, records)
        held[dataset] = {r.uid: to_row(r) for r in records}
    return Held(held)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url, NODE)
    yield opened
    opened.close()


@pytest.fixture
def index(store: Store, tmp_path: Path) -> SharingIndex:
    return SharingIndex(store=store, settings=node_settings(tmp_path / "n", str(store.engine.url)), chunk=50)


def everything(index: SharingIndex, dataset: str, **scan: Any) -> list[Any]:
    entry = index.entry(dataset)
    wanted = frozenset(f.name for f in entry.fields if f.personal)
    found, after = [], None
    while True:
        batch = index.scan(Scan(entry, wanted=wanted, **scan), after=after, limit=17)
        found += batch
        if len(batch) < 17:
            return found
        after = (batch[-1].origin, batch[-1].key)


def search(index: SharingIndex, dataset: str, fields: list[str], words: str) -> set[str]:
    entry = index.entry(dataset)
    return {r.uid for r in everything(index, dataset, text=index.text_query(entry, fields, words))}


# -- following the streams -----------------------------------------------------------------------


def test_index_holds_the_current_version_of_every_record(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    assert index.backlog() > 0
    assert index.catch_up() == sum(len(rows) for rows in held.rows.values())
    assert index.backlog() == 0
    for dataset in held.rows:
        assert {r.uid: r.row for r in everything(index, dataset)} == held.of(dataset), dataset
    assert index.catch_up() == 0


def test_new_versions_replace_text_and_deletes_leave_the_index(store: Store, index: SharingIndex) -> None:
    generator = SampleGenerator(3, "330106")
    objects = generator.enterprises(5)
    complaints = list(generator.complaints(6, objects=objects))
    ingest_records(store, "complaint", complaints)
    index.catch_up()
    first = complaints[0]
    assert first.uid in search(index, "complaint", ["details"], first.details[2:8])
    renamed = dataclasses.replace(first, details="复查后确认商家已整改完毕。")
    ingest_records(store, "complaint", [renamed])
    ingest_records(store, "complaint", [(complaints[1].uid, None)])
    index.catch_up()
    current = {r.uid: r for r in everything(index, "complaint")}
    assert current[first.uid].version == 2
    assert current[first.uid].row["details"] == "复查后确认商家已整改完毕。"
    assert complaints[1].uid not in current
    assert len(current) == 5
    assert search(index, "complaint", ["details"], "整改完毕") == {first.uid}
    assert first.uid not in search(index, "complaint", ["details"], first.details[2:8])
    assert complaints[1].uid not in search(index, "complaint", ["details"], complaints[1].details[2:8])
    # a delete, then the uid again: it is back
    ingest_records(store, "complaint", [complaints[1]])
    index.catch_up()
    assert complaints[1].uid in {r.uid for r in everything(index, "complaint")}


def test_rebuild_gives_the_same_index(store: Store, index: SharingIndex) -> None:
    fill(store)
    index.catch_up()
    before = {r.uid: r.row for r in everything(index, "inspection")}
    assert index.rebuild() > 0
    assert {r.uid: r.row for r in everything(index, "inspection")} == before
    assert search(index, "complaint", ["details"], "食品安全")


# -- personal data at rest -----------------------------------------------------------------------


def personal_values(held: Held) -> list[str]:
    values = [ID_NUMBER, PHONE]
    values += [r["id_number"] for r in held.of("personnel").values()]
    citizens = [r for r in held.of("inspection").values() if r["counterparty_nature"] == "1"]
    values += [r["counterparty_cert_number"] for r in citizens] + [r["counterparty_name"] for r in citizens]
    values += [r["name"] for r in held.of("personnel").values()]
    return values


@pytest.mark.parametrize("cipher", ["aes-gcm", "sm4-gcm"])
def test_personal_values_are_not_in_the_index_file_in_clear(tmp_path: Path, cipher: str) -> None:
    path = tmp_path / "node.db"
    store = Store.open(f"sqlite:///{path}", NODE)
    try:
        held = fill(store)
        index = SharingIndex(store=store, settings=node_settings(tmp_path / "n", cipher=cipher))
        index.catch_up()
        for origin, key, sealed in index.sealed_of("personnel"):
            opened = index.open_sealed("personnel", origin, key, sealed)
            assert opened == {
                **{k: v for k, v in held.of("personnel")[opened["_uid"]].items() if k in opened},
                "_uid": opened["_uid"],
            }
            assert set(opened) == {"id_number", "name", "sex", "birth_date", "_uid"}
    finally:
        store.close()
    # keep only the index's tables: the signed records hold the same values, by design
    copy = tmp_path / "index-only.db"
    shutil.copy(path, copy)
    with sqlite3.connect(copy, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # so that the file itself holds every page
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if not table.startswith(("shared_", "sqlite_")):
                conn.execute(f'DROP TABLE "{table}"')
        conn.execute("VACUUM")
        assert conn.execute("SELECT count(*) FROM shared_record").fetchone()[0] > 100
    raw = copy.read_bytes()
    some_object = next(iter(held.of("regulated_object")))
    assert some_object.encode() in raw  # the grep works: non-personal values are there
    for value in personal_values(held):
        assert value.encode() not in raw, value
        assert json.dumps(value)[1:-1].encode() not in raw, value  # as JSON writes it


def test_personal_values_are_not_in_the_index_tables_on_any_backend(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    index.catch_up()
    text_columns = [
        SHARED_RECORD.c.uid,
        SHARED_RECORD.c.doc,
        SHARED_RECORD.c.blind,
        SHARED_RECORD.c.sealed,
        SHARED_RECORD.c.tsv,
    ]
    with store.read() as conn:
        dumped = " ".join(str(value) for row in conn.execute(select(*text_columns)) for value in row)
        if store.engine.dialect.name == "sqlite":
            dumped += " ".join(t for (t,) in conn.exec_driver_sql("SELECT tokens FROM shared_text"))
    for value in personal_values(held):
        assert value not in dumped, value


def test_a_sealed_value_moved_to_another_row_does_not_open(store: Store, index: SharingIndex) -> None:
    fill(store)
    index.catch_up()
    (origin_a, key_a, sealed_a), (_, key_b, _) = index.sealed_of("personnel")[:2]
    with store.write() as conn:
        conn.execute(
            update(SHARED_RECORD)
            .where((SHARED_RECORD.c.dataset == "personnel") & (SHARED_RECORD.c.uid == key_b))
            .values(sealed=sealed_a)
        )
    with pytest.raises(SealedValueError, match="does not open"):
        index.open_sealed("personnel", origin_a, key_b, sealed_a)
    with pytest.raises(SealedValueError, match="jgnode share reindex"):
        everything(index, "personnel")
    assert index.open_sealed("personnel", origin_a, key_a, sealed_a)["id_number"]


def test_a_new_cipher_rebuilds_the_index(store: Store, tmp_path: Path) -> None:
    held = fill(store)
    url = str(store.engine.url)
    first = SharingIndex(store=store, settings=node_settings(tmp_path / "n", url))
    assert first.prepare() is False
    first.catch_up()
    second = SharingIndex(store=store, settings=node_settings(tmp_path / "n", url, cipher="sm4-gcm"))
    assert second.prepare() is True  # cleared: the sealed values were made with the other cipher
    assert second.backlog() > 0
    second.catch_up()
    assert {r.uid: r.row for r in everything(second, "personnel")} == held.of("personnel")


# -- full-text search ------------------------------------------------------------------------------


def test_text_tokens_are_cjk_bigrams_and_lower_case_words() -> None:
    assert text_tokens("食品安全 ABC-Foods ２０２４年") == ["食品", "品安", "安全", "abc", "foods", "2024"]
    assert text_tokens("查") == []


def test_chinese_search_matches_exactly_the_texts_that_contain_the_words(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    index.catch_up()
    details = {uid: row["details"] for uid, row in held.of("complaint").items()}
    for words in ("食品安全", "食品", "投诉", "过期牛奶", "整改"):
        assert search(index, "complaint", ["details"], words) == {u for u, d in details.items() if words in d}, words
    both = {u for u, d in details.items() if "食品" in d and "处理" in d}
    assert both
    assert search(index, "complaint", ["details"], "食品 处理") == both
    objects = {uid: row["name"] for uid, row in held.of("regulated_object").items()}
    assert search(index, "regulated_object", ["name"], "有限公司") == {u for u, n in objects.items() if "有限公司" in n}


def test_ascii_words_match_and_masked_numbers_do_not(store: Store, index: SharingIndex) -> None:
    fill(store)
    index.catch_up()
    crafted = search(index, "complaint", ["details"], "abc foods")
    assert len(crafted) == 1
    assert search(index, "complaint", ["details"], "FOODS") == crafted
    assert search(index, "complaint", ["details"], ID_NUMBER) == set()
    assert search(index, "complaint", ["details"], PHONE) == set()
    assert search(index, "complaint", ["details"], "5678") == crafted  # what the mask keeps


def test_search_covers_only_the_fields_named(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    index.catch_up()
    in_details = search(index, "complaint", ["details"], "食品安全")
    assert in_details
    assert search(index, "complaint", ["object_name"], "食品安全") == set()
    names = {uid: row["object_name"] for uid, row in held.of("complaint").items()}
    word = next(iter(names.values()))[3:7]
    assert search(index, "complaint", ["object_name", "details"], word) >= {u for u, n in names.items() if word in n}


def test_a_citizens_name_is_not_searchable(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    index.catch_up()
    assert search(index, "inspection", ["counterparty_name"], "王小明") == set()
    company = next(r["counterparty_name"] for r in held.of("inspection").values() if r["counterparty_nature"] != "1")
    found = search(index, "inspection", ["counterparty_name"], company)
    assert found == {u for u, r in held.of("inspection").items() if r["counterparty_name"] == company}


def test_unusable_search_words_are_refused(index: SharingIndex) -> None:
    entry = index.entry("complaint")
    for words in ("查", "  ", "，。", "食 品"):
        with pytest.raises(QueryError):
            index.text_query(entry, ["details"], words)


# -- predicates ------------------------------------------------------------------------------------

PREDICATES = {
    "inspection": [
        ["action_date>=2023-06-01"],
        ["action_date<2023-01-01", "region_code^=330106"],
        ["region_code=330106"],
        ["region_code>=330108"],
        ["submitted_at>2024-01-01"],
        ["matter_code!=33010100000003"],
        ["action_number^=330"],
    ],
    "penalty": [["fine_fen>=1000"], ["fine_fen=0"], ["fine_fen<50000", "decision_date<=2024-06-30"], ["paid_fen>3"]],
    "personnel": [["birth_date>=1980-01-01"]],
}


def test_predicates_in_sql_agree_with_the_view(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    index.catch_up()
    checked = 0
    for dataset, cases in PREDICATES.items():
        entry = index.entry(dataset)
        for texts in cases:
            predicates = parse_predicates(texts, entry)
            expected = {u for u, row in held.of(dataset).items() if all(p.holds(row) for p in predicates)}
            scanned = everything(index, dataset, predicates=predicates)
            found = {r.uid for r in scanned if all(p.holds(r.row) for p in predicates)}
            assert found == expected, texts
            if entry.field(predicates[0].field) and not entry.field(predicates[0].field).personal:  # type: ignore[union-attr]
                assert len(scanned) == len(expected), f"{texts}: the SQL let through more than the view"
            checked += bool(expected) and len(expected) < len(held.of(dataset))
    assert checked >= 8  # most cases select some rows, not all


def test_equality_on_a_personal_field_uses_the_blind_index(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    index.catch_up()
    entry = index.entry("personnel")
    someone = next(iter(held.of("personnel")))
    same = everything(index, "personnel", predicates=parse_predicates([f"id_number={someone}"], entry))
    assert [r.uid for r in same] == [someone]
    others = everything(index, "personnel", predicates=parse_predicates([f"id_number!={someone}"], entry))
    assert len(others) == len(held.of("personnel")) - 1
    assert everything(index, "personnel", predicates=parse_predicates(["id_number=330106190001010000"], entry)) == []


def test_region_scan(store: Store, index: SharingIndex) -> None:
    held = fill(store)
    index.catch_up()
    rows = held.of("inspection")
    for region in ("33", "3301", "330106", "330108"):
        expected = {u for u, r in rows.items() if r["region_code"].startswith(region)}
        assert {r.uid for r in everything(index, "inspection", region=region)} == expected
    assert everything(index, "personnel", region="3301") == []  # no region field: nothing is in a region
