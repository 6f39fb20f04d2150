"""Fault injection on a county -> city -> province tree of real ``jgnode run`` processes.

Every scenario ends with the province (and the city) holding exactly the
county's record set, by count and order-independent digest: whatever the
fault, nothing is lost and nothing is doubled.
"""

from __future__ import annotations

import csv
import os
import random
import re
import resource
import signal
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from node.client import NodeClient
from node.settings import load_settings
from tests.conftest import PkiFixture, eventually, make_node_dir
from tests.faultproxy import FaultProxy
from tests.harness import Processes, digest_at, held_at, jgnode, status_json

pytestmark = pytest.mark.slow

COUNTY, CITY, PROVINCE = "330106", "330100", "330000"
_TIERS = {PROVINCE: "province", CITY: "city", COUNTY: "county"}
FAST_RETRY = {"JGNODE_RETRY__INITIAL_S": "0.1", "JGNODE_RETRY__MAX_INTERVAL_S": "0.5"}
_SEED_VARIABLE = "FAULTS_SEED"  # not JGNODE_: the nodes read those
# a write refused at the file size limit (EFBIG) is a "disk I/O error" to SQLite; a full disk (ENOSPC) is "full"
_REFUSED_FULL = re.compile(
    r"applying \d+ batches failed: database write failed: (database or disk is full|disk I/O error)"
)
_REFUSED_LOCKED = re.compile(r"applying \d+ batches failed: database write failed: database is locked")


class Tree:
    """Province, city and county as processes; each restarts with its settings and at its address."""

    def __init__(self, root: Path, pki: PkiFixture, procs: Processes) -> None:
        self.procs = procs
        self.config = {node_id: make_node_dir(root, node_id, tier, pki=pki) for node_id, tier in _TIERS.items()}
        self.paths = {node_id: root / node_id / "node.toml" for node_id in _TIERS}
        self.env: dict[str, dict[str, str]] = {}
        self.address: dict[str, str] = {}

    @property
    def county(self) -> Path:
        return self.paths[COUNTY]

    @property
    def city(self) -> Path:
        return self.paths[CITY]

    @property
    def province(self) -> Path:
        return self.paths[PROVINCE]

    def start(self, node_id: str, env: dict[str, str] | None = None) -> str:
        """Start a node for the first time (``env`` is kept for its restarts)."""
        self.env[node_id] = dict(env or {})
        self.address[node_id] = self.procs.run(node_id, self.paths[node_id], env=self.env[node_id])
        return self.address[node_id]

    def kill(self, node_id: str) -> None:
        """SIGKILL a node."""
        self.procs.stop(node_id, signal.SIGKILL)

    def restart(self, node_id: str) -> None:
        """Start a stopped node again on the address it had."""
        env = {**self.env[node_id], "JGNODE_LISTEN": self.address[node_id]}
        assert self.procs.run(node_id, self.paths[node_id], env=env) == self.address[node_id]

    def start_all(self, env: dict[str, str], *, city: dict[str, str] | None = None) -> None:
        """Province, city, county, each pointed at the one above; ``city`` adds settings for the city."""
        province = self.start(PROVINCE, env)
        address = self.start(CITY, {**env, **(city or {}), "JGNODE_PARENT": province})
        self.start(COUNTY, {**env, "JGNODE_PARENT": address})

    def pid(self, node_id: str) -> int:
        return self.procs.running[node_id].pid

    def running(self, node_id: str) -> bool:
        return self.procs.running[node_id].poll() is None

    def log(self, node_id: str) -> str:
        return (self.paths[node_id].parent / "node.log").read_text(encoding="utf-8", errors="replace")

    def assert_everything_arrived(self, stored: int, *, timeout: float = 120) -> None:
        """The province and the city hold exactly the county's records: same count, same digest."""
        expected = digest_at(self.county, COUNTY)
        assert expected[0] == stored, "the county does not hold what was ingested"
        eventually(lambda: held_at(self.province) >= stored, timeout=timeout, what="the province to catch up")
        assert digest_at(self.province, COUNTY) == expected  # nothing lost, nothing doubled
        assert digest_at(self.city, COUNTY) == expected
        assert held_at(self.province) == stored
        for node_id in _TIERS:  # failures are logged as one-line messages, never as tracebacks
            assert "Traceback" not in self.log(node_id), f"{node_id} logged a traceback"


@pytest.fixture
def tree(tmp_path: Path, pki: PkiFixture, procs: Processes) -> Tree:
    return Tree(tmp_path / "nodes", pki, procs)


@pytest.fixture(scope="module")
def inspections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sample file of 36,000 inspections of the county, cut into parts by :func:`parts`."""
    folder = tmp_path_factory.mktemp("sample")
    jgnode("sample", "--region", COUNTY, "--out", str(folder), "--inspections", "36000")
    return folder / "inspection.csv"


def parts(source: Path, folder: Path, sizes: list[int]) -> Iterator[Path]:
    """CSV files of ``sizes`` rows each, consecutive slices of ``source`` (so no record repeats)."""
    with source.open(encoding="utf-8", newline="") as handle:
        header, *rows = csv.reader(handle)
    assert sum(sizes) <= len(rows), "the sample file is too small for these parts"
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    for number, size in enumerate(sizes):
        path = folder / f"part{number}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *rows[start : start + size]])
        start += size
        yield path


def ingest(tree: Tree, path: Path) -> int:
    """``jgnode ingest`` a file into the county (running or not); returns the records stored."""
    out = jgnode("ingest", "-c", str(tree.county), "--no-progress", str(path)).stdout
    found = re.search(r"(\d+) rows: (\d+) stored", out)
    assert found, out
    assert found.group(1) == found.group(2), out  # every row is a new record
    return int(found.group(2))


@dataclass(frozen=True)
class Link:
    """What the county says about its link to the parent and its backlog."""

    connected: bool
    error: str
    owed: int  # records not yet acked by the parent (sealed or not)
    acked: int  # records the parent acked


def county_link(tree: Tree) -> Link:
    """The county's view of its uplink, asked over gRPC."""
    with NodeClient(load_settings(tree.county)) as client:
        reply = client.status()
    return Link(
        connected=reply.parent_connected,
        error=reply.parent_error,
        owed=reply.outbox_records + reply.unsealed_records,
        acked=sum(s.parent_acked_seq for s in reply.streams),
    )


def test_random_sigkills_of_any_tier_lose_and_double_nothing(tree: Tree, inspections: Path, tmp_path: Path) -> None:
    """Six SIGKILLs of a random node at a random moment, each restarted at its address, while ingest goes on."""
    seed = int(os.environ.get(_SEED_VARIABLE) or random.SystemRandom().randrange(2**32))
    print(f"fault seed {seed} (rerun with {_SEED_VARIABLE}={seed})")
    rng = random.Random(seed)
    slow = {"JGNODE_BATCH_SIZE": "20", "JGNODE_LIMITS__MAX_INFLIGHT_BATCHES": "1", **FAST_RETRY}
    tree.start_all(slow)
    files = list(parts(inspections, tmp_path / "in", [3000] * 7))
    stored = ingest(tree, files[0])
    victims: list[str] = []
    mid_stream = 0
    for path in files[1:]:
        stored += ingest(tree, path)  # ingest goes on between the kills
        time.sleep(rng.uniform(0.0, 1.0))
        victim = rng.choice(list(_TIERS))
        mid_stream += held_at(tree.province) < stored
        tree.kill(victim)
        victims.append(victim)
        tree.restart(victim)
    print(f"killed {victims}; {mid_stream} of {len(victims)} kills landed before the province held everything")
    tree.assert_everything_arrived(stored)
    assert len(victims) >= 5
    assert mid_stream >= len(victims) // 2, "the transfer outran the kills: make the parts larger"


def test_link_dropped_refused_and_stalled_through_a_proxy(tree: Tree, inspections: Path, tmp_path: Path) -> None:
    """County -> proxy -> city: the link is cut and refused, stalled, and reset in mid-transfer."""
    fast = {"JGNODE_BATCH_SIZE": "100", **FAST_RETRY}
    province = tree.start(PROVINCE, fast)
    city = tree.start(CITY, {**fast, "JGNODE_PARENT": province})
    with FaultProxy(city) as proxy:
        tree.start(COUNTY, {**fast, "JGNODE_PARENT": proxy.address})
        files = parts(inspections, tmp_path / "in", [2000, 2000, 1000, 2000, 1000, 6000])
        stored = ingest(tree, next(files))
        # TLS passes through as raw bytes: the county checks the city's certificate by node id, not address
        eventually(lambda: held_at(tree.province) == stored, timeout=60, what="the first part through the proxy")
        assert proxy.connections >= 1
        assert proxy.bytes_forwarded > 0

        # cut: every connection reset and new ones refused; ingest goes on and piles up in the county
        proxy.drop(refuse_s=3600)
        delivered = stored
        stored += ingest(tree, next(files))
        stored += ingest(tree, next(files))
        eventually(lambda: proxy.refused >= 3, timeout=30, what="the county to keep redialling")
        cut = county_link(tree)
        assert cut.connected is False
        assert "UNAVAILABLE" in cut.error
        assert cut.owed == stored - delivered  # backlog reported, nothing dropped
        assert held_at(tree.province) == delivered
        proxy.heal()
        eventually(lambda: held_at(tree.province) == stored, timeout=60, what="the backlog after the cut")

        # stall: connections stay open but no byte moves; the county cannot tell yet
        proxy.stall()
        delivered = stored
        stored += ingest(tree, next(files))
        stored += ingest(tree, next(files))
        time.sleep(2)
        stalled = county_link(tree)
        assert stalled.connected is True  # keepalive would notice only after 30 s
        assert stalled.owed == stored - delivered
        assert stalled.acked == delivered
        assert held_at(tree.province) == delivered
        proxy.heal()
        eventually(lambda: held_at(tree.province) == stored, timeout=60, what="the backlog after the stall")

        # reset in mid-transfer: the county reconnects at once and resumes from the city's cursor
        delivered = stored
        with ThreadPoolExecutor(1) as pool:
            loading = pool.submit(ingest, tree, next(files))
            eventually(lambda: held_at(tree.province) > delivered + 500, timeout=60, interval=0.01, what="a transfer")
            proxy.drop()
            mid_stream = held_at(tree.province) < delivered + 6000
            stored += loading.result()
        tree.assert_everything_arrived(stored)
    assert mid_stream, "the transfer finished before the reset: make the last part larger"


def test_parent_down_longer_than_the_retry_window(tree: Tree, inspections: Path, tmp_path: Path) -> None:
    """The city is gone for twelve times the longest retry wait: the county keeps its backlog and keeps trying."""
    tree.start_all({"JGNODE_BATCH_SIZE": "100", **FAST_RETRY})  # retries wait at most 0.5 s
    files = parts(inspections, tmp_path / "in", [2000, 2000, 2000])
    stored = ingest(tree, next(files))
    eventually(lambda: held_at(tree.province) == stored, timeout=60, what="the first part")
    tree.kill(CITY)
    delivered = stored
    down_since = time.monotonic()
    for path in files:  # ingest goes on while the parent is away
        stored += ingest(tree, path)
    time.sleep(max(0.0, 6 - (time.monotonic() - down_since)))  # 12 times the longest retry wait

    assert tree.running(COUNTY)
    status = status_json(tree.county)  # `jgnode status --json`: false and zero fields are left out
    assert not status.get("parent_connected", False)
    assert "UNAVAILABLE" in str(status["parent_error"])
    assert int(str(status["outbox_records"])) + int(str(status.get("unsealed_records", 0))) == stored - delivered
    assert int(str(status["records_forwarded"])) == delivered
    retries = re.findall(r"uplink to \S+: attempt (\d+) failed", tree.log(COUNTY))
    assert len(retries) >= 6, "the county stopped redialling its parent"

    tree.restart(CITY)
    tree.assert_everything_arrived(stored)
    eventually(lambda: county_link(tree).connected, timeout=30, what="the county to report the link up")


def test_receiving_database_locked(tree: Tree, inspections: Path, tmp_path: Path) -> None:
    """Another process holds the city's database for five times its busy timeout while the county sends."""
    env = {"JGNODE_BATCH_SIZE": "50", "JGNODE_LIMITS__MAX_INFLIGHT_BATCHES": "2", **FAST_RETRY}
    tree.start_all(env, city={"JGNODE_LIMITS__DB_BUSY_TIMEOUT_S": "1"})
    files = parts(inspections, tmp_path / "in", [6000, 2000])
    stored = ingest(tree, next(files))
    eventually(lambda: held_at(tree.city) > 0, timeout=60, interval=0.01, what="the transfer to start")

    locker = sqlite3.connect(tree.config[CITY].data_dir / "node.db", timeout=10, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # in WAL mode: no other writer, readers go on
        locked_since = time.monotonic()
        locked_at = held_at(tree.city)
        stored += ingest(tree, next(files))  # ingest goes on while the city cannot store
        eventually(lambda: _REFUSED_LOCKED.search(tree.log(CITY)), timeout=60, what="the city to fail a commit")
        time.sleep(max(0.0, 5 - (time.monotonic() - locked_since)))  # locked for five busy timeouts or more
        assert tree.running(CITY)
        assert held_at(tree.city) == locked_at
        # the city acks only what it committed: the county's acked count never runs ahead of it
        assert county_link(tree).acked <= locked_at
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    tree.assert_everything_arrived(stored)


def test_receiving_database_full(tree: Tree, inspections: Path, tmp_path: Path) -> None:
    """The city's files may not grow (RLIMIT_FSIZE) for a while, then may again."""
    tree.start_all({"JGNODE_BATCH_SIZE": "50", **FAST_RETRY})
    # Before any record arrives, cap the size of any file the city writes at 1 MiB over its largest one:
    # its database soon cannot grow (Python ignores SIGXFSZ: the writes fail with EFBIG, the process lives)
    folder = tree.config[CITY].data_dir
    largest = max(path.stat().st_size for path in folder.iterdir() if path.is_file())
    pid = tree.pid(CITY)
    unlimited = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (largest + 1024 * 1024, unlimited[1]))

    files = parts(inspections, tmp_path / "in", [3000, 3000, 3000, 2000])
    stored = ingest(tree, next(files))
    stored += ingest(tree, next(files))
    eventually(lambda: _REFUSED_FULL.search(tree.log(CITY)), timeout=60, what="the city's disk to fill")
    stored += ingest(tree, next(files))  # ingest goes on while the city cannot store
    stored += ingest(tree, next(files))
    time.sleep(2)
    assert tree.running(CITY)
    # the city acks only what it committed (acks first: both only grow)
    acked = county_link(tree).acked
    assert acked <= held_at(tree.city) < stored

    resource.prlimit(pid, resource.RLIMIT_FSIZE, unlimited)  # room again: the city catches up
    tree.assert_everything_arrived(stored)
