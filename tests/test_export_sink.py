"""Front-table export: the shape, exactly once across reruns, crashes and rival runs, and a round trip into a node."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, MetaData, Table, create_engine, event, select

from adapters.csv_records import columns
from adapters.sample_data import SampleGenerator
from governance import Inspection
from node import export_sink
from node.cli import main
from node.collect import run_collector
from node.collect_settings import DbCollector, ExportSink
from node.export_sink import POSITION_TABLE, run_export
from node.ingest import ingest_records
from node.runtime import Node
from node.scheduler import next_run_times
from node.serde import OP_DELETE, decode_record
from node.settings import load_settings
from node.store import Store, StreamKey
from tests.conftest import eventually, make_node_dir
from tests.harness import Tree, ingest

REGION = "330106"
TABLE = "qzb_jcxx"
APRIL_11 = datetime(2019, 4, 11, 9, 30)


class _Crash(BaseException):
    """The process dies here."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'a' / 'node.db'}", REGION)
    yield opened
    opened.close()


@pytest.fixture
def target(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'front.db'}"


def _sink(url: str, **overrides: Any) -> ExportSink:
    values: dict[str, Any] = {
        "kind": "export",
        "name": "front",
        "url": url,
        "datasets": ["inspection"],
        "tables": {"inspection": TABLE},
        "batch_rows": 7,
        "schedule": {"interval_s": 60},
    }
    values.update(overrides)
    return ExportSink(**values)


def _fill(store: Store, seed: int = 11, count: int = 30) -> list[Inspection]:
    """``count`` inspections, then new versions of 5 of them, then deletes of 3 others: count + 8 records."""
    records = list(SampleGenerator(seed, REGION).inspections(count))
    ingest_records(store, "inspection", records)
    ingest_records(
        store, "inspection", [dataclasses.replace(r, action_name=r.action_name + "复查") for r in records[:5]]
    )
    ingest_records(store, "inspection", [(r.uid, None) for r in records[5:8]])
    return records


def _rows(url: str, table: str = TABLE) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        front = Table(table, MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            query = select(front).order_by(*(c for c in front.c if c.name == "cd_id"))
            return [dict(r) for r in conn.execute(query).mappings()]
    finally:
        engine.dispose()


def _versions(store: Store, origin: str = REGION) -> dict[str, list[tuple[int, bytes]]]:
    """uid -> (op, payload bytes) of every version, in order."""
    stream = store.stream_id(StreamKey(origin, "inspection"))
    assert stream is not None
    versions: dict[str, list[tuple[int, bytes]]] = {}
    for _seq, body in store.records_after(stream, 0, 100_000):
        record = decode_record(body)
        payload = record.payload.SerializeToString() if record.op != OP_DELETE else b""
        versions.setdefault(record.uid, []).append((record.op, payload))
    return versions


def _expected_ops(store: Store) -> list[tuple[str, str]]:
    """(uid, cd_operation) of every record of the store's stream, in sequence order."""
    stream = store.stream_id(StreamKey(REGION, "inspection"))
    assert stream is not None
    out = []
    for _seq, body in store.records_after(stream, 0, 100_000):
        record = decode_record(body)
        out.append((record.uid, "d" if record.op == OP_DELETE else "i" if record.version == 1 else "u"))
    return out


def test_rows_take_the_front_table_shape(store: Store, target: str) -> None:
    records = _fill(store)
    report = run_export(store, _sink(target), clock=lambda: APRIL_11)

    assert (report.done, report.rows, report.inserts, report.updates, report.deletes, report.failed) == (
        6,
        38,
        30,
        5,
        3,
        0,
    )
    assert not report.stopped
    rows = _rows(target)
    assert list(rows[0]) == ["cd_id", "cd_time", "cd_source", "cd_batch", "cd_operation", *columns(Inspection)]
    assert [r["cd_operation"] for r in rows] == ["i"] * 30 + ["u"] * 5 + ["d"] * 3
    assert [r["action_number"] for r in rows] == [r.uid for r in records] + [r.uid for r in records[:8]]
    assert rows[30]["action_name"].endswith("复查")
    assert rows[35]["action_name"] is None  # a delete names only its uid
    assert {r["cd_source"] for r in rows} == {REGION}
    assert sorted({r["cd_batch"] for r in rows}) == [f"2019041100{n:03d}" for n in range(1, 7)]
    assert [r["cd_id"] for r in rows] == sorted(r["cd_id"] for r in rows)
    assert {r["cd_time"] for r in rows} == {APRIL_11}
    assert "position 330106/inspection 38" in report.summary()
    assert store.audit_entries(kind="exported")[-1].subject == "export front"


def test_a_second_run_exports_only_what_is_new_and_cd_time_never_goes_back(store: Store, target: str) -> None:
    records = _fill(store)
    run_export(store, _sink(target), clock=lambda: APRIL_11)
    again = run_export(store, _sink(target), clock=lambda: APRIL_11)
    assert (again.done, again.rows) == (0, 0)
    assert len(_rows(target)) == 38

    ingest_records(store, "inspection", [dataclasses.replace(records[9], action_name="新名称")])
    earlier = datetime(2019, 4, 10, 23, 0)  # the clock stepped back: cd_time stays where the table is
    report = run_export(store, _sink(target, source_code="JG33"), clock=lambda: earlier)
    assert (report.rows, report.updates) == (1, 1)
    last = _rows(target)[-1]
    assert (last["cd_time"], last["cd_batch"], last["cd_source"], last["cd_operation"]) == (
        APRIL_11,
        "2019041100007",
        "JG33",
        "u",
    )


def _crashing_engine(armed: list[bool]) -> Callable[..., Engine]:
    real = create_engine

    def make(url: str, **kwargs: Any) -> Engine:
        engine = real(url, **kwargs)

        @event.listens_for(engine, "commit")
        def crash(_conn: Any) -> None:
            if armed[0]:
                raise _Crash

        return engine

    return make


def test_a_crash_mid_way_writes_every_record_exactly_once(
    store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The target is SQLite and PostgreSQL in turn; the third transaction dies before its commit."""
    _fill(store)
    armed = [False]
    chunks = [0]

    def after_commit(_count: int) -> None:
        chunks[0] += 1
        armed[0] = chunks[0] == 2

    with monkeypatch.context() as patch:
        patch.setattr(export_sink, "create_engine", _crashing_engine(armed))
        with pytest.raises(_Crash):
            run_export(store, _sink(store_url), progress=after_commit)
    assert len(_rows(store_url)) == 14  # two chunks of 7 committed with their position, the third rolled back
    assert _rows(store_url, POSITION_TABLE)[0]["seq"] == 14

    report = run_export(store, _sink(store_url))  # after the restart

    assert (report.rows, report.done) == (24, 4)
    assert [(r["action_number"], r["cd_operation"]) for r in _rows(store_url)] == _expected_ops(store)


def test_a_rival_run_makes_the_other_stop_instead_of_writing_twice(store: Store, target: str) -> None:
    _fill(store)
    rival: list[export_sink.ExportReport] = []

    def run_rival(_count: int) -> None:
        if not rival:  # the scheduler's run and `jgnode collect run` at once
            rival.append(run_export(store, _sink(target)))

    report = run_export(store, _sink(target), progress=run_rival)

    assert report.stopped == "another run moved the position meanwhile; this run stops"
    assert (report.rows, rival[0].rows) == (7, 31)
    assert [(r["action_number"], r["cd_operation"]) for r in _rows(target)] == _expected_ops(store)


def test_round_trip_through_a_front_table_into_another_node(tmp_path: Path, store: Store, store_url: str) -> None:
    """Node A exports, node B collects the same table with a db collector: the same record versions."""
    _fill(store)
    assert run_export(store, _sink(store_url)).rows == 38
    collector = DbCollector(
        kind="db",
        name="from-a",
        url=store_url,
        table=TABLE,
        dataset="inspection",
        front_table=True,
        batch_rows=9,
        schedule={"interval_s": 60},
    )
    other = Store.open(f"sqlite:///{tmp_path / 'b' / 'node.db'}", REGION)
    try:
        report = run_collector(other, collector)
        assert (report.rows, report.stored, report.duplicates, report.quarantined) == (38, 38, 0, 0)
        assert _versions(other) == _versions(store)
        ingest_records(store, "inspection", list(SampleGenerator(12, REGION).inspections(4)))
        run_export(store, _sink(store_url))
        assert run_collector(other, collector).stored == 4  # and again, only what is new
        assert _versions(other) == _versions(store)
    finally:
        other.close()


def test_received_records_are_exported_by_origin(tree: Tree, tmp_path: Path) -> None:
    city = tree.start("330100", "city")
    county = tree.start(REGION, "county", parent="330100")
    stored = ingest(county, seed=4, count=60)
    eventually(lambda: city.store.set_digest()[0] == stored, timeout=60, what="the city to hold the county's records")
    ingest_records(city.store, "inspection", list(SampleGenerator(9, "330100").inspections(5)))
    datasets = ("inspection", "regulated_object")
    url = f"sqlite:///{tmp_path / 'city-front.db'}"

    received = run_export(city.store, _sink(url, name="received", datasets=datasets, tables={}, origins="received"))
    own = run_export(city.store, _sink(url, name="own", datasets=datasets, tables={}, origins="own"))

    assert (received.rows, own.rows) == (stored, 5)
    assert len(_rows(url, "inspection")) == 60 + 5
    assert len(_rows(url, "regulated_object")) == stored - 60
    assert {r["cd_source"] for r in _rows(url, "inspection")} == {"330100"}
    positions = {(r["export"], r["origin"], r["dataset"]): r["seq"] for r in _rows(url, POSITION_TABLE)}
    assert positions == {
        ("received", REGION, "inspection"): 60,
        ("received", REGION, "regulated_object"): stored - 60,
        ("own", "330100", "inspection"): 5,
    }


def test_an_unreachable_target_stops_the_run(store: Store, tmp_path: Path) -> None:
    _fill(store)
    report = run_export(store, _sink(f"sqlite:///{tmp_path / 'missing' / 'front.db'}"))
    assert report.stopped.startswith("target database:")
    assert report.rows == 0


def test_a_table_lacking_columns_is_one_clear_error(store: Store, target: str) -> None:
    _fill(store)
    engine = create_engine(target)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (cd_id INTEGER PRIMARY KEY, cd_time TEXT, action_number TEXT)")
    engine.dispose()
    report = run_export(store, _sink(target))
    assert re.match(
        rf"export front: table {TABLE} lacks the columns cd_source, cd_batch, cd_operation, ", report.stopped
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"datasets": ["nope"]}, "unknown dataset 'nope'"),
        ({"tables": {"penalty": "t_xzcf"}}, "tables names 'penalty', which it does not export"),
        ({"tables": {"inspection": "drop table;"}}, "is not a plain"),
        ({"datasets": [], "tables": {"inspection": "penalty"}}, "several datasets go to table penalty"),
        ({"url": "not a url"}, "not an SQLAlchemy database URL"),
        ({"batch_rows": 0}, "greater than 0"),
    ],
)
def test_bad_export_settings_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        _sink(**{"url": "sqlite:////tmp/x.db", **change})


def test_export_from_the_config_by_command_and_on_schedule(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_node_dir(tmp_path, REGION, "county")
    config = tmp_path / REGION / "node.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write(
            f'\n[[collect]]\nkind = "export"\nname = "front"\nurl = "{target}"\ndatasets = ["inspection"]\n'
            f'schedule = {{ interval_s = 0.3 }}\n[collect.tables]\ninspection = "{TABLE}"\n'
        )
    settings = load_settings(config, tls={"insecure": True})
    (sink,) = settings.collect
    assert isinstance(sink, ExportSink)

    assert main(["collect", "list", "-c", str(config)]) == 0
    listed = capsys.readouterr().out
    assert "export" in listed
    assert f"-> {target}" in listed
    node_store = Store.open(settings.db_url, REGION)
    try:
        _fill(node_store, count=10)
    finally:
        node_store.close()
    assert main(["collect", "run", "front", "-c", str(config), "--no-progress"]) == 0
    assert "1 batches written; 18 records: 10 i, 5 u, 3 d, 0 skipped" in capsys.readouterr().out

    node = Node(settings)
    node.start()
    try:
        ingest_records(node.store, "inspection", list(SampleGenerator(12, REGION).inspections(4)))
        eventually(lambda: len(_rows(target)) == 22, what="the scheduled export")
    finally:
        node.stop(grace_s=1)
    assert next_run_times(settings)["front"] is not None  # the job is kept in the job store


def test_deletes_of_a_composite_uid_dataset_travel_by_their_key_columns(tmp_path: Path, store: Store) -> None:
    """A credit grade's uid is credit_code@assessed_on: its delete row carries both columns, and comes back."""
    generator = SampleGenerator(11, REGION)
    grades = generator.credit_grades(objects=generator.enterprises(5))
    ingest_records(store, "credit_grade", grades)
    ingest_records(store, "credit_grade", [(grades[0].uid, None)])
    url = f"sqlite:///{tmp_path / 'grades.db'}"
    sink = _sink(url, datasets=["credit_grade"], tables={"credit_grade": "grades"})
    assert run_export(store, sink).rows == len(grades) + 1
    (deleted,) = [row for row in _rows(url, "grades") if row["cd_operation"] == "d"]
    assert (deleted["credit_code"], deleted["assessed_on"]) == (grades[0].credit_code, grades[0].assessed_on)
    other = Store.open(f"sqlite:///{tmp_path / 'b' / 'node.db'}", REGION)
    try:
        collector = DbCollector(
            kind="db", name="grades", url=url, table="grades", dataset="credit_grade", front_table=True,
            schedule={"interval_s": 60},
        )  # fmt: skip
        assert run_collector(other, collector).stored == len(grades) + 1
        stream = other.stream_id(StreamKey(REGION, "credit_grade"))
        assert stream is not None
        last = decode_record(other.records_after(stream, 0, 1000)[-1][1])
        assert (last.uid, last.op) == (grades[0].uid, OP_DELETE)
    finally:
        other.close()


def test_a_db_collector_of_a_composite_uid_dataset_needs_an_explicit_key() -> None:
    with pytest.raises(ValidationError, match="credit_grade's uid is made of credit_code, assessed_on"):
        DbCollector(
            kind="db", name="grades", url="sqlite:///x.db", table="grades", dataset="credit_grade",
            watermark="updated_at", schedule={"interval_s": 60},
        )  # fmt: skip
