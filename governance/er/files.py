"""Reading record CSV files and writing the ``dedup`` and ``link`` outputs.

Input: a CSV file with a header row, UTF-8 (with or without BOM) or GB18030;
spaces after a comma are skipped. Outputs (stable; users script against them):

- clusters: header ``record_id,cluster_id``, one row per input record in input order;
- pairs: header ``left_id,right_id,probability``, one row per predicted match,
  probability with 6 decimals, highest first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from governance.er.config import ERConfig, ERConfigError

__all__ = ["CLUSTER_HEADER", "PAIR_HEADER", "read_records", "write_clusters", "write_pairs"]

CLUSTER_HEADER = ("record_id", "cluster_id")
PAIR_HEADER = ("left_id", "right_id", "probability")


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_records(path: Path, config: ERConfig) -> list[dict[str, str]]:
    """Rows of ``path`` as dicts; checks the header against ``config`` and that ids are present and unique."""
    reader = csv.DictReader(io.StringIO(_text(path), newline=""), skipinitialspace=True)
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    config.check_header(header, str(path))
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, 2):
        record_id = (row.get(config.id_column) or "").strip()
        if not record_id:
            raise ERConfigError(f"{path}: row {line} has no {config.id_column}")
        if record_id in seen:
            raise ERConfigError(f"{path}: row {line}: duplicate {config.id_column} {record_id!r}")
        seen.add(record_id)
        row[config.id_column] = record_id
        rows.append({key: value or "" for key, value in row.items() if key is not None})
    return rows


def write_clusters(path: Path, clusters: Iterable[tuple[str, str]]) -> None:
    """Write ``record_id,cluster_id`` rows."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CLUSTER_HEADER)
        writer.writerows(clusters)


def write_pairs(path: Path, pairs: Iterable[tuple[str, str, float]]) -> None:
    """Write ``left_id,right_id,probability`` rows."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(PAIR_HEADER)
        writer.writerows((left, right, f"{probability:.6f}") for left, right, probability in pairs)
