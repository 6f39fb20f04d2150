"""The benchmark's trees: node folders made as an operator makes them, node processes, checks of what landed.

Nodes are created with the enroll library (``create_node``; then a certificate
from the bench's own PKI, or, in plain-text development mode, trust-folder
keys), run as ``jgnode run`` processes, and watched through their admin
service with their own identity.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from jgnode.exchange.v1 import admin_pb2

from adapters.sample_data import SampleGenerator
from node.client import ADDRESS_FILE, NodeClient
from node.enroll import anchor_of, create_node, install_certificate, issue_from, publish_crl
from node.errors import JgnodeError
from node.exchange import verify_provenance
from node.ingest import ingest_records
from node.pki import CaDir
from node.serde import record_key
from node.settings import NodeSettings
from node.store import Store, StreamKey
from node.trust import load_trust

ROOT = Path(__file__).resolve().parent.parent
DATASET = "regulated_object"
CHAIN = (("330106", "county"), ("330100", "city"), ("330000", "province"))
COUNTY = CHAIN[0][0]
NODE_OPTIONS: dict[str, object] = {"batch_size": 1000, "batch_linger_ms": 50}
SHAPES = {2: "one hop", 3: "three tiers"}  # nodes in the chain -> name


@dataclass(frozen=True, slots=True)
class Setup:
    """Transport and signature suites of one configuration of the tree."""

    name: str
    label: str
    tls: bool
    suites: tuple[str, str, str]  # county, city, province
    shapes: tuple[int, ...] = (2, 3)


SETUPS = {
    s.name: s
    for s in (
        Setup("plain", "plain text, Ed25519", tls=False, suites=("ed25519", "ed25519", "ed25519")),
        Setup("tls", "mutual TLS, Ed25519", tls=True, suites=("ed25519", "ed25519", "ed25519")),
        Setup("sm2", "mutual TLS, SM2/SM3", tls=True, suites=("sm2", "sm2", "sm2")),
        Setup(
            "mixed",
            "mutual TLS, SM2 county, Ed25519 above",
            tls=True,
            suites=("sm2", "ed25519", "ed25519"),
            shapes=(3,),
        ),
    )
}


class BenchError(Exception):
    """A run did not complete: a node failed to start or the records did not all arrive."""


# -- set-up ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class County:
    """The prepared county: a store of own records not yet sealed, and what must land above it."""

    settings: NodeSettings  # a plain-text Ed25519 node; the naive baseline signs with its key
    rows: list[tuple[str, bytes]]  # (uid, record bytes) in stream order
    digest: bytes  # order-independent digest of the records, as GetDigest reports it

    @property
    def count(self) -> int:
        """Records the county holds and every run must land."""
        return len(self.rows)


def prepare_county(folder: Path, records: int) -> County:
    """A county whose store holds ``records`` regulated objects; each run starts from a copy."""
    settings = create_node(folder, node_id=COUNTY, tier="county", listen="127.0.0.1:0", insecure=True)
    objects = SampleGenerator(2026, COUNTY).enterprises(records)
    store = Store.open(settings.db_url, COUNTY)
    try:
        started = time.perf_counter()
        for start in range(0, records, 5000):
            ingest_records(store, DATASET, objects[start : start + 5000])
        elapsed = time.perf_counter() - started
        stream = store.stream_id(StreamKey(COUNTY, DATASET))
        rows = [(record_key(body)[0], body) for _seq, body in store.records_after(stream or 0, 0, records)]
        count, digest = store.set_digest(dataset=DATASET, origin=COUNTY)
    finally:
        store.close()
    if count != len(rows):
        raise BenchError(f"the county's digest covers {count} records, its stream {len(rows)}")
    size = sum(len(b) for _, b in rows) / len(rows)
    print(f"county store: {len(rows):,} records, mean record {size:.0f} bytes, ingested at {records / elapsed:,.0f}/s")
    return County(settings, rows, digest.to_bytes(32, "big"))


class BenchPki:
    """A root CA for the province and an intermediate CA for the city, which certifies the county (as in the demo)."""

    def __init__(self, folder: Path) -> None:
        self.root = CaDir.init_root(folder / "root-ca", node_id="330000", name="bench root", days=365, crl_days=7)
        request = CaDir.request_intermediate(folder / "330100-ca", node_id="330100")
        chain = issue_from(self.root, request, days=365)
        self.city = CaDir.install_intermediate(folder / "330100-ca", chain, crl_days=7)

    def enroll(self, settings: NodeSettings) -> None:
        """Issue and install a node's certificate, with the trust anchor and both CAs' CRLs."""
        issuer = self.city if settings.tier == "county" else self.root
        chain = issue_from(issuer, settings.cert_path.parent / "request.csr", days=90)
        install_certificate(settings, chain, anchors_pem=anchor_of(self.root))
        for ca in (self.root, self.city):
            publish_crl(settings, (ca.folder / "crl.pem").read_bytes(), f"ca-{ca.info.node_id}")


def create_chain(folder: Path, setup: Setup, size: int, county: County, pki: BenchPki) -> list[NodeSettings]:
    """Node folders county -> ... (``size`` nodes), the county holding the prepared records."""
    chain = [
        create_node(
            folder / node_id,
            node_id=node_id,
            tier=tier,
            listen="127.0.0.1:0",
            suite=suite,
            insecure=not setup.tls,
            extra=NODE_OPTIONS,
        )
        for (node_id, tier), suite in zip(CHAIN[:size], setup.suites, strict=False)
    ]
    for name in ("node.db", "node.db-wal"):  # ingested once; each run seals them with its own keys
        if (county.settings.data_dir / name).exists():
            shutil.copyfile(county.settings.data_dir / name, chain[0].data_dir / name)
    for position, settings in enumerate(chain):
        if setup.tls:
            pki.enroll(settings)
        else:  # development mode: every ancestor trusts the node's public key (what `jgnode trust` does)
            for ancestor in chain[position + 1 :]:
                public = settings.signing_key_path.with_suffix(".pub")
                shutil.copyfile(public, ancestor.trust_path / f"{settings.node_id}.pub")
    return chain


# -- running nodes ----------------------------------------------------------------


class NodeProcess:
    """A `jgnode run` process, and an admin connection to it with the node's own identity."""

    def __init__(self, settings: NodeSettings, parent: str | None = None) -> None:
        self.settings = settings
        folder = settings.data_dir
        env = dict(os.environ)
        if parent:
            env["JGNODE_PARENT"] = parent
        (folder / ADDRESS_FILE).unlink(missing_ok=True)
        with (folder / "node.log").open("ab") as log:
            command = [sys.executable, "-m", "node.cli", "run", "-c", str(folder / "node.toml")]
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while not (folder / ADDRESS_FILE).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise BenchError(f"node {settings.node_id} failed to start; see {folder / 'node.log'}")
            time.sleep(0.02)
        self.address = (folder / ADDRESS_FILE).read_text().strip()
        self.client = NodeClient(settings, address=self.address)

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(slots=True)
class Run:
    """One run of a chain: records/s landed at its last node (0 when it failed) and peak RSS per tier."""

    rate: float = 0.0
    rss_mb: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def run_chain(folder: Path, setup: Setup, size: int, county: County, pki: BenchPki) -> Run:
    """Run county -> ... (``size`` nodes) until the last node holds every record; then check what landed.

    The rate is the county's record count over the time from the first batch
    the city received to the last batch the last node received, both by the
    nodes' own clocks: process start-up and the TLS handshake are not in it.
    """
    chain = create_chain(folder, setup, size, county, pki)
    nodes: list[NodeProcess] = []
    try:
        parent = None
        for settings in reversed(chain):  # parents first: the county starts sending as soon as it runs
            nodes.insert(0, NodeProcess(settings, parent))
            parent = nodes[0].address
        last = _wait_held(nodes[-1], county.count, timeout=60 + county.count / 2000)
        first = nodes[1].client.status().first_received_at_us
        rate = county.count / ((last.last_received_at_us - first) / 1e6)
        rss: dict[str, float] = {
            node.settings.tier: node.peak_rss_mb() for node in nodes
        }  # before the checks add their share
        return Run(rate, rss, check_landed(nodes, county))
    except (BenchError, JgnodeError) as exc:
        return Run(problems=[str(exc)])
    finally:
        for node in nodes:
            node.stop()


def _wait_held(node: NodeProcess, records: int, timeout: float) -> admin_pb2.NodeStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = node.client.status(timeout=30)
        if status.records_held >= records:
            return status
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s: {status.records_held:,} of {records:,} arrived")
        time.sleep(0.5)  # rates come from the nodes' own timestamps; polling only costs them CPU


def check_landed(nodes: list[NodeProcess], county: County) -> list[str]:
    """What a fast run must also be: nothing lost, doubled or refused, and a record that verifies."""
    last = nodes[-1].settings.node_id
    problems = []
    count, digest = nodes[-1].client.digest(dataset=DATASET, origin=COUNTY)
    if count != county.count:
        problems.append(f"{last} holds {count:,} records of the county's {county.count:,}")
    elif digest != county.digest:
        problems.append(f"{last} holds {count:,} records, but not the county's (digest differs)")
    for node in nodes[1:]:
        status = node.client.status()
        if status.batches_rejected or status.records_quarantined:
            problems.append(
                f"{status.node_id} refused {status.batches_rejected} batches and quarantined "
                f"{status.records_quarantined} records; see {node.settings.data_dir / 'node.log'}"
            )
    uid = county.rows[len(county.rows) // 2][0]
    return problems + _verify_sample(nodes[-1], uid, hops=len(nodes) - 2)


def _verify_sample(node: NodeProcess, uid: str, *, hops: int) -> list[str]:
    """Check one record's provenance at ``node`` with the node's own trust (certificates or trust folder)."""
    trust, _signer = load_trust(node.settings)
    where = f"{uid} at {node.settings.node_id}"
    try:
        bundles = node.client.provenance(admin_pb2.GetProvenanceRequest(uid=uid, dataset=DATASET, origin=COUNTY))
        if len(bundles) != 1 or len(bundles[0].hops) != hops:
            return [f"{where}: {len(bundles)} provenance bundles, expected 1 with {hops} hops"]
        verify_provenance(bundles[0], trust.keyring, admit=lambda certs, at: trust.admit(certs, at_us=at))
    except (JgnodeError, ValueError) as exc:
        return [f"provenance of {where}: {exc}"]
    return []
