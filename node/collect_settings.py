"""Settings of the collection adapters: one ``[[collect]]`` table per collector in ``node.toml``.

Each collector has a ``kind``: ``files`` (a watched drop folder of CSV, TSV,
XLSX or JSON Lines files; the default when ``kind`` is left out), ``db``
(polling a table or query of any SQLAlchemy database by a watermark column)
or ``export`` (the other direction: writing the node's records into
front-table-shaped tables of any SQLAlchemy database). An export is a
``[[collect]]`` entry rather than a table of its own because it is the same
kind of job: named, scheduled, with a persistent position, run by the same
scheduler, job store and ``jgnode collect run/list``, and it is the mirror
image of a ``db`` collector reading a front table.
:data:`CollectorSettings` is their union, discriminated by ``kind``; the
scheduler only needs ``name``, ``schedule`` and ``misfire_grace_s`` from each.

``[[intake]]`` tables (:class:`IntakeSource`) name the department systems
that may push rows to the node over the ``Intake`` gRPC service.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.csv_records import DATASET_TYPES, columns, uid_column
from adapters.feeds import feed_preset
from governance import uid_fields
from governance.clean import field_cleaner

__all__ = [
    "CollectorSettings",
    "DbCollector",
    "ExportSink",
    "FilesCollector",
    "IntakeSource",
    "Schedule",
    "collector_fields",
]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")


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


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"collector name {value!r} may only use letters, digits, '_' and '-'")
    return value


def _check_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError:
        raise ValueError("url is not an SQLAlchemy database URL (dialect+driver://user@host/database)") from None
    return value


def _shown_url(url: str) -> str:
    """A database URL for listings: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _check_dataset(value: str) -> str:
    if value not in DATASET_TYPES:
        raise ValueError(f"unknown dataset {value!r}; known: {', '.join(sorted(DATASET_TYPES))}")
    return value


def _check_mapping(name: str, dataset: str, mapping: dict[str, str], clean: dict[str, str]) -> None:
    """Mapped and cleaned fields exist, no two columns map to one field, every cleaning kind is known."""
    known = collector_fields(dataset)
    for target in (*mapping.values(), *clean):
        if target not in known:
            raise ValueError(f"collector {name}: {target!r} is not a field of {dataset}")
    doubled = {t for t in mapping.values() if list(mapping.values()).count(t) > 1}
    if doubled:
        raise ValueError(f"collector {name}: several columns map to {', '.join(sorted(doubled))}")
    for kind in clean.values():
        try:
            field_cleaner(kind)
        except ValueError as exc:
            raise ValueError(f"collector {name}: {exc}") from None


def collector_fields(dataset: str) -> tuple[str, ...]:
    """The fields (CSV column names) a mapping may name for ``dataset``, ``op`` included."""
    return (*columns(DATASET_TYPES[dataset]), "op")


class _Scheduled(BaseModel):
    """What every ``[[collect]]`` kind has: a name and a schedule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Unique name of the collector (letters, digits, ``_``, ``-``); used by ``jgnode collect run NAME``."""
    schedule: Schedule
    """When the collector runs."""
    misfire_grace_s: float = Field(3600.0, gt=0)
    """A run missed (node down) by at most this long still happens once at start; older ones are skipped."""

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        return _check_name(value)


class _Collector(_Scheduled):
    """What every collector kind that takes rows in has: a dataset, a column mapping and cleaning."""

    dataset: str
    """Dataset of every row: inspection, regulated_object, penalty or complaint."""
    mapping: dict[str, str] = Field(default_factory=dict)
    """Source column (or JSON key) -> field name; unmapped columns are used as they are."""
    clean: dict[str, str] = Field(default_factory=dict)
    """Field -> cleaning kind (text, name, code, date, datetime, amount, enum:<name>), applied before validation."""

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        return _check_dataset(value)

    @model_validator(mode="after")
    def _fields_exist(self) -> _Collector:
        _check_mapping(self.name, self.dataset, self.mapping, self.clean)
        return self


def _with_preset(value: Any) -> Any:
    """A ``[[collect]]`` table with ``preset``: the feed's dataset, mapping and cleaning under the table's own."""
    if not isinstance(value, dict) or not value.get("preset"):
        return value
    try:
        preset = feed_preset(str(value["preset"]))
    except ValueError as exc:
        raise ValueError(f"collector {value.get('name', '?')}: {exc}") from None
    if value.get("dataset", preset.dataset) != preset.dataset:
        raise ValueError(f"collector {value.get('name', '?')}: preset {value['preset']} fills {preset.dataset}")
    return {
        **value,
        "dataset": preset.dataset,
        "mapping": {**preset.mapping, **value.get("mapping", {})},
        "clean": {**preset.clean, **value.get("clean", {})},
    }


class FilesCollector(_Collector):
    """A watched drop folder: every stable file matching ``pattern`` is ingested, then moved aside."""

    kind: Literal["files"] = "files"
    """Adapter kind."""
    preset: str | None = None
    """A third-party feed (``hotline_12345``, ``opinion``; see ``adapters/feeds.py``): its dataset, mapping
    and cleaning, which the table's own ``mapping`` and ``clean`` keys override."""
    folder: Path
    """The drop folder."""
    pattern: str = "*"
    """Glob of the file names taken (``*.xlsx``); names ending .part/.tmp and hidden files never are."""
    format: Literal["auto", "csv", "tsv", "xlsx", "jsonl", "json"] = "auto"
    """File format; ``auto`` goes by the suffix (.csv, .tsv/.tab/.txt, .xlsx, .jsonl/.ndjson, .json)."""
    sheet: str | None = None
    """XLSX: the worksheet to read (default: the first)."""
    done_folder: Path | None = None
    """Where ingested files are moved; default ``<folder>/done``."""
    failed_folder: Path | None = None
    """Where unreadable files are moved, with ``<name>.error.txt``; default ``<folder>/failed``."""
    settle_s: float = Field(5.0, ge=0)
    """A file modified less than this many seconds ago is still being written: left for the next run."""

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, value: Any) -> Any:
        return _with_preset(value)

    def where(self) -> str:
        """Where the rows come from, for listings."""
        return str(self.folder)

    @property
    def done_path(self) -> Path:
        """The folder ingested files go to."""
        return self.done_folder or self.folder / "done"

    @property
    def failed_path(self) -> Path:
        """The folder unreadable files go to."""
        return self.failed_folder or self.folder / "failed"


class DbCollector(_Collector):
    """A table or query of a database, polled by a watermark column: each run takes the rows changed since the last.

    A front table's ``cd_operation`` (i/u/d) is read as the row's ``op``: upserts and tombstones.
    """

    kind: Literal["db"]
    """Adapter kind."""
    url: str
    """SQLAlchemy URL of the source database (``postgresql+psycopg://user@host/db``, ``sqlite:////abs/path.db``)."""
    table: str | None = None
    """The source table (``schema.table`` allowed); give this or ``query``."""
    query: str | None = None
    """A SELECT whose rows are taken instead of a table's (used as a subquery); give this or ``table``."""
    front_table: bool = False
    """The source has the national front-table columns (cd_id, cd_time, cd_source, cd_batch, cd_operation)."""
    watermark: str | None = None
    """Column whose value only grows as rows are added or changed; default ``cd_time`` for a front table."""
    key: str | None = None
    """Tie-break column, unique among rows of one watermark value; default ``cd_id`` for a front table, else the
    column mapped to the dataset's uid."""
    batch_rows: int = Field(5000, gt=0)
    """Rows read, ingested and committed at a time; the watermark moves after each such batch."""

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        return _check_url(value)

    @model_validator(mode="after")
    def _source_complete(self) -> DbCollector:
        if (self.table is None) == (self.query is None):
            raise ValueError(f"collector {self.name}: give either table or query, not both or neither")
        if self.watermark is None and not self.front_table:
            raise ValueError(f"collector {self.name}: give the watermark column (or front_table = true)")
        parts = uid_fields(DATASET_TYPES[self.dataset])
        if self.key is None and not self.front_table and len(parts) > 1:
            raise ValueError(
                f"collector {self.name}: give key, a column unique per watermark value "
                f"({self.dataset}'s uid is made of {', '.join(parts)}, so no one of them is)"
            )
        return self

    @property
    def watermark_column(self) -> str:
        """The watermark column in effect."""
        return self.watermark or "cd_time"

    @property
    def key_column(self) -> str:
        """The tie-break column in effect."""
        if self.key is not None:
            return self.key
        if self.front_table:
            return "cd_id"
        uid = uid_column(self.dataset)
        return next((source for source, target in self.mapping.items() if target == uid), uid)

    @property
    def row_mapping(self) -> dict[str, str]:
        """``mapping`` with a front table's ``cd_operation`` read as ``op`` unless mapped otherwise."""
        if self.front_table and "cd_operation" not in self.mapping and "op" not in self.mapping.values():
            return {**self.mapping, "cd_operation": "op"}
        return dict(self.mapping)

    def where(self) -> str:
        """Where the rows come from, for listings (the URL without its password)."""
        url = _shown_url(self.url)
        return f"{url} {self.table}" if self.table else f"{url} (query)"


class ExportSink(_Scheduled):
    """The node's records written into front-table-shaped tables of a database, exactly once.

    One table per dataset: the dataset's CSV columns plus ``cd_id``, ``cd_time``,
    ``cd_source``, ``cd_batch`` and ``cd_operation`` (see ``node/export_sink.py``).
    """

    kind: Literal["export"]
    """Adapter kind."""
    url: str
    """SQLAlchemy URL of the target database (``postgresql+psycopg://user@host/db``, ``sqlite:////abs/path.db``)."""
    datasets: tuple[str, ...] = ()
    """Datasets exported; empty: every dataset."""
    tables: dict[str, str] = Field(default_factory=dict)
    """Dataset -> target table (``schema.table`` allowed); default: the dataset's name. Created when missing."""
    origins: Literal["all", "own", "received"] = "all"
    """Whose records: all held, this node's own, or those received from children."""
    source_code: str | None = Field(None, min_length=1, max_length=32)
    """The ``cd_source`` of every row; default this node's region code."""
    batch_rows: int = Field(5000, gt=0)
    """Records written per target transaction (one ``cd_batch`` number each); the position moves with them."""

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("datasets")
    @classmethod
    def _known_datasets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_dataset(d) for d in value)

    @model_validator(mode="after")
    def _tables_fit(self) -> ExportSink:
        for dataset, name in self.tables.items():
            if dataset not in self.exported_datasets:
                raise ValueError(f"export {self.name}: tables names {dataset!r}, which it does not export")
            if not _TABLE.match(name):
                raise ValueError(f"export {self.name}: table {name!r} is not a plain [schema.]table name")
        names = [self.table_of(d) for d in self.exported_datasets]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"export {self.name}: several datasets go to table {', '.join(doubled)}")
        return self

    @property
    def exported_datasets(self) -> tuple[str, ...]:
        """The datasets in effect."""
        return self.datasets or tuple(DATASET_TYPES)

    @property
    def dataset(self) -> str:
        """The datasets exported, for listings."""
        return ",".join(self.datasets) if self.datasets else "all"

    def table_of(self, dataset: str) -> str:
        """The target table of ``dataset``."""
        return self.tables.get(dataset, dataset)

    def where(self) -> str:
        """Where the records go, for listings (the URL without its password)."""
        return f"-> {_shown_url(self.url)}"


class IntakeSource(BaseModel):
    """A department system allowed to push rows over the ``Intake`` gRPC service (``[[intake]]``).

    Over mutual TLS it presents a source certificate naming this node and
    ``name`` (``jgnode pki issue-source``); on an insecure development node it
    states ``name`` in the ``jgnode-source`` metadata.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Unique source name (letters, digits, ``_``, ``-``), as its certificate names it."""
    datasets: tuple[str, ...] = Field(min_length=1)
    """The datasets it may push; any other is refused (PERMISSION_DENIED)."""
    max_rows: int = Field(10_000, gt=0)
    """Most rows one request may carry; a larger request is refused (INVALID_ARGUMENT)."""

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"source name {value!r} may only use letters, digits, '_' and '-'")
        return value

    @field_validator("datasets")
    @classmethod
    def _known_datasets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_dataset(d) for d in value)


def _files_by_default(value: Any) -> Any:
    """A ``[[collect]]`` table without ``kind`` is a drop folder (the first kind, configured before there were more)."""
    if isinstance(value, dict) and "kind" not in value:
        return {**value, "kind": "files"}
    return value


CollectorSettings = Annotated[
    FilesCollector | DbCollector | ExportSink, Field(discriminator="kind"), BeforeValidator(_files_by_default)
]
"""The settings of one collector, by ``kind``."""
