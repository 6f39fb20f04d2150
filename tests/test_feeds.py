"""Third-party feeds: a 12345 hotline export and public-opinion items taken in and linked to regulated objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from adapters.feeds import FEEDS, feed_preset
from adapters.files import FileFormatError, FileReader
from governance import PublicOpinion, RegulatedObject
from governance.codes import make_uscc
from node.collect import run_collector
from node.collect_settings import CollectorSettings, FilesCollector
from node.ingest import ingest_records, ingest_rows
from node.resolve import resolve_records
from node.serde import decode_record, payload_from_record
from node.store import DecisionBook, Store, StreamKey

NOW = 1_780_000_000_000_000
OBJECTS = [
    RegulatedObject(make_uscc("9", "1", "330106", f"7{n:07d}"), name, "enterprise", "330106", registered_address=addr)
    for n, (name, addr) in enumerate(
        [
            ("杭州西湖龙井茶叶有限公司", "浙江省杭州市西湖区龙井路1号"),
            ("杭州鑫达餐饮管理有限公司", "浙江省杭州市西湖区文三路88号"),
            ("杭州华辰电子科技有限公司", "浙江省杭州市西湖区古墩路300号"),
            ("浙江恒瑞医疗器械股份有限公司", "浙江省杭州市西湖区天目山路66号"),
        ],
        1,
    )
]
HEADER = "工单编号,诉求类型,被反映对象,被反映对象统一社会信用代码,问题分类,所属区划,纠纷发生日期,诉求内容,受理时间"
HOTLINE = [
    HEADER.split(","),
    ["GD20230105001", "投诉", "杭州鑫达餐饮管理有限公司", OBJECTS[1].credit_code, "食品安全", "330106",
     "2023年1月3日", "饭菜变质", "2023/1/5 10:20"],
    ["GD20230105002", "举报", "杭州鑫达餐饮管理公司", "", "食品安全", "330106",
     "2023-01-04", "无证经营", "2023/1/5 11:00"],
    ["GD20230105003", "投诉", "杭州华辰电子科技(西湖)有限公司", "", "产品质量", "330106",
     "20230102", "充电器起火", "2023/1/5 12:30"],
    ["GD20230105004", "投诉", "某不知名小店", "", "价格", "330106",
     "2023-01-01", "乱收费", "2023/1/5 13:00"],
    ["GD20230105005", "咨询", "杭州西湖龙井茶叶有限公司", "", "其他", "330106",
     "2023-01-01", "询问营业时间", "2023/1/5 14:00"],
]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store holding four regulated objects, and enough inspections naming them for the model to learn from."""
    s = Store.open(f"sqlite:///{tmp_path / 'node.db'}", "330106")
    ingest_records(s, "regulated_object", OBJECTS, now_us=NOW)
    yield s
    s.close()


def _read(path: Path, preset: str) -> FileReader:
    found = feed_preset(preset)
    return FileReader(found.dataset, mapping=found.mapping, clean=found.clean)


def test_hotline_export_in_gbk_is_taken_in_and_linked(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "12345-20230105.csv"
    path.write_bytes("\n".join(",".join(row) for row in HOTLINE).encode("gb18030"))
    reader = _read(path, "hotline_12345")
    report = ingest_rows(store, reader.records(path), dataset="complaint", source=str(path))
    assert (report.rows, report.stored, report.quarantined) == (5, 4, 1)
    held = store.quarantined(dataset="complaint")
    assert len(held) == 1
    assert "咨询" in held[0].reason  # not a complaint or a tip: refused with the value named
    resolve_records(store, now_us=NOW)
    book = DecisionBook(store)
    by_uid = {d.uid: d for d in book.find()}
    assert "GD20230105001" not in by_uid  # its own code is right: confirmed, no decision
    assert by_uid["GD20230105002"].object_code == OBJECTS[1].credit_code
    assert by_uid["GD20230105003"].object_code == OBJECTS[2].credit_code
    assert by_uid["GD20230105004"].state == "unmatched"


def test_opinion_items_from_a_json_document_link_each_entity(tmp_path: Path, store: Store) -> None:
    items = {
        "total": 2,
        "data": [
            {
                "id": "YQ-1",
                "source": "微博",
                "title": "多家餐馆被曝卫生问题",
                "content": "网友反映……",
                "publish_time": "2023-01-06 09:00:00",
                "url": "https://example.org/1",
                "entities": [
                    {"name": "杭州鑫达餐饮管理公司", "code": ""},
                    {"name": "浙江恒瑞医疗器械有限公司", "code": OBJECTS[3].credit_code},
                ],
                "region": "330106",
                "sentiment": "负面",
            },
            {"id": "YQ-2", "source": "论坛", "title": "无关", "publish_time": "2023-01-06T10:00:00+08:00"},
        ],
    }
    path = tmp_path / "opinion.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    reader = _read(path, "opinion")
    report = ingest_rows(store, reader.records(path), dataset="public_opinion", source=str(path))
    assert (report.stored, report.quarantined) == (2, 0)
    assert _opinion(store, "YQ-1").sentiment == "negative"
    resolve_records(store, now_us=NOW)
    by_uid = {d.uid: d for d in DecisionBook(store).find()}
    # the CSV list shape drops the empty code, so names and codes no longer pair up: each stands alone
    assert by_uid["YQ-1#1"].object_code == OBJECTS[1].credit_code
    assert by_uid["YQ-1#2"].object_code == OBJECTS[3].credit_code
    assert "YQ-1#3" not in by_uid  # the code alone: a known object's, confirmed


def _opinion(store: Store, uid: str) -> PublicOpinion:
    stream = store.stream_id(StreamKey("330106", "public_opinion"))
    assert stream is not None
    for _seq, body in store.records_after(stream, 0, 100):
        record = decode_record(body)
        if record.uid == uid:
            payload = payload_from_record(record)
            assert isinstance(payload, PublicOpinion)
            return payload
    raise AssertionError(uid)


def test_a_json_document_that_holds_no_record_list_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "opinion.json"
    path.write_text('{"total": 0}', encoding="utf-8")
    with pytest.raises(FileFormatError, match="a JSON array of records is expected"):
        list(_read(path, "opinion").records(path))


def test_presets_are_known_by_name() -> None:
    assert set(FEEDS) == {"hotline_12345", "opinion"}
    with pytest.raises(ValueError, match="unknown feed preset 'weibo'; known: hotline_12345, opinion"):
        feed_preset("weibo")


def test_a_collector_with_a_preset_takes_a_hotline_drop_folder_in(tmp_path: Path, store: Store) -> None:
    drop = tmp_path / "hotline"
    drop.mkdir()
    (drop / "12345.csv").write_bytes("\n".join(",".join(row) for row in HOTLINE).encode("gb18030"))
    collector = TypeAdapter(CollectorSettings).validate_python(
        {
            "name": "hotline",
            "preset": "hotline_12345",
            "folder": str(drop),
            "settle_s": 0,
            "schedule": {"interval_s": 600},
            "mapping": {"服务类型": "service_type"},  # the table's own keys add to the preset's
        }
    )
    assert isinstance(collector, FilesCollector)
    assert collector.dataset == "complaint"
    assert collector.mapping["工单编号"] == "complaint_number"
    assert collector.mapping["服务类型"] == "service_type"
    report = run_collector(store, collector)
    assert (report.stored, report.quarantined) == (4, 1)
    assert (drop / "done" / "12345.csv").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"preset": "weibo"}, "unknown feed preset 'weibo'"),
        ({"preset": "opinion", "dataset": "complaint"}, "preset opinion fills public_opinion"),
    ],
)
def test_bad_presets_are_one_clear_error(tmp_path: Path, change: dict[str, str], message: str) -> None:
    table = {"name": "feed", "folder": str(tmp_path), "schedule": {"interval_s": 60}, **change}
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(CollectorSettings).validate_python(table)
