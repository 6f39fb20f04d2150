"""Shared fixtures: keys, settings, stores on SQLite and PostgreSQL, eventually()."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from node.enroll import anchor_of, create_node, install_certificate, issue_from, publish_crl
from node.pki import CaDir
from node.settings import NodeSettings, load_settings
from node.store import Store
from tests.postgres import PostgresMissingError, postgres_cluster

T = TypeVar("T")
pytest_plugins = ["tests.harness"]  # the tree and procs fixtures
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


class PkiFixture:
    """A root CA (330000) and, on demand, intermediate CAs, in a test's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = CaDir.init_root(folder / "root-ca", node_id="330000", name="test root", days=365, crl_days=7)
        self.cas: dict[str, CaDir] = {"330000": self.root}

    def intermediate(self, node_id: str) -> CaDir:
        """An intermediate CA for ``node_id``'s subtree, issued by the root."""
        if node_id not in self.cas:
            folder = self.folder / f"{node_id}-ca"
            request = CaDir.request_intermediate(folder, node_id=node_id)
            self.cas[node_id] = CaDir.install_intermediate(folder, issue_from(self.root, request, days=365), crl_days=7)
        return self.cas[node_id]

    def enroll(self, settings: NodeSettings, ca: CaDir | None = None, *, days: int = 90) -> None:
        """Issue and install a certificate for a created node, with the anchor and the CAs' CRLs."""
        issuer = ca or self.root
        chain = issue_from(issuer, settings.cert_path.parent / "request.csr", days=days)
        install_certificate(settings, chain, anchors_pem=anchor_of(self.root))
        for authority in self.cas.values():  # the operators publish every CA's CRL on the nodes
            publish_crl(settings, (authority.folder / "crl.pem").read_bytes(), f"ca-{authority.info.node_id}")


def make_node_dir(
    root: Path,
    node_id: str,
    tier: str,
    *,
    pki: PkiFixture | None = None,
    ca: CaDir | None = None,
    suite: str = "ed25519",
    **overrides: object,
) -> NodeSettings:
    """A node folder with keys (and, with ``pki``, a certificate); returns its settings on a free port."""
    folder = root / node_id
    if not (folder / "node.toml").exists():
        settings = create_node(
            folder, node_id=node_id, tier=tier, listen="127.0.0.1:0", suite=suite, insecure=pki is None
        )
        if pki is not None:
            pki.enroll(settings, ca)
    values: dict[str, object] = {"batch_linger_ms": 20}
    values.update(overrides)
    if pki is None:
        values["tls"] = {"insecure": True}
    return load_settings(folder / "node.toml", **values)


@pytest.fixture
def pki(tmp_path: Path) -> PkiFixture:
    """A fresh root CA for one test."""
    return PkiFixture(tmp_path / "pki")


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
