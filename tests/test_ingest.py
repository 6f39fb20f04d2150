"""CSV ingest: round trip, versions, deletes, and bad rows kept in quarantine."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.csv_records import read_records, to_row, write_records
from adapters.sample_data import SampleGenerator
from governance import ActionHeader, CheckItem, Counterparty, Inspection, Inspector
from governance.codes import make_uscc
from node.errors import IngestError
from node.ingest import ingest_file
from node.store import Store
from node.store._schema import QUARANTINE
from tests.harness import jgnode

AGENCY = make_uscc("1", "1", "330106", "00250001")
PARTY = make_uscc("9", "1", "330106", "MA27AB12")


def sample_inspection(number: str, *, result: str = "合格") -> Inspection:
    """A valid inspection record for tests."""
    return Inspection(
        header=ActionHeader(
            matter_code="33010600100001",
            impl_list_code=AGENCY + "3" + "0001",
            agency_name="杭州市西湖区市场监督管理局",
            agency_credit_code=AGENCY,
            object_type="enterprise",
            counterparty=Counterparty(name="杭州某某科技有限公司", nature="2", cert_type="uscc", cert_number=PARTY),
            region_code="330106",
            submitted_at_us=1_704_100_000_000_000,  # 2024-01-01
            submitter="王五",
        ),
        action_number=number,
        action_name="食品经营日常检查",
        action_date="2023-12-28",
        inspectors=(Inspector("张三", "33010620150012"), Inspector("李四", "33010620160034")),
        check_items=(CheckItem("证照公示", "pass"),),
        result=result,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'n.db'}", "330106")
    yield s
    s.close()


def test_csv_round_trip_of_generated_records(tmp_path: Path) -> None:
    generator = SampleGenerator(7, "330106")
    objects = generator.enterprises(30)
    inspections = list(generator.inspections(40, objects=objects))
    write_records(tmp_path / "i.csv", inspections)
    rows = list(read_records(tmp_path / "i.csv", "inspection"))
    assert [r.error for r in rows if r.error] == []
    assert [r.record for r in rows] == inspections
    write_records(tmp_path / "o.csv", objects)
    assert [r.record for r in read_records(tmp_path / "o.csv", "regulated_object")] == objects


def test_ingest_counts_every_row(tmp_path: Path, store: Store) -> None:
    good = [sample_inspection(f"N{i}") for i in range(5)]
    rows = [to_row(r) for r in good]
    bad_inspectors = dict(rows[0], action_number="BAD1", inspectors="张三|33010620150012")
    bad_code = dict(rows[0], action_number="BAD2", counterparty_cert_number=PARTY[:-1] + "0")
    bad_date = dict(rows[0], action_number="BAD3", action_date="2023-13-45")
    bad_late = dict(rows[0], action_number="BAD4", action_date="2024-02-01")
    bad_instant = dict(rows[0], action_number="BAD5", submitted_at="yesterday")
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # with a BOM, as Excel writes it
        writer = csv.DictWriter(out, fieldnames=[*rows[0].keys(), "op"])
        writer.writeheader()
        for row in [*rows, bad_inspectors, bad_code, bad_date, bad_late, bad_instant, rows[0]]:
            writer.writerow(row)
        writer.writerow({"action_number": "N4", "op": "d"})
    report = ingest_file(store, path, dataset="inspection")
    assert (report.rows, report.stored, report.duplicates, report.quarantined) == (12, 6, 1, 5)
    assert report.rows == report.stored + report.duplicates + report.quarantined
    with store.read() as conn:
        entries = {json.loads(e.raw)["action_number"]: e for e in conn.execute(select(QUARANTINE)).all()}
    assert set(entries) == {"BAD1", "BAD2", "BAD3", "BAD4", "BAD5"}
    assert "at least two inspectors" in entries["BAD1"].reason
    assert "check character" in entries["BAD2"].reason
    assert "not a date" in entries["BAD3"].reason
    assert "before the action date" in entries["BAD4"].reason
    assert "submitted_at" in entries["BAD5"].reason
    assert entries["BAD1"].source.endswith(":7")


def test_ingest_refuses_unusable_files(tmp_path: Path, store: Store) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest_file(store, tmp_path / "missing.csv", dataset="inspection")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,value\na,1\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no 'action_number' column"):
        ingest_file(store, wrong, dataset="inspection")
    garbled = tmp_path / "garbled.csv"
    garbled.write_bytes("action_number,action_name\nA1,检查\n".encode() + b"A2,\x80\xff\n")
    with pytest.raises(IngestError, match=r"not UTF-8 .* nor GB18030"):
        ingest_file(store, garbled, dataset="inspection")


def test_cli_loads_several_files_each_as_the_dataset_it_is_named_after(tmp_path: Path) -> None:
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    jgnode("sample", "--region", "330106", "--out", str(tmp_path / "in"), "--inspections", "40")
    files = [str(tmp_path / "in" / f"{name}.csv") for name in ("regulated_object", "credit_grade", "penalty")]
    done = jgnode("ingest", "--no-progress", "-c", str(tmp_path / "n" / "node.toml"), *files, check=False)
    lines = [line for line in done.stdout.splitlines() if " rows: " in line]
    assert [line.split(":")[0] for line in lines] == files
    assert "0 quarantined" in lines[0]
    assert "0 quarantined" in lines[1]
    assert " 0 stored" in lines[2]  # penalties name inspections this node does not hold yet: quarantined
    assert done.returncode == 3
