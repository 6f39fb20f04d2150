"""Engine set-up per backend and a fast bulk insert built from Core statements."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, bindparam, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from node.errors import ConfigError

__all__ = ["BulkInsert", "Checkpointer", "RawQuery", "dialect_insert", "make_engine"]

WRITE_OPTION = "jgnode_write"
_MAX_ROWS_PER_STATEMENT = 8192
_PAGE_SIZE = 16384
log = logging.getLogger("jgnode.store")


def make_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and immediate write transactions."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"bad database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})
        _configure_sqlite(engine, int(busy_timeout_s * 1000))
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError("PostgreSQL needs the psycopg driver: pip install 'jgnode[postgres]'") from exc
    raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves, so that writers take the lock up front
        # (BEGIN IMMEDIATE) instead of failing to upgrade a read lock later.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # a new database gets 16 KiB pages (a no-op for an existing one): bulk inserts into the wide
        # thematic tables and their indexes take a quarter less time than with 4 KiB pages
        cursor.execute(f"PRAGMA page_size={_PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        # checkpoints run in the store's background thread, not inside a writer's commit
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def dialect_insert(engine: Engine, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that supports ON CONFLICT for the engine's backend."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class BulkInsert:
    """An INSERT built once with Core and run as one driver-level executemany.

    Core writes the statement for the backend (placeholders, ON CONFLICT); the
    rows go to the DBAPI's ``executemany`` as tuples, skipping per-row parameter
    processing, which on SQLite is most of the cost of ``Connection.execute``.
    Columns must be plain types (int, str, bytes, bool) with no bind processing.
    """

    def __init__(
        self,
        engine: Engine,
        table: Table,
        columns: Sequence[str],
        *,
        ignore_conflicts: bool = False,
        upsert_newer_on: Sequence[str] = (),
    ) -> None:
        """Prepare an INSERT of ``columns``.

        ``ignore_conflicts`` skips rows whose key is held; ``upsert_newer_on``
        (the key columns) replaces a held row only when the new ``version`` is
        higher.
        """
        stmt = dialect_insert(engine, table).values({name: bindparam(name) for name in columns})
        if ignore_conflicts:
            stmt = stmt.on_conflict_do_nothing()
        elif upsert_newer_on:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(upsert_newer_on),
                set_={c: stmt.excluded[c] for c in columns if c not in upsert_newer_on},
                where=stmt.excluded.version > table.c.version,
            )
        compiled = stmt.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.columns = tuple(columns)
        self._positional = engine.dialect.positional
        order = compiled.positiontup or []
        self._reorder = None if list(order) == list(columns) else [self.columns.index(name) for name in order]
        self._values = _MultiRow.of(self.sql, len(columns)) if engine.dialect.name == "sqlite" else None

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order); returns the rows written."""
        if not rows:
            return 0
        if self._values is not None and self._reorder is None and len(rows) > 1:
            return self._values.run(conn, rows)
        params: Any
        if not self._positional:
            params = [dict(zip(self.columns, row, strict=True)) for row in rows]
        elif self._reorder is not None:
            params = [tuple(row[i] for i in self._reorder) for row in rows]
        else:
            params = list(rows)
        result = conn.exec_driver_sql(self.sql, params)
        return max(result.rowcount, 0)


class _MultiRow:
    """One INSERT of many rows (``VALUES (...), (...), ...``) per statement, on SQLite.

    ``executemany`` steps the statement once per row, releasing and retaking
    the GIL each time: alone that is fine, but while another thread of the
    process runs Python (the reading half of a pipelined ingest) every row waits
    for the GIL. A multi-row statement takes the rows in one step. Statements
    hold ``full`` rows; a remainder goes in statements of power-of-two sizes,
    so only a few distinct statements are ever prepared (the driver caches them).
    """

    def __init__(self, head: str, group: str, tail: str, width: int) -> None:
        self._head, self._group, self._tail, self._width = head, group, tail, width
        self._full = 0
        self._sql: dict[int, str] = {}

    @classmethod
    def of(cls, sql: str, width: int) -> _MultiRow | None:
        """Split a one-row INSERT into its parts; None when it is not of the expected shape."""
        group = "(" + ", ".join("?" * width) + ")"
        head, found, tail = sql.partition(" VALUES " + group)
        return cls(head + " VALUES ", group, tail, width) if found and group not in tail else None

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            sql = self._sql[rows] = self._head + ", ".join([self._group] * rows) + self._tail
        return sql

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if not self._full:
            limit = cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self._full = max(1, min(_MAX_ROWS_PER_STATEMENT, limit // self._width))
        written = 0
        try:
            start = 0
            while start < len(rows):
                size = min(self._full, len(rows) - start)
                if size < self._full:
                    size = 1 << (size.bit_length() - 1)
                cursor.execute(self._statement(size), list(chain.from_iterable(rows[start : start + size])))
                written += max(cursor.rowcount, 0)
                start += size
        finally:
            cursor.close()
        return written


class RawQuery:
    """A SELECT built once with Core, run on the driver's cursor: rows come back as plain tuples.

    For hot paths that read thousands of rows of plain columns, where Result
    processing costs more than the query.
    """

    def __init__(self, engine: Engine, stmt: Select[Any]) -> None:
        """Compile ``stmt`` (with named bindparams) for the engine's backend."""
        compiled = stmt.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self._positional = engine.dialect.positional
        self._order = list(compiled.positiontup or [])

    def rows(self, conn: Connection, **params: Any) -> list[tuple[Any, ...]]:
        """All rows for ``params``."""
        args: Any = tuple(params[name] for name in self._order) if self._positional else params
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, args)
            return list(cursor.fetchall())
        finally:
            cursor.close()


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file in a background thread.

    Writers commit with automatic checkpoints switched off, so no commit pays for
    copying the log; this thread runs a PASSIVE checkpoint (which never blocks
    readers or writers) every ``interval_s``, and a final TRUNCATE at close.
    With PostgreSQL it does nothing.
    """

    def __init__(self, engine: Engine, interval_s: float = 0.5) -> None:
        """Prepare a checkpointer for ``engine``; call :meth:`start`."""
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self.enabled = engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")

    def start(self) -> None:
        """Start checkpointing in the background (SQLite files only)."""
        if self.enabled:
            self._thread.start()

    def stop(self) -> None:
        """Stop and leave an empty log behind."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=30)
        if self.enabled:
            self._checkpoint("TRUNCATE")

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._checkpoint("PASSIVE")

    def _checkpoint(self, mode: str) -> None:
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")
        except Exception as exc:  # a failed checkpoint is retried at the next tick; the log only grows
            log.warning("WAL checkpoint (%s) failed: %s", mode, str(exc).splitlines()[0] if str(exc) else exc)
