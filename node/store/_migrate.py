"""In-place upgrades of an older database to :data:`SCHEMA_VERSION`, one step per version.

``create_all`` adds new tables but never changes existing ones; each step here
alters what changed, in the same transaction that records the new version, on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, select, update

from node.store import _quarantine
from node.store._schema import META, QUARANTINE

__all__ = ["upgrade"]


def _to_4(conn: Connection, now_us: int) -> None:
    """Quarantine gets findings, state, outcome; the counters start with the rows already held."""
    for ddl in (
        "ALTER TABLE quarantine ADD COLUMN findings TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE quarantine ADD COLUMN state VARCHAR NOT NULL DEFAULT 'open'",
        "ALTER TABLE quarantine ADD COLUMN outcome TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE quarantine ADD COLUMN updated_at_us BIGINT NOT NULL DEFAULT 0",
    ):
        conn.exec_driver_sql(ddl)
    # records accepted before the upgrade were not counted; the quarantined ones still are held
    held = conn.execute(
        select(QUARANTINE.c.dataset, QUARANTINE.c.source).where(QUARANTINE.c.kind == _quarantine.COUNTED_KIND)
    ).all()
    per_source: dict[tuple[str, str], int] = {}
    for dataset, source in held:
        key = (dataset, _quarantine.source_of(source))
        per_source[key] = per_source.get(key, 0) + 1
    for (dataset, source), number in per_source.items():
        _quarantine.bump(conn, dataset, source, now_us, received=number, quarantined=number)


def _to_5(conn: Connection, _now_us: int) -> None:
    """Subscriptions get their predicates and personal-data entitlement (``create_all`` made the table if new)."""
    held = {c["name"] for c in inspect(conn).get_columns("subscription")}
    for name, ddl in (
        ("filters", "ALTER TABLE subscription ADD COLUMN filters TEXT NOT NULL DEFAULT '[]'"),
        ("personal", "ALTER TABLE subscription ADD COLUMN personal BOOLEAN NOT NULL DEFAULT false"),
    ):
        if name not in held:
            conn.exec_driver_sql(ddl)


_STEPS: dict[int, Callable[[Connection, int], None]] = {3: _to_4, 4: _to_5}


def upgrade(conn: Connection, found: int, target: int, *, now_us: int) -> bool:
    """Bring a database at version ``found`` to ``target``; False when no path leads there."""
    if found > target or any(v not in _STEPS for v in range(found, target)):
        return False
    for version in range(found, target):
        _STEPS[version](conn, now_us)
    conn.execute(update(META).where(META.c.key == "schema_version").values(value=str(target)))
    return True
