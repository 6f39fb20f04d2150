"""Database collectors: a front-table source polled by (cd_time, cd_id), deletes, crashes, settings, commands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, create_engine, insert, text

from adapters.csv_records import columns, to_row
from adapters.sample_data import SampleGenerator
from governance import Inspection
from node import collect_db
from node.cli import main
from node.collect import run_collector
from node.collect_db import Mark
from node.collect_settings import DbCollector
from node.errors import ConfigError
from node.serde import OP_DELETE, decode_record
from node.settings import load_settings
from node.store import Store, StreamKey
from tests.conftest import make_node_dir

REGION = "330106"
MAPPING = {"检查编号": "action_number", "检查日期": "action_date", "行政区划": "region_code"}
BUSINESS = [next((k for k, v in MAPPING.items() if v == c), c) for c in columns(Inspection)]
T1, T2, T3 = "2024-03-01 09:00:00", "2024-03-01 10:00:00", "2024-03-02 08:30:00"


class _Crash(BaseException):
    """The process dies here."""


@pytest.fixture
def inspections() -> list[Inspection]:
    return list(SampleGenerator(11, REGION).inspections(30))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'node.db'}", REGION)
    yield opened
    opened.close()


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'dept.db'}")
    meta = MetaData()
    texts = ("cd_time", "cd_source", "cd_batch", "cd_operation", *BUSINESS)
    cd_id: Column[int] = Column("cd_id", Integer, primary_key=True)
    Table("qzb_jcxx", meta, cd_id, *(Column(c, Text) for c in texts))
    meta.create_all(engine)
    yield engine
    engine.dispose()


def _front_row(cd_id: int, cd_time: str, record: Inspection | None, *, op: str = "i", uid: str = "") -> dict[str, Any]:
    """A front-table row: the record's columns under the department's names, dates written the Chinese way."""
    business = dict.fromkeys(BUSINESS, "")
    if record is not None:
        by_field = {v: k for k, v in MAPPING.items()}
        business = {by_field.get(k, k): v for k, v in to_row(record).items()}
        year, month, day = (int(p) for p in business["检查日期"].split("-"))
        business["检查日期"] = f"{year}年{month}月{day}日"
    if uid:
        business["检查编号"] = uid
    batch = f"B{cd_time[:10]}"
    return {"cd_id": cd_id, "cd_time": cd_time, "cd_source": "JG", "cd_batch": batch, "cd_operation": op, **business}


def _add(engine: Engine, rows: list[dict[str, Any]]) -> None:
    table = Table("qzb_jcxx", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(insert(table), rows)


def _collector(engine: Engine, **overrides: Any) -> DbCollector:
    values: dict[str, Any] = {
        "kind": "db",
        "name": "front",
        "url": str(engine.url),
        "table": "qzb_jcxx",
        "dataset": "inspection",
        "front_table": True,
        "mapping": MAPPING,
        "clean": {"action_date": "date"},
        "batch_rows": 7,
        "schedule": {"interval_s": 60},
    }
    values.update(overrides)
    return DbCollector(**values)


def _latest_ops(store: Store) -> dict[str, int]:
    """uid -> op of its latest version."""
    stream = store.stream_id(StreamKey(REGION, "inspection"))
    assert stream is not None
    latest: dict[str, int] = {}
    for _seq, body in store.records_after(stream, 0, 10_000):
        record = decode_record(body)
        latest[record.uid] = record.op
    return latest


def _held(store: Store) -> int:
    return store.set_digest(dataset="inspection", origin=REGION)[0]


def test_front_table_rows_ties_deletes_and_bad_rows(
    store: Store, source: Engine, inspections: list[Inspection]
) -> None:
    first = [_front_row(i + 1, T1 if i < 10 else T2, rec) for i, rec in enumerate(inspections[:20])]
    first[5]["检查日期"] = "某日"  # cannot be read as a date: quarantined
    _add(source, first)
    collector = _collector(source)

    report = run_collector(store, collector)

    assert (report.done, report.rows, report.stored, report.duplicates, report.quarantined) == (3, 20, 19, 0, 1)
    assert not report.stopped
    assert report.mark == f"{T2} (key 20)"
    assert _held(store) == 19
    with store.read() as conn:
        (reason,) = conn.execute(text("SELECT reason FROM quarantine")).scalars()
    assert "action_date" in reason

    # the same cd_time as the last watermark (a batch stamped at once), later ones, and a delete
    later = [_front_row(21 + i, T2, rec) for i, rec in enumerate(inspections[20:25])]
    later += [_front_row(26 + i, T3, rec) for i, rec in enumerate(inspections[25:30])]
    gone = inspections[0].uid
    later.append(_front_row(31, T3, None, op="d", uid=gone))
    _add(source, later)

    report = run_collector(store, collector)

    assert (report.rows, report.stored, report.duplicates, report.quarantined) == (11, 11, 0, 0)
    assert report.mark == f"{T3} (key 31)"
    ops = _latest_ops(store)
    assert ops[gone] == OP_DELETE
    assert len(ops) == 29  # every uid but the quarantined one
    assert sum(op != OP_DELETE for op in ops.values()) == 28

    report = run_collector(store, collector)  # nothing changed since
    assert (report.done, report.rows) == (0, 0)
    assert "0 batches committed; 0 rows" in report.summary()


def test_a_crash_between_commit_and_watermark_save_loses_nothing(
    store: Store, source: Engine, inspections: list[Inspection], monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(source, [_front_row(i + 1, T1, rec) for i, rec in enumerate(inspections[:12])])
    collector = _collector(source, batch_rows=5)
    saved = collect_db._save_mark
    calls = 0

    def crash_on_second(store: Store, name: str, expected: str | None, mark: Mark) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise _Crash
        return saved(store, name, expected, mark)

    with monkeypatch.context() as patch:
        patch.setattr(collect_db, "_save_mark", crash_on_second)
        with pytest.raises(_Crash):
            run_collector(store, collector)
    assert _held(store) == 10  # two batches committed, the position of the first saved
    assert store.collector_mark("front") == Mark(T1, 5).dumps()

    report = run_collector(store, collector)  # after the restart

    assert (report.rows, report.stored, report.duplicates) == (7, 2, 5)
    assert _held(store) == 12


def test_a_plain_table_by_query_with_its_own_watermark_and_key(store: Store, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    records = list(SampleGenerator(3, REGION).inspections(6))
    meta = MetaData()
    Table("jc", meta, Column("更新时间", Integer), *(Column(c, Text) for c in BUSINESS))
    meta.create_all(engine)
    by_field = {v: k for k, v in MAPPING.items()}
    rows = [
        {"更新时间": 100 + i // 3, **{by_field.get(k, k): v for k, v in to_row(r).items()}}
        for i, r in enumerate(records)
    ]
    _add_plain(engine, rows)
    query = 'SELECT * FROM jc WHERE "更新时间" > 0'
    collector = _collector(engine, table=None, query=query, front_table=False, watermark="更新时间", clean={})
    assert collector.key_column == "检查编号"  # the column mapped to the uid

    report = run_collector(store, collector)

    assert (report.rows, report.stored) == (6, 6)
    assert Mark.loads(str(store.collector_mark("front"))).watermark == 101
    engine.dispose()


def _add_plain(engine: Engine, rows: list[dict[str, Any]]) -> None:
    table = Table("jc", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(insert(table), rows)


def test_an_unreadable_source_stops_the_run_and_keeps_the_watermark(store: Store, source: Engine) -> None:
    report = run_collector(store, _collector(source, table="no_such_table"))
    assert report.stopped.startswith("source database: (sqlite3.OperationalError) no such table")
    assert store.collector_mark("front") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"query": "SELECT 1"}, "give either table or query, not both or neither"),
        ({"front_table": False}, "give the watermark column (or front_table = true)"),
        ({"url": "not a url"}, "not an SQLAlchemy database URL"),
        ({"mapping": {"检查日期": "action_day"}}, "'action_day' is not a field of inspection"),
        ({"batch_rows": 0}, "batch_rows"),
    ],
)
def test_bad_db_collector_settings_are_one_clear_error(change: dict[str, Any], message: str) -> None:
    collector: dict[str, Any] = {
        "kind": "db",
        "name": "front",
        "url": "sqlite:////tmp/x.db",
        "table": "qzb_jcxx",
        "dataset": "inspection",
        "front_table": True,
        "schedule": {"interval_s": 60},
    }
    collector.update(change)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(None, node_id=REGION, tier="county", collect=[collector])


def test_front_table_defaults() -> None:
    settings = load_settings(
        None,
        node_id=REGION,
        tier="county",
        collect=[
            {
                "kind": "db",
                "name": "f",
                "url": "sqlite://",
                "table": "t",
                "dataset": "inspection",
                "front_table": True,
                "schedule": {"cron": "*/5 * * * *"},
            }
        ],
    )
    (collector,) = settings.collect
    assert isinstance(collector, DbCollector)
    assert (collector.watermark_column, collector.key_column, collector.batch_rows) == ("cd_time", "cd_id", 5000)
    assert collector.row_mapping == {"cd_operation": "op"}


def test_collect_run_and_list_a_db_collector(
    tmp_path: Path, source: Engine, inspections: list[Inspection], capsys: pytest.CaptureFixture[str]
) -> None:
    make_node_dir(tmp_path, REGION, "county")
    config = tmp_path / REGION / "node.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write(
            f'\n[[collect]]\nkind = "db"\nname = "front"\nurl = "{source.url}"\ntable = "qzb_jcxx"\n'
            'dataset = "inspection"\nfront_table = true\nschedule = { interval_s = 60 }\n[collect.mapping]\n'
            + "".join(f'"{k}" = "{v}"\n' for k, v in MAPPING.items())
            + '[collect.clean]\naction_date = "date"\n'
        )
    rows = [_front_row(i + 1, T1, rec) for i, rec in enumerate(inspections[:4])]
    rows[0]["检查日期"] = "某日"
    _add(source, rows)

    assert main(["collect", "list", "-c", str(config)]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"front\s+db\s+inspection\s+every 60s", listed)
    assert "qzb_jcxx" in listed

    assert main(["collect", "run", "front", "-c", str(config), "--no-progress"]) == 3
    printed = capsys.readouterr().out
    assert f"1 batches committed; 4 rows: 3 stored, 0 duplicates, 1 quarantined; watermark {T1} (key 4)" in printed
