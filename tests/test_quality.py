"""Quality figures (``jgnode quality report``) on a small hand-checkable node.

The node (see ``quality_node``) takes in, all about inspections acted on
2024-03-01 (submission lags 10, 20, ... 70 hours):

- ``bad.csv``: 10 rows = records 0-6, record 0 again (an exact duplicate),
  record 7 with one inspector (breaks a cross-field rule), record 8 with a
  bad region code (a field rule only). Records 0 and 1 leave ``plan_id`` and
  ``method`` empty.
- ``update.csv``: record 1 again with another result (its version 2).
- through the API (no validation): record 9, submitted 5 hours before the
  action day began (breaks the submission rule).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from jgnode.exchange.v1 import exchange_pb2

from adapters.csv_records import write_records
from adapters.sample_data import SampleGenerator
from governance import CheckItem, Inspection, Penalty, RegulatedObject, cross_field_problems, validate
from governance.quality import (
    CST,
    IntakeRun,
    cst_day,
    intake_quality,
    optional_slots,
    percentile_nearest_rank,
    record_quality,
    submission_lag_hours,
)
from node.cli import main
from node.ingest import ingest_file, ingest_records, record_encoder, same_content, to_new_record
from node.quality import DayRange, build_report
from node.serde import SCHEMA_VERSIONS
from node.settings import load_settings
from node.store import NewRecord, Store
from tests.harness import jgnode

REGION = "330106"
ACTION_DAY = "2024-03-01"
_DAY_START = datetime(2024, 3, 1, tzinfo=CST)


def _at(hours: float) -> int:
    return int((_DAY_START + timedelta(hours=hours)).timestamp() * 1_000_000)


def _crafted(count: int) -> list[Inspection]:
    """Inspections of ACTION_DAY with every optional field filled; record i submitted 10 (i + 1) hours in."""
    out = []
    for i, base in enumerate(SampleGenerator(7, REGION).inspections(count)):
        party = replace(base.header.counterparty, registered_address="地址一", operating_address="地址二")
        header = replace(
            base.header, counterparty=party, delegated_department="某局", submitted_at_us=_at(10 * (i + 1))
        )
        out.append(
            replace(
                base,
                header=header,
                action_date=ACTION_DAY,
                plan_id=f"{REGION}SJ{i}",
                method="现场检查",
                result="合格",
                check_items=(CheckItem("证照", "pass"),),
            )
        )
    return out


@pytest.fixture
def quality_node(tmp_path: Path) -> Iterator[tuple[Path, Store, list[Inspection]]]:
    """A development node holding the crafted intake of the module docstring."""
    jgnode("init", "--node-id", REGION, "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    config = tmp_path / "n" / "node.toml"
    settings = load_settings(config)
    store = Store.open(settings.db_url, settings.node_id)
    records = _crafted(10)
    records[0] = replace(records[0], plan_id="", method="")
    records[1] = replace(records[1], plan_id="", method="")
    one_inspector = replace(records[7], inspectors=records[7].inspectors[:1])
    bad_region = replace(records[8], header=replace(records[8].header, region_code="33X"))
    write_records(tmp_path / "bad.csv", [*records[:7], records[0], one_inspector, bad_region])
    write_records(tmp_path / "update.csv", [replace(records[1], result="责令整改")])
    ingest_file(store, tmp_path / "bad.csv", dataset="inspection")
    ingest_file(store, tmp_path / "update.csv", dataset="inspection")
    early = replace(records[9], header=replace(records[9].header, submitted_at_us=_at(-5)))
    ingest_records(store, "inspection", [early])
    yield config, store, records
    store.close()


def _intake_day(store: Store) -> str:
    (day,) = {cst_day(e.at_us) for e in store.audit_entries(kind="ingested")}
    return day


def test_intake_figures_per_source_and_day(quality_node: tuple[Path, Store, list[Inspection]]) -> None:
    _config, store, _records = quality_node
    report = build_report(store, DayRange())
    by_source = {Path(r.source).name: r for r in report.intake}
    assert sorted(by_source) == ["bad.csv", "update.csv"]  # the API record is not an audited run
    bad = by_source["bad.csv"]
    assert (bad.dataset, bad.day) == ("inspection", _intake_day(store))
    assert (bad.received, bad.passed, bad.stored, bad.duplicates, bad.quarantined) == (10, 8, 7, 1, 2)
    assert bad.validity == 8 / 10
    assert bad.uniqueness_exact == 1 - 1 / 10
    assert bad.cross_field_failures == 1  # the one-inspector row; the bad region code is a field rule
    assert bad.consistency == 1 - 1 / 10
    update = by_source["update.csv"]
    assert (update.received, update.stored, update.validity, update.consistency) == (1, 1, 1.0, 1.0)


def test_record_figures_per_origin_and_event_day(quality_node: tuple[Path, Store, list[Inspection]]) -> None:
    _config, store, _records = quality_node
    (row,) = build_report(store, DayRange()).records
    assert (row.source, row.dataset, row.day) == (REGION, "inspection", ACTION_DAY)
    assert (row.records, row.distinct_uids) == (9, 8)  # records 0-6, record 1 version 2, record 9
    assert row.uniqueness_key == 8 / 9
    # 7 optional fields each (plan_id, method, result, check_items, delegated_department, two addresses);
    # records 0, 1 and 1's second version leave two empty
    assert (row.optional_filled, row.optional_total) == (63 - 6, 63)
    assert row.completeness == 57 / 63
    assert (row.consistent, row.consistency) == (8, 8 / 9)  # record 9 was submitted before its action day
    assert row.lag_records == 9
    assert row.lag_median_hours == pytest.approx(30.0)  # -5, 10, 20, 20, 30, 40, 50, 60, 70
    assert row.lag_p95_hours == pytest.approx(70.0)
    assert row.submitted_after_action_share == 8 / 9


def test_day_and_dataset_filters(quality_node: tuple[Path, Store, list[Inspection]]) -> None:
    _config, store, _records = quality_node
    intake_day = date.fromisoformat(_intake_day(store))
    after_action = build_report(store, DayRange(since=date(2024, 3, 2)))
    assert after_action.records == []
    assert len(after_action.intake) == 2
    up_to_action = build_report(store, DayRange(until=date(2024, 3, 1)))
    assert up_to_action.intake == []
    assert len(up_to_action.records) == 1
    only_intake_day = build_report(store, DayRange(since=intake_day, until=intake_day))
    assert len(only_intake_day.intake) == 2
    penalties = build_report(store, DayRange(dataset="penalty"))
    assert (penalties.intake, penalties.records) == ([], [])


def test_cli_prints_tables_and_writes_json(
    quality_node: tuple[Path, Store, list[Inspection]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, store, _records = quality_node
    out = tmp_path / "quality.json"
    assert main(["quality", "report", "-c", str(config), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    bad_line = next(line for line in printed.splitlines() if "bad.csv" in line)
    assert bad_line.split()[-6:] == ["8", "1", "2", "80.0", "90.0", "90.0"]
    record_line = next(line for line in printed.splitlines() if line.startswith(REGION))
    assert record_line.split()[2:] == ["2024-03-01", "9", "8", "88.9", "90.5", "88.9", "30.0", "70.0", "88.9"]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert list(data) == ["format", "node_id", "since", "until", "dataset", "intake", "records"]
    assert (data["format"], data["node_id"], data["since"], data["dataset"]) == (
        "jgnode.quality.v1",
        REGION,
        None,
        None,
    )
    assert list(data["intake"][0]) == [
        "source",
        "dataset",
        "day",
        "received",
        "passed",
        "stored",
        "duplicates",
        "quarantined",
        "cross_field_failures",
        "validity",
        "uniqueness_exact",
        "consistency",
    ]
    assert list(data["records"][0]) == [
        "source",
        "dataset",
        "day",
        "records",
        "distinct_uids",
        "uniqueness_key",
        "optional_filled",
        "optional_total",
        "completeness",
        "consistent",
        "consistency",
        "lag_records",
        "lag_median_hours",
        "lag_p95_hours",
        "submitted_after_action_share",
    ]
    assert data["records"][0]["completeness"] == 57 / 63
    bad = next(r for r in data["intake"] if r["source"].endswith("bad.csv"))
    assert (bad["received"], bad["validity"]) == (10, 0.8)
    assert store.intake_check() == []  # the report only reads


def test_cli_filters_and_refuses_bad_dates(
    quality_node: tuple[Path, Store, list[Inspection]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _store, _records = quality_node
    assert main(["quality", "report", "-c", str(config), "--until", "2024-03-01"]) == 0
    printed = capsys.readouterr().out
    assert "no audited ingest runs" in printed
    assert "bad.csv" not in printed
    assert main(["quality", "report", "-c", str(config), "--since", "2024-3-1x"]) == 1
    assert "--since takes a date" in capsys.readouterr().err
    assert main(["quality", "report", "-c", str(config), "--since", "2024-03-02", "--until", "2024-03-01"]) == 1


def test_optional_slots_leave_out_fields_with_a_value_by_default() -> None:
    bare = RegulatedObject("91330106MA2XXXXXXX", "某公司", "enterprise", REGION)
    assert optional_slots(bare) == (0, 5)  # industry, legal rep., established, two addresses; not status
    fuller = replace(bare, industry_code="A0111", operating_address="杭州")
    assert optional_slots(fuller) == (2, 5)


def test_cross_field_rules_and_lags() -> None:
    (inspection,) = _crafted(1)
    assert cross_field_problems(inspection) == []
    assert submission_lag_hours(inspection) == pytest.approx(10.0)
    lonely = replace(inspection, inspectors=inspection.inspectors[:1], action_date="2024-13-01")
    assert cross_field_problems(lonely) == [
        "an inspection needs at least two inspectors with certificate numbers, has 1"
    ]  # the unreadable date is a field problem, not a cross-field one
    assert submission_lag_hours(lonely) is None
    penalty = Penalty(
        header=inspection.header,
        action_number="P1",
        action_name="处罚",
        filing_date="2024-03-01",
        decision_number="D1",
        decision_date="2024-02-28",
        kinds=(),  # a field rule, not a cross-field one
        closing_date="2024-03-01",
    )
    problems = cross_field_problems(penalty)
    assert problems == [
        "decision date 2024-02-28 before filing date 2024-03-01",
        "closing date 2024-03-01 not after filing date 2024-03-01",
    ]
    assert "penalty has no kind" in validate(penalty)
    assert submission_lag_hours(penalty) == pytest.approx(10.0 + 48)  # decided 2024-02-28


def test_percentile_and_intake_sums() -> None:
    assert percentile_nearest_rank([], 0.95) is None
    assert percentile_nearest_rank([5.0, 1.0, 3.0], 0.5) == 3.0
    assert percentile_nearest_rank([float(v) for v in range(1, 21)], 0.95) == 19.0
    runs = [
        IntakeRun("a.csv", "inspection", "2024-03-01", 6, 4, 1, 1),
        IntakeRun("a.csv", "inspection", "2024-03-01", 4, 3, 0, 1),
    ]
    (figures,) = intake_quality(runs, {("a.csv", "inspection", "2024-03-01"): 5})
    assert (figures.received, figures.passed, figures.quarantined) == (10, 8, 2)
    assert figures.cross_field_failures == 2  # never more than the rows quarantined
    assert figures.validity == 0.8
    assert record_quality([]) == []


def test_enforcement_and_other_actions_have_a_lag_from_their_start_date() -> None:
    (inspection,) = _crafted(1)
    generator = SampleGenerator(2026, "330106")
    enforcement = next(iter(generator.enforcements(1, inspections=[inspection])))
    other = next(iter(generator.other_actions(1, inspections=[inspection])))
    for record in (enforcement, other):
        started = replace(record, header=inspection.header, start_date="2024-02-29")  # submitted 2024-03-01 10:00
        assert submission_lag_hours(started) == pytest.approx(10.0 + 24)


def test_records_of_a_newer_schema_are_left_out_of_the_report(
    quality_node: tuple[Path, Store, list[Inspection]],
) -> None:
    _folder, store, crafted = quality_node
    before = build_report(store, DayRange()).records
    newer = replace(crafted[0], action_number="NEWER-1")

    def encode_newer(uid: str, version: int, seq: int, record: NewRecord) -> bytes:
        body = exchange_pb2.Record.FromString(record_encoder(store.node_id, "inspection")(uid, version, seq, record))
        body.schema_version = SCHEMA_VERSIONS["inspection"] + 1
        return body.SerializeToString()

    new = to_new_record(newer, now_us=_at(0))
    store.take_in("inspection", "api", [new], [], encode=encode_newer, same=same_content, now_us=_at(0))
    assert build_report(store, DayRange()).records == before
