"""The ``ER.toml`` file that configures de-duplication and linking.

Format (stable; users script against it)::

    id_column = "rec_id"        # required: the column holding each record's id
    threshold = 0.9             # optional: match probability a pair needs (0 < t < 1)
    max_pairs = 5000000         # optional: cap on candidate pairs over all blocking passes
    max_block_size = 100        # optional: blocks with more records are skipped (and reported)

    [[compare]]                 # required, repeatable: one per compared column
    column = "name"
    kind = "name"               # exact | name | text | address | date | number | code

    [[block]]                   # optional, repeatable: candidate pairs agree on all these columns
    columns = ["region_code"]

Without ``[[block]]`` tables the engine chooses its own passes (see
:mod:`governance.er.blocking`). Every mistake is reported as one line by
:class:`ERConfigError`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, cast, get_args

__all__ = [
    "KINDS",
    "BlockRule",
    "CompareKind",
    "CompareSpec",
    "ERConfig",
    "ERConfigError",
    "load_config",
    "parse_config",
]

CompareKind = Literal["exact", "name", "text", "address", "date", "number", "code"]
KINDS: Final[tuple[str, ...]] = get_args(CompareKind)
_TOP_KEYS: Final = frozenset({"id_column", "threshold", "max_pairs", "max_block_size", "compare", "block"})


class ERConfigError(ValueError):
    """The ER configuration, or the files it is applied to, do not fit together."""


@dataclass(frozen=True, slots=True)
class CompareSpec:
    """One compared column and how its values are compared."""

    column: str
    kind: CompareKind


@dataclass(frozen=True, slots=True)
class BlockRule:
    """Candidate pairs must agree (after normalisation) on every one of ``columns``."""

    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        """A readable label for reports."""
        return "+".join(self.columns)


@dataclass(frozen=True, slots=True)
class ERConfig:
    """A validated ``ER.toml``."""

    id_column: str
    compare: tuple[CompareSpec, ...]
    block: tuple[BlockRule, ...] = ()
    threshold: float = 0.9
    max_pairs: int = 5_000_000
    max_block_size: int = 100

    def required_columns(self) -> list[str]:
        """Every column the data files must have, in first-mention order."""
        names = [self.id_column, *(spec.column for spec in self.compare)]
        names += [column for rule in self.block for column in rule.columns]
        return list(dict.fromkeys(names))

    def check_header(self, header: Iterable[str], file: str) -> None:
        """Raise :class:`ERConfigError` naming the first column ``file`` lacks."""
        present = set(header)
        for column in self.required_columns():
            if column not in present:
                raise ERConfigError(f"{file}: no column {column!r} (named in the ER config)")


def load_config(path: Path) -> ERConfig:
    """Read and validate an ``ER.toml`` file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ERConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return parse_config(data)
    except ERConfigError as exc:
        raise ERConfigError(f"{path}: {exc}") from exc


def parse_config(data: Mapping[str, object]) -> ERConfig:
    """Validate the parsed TOML of an ``ER.toml``."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ERConfigError(f"unknown key {unknown[0]!r} (expected one of {', '.join(sorted(_TOP_KEYS))})")
    id_column = data.get("id_column")
    if not isinstance(id_column, str) or not id_column:
        raise ERConfigError("id_column must be a non-empty string")
    compare = tuple(_compare_spec(i, item) for i, item in enumerate(_tables(data, "compare"), 1))
    if not compare:
        raise ERConfigError("at least one [[compare]] table is required")
    columns = [spec.column for spec in compare]
    if len(set(columns)) != len(columns):
        raise ERConfigError("a column is compared twice in [[compare]]")
    if id_column in columns:
        raise ERConfigError(f"the id column {id_column!r} cannot be compared")
    block = tuple(_block_rule(i, item) for i, item in enumerate(_tables(data, "block"), 1))
    threshold = data.get("threshold", 0.9)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise ERConfigError("threshold must be a number between 0 and 1 (exclusive)")
    return ERConfig(
        id_column=id_column,
        compare=compare,
        block=block,
        threshold=float(threshold),
        max_pairs=_positive_int(data, "max_pairs", 5_000_000),
        max_block_size=_positive_int(data, "max_block_size", 100, minimum=2),
    )


def _tables(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ERConfigError(f"{key} must be an array of tables ([[{key}]])")
    return cast("list[Mapping[str, object]]", items)


def _compare_spec(index: int, item: Mapping[str, object]) -> CompareSpec:
    extra = sorted(set(item) - {"column", "kind"})
    if extra:
        raise ERConfigError(f"[[compare]] #{index}: unknown key {extra[0]!r} (expected column, kind)")
    column, kind = item.get("column"), item.get("kind")
    if not isinstance(column, str) or not column:
        raise ERConfigError(f"[[compare]] #{index}: column must be a non-empty string")
    if kind not in KINDS:
        raise ERConfigError(f"[[compare]] #{index} ({column}): unknown kind {kind!r} (expected {' | '.join(KINDS)})")
    return CompareSpec(column=column, kind=cast("CompareKind", kind))


def _block_rule(index: int, item: Mapping[str, object]) -> BlockRule:
    extra = sorted(set(item) - {"columns"})
    if extra:
        raise ERConfigError(f"[[block]] #{index}: unknown key {extra[0]!r} (expected columns)")
    columns = item.get("columns")
    if (
        not isinstance(columns, list)
        or not columns
        or not all(isinstance(column, str) and column for column in columns)
    ):
        raise ERConfigError(f"[[block]] #{index}: columns must be a non-empty list of column names")
    return BlockRule(columns=tuple(cast("list[str]", columns)))


def _positive_int(data: Mapping[str, object], key: str, default: int, *, minimum: int = 1) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ERConfigError(f"{key} must be an integer >= {minimum}")
    return value
