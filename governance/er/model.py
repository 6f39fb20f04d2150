"""The Fellegi-Sunter model with m and u probabilities estimated by EM.

A candidate pair is summarised by its comparison vector (one level per compared
column). Under the model, columns are independent given the match status, so

    P(match | vector) = λ·Πm / (λ·Πm + (1-λ)·Πu)

where ``m[k][l]`` (``u[k][l]``) is the probability that column ``k`` is at level
``l`` for a matching (non-matching) pair and ``λ`` the share of matches among
candidate pairs. Level 0 ("null") has ``m = u = 1``: a missing value is no
evidence either way.

Estimation: ``u`` starts from the level frequencies of random record pairs
(nearly all non-matches), ``m`` from a fixed prior that favours the top levels,
``λ`` from the share of candidates agreeing at the top level on at least two
thirds of their non-null columns. EM then runs on the distinct comparison
vectors weighted by their counts (cheap: a few hundred distinct vectors even
for millions of pairs) until no parameter moves by more than ``tolerance``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["FellegiSunter", "fit", "level_frequencies"]

Pattern = tuple[int, ...]
_FLOOR = 1e-6


@dataclass(slots=True)
class FellegiSunter:
    """Fitted parameters.

    Attributes:
        m: per column, per level: P(level | match); index 0 (null) is unused.
        u: per column, per level: P(level | non-match).
        prior: λ, the share of matches among candidate pairs.
        iterations: EM iterations run.
        converged: whether EM stopped because the parameters settled.
    """

    m: list[list[float]]
    u: list[list[float]]
    prior: float
    iterations: int = 0
    converged: bool = False
    _cache: dict[Pattern, float] = field(default_factory=dict, repr=False)

    def match_weight(self, pattern: Pattern) -> float:
        """log2 of the Bayes factor of a comparison vector (prior excluded)."""
        return sum(math.log2(self.m[k][level] / self.u[k][level]) for k, level in enumerate(pattern) if level != 0)

    def probability(self, pattern: Pattern) -> float:
        """P(match | comparison vector)."""
        cached = self._cache.get(pattern)
        if cached is None:
            log_odds = self.match_weight(pattern) + math.log2(self.prior / (1 - self.prior))
            cached = 1 / (1 + 2 ** (-log_odds)) if log_odds > -1000 else 0.0
            self._cache[pattern] = cached
        return cached


def level_frequencies(patterns: Mapping[Pattern, int], sizes: Sequence[int]) -> list[list[float]]:
    """Per column, the share of each non-null level among pairs where the column is non-null (smoothed)."""
    counts = [[0.0] * size for size in sizes]
    for pattern, count in patterns.items():
        for k, level in enumerate(pattern):
            counts[k][level] += count
    return [_normalised(row) for row in counts]


def _normalised(row: list[float]) -> list[float]:
    row = [0.0, *(max(value, 0.0) for value in row[1:])]
    total = sum(row)
    if total <= 0:
        return [1.0] + [1.0 / (len(row) - 1)] * (len(row) - 1)
    row = [0.0, *(max(value / total, _FLOOR) for value in row[1:])]
    total = sum(row)
    return [1.0] + [value / total for value in row[1:]]


def _initial_m(sizes: Sequence[int]) -> list[list[float]]:
    # the top level holds most of the mass, then halves per level; "else" stays small
    return [_normalised([0.0, *(2.0 ** (-3 * level) for level in range(size - 1))]) for size in sizes]


def _initial_prior(patterns: Mapping[Pattern, int]) -> float:
    total = sum(patterns.values())
    agreeing = sum(
        count
        for pattern, count in patterns.items()
        if (known := [level for level in pattern if level]) and 3 * sum(level == 1 for level in known) >= 2 * len(known)
    )
    return min(max(agreeing / total if total else 0.01, 1e-4), 0.5)


def _largest_change(new: list[list[float]], old: list[list[float]]) -> float:
    return max(abs(a - b) for x, y in zip(new, old, strict=True) for a, b in zip(x, y, strict=True))


def fit(
    patterns: Mapping[Pattern, int],
    sizes: Sequence[int],
    *,
    u_start: list[list[float]] | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
) -> FellegiSunter:
    """Estimate m, u and λ by EM from comparison-vector counts.

    Args:
        patterns: how many candidate pairs have each comparison vector.
        sizes: number of levels (including null) of each column.
        u_start: starting u, e.g. :func:`level_frequencies` of random pairs; else the candidates' frequencies.
        max_iterations: upper bound on EM iterations.
        tolerance: stop once no parameter changes by more than this.
    """
    model = FellegiSunter(
        m=_initial_m(sizes),
        u=[list(row) for row in u_start] if u_start else level_frequencies(patterns, sizes),
        prior=_initial_prior(patterns),
    )
    items = list(patterns.items())
    total = sum(patterns.values())
    if not items:
        return model
    for iteration in range(1, max_iterations + 1):
        model._cache.clear()
        posterior = {pattern: model.probability(pattern) for pattern, _ in items}
        matched = Counter({p: c * posterior[p] for p, c in items})
        unmatched = Counter({p: c * (1 - posterior[p]) for p, c in items})
        m, u = level_frequencies(matched, sizes), level_frequencies(unmatched, sizes)
        prior = min(max(sum(matched.values()) / total, _FLOOR), 1 - _FLOOR)
        change = max(abs(prior - model.prior), _largest_change(m, model.m), _largest_change(u, model.u))
        model.m, model.u, model.prior, model.iterations = m, u, prior, iteration
        if change < tolerance:
            model.converged = True
            break
    model._cache.clear()
    return model
