"""``jgnode dedup`` and ``jgnode link``: entity resolution on a user's own CSV files.

- ``jgnode dedup FILE.csv --config ER.toml --out CLUSTERS.csv`` writes
  ``record_id,cluster_id``: every input record once, in input order; a cluster's
  id is the id of its first record in the file (a singleton's is its own).
- ``jgnode link LEFT.csv RIGHT.csv --config ER.toml --out PAIRS.csv`` writes
  ``left_id,right_id,probability``: one row per predicted match, highest first.

The ``ER.toml`` format is documented in ``governance/er/README.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from governance.er import (
    ERConfig,
    ERConfigError,
    LinkResult,
    dedup,
    link,
    load_config,
    read_records,
    write_clusters,
    write_pairs,
)
from node.cli import require_file
from node.errors import ConfigError

__all__ = ["dedup_command", "link_command"]


def _config(path: Path) -> ERConfig:
    try:
        return load_config(require_file(path, "ER config"))
    except ERConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _records(path: Path, config: ERConfig) -> list[dict[str, str]]:
    try:
        return read_records(require_file(path, "input file"), config)
    except ERConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _summary(result: LinkResult) -> None:
    for line in result.blocking.lines():
        print(f"  blocking {line}")
    model = result.model
    state = "converged" if model.converged else "not converged"
    print(f"  model: EM {state} after {model.iterations} iterations, prior match share {model.prior:.4g}")


def dedup_command(args: argparse.Namespace) -> int:
    """Run ``jgnode dedup``."""
    config = _config(args.config)
    records = _records(args.file, config)
    result = dedup(records, config)
    write_clusters(args.out, result.clusters)
    clusters = len({cluster for _, cluster in result.clusters})
    print(f"{len(records)} records, {len(result.matches)} matched pairs, {clusters} clusters -> {args.out}")
    _summary(result)
    return 0


def link_command(args: argparse.Namespace) -> int:
    """Run ``jgnode link``."""
    config = _config(args.config)
    left, right = _records(args.left, config), _records(args.right, config)
    result = link(left, right, config)
    write_pairs(args.out, ((m.left_id, m.right_id, m.probability) for m in result.matches))
    print(f"{len(left)} x {len(right)} records, {len(result.matches)} predicted matches -> {args.out}")
    _summary(result)
    return 0
