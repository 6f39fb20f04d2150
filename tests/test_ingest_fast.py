"""File ingest's fast path agrees with the reference way; cleaning on ingest; the cross-record rule."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import any_pb2

from adapters.csv_cleaning import default_kinds
from adapters.csv_records import DATASET_TYPES, columns, leaves, record_builder, to_row, write_records
from adapters.sample_data import SampleGenerator
from governance import DatasetRecord, Inspection, Penalty, validate
from governance._compiled import compile_acceptor
from node import _fastpath, ingest
from node._wire import payload_encoder, record_bytes
from node.errors import BackpressureError, IngestError, StoreError
from node.ingest import ingest_file, ingest_rows
from node.quarantine import replay_entries
from node.serde import OP_DELETE, OP_UPSERT, decode_record, encode_record, pack_payload, payload_from_record
from node.store import NewRecord, Store, thematic_layout
from node.store._projection import PROJECTED_DATASETS

NODE = "330106"
OpenStore = Callable[[str], Store]


@pytest.fixture(scope="module")
def samples() -> dict[str, Sequence[DatasetRecord]]:
    """Generated records of every dataset the generator knows."""
    generator = SampleGenerator(5, NODE)
    objects = generator.enterprises(60)
    inspections = list(generator.inspections(400, objects=objects))
    made: dict[str, Sequence[DatasetRecord]] = {
        "regulated_object": objects,
        "inspection": inspections,
        "penalty": list(generator.penalties(80, inspections=inspections)),
        "complaint": list(generator.complaints(40, objects=objects)),
    }
    more: dict[str, Callable[[], Any]] = {
        "credit_grade": lambda: generator.credit_grades(objects=objects),
        "list_entry": lambda: list(generator.list_entries(40, objects=objects)),
        "enforcement": lambda: list(generator.enforcements(40, inspections=inspections)),
        "other_action": lambda: list(generator.other_actions(40, inspections=inspections)),
        "public_opinion": lambda: list(generator.public_opinion(40, objects=objects)),
        "personnel": generator.personnel,
        "matter": generator.matters,
        "matter_sub": generator.matter_subs,
        "impl_list": generator.impl_lists,
        "matter_mapping": generator.matter_mappings,
    }
    for dataset, make in more.items():
        if dataset in DATASET_TYPES:
            made[dataset] = list(make())
    return made


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'n.db'}", NODE)
    yield s
    s.close()


def _inspections(samples: dict[str, Sequence[DatasetRecord]]) -> list[Inspection]:
    return [r for r in samples["inspection"] if isinstance(r, Inspection)]


def _penalties(samples: dict[str, Sequence[DatasetRecord]]) -> list[Penalty]:
    return [r for r in samples["penalty"] if isinstance(r, Penalty)]


def _open(tmp_path: Path, name: str) -> Store:
    return Store.open(f"sqlite:///{tmp_path / name}", NODE)


def _bodies(store: Store, dataset: str) -> list[bytes]:
    return store.records_in_range(_key(dataset), 1, 10**9)


def _key(dataset: str) -> Any:
    from node.store import StreamKey

    return StreamKey(NODE, dataset)


def _flat(record: Any) -> list[Any]:
    """A record's leaf values as the fast path holds them (lists of objects as tuples of field texts)."""
    values: list[Any] = []
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            values.extend(_flat(value))
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            values.append(tuple(tuple(getattr(v, f.name) for f in dataclasses.fields(v)) for v in value))
        else:
            values.append(value)
    return values


# --- the compiled pieces against serde, validate and the projection ------------------------------------


def test_payload_encoder_writes_what_serde_writes(samples: dict[str, Sequence[DatasetRecord]]) -> None:
    for dataset, records in samples.items():
        encode = payload_encoder(DATASET_TYPES[dataset])
        assert encode is not None, dataset
        for record in records:
            flat = _flat(record)
            assert record_builder(DATASET_TYPES[dataset])(flat) == record
            assert encode(flat) == pack_payload(record), (dataset, record)


_BIG_PAYLOAD = any_pb2.Any(type_url="type.googleapis.com/x", value=b"\x01" * 20000).SerializeToString()


def test_record_bytes_are_those_of_encode_record() -> None:
    rng = random.Random(3)
    encode = record_bytes(NODE, "inspection")
    for _ in range(2000):
        args = (
            rng.choice(["", "a", "330106JC2024000001", "é" * rng.randrange(1, 300)]),
            rng.choice([1, 2, 127, 128, 16383, 16384, 2**40]),
            rng.randrange(1, 2**45),
            rng.choice([OP_UPSERT, OP_DELETE]),
            rng.choice([0, -1, -(2**62), 1_700_000_000_000_000, rng.randrange(-(2**63), 2**63)]),
            rng.choice([b"", _BIG_PAYLOAD, b"\x0a\x01x"]),
        )
        expected = encode_record(
            origin=NODE,
            dataset="inspection",
            uid=args[0],
            version=args[1],
            seq=args[2],
            op=args[3],
            event_time_us=args[4],
            payload=args[5],
        )
        assert encode(*args) == expected, args


_BAD_VALUES: dict[str, list[Any]] = {
    "action_number": ["N" * 51],
    "action_date": ["2023-02-30", "20230105", ""],
    "decision_date": ["2019-01-01", "bad"],
    "filing_date": ["2030-01-01"],
    "closing_date": ["2000-01-01", "x"],
    "matter_code": ["123", "3301010000000A"],
    "impl_list_code": ["11330106001060005C", "X" * 25],
    "agency_credit_code": ["11330106001060005D", ""],
    "region_code": ["33X", "999999", "110101"],
    "name": [""],
    "cert_type": ["id_card"],
    "cert_number": ["91330106000000000X", "330106199001011234"],
    "submitted_at_us": [0, 1_000_000_000_000_000],
    "inspectors": [(("张三", "1"),), (("张三", ""), ("李四", "2"))],
    "kinds": [()],
    "fine_fen": [-1],
    "paid_fen": [-5],
    "hearing_held": ["2", "yes"],
    "disclosure_status": ["3"],
}


@pytest.mark.parametrize("dataset", ["inspection", "penalty"])
def test_the_acceptor_never_accepts_what_validate_refuses(
    samples: dict[str, Sequence[DatasetRecord]], dataset: str
) -> None:
    cls = DATASET_TYPES[dataset]
    flat_leaves = leaves(cls)
    accept = compile_acceptor(cls, [(leaf.owner, leaf.field) for leaf in flat_leaves])
    assert accept is not None
    build = record_builder(cls)
    rng = random.Random(9)
    accepted = refused = 0
    for record in samples[dataset]:
        flat = _flat(record)
        assert accept(flat) == (validate(record) == [])
        for _ in range(6):
            mutated = list(flat)
            for i, leaf in enumerate(flat_leaves):
                bad = _BAD_VALUES.get(leaf.field)
                if bad and rng.random() < 0.15:
                    mutated[i] = rng.choice(bad)
            verdict = validate(build(mutated))
            if accept(mutated):
                accepted += 1
                assert verdict == [], (mutated, verdict)
            else:
                refused += 1
    assert accepted
    assert refused


def test_thematic_values_are_those_the_projection_makes(samples: dict[str, Sequence[DatasetRecord]]) -> None:
    for dataset in PROJECTED_DATASETS:
        layout = thematic_layout(dataset)
        thematic = _fastpath._thematic(dataset, DATASET_TYPES[dataset])
        assert layout is not None
        if thematic is None:
            continue
        for record in samples[dataset]:
            columns_of = layout[1](record)
            assert thematic(_flat(record)) == tuple(columns_of[name] for name in layout[0])


# --- ingest_file: fast path against the reference way ----------------------------------------------------


def _rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: Sequence[dict[str, str]], *, encoding: str = "utf-8") -> Path:
    names = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def _dirty(rows: list[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    """Rows with the spellings department exports have, and some that are wrong."""
    changes: list[Callable[[dict[str, str]], None]] = [
        lambda r: r.update(action_date=r["action_date"].replace("-", "/")),
        lambda r: r.update(action_date=r["action_date"].replace("-", "年", 1).replace("-", "月") + "日"),
        lambda r: r.update(counterparty_name=f" {r['counterparty_name']}(杭州) "),
        lambda r: r.update(counterparty_cert_number=r["counterparty_cert_number"].lower()),
        lambda r: r.update(region_code="\uff13\uff13\uff10\uff11\uff10\uff16"),
        lambda r: r.update(form="日常检查"),
        lambda r: r.update(category="现场"),
        lambda r: r.update(counterparty_nature="法人"),
        lambda r: r.update(submitted_at=r["submitted_at"][:19].replace("T", " ")),
        lambda r: r.update(agency_name=r["agency_name"] + "\u200b"),
        lambda r: r.update(action_date="2023-02-30"),
        lambda r: r.update(form="03"),
        lambda r: r.update(inspectors="张三|1"),
        lambda r: r.update(region_code="33X"),
        lambda r: r.update(op="d"),
        lambda r: r.update(op="x"),
        lambda r: r.update(action_number=""),
        lambda r: r.update(submitted_at="yesterday"),
        lambda r: r.__delitem__("action_name"),
    ]
    out = []
    for original in rows:
        row = dict(original)
        if rng.random() < 0.5:
            for change in rng.sample(changes, rng.randrange(1, 3)):
                change(row)
        out.append(row)
    return out


def _reference_take(self: Any, line: int, values: list[str], intake: Any) -> None:
    self._reference(line, values, intake)


def _outcome(store: Store, dataset: str) -> tuple[Any, ...]:
    quarantined = sorted((e.source.rsplit(":", 1)[1], e.findings, e.raw) for e in store.quarantined())
    findings = sorted((f.line, f.uid, f.rule, f.field, f.old, f.new) for f in store.ingest_findings(dataset=dataset))
    with store.read() as conn:
        thematic = (
            sorted(tuple(row[1:]) for row in conn.exec_driver_sql(f"SELECT * FROM {dataset}").all())
            if (dataset in PROJECTED_DATASETS)
            else []
        )
    return [_undated(body) for body in _bodies(store, dataset)], quarantined, findings, thematic


_NOW_DATED = frozenset({"regulated_object", "personnel"})  # dated when they are taken in


def _undated(body: bytes) -> bytes:
    """Record bytes with the time left out where it is the time of reading (deletes, master data)."""
    record = decode_record(body)
    if record.op == OP_DELETE or record.dataset in _NOW_DATED:
        record.event_time_us = 0
    return record.SerializeToString()


@pytest.mark.parametrize("clean", [True, False])
def test_fast_path_and_reference_store_the_same(
    tmp_path: Path, samples: dict[str, Sequence[DatasetRecord]], monkeypatch: pytest.MonkeyPatch, clean: bool
) -> None:
    rng = random.Random(7)
    rows = _dirty([to_row(r) for r in samples["inspection"]], rng)
    path = _write(tmp_path / "inspection.csv", [*rows, rows[0], rows[1]])
    fast_store, reference_store = _open(tmp_path, "fast.db"), _open(tmp_path, "ref.db")
    try:
        fast = ingest_file(fast_store, path, dataset="inspection", clean=clean)
        with monkeypatch.context() as patch:
            patch.setattr(_fastpath.FilePlan, "take", _reference_take)
            reference = ingest_file(reference_store, path, dataset="inspection", clean=clean)
        assert dataclasses.astuple(fast) == dataclasses.astuple(reference)
        assert fast.quarantined
        assert fast.stored
        assert fast.duplicates
        assert bool(fast.findings) == clean
        assert _outcome(fast_store, "inspection") == _outcome(reference_store, "inspection")
    finally:
        fast_store.close()
        reference_store.close()


_WIDE = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")


def _scuffed(rows: list[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    """Rows of any dataset with random columns spelled loosely or wrongly."""
    changes: list[Callable[[str], str]] = [
        lambda v: f" {v}  ",
        lambda v: v.translate(_WIDE),
        str.lower,
        lambda _v: "",
        lambda _v: "x",
        lambda v: v.replace("-", "/"),
        lambda v: v + "\u200b",
    ]
    out = []
    for original in rows:
        row = dict(original)
        for column in rng.sample(sorted(row), rng.randrange(0, 3)):
            row[column] = rng.choice(changes)(row[column])
        out.append(row)
    return out


@pytest.mark.parametrize("dataset", ["penalty", "regulated_object", "complaint", "enforcement", "credit_grade"])
def test_fast_path_and_reference_agree_on_any_dataset(
    tmp_path: Path, samples: dict[str, Sequence[DatasetRecord]], monkeypatch: pytest.MonkeyPatch, dataset: str
) -> None:
    if dataset not in samples:
        pytest.skip(f"no {dataset} samples")
    rows = _scuffed([to_row(r) for r in samples[dataset]], random.Random(dataset))
    path = _write(tmp_path / f"{dataset}.csv", rows)
    fast_store, reference_store = _open(tmp_path, "fast.db"), _open(tmp_path, "ref.db")
    try:
        if dataset in {"penalty", "enforcement"}:  # half of the inspections they name are held
            write_records(tmp_path / "i.csv", _inspections(samples)[::2])
            for held in (fast_store, reference_store):
                ingest_file(held, tmp_path / "i.csv", dataset="inspection")
        fast = ingest_file(fast_store, path, dataset=dataset)
        with monkeypatch.context() as patch:
            patch.setattr(_fastpath.FilePlan, "take", _reference_take)
            reference = ingest_file(reference_store, path, dataset=dataset)
        assert dataclasses.astuple(fast) == dataclasses.astuple(reference)
        assert fast.stored
        assert fast.quarantined
        assert _outcome(fast_store, dataset) == _outcome(reference_store, dataset)
    finally:
        fast_store.close()
        reference_store.close()


def test_every_dataset_ingests_as_its_records_say(tmp_path: Path, samples: dict[str, Sequence[DatasetRecord]]) -> None:
    for dataset in ["regulated_object", "inspection", *sorted(set(samples) - {"regulated_object", "inspection"})]:
        records = samples[dataset]
        path = tmp_path / f"{dataset}.csv"
        write_records(path, records)
        store = _open(tmp_path, "n.db")
        try:
            report = ingest_file(store, path, dataset=dataset)
            assert (report.rows, report.quarantined, report.findings) == (len(records), 0, {}), dataset
            held = [payload_from_record(decode_record(body)) for body in _bodies(store, dataset)]
            unique = list({r.uid: r for r in records}.values())
            assert held[-len(unique) :] == unique or sorted(map(repr, held)) == sorted(map(repr, unique)), dataset
        finally:
            store.close()


# --- cleaning on ingest ------------------------------------------------------------------------------------


def test_cleaning_corrects_values_and_keeps_every_finding(
    tmp_path: Path, store: Store, samples: dict[str, Sequence[DatasetRecord]]
) -> None:
    record = _inspections(samples)[0]
    row = to_row(record)
    dirty = dict(
        row,
        action_date=record.action_date.replace("-", "/"),
        counterparty_name=f"  {record.header.counterparty.name}(分店)",
        form="专项检查",
        region_code="\uff13\uff13\uff10\uff11\uff10\uff16",
    )
    path = _write(tmp_path / "dirty.csv", [dirty])
    report = ingest_file(store, path, dataset="inspection")
    assert (report.stored, report.quarantined) == (1, 0)
    assert report.findings == {
        "date.format": 1,
        "enum.inspection_form": 1,
        "name.bracket": 1,
        "whitespace": 1,
        "width": 1,
    }
    (body,) = _bodies(store, "inspection")
    held = payload_from_record(decode_record(body))
    assert isinstance(held, Inspection)
    assert held.action_date == record.action_date
    assert held.form == "02"
    assert held.header.region_code == "330106"
    assert held.header.counterparty.name == f"{record.header.counterparty.name}\uff08分店\uff09"
    kept = store.ingest_findings(dataset="inspection")
    assert {(f.source, f.line, f.uid) for f in kept} == {(str(path), 2, record.action_number)}
    assert ("form", "专项检查", "02") in {(f.field, f.old, f.new) for f in kept}
    assert store.finding_counts(source=str(path)) == report.findings
    (audit,) = store.audit_entries(kind="ingested")
    assert json.loads(audit.detail)["findings"] == report.findings


def test_no_clean_stores_values_as_written(tmp_path: Path, store: Store, samples: Any) -> None:
    record = _inspections(samples)[0]
    path = _write(tmp_path / "raw.csv", [dict(to_row(record), form="special", agency_name="局  ")])
    report = ingest_file(store, path, dataset="inspection", clean=False)
    assert (report.stored, report.findings) == (1, {})
    (body,) = _bodies(store, "inspection")
    held = payload_from_record(decode_record(body))
    assert isinstance(held, Inspection)
    assert (held.form, held.header.agency_name) == ("special", "局")  # only trimmed, as the reader does
    assert store.ingest_findings() == []


def test_a_value_cleaning_refuses_goes_to_quarantine_with_every_reason(tmp_path: Path, store: Store) -> None:
    generator = SampleGenerator(2, NODE)
    record = next(iter(generator.inspections(1, objects=generator.enterprises(5))))
    path = _write(tmp_path / "bad.csv", [dict(to_row(record), action_date="2023-13-45", form="monthly")])
    report = ingest_file(store, path, dataset="inspection")
    assert report.quarantined == 1
    (entry,) = store.quarantined()
    assert any("impossible date" in f for f in entry.findings)
    assert any("not a date (YYYY-MM-DD)" in f for f in entry.findings)  # validation of the raw text too
    assert any("inspection_form" in f for f in entry.findings)
    assert json.loads(entry.raw)["form"] == "monthly"  # kept as read


def test_gb18030_files_ingest_like_utf8(tmp_path: Path, samples: dict[str, Sequence[DatasetRecord]]) -> None:
    rows = [to_row(r) for r in samples["inspection"][:50]]
    held: dict[str, list[bytes]] = {}
    for name, encoding in [("utf8.csv", "utf-8"), ("gbk.csv", "gb18030"), ("bom.csv", "utf-8-sig")]:
        with _Closing(_open(tmp_path, f"{name}.db")) as store:
            report = ingest_file(store, _write(tmp_path / name, rows, encoding=encoding), dataset="inspection")
            assert (report.stored, report.quarantined) == (50, 0), name
            held[name] = [decode_record(b).payload.value for b in _bodies(store, "inspection")]
    assert held["gbk.csv"] == held["bom.csv"] == held["utf8.csv"]


class _Closing:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *_exc: object) -> None:
        self.store.close()


def test_default_kinds_follow_the_field_names() -> None:
    kinds = default_kinds("inspection")
    assert kinds["action_date"] == "date"
    assert kinds["submitted_at"] == "datetime"
    assert kinds["counterparty_name"] == "name"
    assert kinds["agency_credit_code"] == "code"
    assert kinds["counterparty_cert_number"] == "code"
    assert kinds["form"] == "enum:inspection_form"
    assert kinds["action_name"] == "text"
    assert "inspectors" not in kinds
    penalty = default_kinds("penalty")
    assert (penalty["fine_fen"], penalty["kinds"], penalty["procedure"]) == (
        "fen",
        "enums:penalty_kind",
        "enum:penalty_procedure",
    )
    assert set(kinds) <= set(columns(Inspection))


def test_amounts_in_yuan_and_kinds_by_name_become_fen_and_codes(
    tmp_path: Path, store: Store, samples: dict[str, Sequence[DatasetRecord]]
) -> None:
    penalty = _penalties(samples)[0]
    write_records(tmp_path / "i.csv", samples["inspection"])
    ingest_file(store, tmp_path / "i.csv", dataset="inspection")
    dirty = dict(to_row(penalty), fine_fen="1.5万元", paid_fen="\uffe5300", kinds="警告;罚款")
    path = _write(tmp_path / "p.csv", [dirty])
    report = ingest_file(store, path, dataset="penalty")
    assert (report.stored, report.quarantined) == (1, 0)
    (body,) = _bodies(store, "penalty")
    held = payload_from_record(decode_record(body))
    assert isinstance(held, Penalty)
    assert (held.fine_fen, held.paid_fen, held.kinds) == (1_500_000, 30_000, ("01", "02"))
    assert report.findings == {"amount.unit": 2, "enum.penalty_kind": 2}


# --- the cross-record rule ---------------------------------------------------------------------------------


def test_a_penalty_naming_no_held_inspection_waits_in_quarantine_until_replayed(
    tmp_path: Path, store: Store, samples: dict[str, Sequence[DatasetRecord]]
) -> None:
    penalties = [p for p in _penalties(samples) if p.inspection_number][:5]
    named = {p.inspection_number for p in penalties}
    inspections = [i for i in _inspections(samples) if i.action_number in named]
    write_records(tmp_path / "p.csv", penalties)
    no_reference = dataclasses.replace(penalties[0], action_number="330106CF2099X", inspection_number="")
    _write(tmp_path / "p2.csv", [to_row(no_reference)])

    report = ingest_file(store, tmp_path / "p.csv", dataset="penalty")
    assert (report.stored, report.quarantined) == (0, len(penalties))
    entries = store.quarantined()
    assert {e.reason for e in entries} == {
        f"inspection_number {p.inspection_number!r} names no inspection held by this node" for p in penalties
    }
    assert ingest_file(store, tmp_path / "p2.csv", dataset="penalty").stored == 1  # naming none is fine

    still = replay_entries(store, entries[:1], now_us=1)
    assert still[0][1] is False
    assert "names no inspection held" in still[0][2]

    write_records(tmp_path / "i.csv", inspections)
    assert ingest_file(store, tmp_path / "i.csv", dataset="inspection").stored == len(inspections)
    outcomes = replay_entries(store, store.quarantined(state="open"), now_us=2)
    assert all(stored for _id, stored, _outcome in outcomes)
    assert len(_bodies(store, "penalty")) == len(penalties) + 1
    assert store.intake_check() == []


def test_collector_rows_meet_the_rule_too_and_deleted_inspections_do_not_count(
    tmp_path: Path, store: Store, samples: dict[str, Sequence[DatasetRecord]]
) -> None:
    penalty = next(p for p in _penalties(samples) if p.inspection_number)
    source = next(i for i in samples["inspection"] if i.uid == penalty.inspection_number)
    write_records(tmp_path / "i.csv", [source])
    ingest_file(store, tmp_path / "i.csv", dataset="inspection")
    _write(tmp_path / "del.csv", [{"action_number": source.uid, "op": "d"}])
    assert ingest_file(store, tmp_path / "del.csv", dataset="inspection").stored == 1
    from adapters.csv_records import read_records

    write_records(tmp_path / "p.csv", [penalty])
    report = ingest_rows(store, read_records(tmp_path / "p.csv", "penalty"), dataset="penalty", source="collector")
    assert report.quarantined == 1
    assert "names no inspection held" in store.quarantined()[0].reason


# --- the pipeline ------------------------------------------------------------------------------------------


def test_a_failing_commit_stops_the_ingest_and_keeps_what_was_committed(
    tmp_path: Path, store: Store, samples: dict[str, Sequence[DatasetRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_records(tmp_path / "i.csv", samples["inspection"])
    monkeypatch.setattr(ingest, "FILE_CHUNK", 100)
    monkeypatch.setattr(ingest, "CHUNK", 100)
    real = store.take_in
    calls = 0

    def take_in(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise StoreError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "take_in", take_in)
    with pytest.raises(StoreError, match="disk full"):
        ingest_file(store, tmp_path / "i.csv", dataset="inspection")
    assert len(_bodies(store, "inspection")) == 200
    assert store.intake_check() == []


def test_backpressure_is_asked_every_chunk_of_rows_and_what_it_let_in_is_kept(
    tmp_path: Path, store: Store, samples: dict[str, Sequence[DatasetRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_records(tmp_path / "i.csv", samples["inspection"])
    monkeypatch.setattr(ingest, "FILE_CHUNK", 1000)
    monkeypatch.setattr(ingest, "CHUNK", 100)
    asked: list[int] = []

    def guard(records: int = 0, size: int = 0) -> str:  # the store's guard counts what it let in, as this one
        asked.append(records)
        return "outbox full" if sum(asked) > 250 else ""

    with pytest.raises(BackpressureError, match=r"outbox full; .*: 200 rows done \(200 stored\)"):
        ingest_file(store, tmp_path / "i.csv", dataset="inspection", guard=guard)
    assert len(_bodies(store, "inspection")) == 200  # let in, so committed, though the chunk was not full
    assert asked == [100, 100, 100]


def test_progress_and_line_numbers_survive_odd_line_ends(
    tmp_path: Path, store: Store, samples: dict[str, Sequence[DatasetRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "_BLOCK", 97)  # blocks end inside rows, inside \r\n and inside quoted fields
    rows = [to_row(r) for r in samples["inspection"][:30]]
    rows[3]["result"] = "合格\r\n(复查)"
    rows[5]["method"] = "现场\u2028核查"
    rows[7]["region_code"] = "33X"
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "odd.csv").write_bytes(text.getvalue().encode())
    seen: list[int] = []
    report = ingest_file(store, tmp_path / "odd.csv", dataset="inspection", progress=seen.append)
    assert (report.rows, report.quarantined, sum(seen)) == (30, 1, 30)
    (entry,) = store.quarantined()
    with (tmp_path / "odd.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        lines = [reader.line_num for _row in reader]
    assert entry.source.endswith(f":{lines[7]}")


def test_unreadable_input_is_an_ingest_error(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b'action_number,action_name\nA1,"unclosed\n')
    report = ingest_file(store, path, dataset="inspection")
    assert report.quarantined == 1
    with pytest.raises(IngestError, match="unknown dataset"):
        ingest_file(store, path, dataset="nothing")


# --- store contract of what the fast path needs, on both backends --------------------------------------------


def test_store_takes_thematic_values_findings_and_answers_held_uids(
    open_store: OpenStore, samples: dict[str, Sequence[DatasetRecord]]
) -> None:
    from node.ingest import record_encoder, same_content, to_new_record
    from node.store import IngestFinding

    store = open_store(NODE)
    layout = thematic_layout("inspection")
    assert layout is not None
    records = list(samples["inspection"][:20])
    new = []
    for n, record in enumerate(records):
        base = to_new_record(record, now_us=1)
        columns_of = layout[1](record)
        thematic = tuple(columns_of[name] for name in layout[0])
        new.append(base if n % 2 else NewRecord(base.uid, base.op, base.event_time_us, base.payload, None, thematic))
    found = [IngestFinding("inspection", "f.csv", 2, records[0].uid, "width", "region_code", "\uff13", "3")]
    encode = record_encoder(NODE, "inspection")
    result = store.take_in("inspection", "f.csv", new, [], encode=encode, same=same_content, now_us=5, findings=found)
    assert result.appended == len(records)
    assert store.ingest_findings(source="f.csv") == found
    assert store.finding_counts() == {"width": 1}
    uids = [r.uid for r in records[:3]]
    assert store.held_uids("inspection", [*uids, "nope"]) == set(uids)
    assert store.held_uids("penalty", uids) == set()
    deleted = to_new_record((records[0].uid, None), now_us=9)
    store.take_in("inspection", "f.csv", [deleted], [], encode=encode, same=same_content, now_us=9)
    assert store.held_uids("inspection", uids) == set(uids[1:])
    from node.store._schema import INSPECTION as TABLE

    with store.read() as conn:
        held = {row.uid: row for row in conn.execute(TABLE.select())}
    for record in records[1:]:
        columns_of = layout[1](record)
        assert {name: getattr(held[record.uid], name) for name in layout[0]} == columns_of
