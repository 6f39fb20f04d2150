"""Exchange benchmark (``make bench``): signed batches one hop and three tiers, plain text and mutual TLS.

Real node processes seal, sign, send, verify and persist N regulated-object
records (~300-byte payload) county -> city (one hop) and county -> city ->
province (three tiers). In one invocation, runs interleaved:

- plain text (``tls.insecure``, trust folder), Ed25519: the baseline; with it
  (a) a naive baseline on a subset: one unary RPC, one signature and one ORM
  insert (and commit) per record, and (b) the raw limit: plain sqlite3
  ``executemany`` of the same rows into the same table;
- mutual TLS with a PKI as the demo sets it up (root CA at the province, an
  intermediate CA at the city that certifies the county, CRLs), Ed25519;
- the same with SM2/SM3 at every node;
- the same with an SM2 county under an Ed25519 city and province (three tiers).

Every receiver verifies each batch fully. After each run the bench checks that
the last node holds exactly the county's records (count and order-independent
digest), that no node refused or quarantined anything, and verifies one
record's provenance there; a run that fails a check has no rate, and the bench
exits 1. Prints records/s landed at the last node (median of N runs, every run
listed), the ratio to the plain-text run of the same shape, peak RSS per node
and the targets. Absolute figures drift on shared machines; ratios between runs
of the same invocation are what to compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `make bench` runs this file as a script, which puts bench/ first on the path;
# the project root instead makes the bench's parts importable as `bench.*`.
if __name__ == "__main__" and not __package__:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import logging
import os
import shutil

from bench._baselines import naive_server, run_naive, run_raw
from bench._report import Results, report
from bench._tree import ROOT, SETUPS, SHAPES, BenchPki, County, Setup, prepare_county, run_chain

QUICK = {"records": 20_000, "repeat": 1, "naive": 500}
FULL = {"records": 200_000, "repeat": 3, "naive": 3_000}


def measure(folder: Path, county: County, setups: list[Setup], *, repeat: int) -> tuple[Results, list[float]]:
    """Every set-up and shape ``repeat`` times, interleaved (the order rotates each round), and the raw limit."""
    pki = BenchPki(folder / "pki")
    results: Results = {(s.name, size): [] for s in setups for size in s.shapes}
    raws = []
    for round_ in range(repeat):
        turn = round_ % len(setups)
        for setup in setups[turn:] + setups[:turn]:
            for size in setup.shapes:
                run_folder = folder / f"{setup.name}_{size}_{round_}"
                run = run_chain(run_folder, setup, size, county, pki)
                results[setup.name, size].append(run)
                outcome = "FAILED: " + "; ".join(run.problems) if run.problems else f"{run.rate:>9,.0f} records/s"
                print(f"run {round_ + 1}: {setup.label:<38} {SHAPES[size]:<12} {outcome}", flush=True)
                if not run.problems:  # keep the logs, drop the databases
                    for db in run_folder.glob("*/node.db*"):
                        db.unlink()
        raws.append(run_raw(folder / f"raw_{round_}", county.rows))
    return results, raws


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, help=f"records per run (default {FULL['records']:,})")
    parser.add_argument("--repeat", type=int, help=f"runs of each measurement; medians are reported ({FULL['repeat']})")
    parser.add_argument("--naive", type=int, help=f"records in the naive baseline subset (default {FULL['naive']:,})")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK['records']:,} records, one run each")
    parser.add_argument("--setups", default=",".join(SETUPS), help=f"comma-separated subset of {','.join(SETUPS)}")
    parser.add_argument("--dir", type=Path, default=ROOT / "bench-data", help="work folder (emptied first)")
    parser.add_argument("--naive-server", nargs=3, metavar=("PORT_FILE", "DB", "PUBKEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.records < 1 or args.repeat < 1 or args.naive < 2:
        parser.error("--records and --repeat must be at least 1, --naive at least 2")
    chosen = args.setups.split(",")
    if set(chosen) - set(SETUPS):
        parser.error(f"unknown set-up in --setups {args.setups}; choose from {', '.join(SETUPS)}")
    args.setups = [setup for name, setup in SETUPS.items() if name in chosen]
    return args


def main() -> int:
    args = parse_args()
    if args.naive_server:
        port_file, db, pub = (Path(a) for a in args.naive_server)
        naive_server(port_file, db, pub)
        return 0
    logging.getLogger("jgnode").setLevel(logging.ERROR)  # load_trust warns of development mode; the report says it
    if args.dir.exists():
        shutil.rmtree(args.dir)
    args.dir.mkdir(parents=True)
    print(
        f"jgnode exchange benchmark: {args.records:,} records, {os.cpu_count()} CPUs, {args.repeat} runs each; "
        + "; ".join(s.label for s in args.setups)
    )
    county = prepare_county(args.dir / "prepared", args.records)
    plain = any(s.name == "plain" for s in args.setups)
    naive = (run_naive(args.dir, county, args.naive), min(args.naive, county.count)) if plain else None
    results, raws = measure(args.dir, county, args.setups, repeat=args.repeat)
    report(results, args.setups, naive=naive, raws=raws)
    failed = sum(bool(r.problems) for runs in results.values() for r in runs)
    if failed:
        print(f"\nFAILED: {failed} runs did not land exactly the county's records, or a node refused some; see above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
