"""De-duplication of one record set and linking of two: blocking, Fellegi-Sunter scoring, clustering."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from governance.er.blocking import BlockingReport, Table, candidate_pairs, plan_passes
from governance.er.cluster import label_clusters
from governance.er.compare import Comparison, make_comparison
from governance.er.config import ERConfig
from governance.er.model import FellegiSunter, Pattern, fit, level_frequencies

__all__ = ["DedupResult", "LinkResult", "Match", "dedup", "link"]

_RANDOM_PAIRS = 20_000


@dataclass(frozen=True, slots=True)
class Match:
    """A predicted match: two record ids and the match probability."""

    left_id: str
    right_id: str
    probability: float


@dataclass(frozen=True, slots=True)
class LinkResult:
    """Matches (highest probability first), the fitted model and what blocking did."""

    matches: list[Match]
    model: FellegiSunter
    blocking: BlockingReport
    comparisons: list[Comparison]


@dataclass(frozen=True, slots=True)
class DedupResult(LinkResult):
    """A :class:`LinkResult` within one record set, plus ``(record_id, cluster_id)`` per record in input order."""

    clusters: list[tuple[str, str]]


def dedup(records: Sequence[Mapping[str, str]], config: ERConfig, *, seed: int = 0) -> DedupResult:
    """Find the records of ``records`` that describe the same entity and cluster them.

    Matches are the candidate pairs whose probability reaches ``config.threshold``;
    clusters are their connected components.
    """
    comparisons = [make_comparison(spec) for spec in config.compare]
    table = _table(records, config, comparisons)
    matches, model, report = _score([table], config, comparisons, seed)
    index = {record_id: n for n, record_id in enumerate(table.ids)}
    clusters = label_clusters(table.ids, ((index[m.left_id], index[m.right_id]) for m in matches))
    return DedupResult(matches=matches, model=model, blocking=report, comparisons=comparisons, clusters=clusters)


def link(
    left: Sequence[Mapping[str, str]],
    right: Sequence[Mapping[str, str]],
    config: ERConfig,
    *,
    seed: int = 0,
    model: FellegiSunter | None = None,
) -> LinkResult:
    """Pairs of a left and a right record that describe the same entity (every pair over the threshold).

    ``model`` scores with given parameters instead of estimating them (for inputs too small for EM).
    """
    comparisons = [make_comparison(spec) for spec in config.compare]
    tables = [_table(left, config, comparisons), _table(right, config, comparisons)]
    matches, model, report = _score(tables, config, comparisons, seed, model)
    return LinkResult(matches=matches, model=model, blocking=report, comparisons=comparisons)


def _table(records: Sequence[Mapping[str, str]], config: ERConfig, comparisons: list[Comparison]) -> Table:
    columns = config.required_columns()
    raw = {column: [record.get(column) or "" for record in records] for column in columns}
    prepared = [[c.prepare(value) for value in raw[c.column]] for c in comparisons]
    return Table(ids=raw[config.id_column], raw=raw, prepared=prepared)


def _patterns(
    comparisons: list[Comparison], left: Table, right: Table, pairs: Sequence[tuple[int, int]]
) -> list[Pattern]:
    columns = list(zip(comparisons, left.prepared, right.prepared, strict=True))
    out: list[Pattern] = []
    for i, j in pairs:
        levels = []
        for comparison, lefts, rights in columns:
            a, b = lefts[i], rights[j]
            levels.append(0 if a is None or b is None else comparison.level(a, b))
        out.append(tuple(levels))
    return out


def _random_pairs(left: Table, right: Table, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    if len(left) < 2 or len(right) < 2:
        return []
    pairs = [(rng.randrange(len(left)), rng.randrange(len(right))) for _ in range(_RANDOM_PAIRS)]
    return [(i, j) for i, j in pairs if left is not right or i != j]


def _score(
    tables: list[Table], config: ERConfig, comparisons: list[Comparison], seed: int, given: FellegiSunter | None = None
) -> tuple[list[Match], FellegiSunter, BlockingReport]:
    left, right = tables[0], tables[-1]
    passes = plan_passes(config, comparisons, tables)
    pairs, report = candidate_pairs(passes, tables, max_block_size=config.max_block_size, max_pairs=config.max_pairs)
    patterns = _patterns(comparisons, left, right, pairs)
    sizes = [len(c.levels) for c in comparisons]
    if given is not None:
        model = given
    else:
        background = Counter(_patterns(comparisons, left, right, _random_pairs(left, right, seed)))
        model = fit(Counter(patterns), sizes, u_start=level_frequencies(background, sizes) if background else None)
    matches = [
        Match(left.ids[i], right.ids[j], probability)
        for (i, j), pattern in zip(pairs, patterns, strict=True)
        if (probability := model.probability(pattern)) >= config.threshold
    ]
    matches.sort(key=lambda m: (-m.probability, m.left_id, m.right_id))
    return matches, model, report
