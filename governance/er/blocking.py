"""Blocking: which record pairs are compared at all.

A pass gives every record zero or more keys; records sharing a key in one pass
form a block, and every pair inside a block (for linking: every left-right pair)
is a candidate. Candidates are the union over passes.

With ``[[block]]`` rules, each rule is one pass whose key is the normalised
values of its columns (a record with an empty one is not blocked by that rule).
Without rules, the engine uses these passes:

- ``name`` columns: the core name; its sorted characters (CJK) or sorted words
  (Latin), which catches swapped characters; its first two (CJK) or three
  (Latin) characters; and its two rarest character bigrams (document frequency
  over all records), which catches a typo anywhere else;
- ``code``, ``date``, ``exact`` and ``number`` columns: the normalised value;
- ``address`` and ``text`` columns: the normalised value.

Bounds: a block with more than ``max_block_size`` records (on either side when
linking) is skipped, and counted in the report, since a value shared by that
many records (a province, a common word) does not discriminate; and candidate
generation stops at ``max_pairs`` pairs (the report says it was truncated).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from governance.er.compare import Comparison
from governance.er.config import ERConfig
from governance.er.normalise import has_cjk, normalise_text

__all__ = ["BlockingPass", "BlockingReport", "PassReport", "Table", "candidate_pairs", "plan_passes"]

_RARE_BIGRAMS: Final = 2


@dataclass(frozen=True, slots=True)
class Table:
    """Records of one input file, column-major.

    Attributes:
        ids: record ids, in file order.
        raw: every column's cells, by column name.
        prepared: each comparison's prepared values, in ``[[compare]]`` order.
    """

    ids: list[str]
    raw: dict[str, list[str]]
    prepared: list[list[object | None]]

    def __len__(self) -> int:
        return len(self.ids)


KeyFunction = Callable[[Table], list[list[str]]]
"""Keys per record of a table, for one pass."""


@dataclass(frozen=True, slots=True)
class BlockingPass:
    """One blocking pass: a name for reports and the keys of each record."""

    name: str
    keys: KeyFunction


@dataclass(slots=True)
class PassReport:
    """What one pass contributed."""

    name: str
    new_pairs: int = 0
    blocks: int = 0
    skipped_blocks: int = 0
    skipped_records: int = 0


@dataclass(slots=True)
class BlockingReport:
    """Candidate pairs per pass, skipped oversized blocks, and whether ``max_pairs`` cut generation short."""

    passes: list[PassReport] = field(default_factory=list)
    total_pairs: int = 0
    truncated: bool = False

    def lines(self) -> list[str]:
        """One human-readable line per pass, then the total."""
        out = [
            f"{p.name}: {p.new_pairs} new pairs from {p.blocks} blocks"
            + (
                f", {p.skipped_blocks} oversized blocks ({p.skipped_records} records) skipped"
                if p.skipped_blocks
                else ""
            )
            for p in self.passes
        ]
        out.append(f"candidate pairs: {self.total_pairs}" + (" (truncated at max_pairs)" if self.truncated else ""))
        return out


def _column_keys(comparisons: Sequence[Comparison], column: str) -> KeyFunction:
    position = next((i for i, c in enumerate(comparisons) if c.column == column), None)

    def keys(table: Table) -> list[list[str]]:
        if position is None:
            return [[value] if (value := normalise_text(raw)) else [] for raw in table.raw[column]]
        comparison = comparisons[position]
        return [[comparison.block_key(value)] if value is not None else [] for value in table.prepared[position]]

    return keys


def _rule_keys(parts: list[KeyFunction]) -> KeyFunction:
    def keys(table: Table) -> list[list[str]]:
        columns = [part(table) for part in parts]
        return [["\x1f".join(k[0] for k in row)] if all(row) else [] for row in zip(*columns, strict=True)]

    return keys


def _derived(base: KeyFunction, derive: Callable[[str], list[str]]) -> KeyFunction:
    def keys(table: Table) -> list[list[str]]:
        return [[new for key in row for new in derive(key) if new] for row in base(table)]

    return keys


def _sorted_parts(core: str) -> list[str]:
    return ["".join(sorted(core)) if has_cjk(core) else " ".join(sorted(core.split()))]


def _prefix(core: str) -> list[str]:
    size = 2 if has_cjk(core) else 3
    return [core[:size]] if len(core) >= size else []


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _rare_bigrams(base: KeyFunction, tables: Sequence[Table]) -> KeyFunction:
    frequency: Counter[str] = Counter()
    for table in tables:
        for row in base(table):
            for key in row:
                frequency.update(_bigrams(key))

    def rarest(core: str) -> list[str]:
        return sorted(_bigrams(core), key=lambda gram: (frequency[gram], gram))[:_RARE_BIGRAMS]

    return _derived(base, rarest)


def plan_passes(config: ERConfig, comparisons: Sequence[Comparison], tables: Sequence[Table]) -> list[BlockingPass]:
    """The configured ``[[block]]`` passes, or the engine's own when there are none."""
    if config.block:
        return [
            BlockingPass(rule.name, _rule_keys([_column_keys(comparisons, column) for column in rule.columns]))
            for rule in config.block
        ]
    passes: list[BlockingPass] = []
    for comparison in comparisons:
        kind = config.compare[comparisons.index(comparison)].kind
        base = _column_keys(comparisons, comparison.column)
        passes.append(BlockingPass(f"{comparison.column} ({kind})", base))
        if kind == "name":
            passes += [
                BlockingPass(f"{comparison.column} sorted", _derived(base, _sorted_parts)),
                BlockingPass(f"{comparison.column} prefix", _derived(base, _prefix)),
                BlockingPass(f"{comparison.column} rare bigrams", _rare_bigrams(base, tables)),
            ]
    return passes


def candidate_pairs(
    passes: Sequence[BlockingPass], tables: Sequence[Table], *, max_block_size: int, max_pairs: int
) -> tuple[list[tuple[int, int]], BlockingReport]:
    """Candidate pairs ``(i, j)``: with one table ``i < j`` within it; with two, ``i`` left and ``j`` right."""
    width = len(tables[-1])
    seen: set[int] = set()
    report = BlockingReport()
    for blocking_pass in passes:
        part = PassReport(blocking_pass.name)
        report.passes.append(part)
        indexes = [_index(blocking_pass.keys(table)) for table in tables]
        for key, left in indexes[0].items():
            right = indexes[-1].get(key, []) if len(tables) > 1 else left
            if not right or (len(tables) == 1 and len(left) < 2):
                continue
            if max(len(left), len(right)) > max_block_size:
                part.skipped_blocks += 1
                part.skipped_records += len(left) + (len(right) if len(tables) > 1 else 0)
                continue
            part.blocks += 1
            before = len(seen)
            if len(tables) == 1:
                seen.update(a * width + b for n, a in enumerate(left) for b in left[n + 1 :])
            else:
                seen.update(a * width + b for a in left for b in right)
            part.new_pairs += len(seen) - before
            if len(seen) >= max_pairs:
                report.truncated = True
                break
        if report.truncated:
            break
    pairs = sorted(divmod(code, width) for code in seen)[:max_pairs]
    report.total_pairs = len(pairs)
    return pairs, report


def _index(keys: list[list[str]]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for position, row in enumerate(keys):
        for key in dict.fromkeys(row):
            index[key].append(position)
    return index
