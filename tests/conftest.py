"""Shared fixtures: keys, settings, stores on SQLite and PostgreSQL, eventually()."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from node.settings import NodeSettings, load_settings
from node.signing import generate_signing_key
from node.store import Store
from tests.postgres import PostgresMissingError, postgres_cluster

T = TypeVar("T")
_PG_PROBLEMS: list[str] = []


def eventually(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Poll ``check`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or check.__name__} (last: {value!r})")
        time.sleep(interval)


def make_node_dir(root: Path, node_id: str, tier: str, **overrides: object) -> NodeSettings:
    """A node folder with keys; returns its settings (listening on a free port)."""
    folder = root / node_id
    if not (folder / "keys" / "signing.key").exists():
        generate_signing_key(folder / "keys" / "signing.key", folder / "keys" / "signing.pub")
    (folder / "trust").mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {
        "node_id": node_id,
        "tier": tier,
        "listen": "127.0.0.1:0",
        "data_dir": folder,
        "batch_linger_ms": 20,
    }
    values.update(overrides)
    return load_settings(None, **values)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a throw-away PostgreSQL 15 database for the whole test session."""
    try:
        with postgres_cluster() as url:
            yield url
    except PostgresMissingError as exc:
        _PG_PROBLEMS.append(str(exc))
        pytest.fail(f"PostgreSQL tests need the server binaries: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'node.db'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    name = f"t_{abs(hash(request.node.nodeid)) % 10**12}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    yield base.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[str], Store]]:
    """Open stores on the parametrised backend; all are closed at the end."""
    opened: list[Store] = []

    def _open(node_id: str) -> Store:
        store = Store.open(store_url, node_id)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when a component the tests need is missing."""
    for problem in _PG_PROBLEMS:
        terminalreporter.write_sep("!", f"MISSING COMPONENT: {problem}", red=True, bold=True)
