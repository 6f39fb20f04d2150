"""Collectors: a drop folder of CSV/TSV/XLSX/JSONL files, its settings, its schedule across restarts, its commands."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from adapters.csv_records import to_row
from adapters.sample_data import SampleGenerator
from governance import RegulatedObject
from node import collect as collect_module
from node.cli import main
from node.collect import run_collector
from node.collect_settings import DbCollector, ExportSink, FilesCollector, IntakeSource, Schedule
from node.errors import ConfigError
from node.runtime import Node
from node.scheduler import next_run_times
from node.serde import decode_record, payload_from_record
from node.settings import (
    CatalogResource,
    CatalogSettings,
    NodeSettings,
    RegistrySettings,
    ResolveSettings,
    SharingSettings,
    SharingSink,
    load_settings,
)
from node.store import Store, StreamKey
from tests.conftest import eventually, make_node_dir

REGION = "330106"
HEADERS = {  # a department's export: Chinese headers
    "统一社会信用代码": "credit_code",
    "名称": "name",
    "主体类型": "object_type",
    "行政区划": "region_code",
    "行业代码": "industry_code",
    "法定代表人": "legal_representative",
    "成立日期": "established_on",
    "登记状态": "status",
    "注册地址": "registered_address",
    "经营地址": "operating_address",
}
MAPPING = HEADERS
CLEAN = {"established_on": "date", "name": "name"}


def _chinese_rows(objects: list[RegulatedObject]) -> list[dict[str, str]]:
    """Rows with Chinese headers and dates written the way departments write them."""
    by_field = {field: header for header, field in HEADERS.items()}
    rows = []
    for obj in objects:
        row = {by_field[k]: v for k, v in to_row(obj).items()}
        if row["成立日期"]:
            year, month, day = (int(p) for p in row["成立日期"].split("-"))
            row["成立日期"] = f"{year}年{month}月{day}日"
        rows.append(row)
    return rows


def _write_delimited(path: Path, rows: list[dict[str, str]], *, delimiter: str, encoding: str) -> None:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(HEADERS), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


def _write_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append([row[h] for h in HEADERS])
    book.save(path)


def _write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _collector(folder: Path, **overrides: Any) -> FilesCollector:
    values: dict[str, Any] = {
        "name": "drop",
        "folder": folder,
        "dataset": "regulated_object",
        "mapping": MAPPING,
        "clean": CLEAN,
        "schedule": {"interval_s": 60},
        "settle_s": 0,
    }
    values.update(overrides)
    return FilesCollector(**values)


@pytest.fixture
def objects() -> list[RegulatedObject]:
    return SampleGenerator(7, REGION).enterprises(40)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'node.db'}", REGION)
    yield opened
    opened.close()


def _held(store: Store) -> int:
    return store.set_digest(dataset="regulated_object", origin=REGION)[0]


def _records(store: Store) -> list[RegulatedObject]:
    stream = store.stream_id(StreamKey(REGION, "regulated_object"))
    assert stream is not None
    records = [payload_from_record(decode_record(body)) for _seq, body in store.records_after(stream, 0, 1000)]
    return [r for r in records if isinstance(r, RegulatedObject)]


def _quarantine_reasons(store: Store) -> list[str]:
    with store.read() as conn:
        return [str(reason) for (reason,) in conn.execute(text("SELECT reason FROM quarantine"))]


def test_a_drop_folder_of_every_format_is_ingested_and_moved_aside(
    tmp_path: Path, store: Store, objects: list[RegulatedObject]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    rows = _chinese_rows(objects)
    rows[3]["统一社会信用代码"] = rows[3]["统一社会信用代码"][:-1] + "0"  # a wrong check character: quarantined
    _write_delimited(drop / "企业-gbk.csv", rows[0:10], delimiter=",", encoding="gbk")
    _write_delimited(drop / "tab.tsv", rows[10:20], delimiter="\t", encoding="utf-8-sig")
    _write_xlsx(drop / "book.xlsx", rows[20:30])
    _write_jsonl(drop / "lines.jsonl", rows[30:40])
    (drop / "broken.xlsx").write_bytes(b"this is not a zip file")
    _write_delimited(drop / "writing.csv.part", rows[0:5], delimiter=",", encoding="utf-8")
    (drop / "no-uid.csv").write_text("名称,行政区划\n某公司,330106\n", encoding="utf-8")

    report = run_collector(store, _collector(drop))

    assert (report.done, report.failed, report.waiting) == (4, 2, 0)
    assert (report.rows, report.stored, report.duplicates, report.quarantined) == (40, 39, 0, 1)
    assert _held(store) == 39
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["book.xlsx", "lines.jsonl", "tab.tsv", "企业-gbk.csv"]
    failed = sorted(p.name for p in (drop / "failed").iterdir())
    assert failed == ["broken.xlsx", "broken.xlsx.error.txt", "no-uid.csv", "no-uid.csv.error.txt"]
    assert "not a readable XLSX workbook" in (drop / "failed" / "broken.xlsx.error.txt").read_text(encoding="utf-8")
    no_uid = (drop / "failed" / "no-uid.csv.error.txt").read_text(encoding="utf-8")
    assert "no 'credit_code' column" in no_uid
    assert "统一社会信用代码" in no_uid  # says which source column the mapping expected
    assert (drop / "writing.csv.part").exists()  # still being written: left alone
    stored = {r.credit_code: r for r in _records(store)}  # 2023年1月5日 cleaned back to 2023-01-05
    assert [stored[o.credit_code] for o in objects if o.credit_code in stored] == [
        o for i, o in enumerate(objects) if i != 3
    ]


def test_cleaned_values_and_quarantined_rows_keep_one_validation_path(
    tmp_path: Path, store: Store, objects: list[RegulatedObject]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    rows = _chinese_rows(objects[:3])
    rows[1]["成立日期"] = "2023年2月30日"  # impossible: a cleaning error, the row goes to quarantine
    _write_jsonl(drop / "a.jsonl", rows)
    (drop / "b.jsonl").write_text('{"统一社会信用代码": \n[1, 2]\n', encoding="utf-8")

    report = run_collector(store, _collector(drop))

    assert (report.done, report.rows, report.stored, report.quarantined) == (2, 5, 2, 3)
    reasons = _quarantine_reasons(store)
    assert any("2023年2月30日" in r or "established_on" in r for r in reasons)
    assert any("not valid JSON" in r for r in reasons)
    assert any("a JSON object is expected" in r for r in reasons)


def test_a_file_being_written_is_left_until_it_is_stable(
    tmp_path: Path, store: Store, objects: list[RegulatedObject]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    path = drop / "fresh.csv"
    _write_delimited(path, _chinese_rows(objects[:5]), delimiter=",", encoding="utf-8")
    collector = _collector(drop, settle_s=300)

    report = run_collector(store, collector)
    assert (report.done, report.waiting, report.rows) == (0, 1, 0)
    assert path.exists()

    old = time.time() - 600  # the writer finished ten minutes ago
    os.utime(path, (old, old))
    report = run_collector(store, collector)
    assert (report.done, report.waiting, report.stored) == (1, 0, 5)
    assert not path.exists()


class _Crash(BaseException):
    """The process dies here."""


def test_a_crash_between_commit_and_move_stores_nothing_twice(
    tmp_path: Path, store: Store, objects: list[RegulatedObject], monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    _write_xlsx(drop / "batch.xlsx", _chinese_rows(objects[:12]))
    collector = _collector(drop)

    def crash(path: Path, folder: Path) -> Path:
        raise _Crash

    with monkeypatch.context() as patch:
        patch.setattr(collect_module, "_move_aside", crash)
        with pytest.raises(_Crash):
            run_collector(store, collector)
    assert (drop / "batch.xlsx").exists()  # rows committed, file not moved
    assert _held(store) == 12

    report = run_collector(store, collector)  # after the restart
    assert (report.done, report.rows, report.stored, report.duplicates) == (1, 12, 0, 12)
    assert _held(store) == 12
    assert (drop / "done" / "batch.xlsx").exists()

    _write_xlsx(drop / "batch.xlsx", _chinese_rows(objects[:12]))  # the same file dropped again
    report = run_collector(store, _collector(drop, pattern="**/*.xlsx"))  # done/ is never taken back
    assert (report.done, report.stored, report.duplicates) == (1, 0, 12)
    again = [p.name for p in (drop / "done").iterdir() if p.name != "batch.xlsx"]
    assert len(again) == 1
    assert re.fullmatch(r"batch\.\d{8}T\d{6}\.xlsx", again[0])


def test_a_full_outbox_leaves_the_files_for_the_next_run(
    tmp_path: Path, store: Store, objects: list[RegulatedObject]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    _write_jsonl(drop / "a.jsonl", _chinese_rows(objects[:5]))

    report = run_collector(store, _collector(drop), guard=lambda records=0, size=0: "outbox full: test")

    assert report.stopped.startswith("outbox full: test")
    assert (report.done, report.stored) == (0, 0)
    assert (drop / "a.jsonl").exists()
    assert run_collector(store, _collector(drop)).stored == 5


# -- settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset": "inspections"}, "unknown dataset 'inspections'"),
        ({"mapping": {"检查日期": "action_day"}}, "'action_day' is not a field of regulated_object"),
        ({"mapping": {"名称": "name", "企业名称": "name"}}, "several columns map to name"),
        ({"clean": {"name": "colour"}}, "unknown field kind 'colour'"),
        ({"schedule": {"interval_s": 60, "cron": "* * * * *"}}, "either interval_s or cron, not both or neither"),
        ({"schedule": {}}, "either interval_s or cron, not both or neither"),
        ({"schedule": {"cron": "every minute"}}, "not a 5-field crontab expression"),
        ({"name": "drop folder"}, "may only use letters"),
        ({"kind": "ftp"}, "collect.0: Input tag 'ftp' found using 'kind'"),
        ({"folders": "x"}, "folders"),
    ],
)
def test_bad_collector_settings_are_one_clear_error(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    collector: dict[str, Any] = {
        "name": "drop",
        "folder": "in",
        "dataset": "regulated_object",
        "schedule": {"interval_s": 60},
    }
    collector.update(change)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_settings(None, node_id=REGION, tier="county", collect=[collector])
    assert "\n" not in str(caught.value)


def test_collector_settings_in_toml_paths_defaults_and_unique_names(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "node.toml"
    path.parent.mkdir()
    block = (
        '[[collect]]\nname = "a"\nfolder = "drop"\ndataset = "inspection"\nschedule = { cron = "*/5 * * * *" }\n'
        '[collect.mapping]\n"检查日期" = "action_date"\n'
    )
    path.write_text(f'node_id = "{REGION}"\ntier = "county"\n{block}', encoding="utf-8")
    settings = load_settings(path)
    (collector,) = settings.collect
    assert isinstance(collector, FilesCollector)
    assert collector.folder == tmp_path / "conf" / "drop"
    assert collector.done_path == tmp_path / "conf" / "drop" / "done"
    assert collector.failed_path == tmp_path / "conf" / "drop" / "failed"
    assert (collector.kind, collector.pattern, collector.format) == ("files", "*", "auto")
    assert collector.mapping == {"检查日期": "action_date"}
    assert collector.schedule.describe() == "cron */5 * * * *"
    path.write_text(f'node_id = "{REGION}"\ntier = "county"\n{block}{block}', encoding="utf-8")
    with pytest.raises(ConfigError, match="collector names must be unique: a"):
        load_settings(path)


def test_the_example_collector_is_documented_and_parses(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "deploy" / "node.example.toml"
    text = example.read_text(encoding="utf-8")
    # every key is at least mentioned
    models = (FilesCollector, DbCollector, ExportSink, IntakeSource, Schedule, ResolveSettings)
    models_5 = (RegistrySettings, SharingSettings, SharingSink)
    for model in (*models, *models_5, CatalogSettings, CatalogResource):
        for name in model.model_fields:
            mentioned = f"{name} =" in text or f"[collect.{name}]" in text
            mentioned = mentioned or f"[[catalog.{name}]]" in text or f"[[sharing.{name}]]" in text
            assert mentioned, f"node.example.toml does not mention {name}"
    setting = re.compile(r'^# (\[\[?(collect|intake|sharing)|[\w"\u4e00-\u9fff]+ *=)')
    live = "\n".join(line[2:] if setting.match(line) else line for line in text.splitlines())
    path = tmp_path / "node.toml"
    path.write_text(live, encoding="utf-8")
    settings = load_settings(path)
    collector, polled, exported = settings.collect
    assert isinstance(exported, ExportSink)
    assert exported.table_of("penalty") == "qzb_xzcf"
    assert [s.name for s in settings.intake] == ["amr-system"]
    assert isinstance(collector, FilesCollector)
    assert isinstance(polled, DbCollector)
    assert polled.name == "inspections-front"
    assert collector.name == "inspections-drop"
    assert collector.mapping["检查日期"] == "action_date"
    assert collector.clean["action_date"] == "date"
    assert collector.schedule.interval_s == 60
    assert settings.resolve == ResolveSettings()  # the example shows the defaults
    assert settings.catalog.classification == "330106JG"
    assert settings.sharing.model_dump(exclude={"sinks"}) == SharingSettings().model_dump(exclude={"sinks"})
    assert [(s.name, s.kind) for s in settings.sharing.sinks] == [("market-db", "table"), ("market-files", "file")]


# -- the schedule in a running node -------------------------------------------


def _node_settings(tmp_path: Path, drop: Path, **schedule: float | str) -> NodeSettings:
    collector = {
        "name": "drop",
        "folder": str(drop),
        "dataset": "regulated_object",
        "mapping": MAPPING,
        "clean": CLEAN,
        "schedule": schedule,
        "settle_s": 0,
    }
    return make_node_dir(tmp_path, REGION, "county", collect=[collector])


def test_a_running_node_collects_on_schedule(tmp_path: Path, objects: list[RegulatedObject]) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = _node_settings(tmp_path, drop, interval_s=0.2)
    node = Node(settings)
    node.start()
    try:
        _write_delimited(drop / "x.csv", _chinese_rows(objects[:8]), delimiter=",", encoding="gb18030")
        eventually((drop / "done" / "x.csv").exists, what="the file moved to done")
        assert node.store.set_digest(dataset="regulated_object", origin=REGION)[0] == 8
    finally:
        node.stop(grace_s=1)


def test_the_schedule_survives_a_restart(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = _node_settings(tmp_path, drop, interval_s=3600)
    node = Node(settings)
    node.start()
    try:
        first = node.collectors.next_runs()["drop"]
        assert first is not None
    finally:
        node.stop(grace_s=1)
    assert next_run_times(settings) == {"drop": first}  # in the job store while the node is down

    node = Node(settings)
    node.start()
    try:
        assert node.collectors.next_runs() == {"drop": first}  # kept, not reset to an hour from now
    finally:
        node.stop(grace_s=1)

    changed = _node_settings(tmp_path, drop, cron="0 3 * * *")
    node = Node(changed)
    node.start()
    try:
        moved = node.collectors.next_runs()["drop"]
        assert moved is not None
        assert moved != first
        assert (moved.hour, moved.minute) == (3, 0)
    finally:
        node.stop(grace_s=1)

    removed = make_node_dir(tmp_path, REGION, "county", collect=[])
    node = Node(removed)
    node.start()
    try:
        assert node.collectors.next_runs() == {}
    finally:
        node.stop(grace_s=1)


# -- commands -----------------------------------------------------------------


def test_collect_run_and_list_commands(
    tmp_path: Path, objects: list[RegulatedObject], capsys: pytest.CaptureFixture[str]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = make_node_dir(tmp_path, REGION, "county")
    config = tmp_path / REGION / "node.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write(
            f'\n[[collect]]\nname = "drop"\nfolder = "{drop}"\ndataset = "regulated_object"\nsettle_s = 0\n'
            "schedule = { interval_s = 60 }\n[collect.mapping]\n"
            + "".join(f'"{k}" = "{v}"\n' for k, v in MAPPING.items())
            + '[collect.clean]\nestablished_on = "date"\n'
        )
    rows = _chinese_rows(objects[:6])
    rows[0]["统一社会信用代码"] = rows[0]["统一社会信用代码"][:-1] + "0"  # a wrong check character: quarantined
    _write_jsonl(drop / "a.jsonl", rows)

    assert main(["collect", "list", "-c", str(config)]) == 0
    listed = capsys.readouterr().out
    assert "drop" in listed
    assert "every 60s" in listed
    assert "not scheduled yet" in listed

    assert main(["collect", "run", "drop", "-c", str(config), "--no-progress"]) == 3
    printed = capsys.readouterr().out
    assert "1 files done, 0 failed, 0 waiting; 6 rows: 5 stored, 0 duplicates, 1 quarantined" in printed
    assert (drop / "done" / "a.jsonl").exists()

    assert main(["collect", "run", "nope", "-c", str(config)]) == 1
    assert "no collector 'nope' in the config; configured: drop" in capsys.readouterr().err
    assert settings.node_id == REGION
