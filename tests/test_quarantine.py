"""Quarantine: bad rows kept whole with every finding, fixed and replayed by an operator; nothing lost or doubled.

The intake invariant (``node.store._quarantine``): received = accepted +
duplicates + quarantined + dismissed, and the counters agree with the
quarantine table.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from node.settings import load_settings
from node.store import IntakeCounters, Store
from node.store._schema import INTAKE_COUNTER, QUARANTINE
from tests.harness import Processes, jgnode, status_json

GOOD_INSPECTORS = "张三|33010620150012;李四|33010620160034"


def _totals(store: Store, dataset: str = "inspection") -> tuple[int, int, int, int, int]:
    rows = [c for c in store.intake_counters() if c.dataset == dataset]
    return (
        sum(c.received for c in rows),
        sum(c.accepted for c in rows),
        sum(c.duplicates for c in rows),
        sum(c.quarantined for c in rows),
        sum(c.dismissed for c in rows),
    )


def _assert_invariant(store: Store) -> None:
    received, accepted, duplicates, quarantined, dismissed = _totals(store)
    assert received == accepted + duplicates + quarantined + dismissed
    assert store.intake_check() == []


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    """An insecure development node (its database is all these tests need) and a corrupted sample file.

    Rows (1-based data rows): 4 has a bad date; 6 has a bad region code AND
    one inspector (two findings); 8 has an unreadable instant; the last row
    repeats row 1 exactly.
    """
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    jgnode("sample", "--region", "330106", "--out", str(tmp_path / "in"), "--inspections", "40")
    with (tmp_path / "in" / "inspection.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[3]["action_date"] = "2023-13-45"
    rows[5] |= {"region_code": "33X", "inspectors": "张三|1"}
    rows[7]["submitted_at"] = "yesterday"
    with (tmp_path / "bad.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, rows[0]])
    return tmp_path


@pytest.fixture
def store(node_dir: Path) -> Iterator[Store]:
    """The node's store, opened beside the CLI processes as an operator's tools would."""
    settings = load_settings(node_dir / "n" / "node.toml")
    s = Store.open(settings.db_url, settings.node_id)
    yield s
    s.close()


def _q(node_dir: Path, *args: str, check: bool = True) -> str:
    done = jgnode("quarantine", *args, "-c", str(node_dir / "n" / "node.toml"), check=check)
    return done.stdout + done.stderr


def _ingest(node_dir: Path) -> str:
    done = jgnode(
        "ingest", "-c", str(node_dir / "n" / "node.toml"), "--no-progress", str(node_dir / "bad.csv"), check=False
    )
    assert done.returncode == 3, done.stderr
    return done.stdout


def _ids(store: Store) -> dict[str, int]:
    return {json.loads(e.raw)["action_number"]: e.id for e in store.quarantined(kind="ingest_row")}


def test_ingest_counts_every_row_and_keeps_all_findings(node_dir: Path, store: Store) -> None:
    assert "41 rows: 37 stored (seq 1..37), 1 unchanged duplicates, 3 quarantined" in _ingest(node_dir)
    assert _totals(store) == (41, 37, 1, 3, 0)
    _assert_invariant(store)
    (two,) = [e for e in store.quarantined() if "33X" in e.reason]
    assert two.state == "open"
    assert len(two.findings) == 2
    assert "region code '33X' is not 6 digits" in two.findings
    assert any("at least two inspectors" in f for f in two.findings)
    assert two.reason == "; ".join(two.findings)
    assert two.source.endswith("bad.csv:7")

    listing = _q(node_dir, "list", "--state", "open")
    assert listing.count("ingest_row") == 3
    assert "2023-13-45" in listing
    assert "no quarantine entries match" in _q(node_dir, "list", "--state", "replayed")
    assert _q(node_dir, "list", "--last", "1").count("ingest_row") == 1
    shown = _q(node_dir, "show", str(two.id))
    assert "- region code '33X' is not 6 digits" in shown
    assert '"inspectors": "张三|1"' in shown  # the raw row, pretty-printed as JSON
    counters = _q(node_dir, "counters")
    assert "bad.csv" in counters
    assert ": holds" in counters


def test_fix_and_replay_move_a_row_from_quarantined_to_accepted(node_dir: Path, store: Store) -> None:
    _ingest(node_dir)
    ids = _ids(store)
    (bad_region,) = [i for number, i in ids.items() if "33X" in store.quarantined(ids=[i])[0].reason]
    held_before = store.set_digest(dataset="inspection")[0]
    unsealed_before = store.outbox_backlog().unsealed_records

    half = _q(node_dir, "fix", str(bad_region), "--set", "region_code=330106", check=False)
    assert "still wrong" in half
    assert "at least two inspectors" in half
    assert "33X" not in half
    assert store.quarantined(ids=[bad_region])[0].state == "open"
    done = _q(node_dir, "fix", str(bad_region), "--set", f"inspectors={GOOD_INSPECTORS}")
    assert "passes validation now" in done
    assert store.quarantined(ids=[bad_region])[0].state == "fixed"
    _assert_invariant(store)  # a fix changes the row, not the counters

    replayed = _q(node_dir, "replay", str(bad_region))
    assert f"{bad_region}: stored as 330106/inspection seq 38" in replayed
    entry = store.quarantined(ids=[bad_region])[0]
    assert (entry.state, entry.outcome) == ("replayed", "stored as 330106/inspection seq 38")
    assert store.set_digest(dataset="inspection")[0] == held_before + 1
    assert store.outbox_backlog().unsealed_records == unsealed_before + 1  # on its way to the parent
    assert _totals(store) == (41, 38, 1, 2, 0)
    _assert_invariant(store)
    assert [e.subject for e in store.audit_entries(kind="replayed")] == [f"quarantine {bad_region}"]
    assert [e.subject for e in store.audit_entries(kind="quarantine_fixed")] == [f"quarantine {bad_region}"] * 2

    again = _q(node_dir, "replay", str(bad_region), check=False)
    assert f"quarantine entry {bad_region} is replayed" in again
    assert store.set_digest(dataset="inspection")[0] == held_before + 1  # replaying twice stores once
    assert _totals(store) == (41, 38, 1, 2, 0)


def test_replay_of_a_still_bad_row_keeps_it_with_the_new_reason(node_dir: Path, store: Store) -> None:
    _ingest(node_dir)
    (bad_date,) = [e.id for e in store.quarantined() if "2023-13-45" in e.reason]
    # the operator's fix is itself wrong: the row stays quarantined with what is wrong now
    fixed_wrong = _q(node_dir, "fix", str(bad_date), "--set", "action_date=2023-02-30", check=False)
    assert "'2023-02-30' is not a date" in fixed_wrong
    out = jgnode("quarantine", "replay", "--all", "-c", str(node_dir / "n" / "node.toml"), check=False)
    assert out.returncode == 3
    assert "3 replayed: 0 left quarantine, 3 still quarantined" in out.stdout
    entry = store.quarantined(ids=[bad_date])[0]
    assert entry.state == "open"
    assert "'2023-02-30' is not a date" in entry.reason
    assert "2023-13-45" not in entry.reason
    assert entry.outcome == "replay refused"
    assert _totals(store) == (41, 37, 1, 3, 0)
    _assert_invariant(store)


def test_dismiss_and_reingest_keep_the_invariant(node_dir: Path, store: Store) -> None:
    _ingest(node_dir)
    (instant,) = [e.id for e in store.quarantined() if "yesterday" in e.reason]
    assert "say why" not in _q(node_dir, "dismiss", str(instant), "--reason", "source system resends it")
    assert store.quarantined(ids=[instant])[0].outcome == "dismissed: source system resends it"
    assert _totals(store) == (41, 37, 1, 2, 1)
    _assert_invariant(store)
    assert "is dismissed" in _q(node_dir, "replay", str(instant), check=False)

    _ingest(node_dir)  # the same file again: every good row is an exact duplicate, the bad ones come back
    assert _totals(store) == (82, 37, 39, 5, 1)
    _assert_invariant(store)


def test_the_invariant_check_sees_counters_and_table_disagree(node_dir: Path, store: Store) -> None:
    _ingest(node_dir)
    _assert_invariant(store)
    with store.write() as conn:
        conn.execute(delete(QUARANTINE).where(QUARANTINE.c.id == 1))
    problems = store.intake_check()
    assert problems == ["inspection: quarantined counter 3 but the quarantine table holds 2"]
    counters = jgnode("quarantine", "counters", "-c", str(node_dir / "n" / "node.toml"), check=False)
    assert counters.returncode == 1
    assert "BROKEN" in counters.stdout
    with store.write() as conn:
        conn.execute(INTAKE_COUNTER.update().values(accepted=INTAKE_COUNTER.c.accepted + 1))
    assert any("received 41 != accepted 38" in p for p in store.intake_check())


def test_batches_from_children_are_listed_but_not_replayed(node_dir: Path, store: Store) -> None:
    store.quarantine(
        kind="batch",
        source="330106-x",
        dataset="inspection",
        reason="PERMISSION_DENIED: bad",
        raw=b"\x01\x02",
        now_us=1,
    )
    (entry,) = store.quarantined(kind="batch")
    assert entry.findings == ("PERMISSION_DENIED: bad",)
    assert "330106-x" in _q(node_dir, "list", "--kind", "batch")
    assert "2 bytes: 0102" in _q(node_dir, "show", str(entry.id))
    refused = _q(node_dir, "replay", str(entry.id), check=False)
    assert "only ingest rows are fixed and replayed" in refused
    _q(node_dir, "dismiss", str(entry.id), "--reason", "child fixed and resent")
    assert store.quarantined(ids=[entry.id])[0].state == "dismissed"
    assert store.intake_counters() == []  # batches are not intake rows
    _assert_invariant(store)


def test_schema_3_database_is_upgraded_with_its_quarantine_counted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store.open(url, "330106")
    store.quarantine(kind="ingest_row", source="a.csv:2", dataset="penalty", reason="x", raw=b"{}", now_us=1)
    with store.write() as conn:  # back to how schema 3 stored it
        for column in ("findings", "state", "outcome", "updated_at_us"):
            conn.exec_driver_sql(f"ALTER TABLE quarantine DROP COLUMN {column}")
        conn.execute(delete(INTAKE_COUNTER))
        conn.execute(text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))
    store.close()
    store = Store.open(url, "330106")
    try:
        (entry,) = store.quarantined()
        assert (entry.state, entry.findings) == ("open", ())
        assert store.intake_counters() == [IntakeCounters("penalty", "a.csv", 1, 0, 0, 1, 0)]
        _assert_invariant(store)
    finally:
        store.close()


def test_status_of_a_running_node_shows_the_intake(node_dir: Path, procs: Processes) -> None:
    _ingest(node_dir)
    config = node_dir / "n" / "node.toml"
    procs.run("county", config)
    data = status_json(config)
    assert data["intake_balanced"] is True
    assert data["intake"] == [
        {"dataset": "inspection", "received": "41", "accepted": "37", "duplicates": "1", "quarantined": "3"}
    ]
    text_out = jgnode("status", "-c", str(config)).stdout
    assert "received = accepted + duplicates + quarantined + dismissed: holds" in text_out
