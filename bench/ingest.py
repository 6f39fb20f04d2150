"""Ingest benchmark (``make bench``): CSV rows through cleaning, validation and storage, against a naive baseline.

N generated inspection rows (default 1,000,000) are written as a CSV file and
ingested by ``node.ingest.ingest_file`` into a fresh SQLite store in this one
process, exactly as ``jgnode ingest FILE`` does: decode (UTF-8 or GB18030),
parse, clean every column by the dataset's default cleaning
(``adapters.csv_cleaning``: width, whitespace, names, codes, dates, enumeration
codes; findings kept per row), validate (codes, dates, cross-field rules),
encode, store with sequence numbers and the outbox, fill the thematic table,
audit. Chunks commit in a second thread of the process while the next chunk is
read (``node._ingest_run.CommitThread``). In the same run a baseline reads a
subset of the same file, validates each row with a plain pydantic model and
inserts it with the ORM (SQLModel, one commit per 1,000 rows). Prints rows/s
for both, the ratio, and the issue-4 target (>= 50,000 rows/s).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

if __name__ == "__main__" and not __package__:  # `make bench` runs this file as a script
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from pydantic import BaseModel, field_validator
from sqlmodel import Field, Session, SQLModel, create_engine

from adapters.csv_records import write_records
from adapters.sample_data import SampleGenerator
from governance.codes import check_region_code, check_uscc
from node.ingest import ingest_file
from node.store import Store

ROOT = Path(__file__).resolve().parent.parent
TARGET_ROWS_PER_S = 50_000


def write_csv(path: Path, rows: int) -> None:
    """``rows`` inspections of one county, as `jgnode sample` writes them."""
    generator = SampleGenerator(2026, "330106")
    objects = generator.enterprises(min(2_000, max(rows // 50, 10)))
    write_records(path, generator.inspections(rows, objects=objects))


# -- the naive baseline ------------------------------------------------------------------------


class InspectionIn(BaseModel):
    """What a plain pydantic model of the CSV row checks: types, the key codes, the date."""

    action_number: str
    action_name: str
    action_date: str
    matter_code: str
    region_code: str
    agency_credit_code: str
    counterparty_cert_number: str = ""

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        if not check_region_code(value, dt.date.today()).ok:
            raise ValueError("bad region code")
        return value

    @field_validator("agency_credit_code")
    @classmethod
    def _agency(cls, value: str) -> str:
        if not check_uscc(value).ok:
            raise ValueError("bad credit code")
        return value


class InspectionOrm(SQLModel, table=True):
    """One row per inspection, the ORM way."""

    __tablename__ = "naive_inspection"
    id: int | None = Field(default=None, primary_key=True)
    action_number: str = Field(index=True, unique=True)
    action_name: str
    action_date: str
    matter_code: str
    region_code: str
    agency_credit_code: str
    counterparty_cert_number: str


def run_naive(csv_path: Path, db_path: Path, limit: int) -> tuple[int, float]:
    """Validate each row with pydantic and insert it with the ORM; (rows, seconds)."""
    engine = create_engine(f"sqlite:///{db_path}")
    SQLModel.metadata.create_all(engine, tables=[InspectionOrm.__table__])  # type: ignore[attr-defined]
    started = time.perf_counter()
    done = 0
    with csv_path.open(encoding="utf-8-sig", newline="") as handle, Session(engine) as session:
        for row in csv.DictReader(handle):
            item = InspectionIn.model_validate(row)
            session.add(InspectionOrm(**item.model_dump()))
            done += 1
            if done % 1000 == 0:
                session.commit()
            if done >= limit:
                break
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return done, elapsed


def run_jgnode(csv_path: Path, db_path: Path) -> tuple[int, int, float]:
    """The node's ingest; (rows, stored, seconds)."""
    store = Store.open(f"sqlite:///{db_path}", "330106")
    try:
        started = time.perf_counter()
        report = ingest_file(store, csv_path, dataset="inspection")
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    return report.rows, report.stored, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the file (default 1,000,000)")
    parser.add_argument("--naive", type=int, default=20_000, help="rows of the naive baseline (default 20,000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50,000 rows, 5,000 naive")
    parser.add_argument("--dir", type=Path, default=ROOT / "bench-data" / "ingest")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.naive = 50_000, 5_000
    if args.dir.exists():
        shutil.rmtree(args.dir)
    args.dir.mkdir(parents=True)
    csv_path = args.dir / "inspection.csv"
    started = time.perf_counter()
    write_csv(csv_path, args.rows)
    print(
        f"ingest benchmark: {args.rows:,} inspection rows, {csv_path.stat().st_size / 1e6:,.0f} MB CSV "
        f"(generated in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    naive_rows, naive_s = run_naive(csv_path, args.dir / "naive.db", args.naive)
    naive_rate = naive_rows / naive_s
    print(f"naive baseline (pydantic per row, ORM insert): {naive_rows:,} rows, {naive_s:.1f} s = {naive_rate:,.0f}/s")
    rows, stored, seconds = run_jgnode(csv_path, args.dir / "node.db")
    rate = rows / seconds
    stages = "clean, validate, encode, store, outbox, thematic table, audit"
    print(f"jgnode ingest ({stages}): {rows:,} rows in {seconds:.1f} s")
    if stored != rows:
        print(f"FAILED: {rows - stored:,} rows were not stored (quarantined or duplicates) in generated clean data")
        return 1
    verdict = "meets target" if rate >= TARGET_ROWS_PER_S else "MISSES TARGET"
    print(f"  rows/s {rate:>12,.0f}   target >= {TARGET_ROWS_PER_S:,}   {verdict}")
    print(f"  ratio to the naive baseline {rate / naive_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
