"""Table and file sinks: the view only, upserts and deletes, exactly once across crashes, entitlement, audit, CLI."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, create_engine, delete, event, inspect, select, text

from adapters.csv_records import CHINA_TZ, to_row
from adapters.sample_data import SampleGenerator
from exchange_registry import Application, mask_name
from governance import Inspection
from node import sinks
from node.cli import main
from node.ingest import ingest_records
from node.runtime import Node
from node.settings import NodeSettings, SharingSink
from node.sinks import POSITION_TABLE, run_sink, sink_states
from node.store import Store
from node.subscriptions import act_on, apply_for
from node.usage import USAGE
from tests.conftest import eventually, make_node_dir

NODE = "330100"
REGION = "330106"
FIELDS = ("counterparty_name", "region_code", "submitter", "action_number", "action_date")  # catalog order
NOW = 1_780_000_000_000_000
FILE_NAME = re.compile(r"^market-\d{8}T\d{6}-[0-9a-f]{12}\.(csv|jsonl)$")


class _Crash(BaseException):
    """The process dies here."""


@dataclasses.dataclass
class City:
    settings: NodeSettings
    store: Store
    records: list[Inspection]

    def ingest(self, records: list[Any]) -> None:
        ingest_records(self.store, "inspection", records)

    def expected(self) -> list[Inspection]:
        """The held records of the subscription's region, first versions."""
        return [r for r in self.records if to_row(r)["region_code"] == REGION]


@pytest.fixture
def city(tmp_path: Path) -> Iterator[City]:
    settings = make_node_dir(tmp_path, NODE, "city")
    store = Store.open(settings.db_url, NODE)
    generator = SampleGenerator(7, NODE)
    records = list(generator.inspections(60, objects=generator.enterprises(30)))
    ingest_records(store, "inspection", records)
    yield City(settings, store, records)
    store.close()


def _subscribe(city: City, *, approve: bool = True, today: date | None = None, **changes: Any) -> int:
    values: dict[str, Any] = {"fields": FIELDS, "region": REGION, **changes}
    application = Application("330100/market", "inspection", "food safety supervision", **values)
    held = apply_for(city.store, city.settings, application, today=today or date.today(), now_us=NOW)
    if approve:
        act_on(city.store, held.id, "approve", by="王科长", reason="", now_us=NOW + 1)
    return held.id


def _table_sink(url: str, subscription: int, **changes: Any) -> SharingSink:
    return SharingSink(name="market", subscription=subscription, kind="table", url=url, **changes)


def _file_sink(folder: Path, subscription: int, fmt: str = "csv", name: str = "market") -> SharingSink:
    return SharingSink(name=name, subscription=subscription, kind="file", folder=folder, format=fmt)


def _rows(url: str, table: str = "jg_inspection") -> dict[str, dict[str, Any]]:
    engine = create_engine(url)
    try:
        found = Table(table, MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            return {r["uid"]: dict(r) for r in conn.execute(select(found)).mappings()}
    finally:
        engine.dispose()


def _positions(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table(POSITION_TABLE):
            return {}
        found = Table(POSITION_TABLE, MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            return {r.origin: r.seq for r in conn.execute(select(found))}
    finally:
        engine.dispose()


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _usage(store: Store) -> list[dict[str, Any]]:
    return [json.loads(e.detail) for e in store.audit_entries(kind=USAGE)]


# -- table sink ----------------------------------------------------------------


def test_table_sink_writes_the_view_upserts_and_marks_deletes(city: City, store_url: str) -> None:
    """The target is SQLite and PostgreSQL in turn."""
    ident = _subscribe(city)
    report = run_sink(city.store, city.settings, _table_sink(store_url, ident))

    expected = city.expected()
    assert 0 < len(expected) < len(city.records)
    assert (report.records, report.upserts, report.failed, report.paused) == (len(expected), len(expected), "", "")
    rows = _rows(store_url)
    assert set(rows) == {r.uid for r in expected}  # the region subtree only
    first = expected[0]
    row = rows[first.uid]
    assert list(row) == ["uid", *FIELDS, "_origin", "_version", "_deleted", "_seq", "_delivered_at"]  # projection
    submitter = to_row(first)["submitter"]
    assert row["submitter"] == mask_name(submitter) != submitter  # personal data masked
    assert (row["action_number"], row["_origin"], row["_version"], row["_deleted"]) == (first.uid, NODE, 1, False)
    assert _positions(store_url) == {NODE: len(city.records)}  # records left out moved it too

    changed, gone = expected[1], expected[2]
    city.ingest([dataclasses.replace(changed, action_date="2024-12-30")])
    city.ingest([(gone.uid, None)])
    again = run_sink(city.store, city.settings, _table_sink(store_url, ident))

    assert (again.records, again.upserts, again.deletes) == (2, 1, 1)
    rows = _rows(store_url)
    assert (rows[changed.uid]["action_date"], rows[changed.uid]["_version"]) == ("2024-12-30", 2)
    assert (rows[gone.uid]["_deleted"], rows[gone.uid]["_version"]) == (True, 2)
    assert rows[gone.uid]["action_date"] == to_row(gone)["action_date"]  # a delete keeps the last values
    assert len(rows) == len(expected)
    assert run_sink(city.store, city.settings, _table_sink(store_url, ident)).records == 0


def _crashing(armed: list[bool]) -> Callable[..., Engine]:
    real = create_engine

    def make(url: str, **kwargs: Any) -> Engine:
        engine = real(url, **kwargs)

        @event.listens_for(engine, "commit")
        def crash(_conn: Any) -> None:
            if armed[0]:
                raise _Crash

        return engine

    return make


def test_a_crash_before_commit_writes_nothing_and_the_next_round_writes_once(
    city: City, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second transaction dies after its rows were sent, before its commit."""
    ident = _subscribe(city, region="")
    sink = _table_sink(store_url, ident)
    armed = [False]
    real_upsert = sinks._upsert

    def upsert_then_arm(*args: Any, **kwargs: Any) -> Any:
        written = real_upsert(*args, **kwargs)
        armed[0] = bool(positions_seen)  # the second transaction's commit crashes
        positions_seen.append(1)
        return written

    positions_seen: list[int] = []
    with monkeypatch.context() as patch:
        patch.setattr(sinks, "create_engine", _crashing(armed))
        patch.setattr(sinks, "_upsert", upsert_then_arm)
        with pytest.raises(_Crash):
            run_sink(city.store, city.settings, sink, limit=25)
    assert len(_rows(store_url)) == 25  # the first transaction only, with its position
    assert _positions(store_url) == {NODE: 25}

    report = run_sink(city.store, city.settings, sink, limit=25)  # after the restart

    assert report.records == len(city.records) - 25  # nothing written twice, nothing skipped
    assert report.skipped == 0
    assert set(_rows(store_url)) == {r.uid for r in city.records}
    assert _positions(store_url) == {NODE: len(city.records)}
    assert [u["records"] for u in _usage(city.store)] == [35]  # the crashed round audited nothing


def test_an_older_version_never_overwrites_a_newer_one(city: City, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dept.db'}"
    ident = _subscribe(city)
    target = city.expected()[0]
    city.ingest([dataclasses.replace(target, action_date="2024-12-30")])
    run_sink(city.store, city.settings, _table_sink(url, ident))
    engine = create_engine(url)
    with engine.begin() as conn:  # the position is lost (say, a restored backup): every version comes again
        conn.execute(delete(Table(POSITION_TABLE, MetaData(), autoload_with=engine)))
    engine.dispose()

    report = run_sink(city.store, city.settings, _table_sink(url, ident))

    assert (report.records, report.skipped) == (0, len(city.expected()) + 1)
    assert (_rows(url)[target.uid]["action_date"], _rows(url)[target.uid]["_version"]) == ("2024-12-30", 2)


def test_a_table_lacking_columns_is_refused_and_a_down_target_loses_nothing(city: City, tmp_path: Path) -> None:
    ident = _subscribe(city)
    url = f"sqlite:///{tmp_path / 'dept.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE jg_inspection (uid TEXT PRIMARY KEY, region_code TEXT)"))
    engine.dispose()
    refused = run_sink(city.store, city.settings, _table_sink(url, ident))
    assert "table jg_inspection lacks the columns counterparty_name, submitter, action_number" in refused.failed

    down = f"sqlite:///{tmp_path / 'not-yet' / 'dept.db'}"
    failed = run_sink(city.store, city.settings, _table_sink(down, ident, table="market"))
    assert failed.failed.startswith("target database: ")
    assert sink_states(city.store)["market"].last_error == failed.failed
    (tmp_path / "not-yet").mkdir()  # the database is back
    report = run_sink(city.store, city.settings, _table_sink(down, ident, table="market"))
    assert (report.records, report.failed) == (len(city.expected()), "")
    assert sink_states(city.store)["market"].last_error == ""


# -- entitlement and audit ---------------------------------------------------


def test_only_an_active_subscription_delivers_and_a_sink_resumes(city: City, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dept.db'}"
    ident = _subscribe(city, approve=False)
    waiting = run_sink(city.store, city.settings, _table_sink(url, ident))
    assert waiting.records == 0
    assert waiting.paused.startswith(f"subscription {ident} is applied: ")
    assert sink_states(city.store)["market"].last_error.startswith("paused: subscription")

    act_on(city.store, ident, "approve", by="王科长", reason="", now_us=NOW + 1)
    assert run_sink(city.store, city.settings, _table_sink(url, ident)).records == len(city.expected())

    act_on(city.store, ident, "revoke", by="王科长", reason="purpose fulfilled", now_us=NOW + 2)
    city.ingest([dataclasses.replace(city.expected()[0], action_date="2024-12-30")])
    revoked = run_sink(city.store, city.settings, _table_sink(url, ident))
    assert (revoked.records, revoked.paused) == (0, f"subscription {ident} is revoked: purpose fulfilled")
    assert _rows(url)[city.expected()[0].uid]["_version"] == 1
    assert len(_usage(city.store)) == 1  # one round wrote something


def test_an_expired_subscription_stops_the_sink_until_its_period_is_back(city: City, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    ident = _subscribe(city, today=date(2029, 12, 1), valid_until="2029-12-31")
    late = datetime(2030, 1, 2, 9, tzinfo=CHINA_TZ)
    report = run_sink(city.store, city.settings, _file_sink(folder, ident), clock=lambda: late)
    assert report.paused == f"subscription {ident} is expired: approved by 王科长"
    assert not folder.exists() or not list(folder.iterdir())

    in_time = datetime(2029, 12, 31, 9, tzinfo=CHINA_TZ)
    assert run_sink(city.store, city.settings, _file_sink(folder, ident), clock=lambda: in_time).records > 0


def test_every_round_that_wrote_is_audited_once(city: City, tmp_path: Path) -> None:
    ident = _subscribe(city)
    sink = _file_sink(tmp_path / "drop", ident, "jsonl")
    first = run_sink(city.store, city.settings, sink, limit=3)  # many chunks, one round
    run_sink(city.store, city.settings, sink)  # nothing new: no entry
    city.ingest([(city.expected()[0].uid, None)])
    run_sink(city.store, city.settings, sink)

    usage = _usage(city.store)
    assert [(u["channel"], u["sink"], u["records"], u["subscription"]) for u in usage] == [
        ("sink", "market", len(city.expected()), ident),
        ("sink", "market", 1, ident),
    ]
    assert usage[0]["who"] == "330100/market"
    assert usage[0]["files"] == first.files
    assert usage[1]["positions"] == {NODE: len(city.records) + 1}


# -- file drop -----------------------------------------------------------------


def test_file_drop_writes_csv_with_bom_and_jsonl(city: City, tmp_path: Path) -> None:
    ident = _subscribe(city)
    city.ingest([(city.expected()[0].uid, None)])
    csv_report = run_sink(city.store, city.settings, _file_sink(tmp_path / "csv", ident))
    (name,) = csv_report.files
    assert FILE_NAME.match(name)
    raw = (tmp_path / "csv" / name).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = _csv(tmp_path / "csv" / name)
    assert lines[0] == ["_op", "_origin", "_seq", "_uid", "_version", *FIELDS]
    first = city.expected()[0]
    assert lines[1][:5] == ["upsert", NODE, str(city.records.index(first) + 1), first.uid, "1"]
    assert lines[1][5 + FIELDS.index("submitter")] == mask_name(to_row(first)["submitter"])
    assert lines[-1] == ["delete", NODE, str(len(city.records) + 1), first.uid, "2", "", "", "", "", ""]
    assert len(lines) == 1 + len(city.expected()) + 1

    jsonl = run_sink(city.store, city.settings, _file_sink(tmp_path / "jsonl", ident, "jsonl", "json"))
    objects = [json.loads(line) for line in (tmp_path / "jsonl" / jsonl.files[0]).read_text("utf-8").splitlines()]
    assert objects[0] == {
        "_op": "upsert",
        "_origin": NODE,
        "_seq": city.records.index(first) + 1,
        "_uid": first.uid,
        "_version": 1,
        **{f: to_row(first)[f] if f != "submitter" else mask_name(to_row(first)["submitter"]) for f in FIELDS},
    }
    assert objects[-1] == {"_op": "delete", "_origin": NODE, "_seq": 61, "_uid": first.uid, "_version": 2}
    assert sorted(p.name for p in (tmp_path / "jsonl").iterdir()) == jsonl.files  # no temp file left


def test_file_names_sort_in_delivery_order_within_a_second(city: City, tmp_path: Path) -> None:
    ident = _subscribe(city, region="")
    sink = _file_sink(tmp_path / "drop", ident)
    noon = datetime(2026, 11, 27, 12, tzinfo=CHINA_TZ)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sinks, "FILE_RECORDS", 20)
        report = run_sink(city.store, city.settings, sink, clock=lambda: noon, limit=20)
    assert len(report.files) == 3
    assert report.files == sorted(report.files)
    assert [f.split("-")[1] for f in report.files] == ["20261127T120000", "20261127T120001", "20261127T120002"]
    seqs = [int(row[2]) for f in report.files for row in _csv(tmp_path / "drop" / f)[1:]]
    assert seqs == list(range(1, 61))


@pytest.mark.parametrize("taken", [False, True], ids=["file-left", "file-taken-by-the-department"])
def test_a_crash_between_rename_and_position_never_makes_a_second_file(
    city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: bool
) -> None:
    ident = _subscribe(city)
    folder = tmp_path / "drop"
    sink = _file_sink(folder, ident)
    with monkeypatch.context() as patch:
        patch.setattr(sinks, "_sync_folder", _raise_crash)
        with pytest.raises(_Crash):
            run_sink(city.store, city.settings, sink)
    (name,) = [p.name for p in folder.iterdir()]
    assert FILE_NAME.match(name)
    assert sink_states(city.store)["market"].position == {}  # the rename happened, the position did not move
    if taken:
        (folder / name).unlink()

    report = run_sink(city.store, city.settings, sink)

    assert report.files == [name]  # finished, not written again
    assert sorted(p.name for p in folder.iterdir()) == ([] if taken else [name])
    state = sink_states(city.store)["market"]
    assert (state.position, state.pending, state.last_file) == ({NODE: 60}, None, name)
    assert run_sink(city.store, city.settings, sink).files == []
    assert [u["records"] for u in _usage(city.store)] == [len(city.expected())]


def test_a_crash_before_the_rename_renames_the_same_file_on_retry(
    city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ident = _subscribe(city)
    folder = tmp_path / "drop"
    sink = _file_sink(folder, ident, "jsonl")
    real_write = sinks._write_file
    with monkeypatch.context() as patch:

        def write_then_crash_on_rename(*args: Any) -> None:
            real_write(*args)
            patch.setattr(os, "replace", _raise_crash)  # the rename

        patch.setattr(sinks, "_write_file", write_then_crash_on_rename)
        with pytest.raises(_Crash):
            run_sink(city.store, city.settings, sink)
    (temp,) = [p.name for p in folder.iterdir()]
    assert temp.startswith(".market-")
    assert temp.endswith(".jsonl.tmp")
    assert sink_states(city.store)["market"].pending is not None

    later = datetime.now(CHINA_TZ) + timedelta(minutes=5)
    report = run_sink(city.store, city.settings, sink, clock=lambda: later)

    assert report.files == [temp[1:].removesuffix(".tmp")]  # the name chosen before the crash
    assert sorted(p.name for p in folder.iterdir()) == report.files
    lines = (folder / report.files[0]).read_text("utf-8").splitlines()
    assert len(lines) == len(city.expected())


def _raise_crash(*_args: Any) -> None:
    raise _Crash


def test_a_temp_file_without_intent_is_removed(city: City, tmp_path: Path) -> None:
    ident = _subscribe(city)
    folder = tmp_path / "drop"
    sink = _file_sink(folder, ident)
    folder.mkdir()
    stale = folder / ".market-20260101T000000-0123456789ab.csv.tmp"
    stale.write_text("half", encoding="utf-8")
    other = folder / ".other-20260101T000000-0123456789ab.csv.tmp"
    other.write_text("someone else's", encoding="utf-8")
    report = run_sink(city.store, city.settings, sink)
    assert not stale.exists()
    assert other.exists()
    assert len(report.files) == 1


# -- in the node and from the command line -----------------------------------


def test_the_node_runs_its_sinks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dept.db'}"
    sink = {"name": "market", "subscription": 1, "kind": "table", "url": url, "interval_s": 0.1}
    settings = make_node_dir(tmp_path, NODE, "city", sharing={"sinks": [sink]})
    node = Node(settings)
    node.start()
    try:
        generator = SampleGenerator(7, NODE)
        records = list(generator.inspections(20, objects=generator.enterprises(10)))
        ingest_records(node.store, "inspection", records)
        eventually(lambda: "no subscription 1" in sink_states(node.store).get("market", _NO_STATE).last_error)
        city = City(settings, node.store, records)
        assert _subscribe(city, region="") == 1
        eventually(lambda: _positions(url).get(NODE) == 20, what="the sink to deliver")
        assert len(_rows(url)) == 20
    finally:
        node.stop(grace_s=1)


_NO_STATE = sinks.SinkState("", "", 0, {}, None, 0, 0, 0, "", "")


def test_sink_run_and_list_from_the_command_line(
    city: City, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ident = _subscribe(city)
    config = tmp_path / NODE / "node.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write(
            f'\n[[sharing.sinks]]\nname = "market"\nsubscription = {ident}\nkind = "file"\n'
            f'folder = "{tmp_path / "drop"}"\nformat = "csv"\n'
        )
    assert main(["sink", "run", "market", "-c", str(config)]) == 0
    printed = capsys.readouterr().out
    assert f"sink market: {len(city.expected())} records written" in printed
    assert "wrote " in printed

    assert main(["sink", "list", "-c", str(config)]) == 0
    listing = capsys.readouterr().out
    assert re.search(rf"market +file +{ident} .* {NODE} 60 +{len(city.expected())} ", listing)

    act_on(city.store, ident, "revoke", by="王科长", reason="purpose fulfilled", now_us=NOW + 2)
    assert main(["sink", "run", "market", "-c", str(config)]) == 3
    assert "is revoked: purpose fulfilled" in capsys.readouterr().err
    assert main(["sink", "run", "nope", "-c", str(config)]) == 1
