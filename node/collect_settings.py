"""Settings of the collection adapters: one ``[[collect]]`` table per collector in ``node.toml``.

Each collector has a ``kind``; ``files`` (a watched drop folder of CSV, TSV,
XLSX or JSON Lines files) is the first. Further kinds (database polling,
third-party feeds) become further models joined into :data:`CollectorSettings`
as a union discriminated by ``kind``; the scheduler only needs ``name`` and
``schedule`` from each.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.csv_records import DATASET_TYPES, columns
from governance.clean import field_cleaner

__all__ = ["CollectorSettings", "FilesCollector", "Schedule", "collector_fields"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Schedule(BaseModel):
    """When a collector runs: every ``interval_s`` seconds or by a ``cron`` expression (one of the two)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interval_s: float | None = Field(None, gt=0)
    """Run every this many seconds."""
    cron: str | None = None
    """Five-field crontab expression in China Standard Time, e.g. ``*/5 * * * *``."""

    @model_validator(mode="after")
    def _one_of_the_two(self) -> Schedule:
        if (self.interval_s is None) == (self.cron is None):
            raise ValueError("give either interval_s or cron, not both or neither")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415 - only when a cron is configured

            try:
                CronTrigger.from_crontab(self.cron)
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r} is not a 5-field crontab expression: {exc}") from None
        return self

    def describe(self) -> str:
        """The schedule in a few words (also the fingerprint that tells a changed schedule)."""
        return f"every {self.interval_s:g}s" if self.interval_s is not None else f"cron {self.cron}"


def collector_fields(dataset: str) -> tuple[str, ...]:
    """The fields (CSV column names) a mapping may name for ``dataset``, ``op`` included."""
    return (*columns(DATASET_TYPES[dataset]), "op")


class FilesCollector(BaseModel):
    """A watched drop folder: every stable file matching ``pattern`` is ingested, then moved aside."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["files"] = "files"
    """Adapter kind."""
    name: str
    """Unique name of the collector (letters, digits, ``_``, ``-``); used by ``jgnode collect run NAME``."""
    folder: Path
    """The drop folder."""
    dataset: str
    """Dataset of every row: inspection, regulated_object, penalty or complaint."""
    pattern: str = "*"
    """Glob of the file names taken (``*.xlsx``); names ending .part/.tmp and hidden files never are."""
    format: Literal["auto", "csv", "tsv", "xlsx", "jsonl"] = "auto"
    """File format; ``auto`` goes by the suffix (.csv, .tsv/.tab/.txt, .xlsx, .jsonl/.ndjson)."""
    sheet: str | None = None
    """XLSX: the worksheet to read (default: the first)."""
    mapping: dict[str, str] = Field(default_factory=dict)
    """Source column (or JSON key) -> field name; unmapped columns are used as they are."""
    clean: dict[str, str] = Field(default_factory=dict)
    """Field -> cleaning kind (text, name, code, date, datetime, amount, enum:<name>), applied before validation."""
    schedule: Schedule
    """When the collector runs."""
    done_folder: Path | None = None
    """Where ingested files are moved; default ``<folder>/done``."""
    failed_folder: Path | None = None
    """Where unreadable files are moved, with ``<name>.error.txt``; default ``<folder>/failed``."""
    settle_s: float = Field(5.0, ge=0)
    """A file modified less than this many seconds ago is still being written: left for the next run."""
    misfire_grace_s: float = Field(3600.0, gt=0)
    """A run missed (node down) by at most this long still happens once at start; older ones are skipped."""

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"collector name {value!r} may only use letters, digits, '_' and '-'")
        return value

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        if value not in DATASET_TYPES:
            raise ValueError(f"unknown dataset {value!r}; known: {', '.join(sorted(DATASET_TYPES))}")
        return value

    @model_validator(mode="after")
    def _fields_exist(self) -> FilesCollector:
        known = collector_fields(self.dataset)
        for target in (*self.mapping.values(), *self.clean):
            if target not in known:
                raise ValueError(f"collector {self.name}: {target!r} is not a field of {self.dataset}")
        doubled = {t for t in self.mapping.values() if list(self.mapping.values()).count(t) > 1}
        if doubled:
            raise ValueError(f"collector {self.name}: several columns map to {', '.join(sorted(doubled))}")
        for kind in self.clean.values():
            try:
                field_cleaner(kind)
            except ValueError as exc:
                raise ValueError(f"collector {self.name}: {exc}") from None
        return self

    @property
    def done_path(self) -> Path:
        """The folder ingested files go to."""
        return self.done_folder or self.folder / "done"

    @property
    def failed_path(self) -> Path:
        """The folder unreadable files go to."""
        return self.failed_folder or self.folder / "failed"


CollectorSettings = FilesCollector  # later: Annotated[FilesCollector | DbCollector | ..., Field(discriminator="kind")]
