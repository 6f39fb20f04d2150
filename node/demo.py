"""``make demo``: a province, two cities and four counties exchanging on loopback.

Each node is its own OS process with its own SQLite database and keys under the
demo folder. Counties ingest generated records; the demo waits until the
province holds every record, checks count and order-independent digest per
county (nothing lost, nothing doubled), verifies the provenance of a sample of
records back to each county, prints a table per node and stops everything.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jgnode.exchange.v1 import admin_pb2, exchange_pb2

from adapters.csv_records import uid_column, write_records
from adapters.sample_data import SampleGenerator
from governance import COMPLAINT, DATASETS, INSPECTION, PENALTY, REGULATED_OBJECT, DatasetRecord
from node.client import ADDRESS_FILE, NodeClient
from node.enroll import anchor_of, create_node, install_certificate, issue_from, publish_crl
from node.errors import ConfigError, JgnodeError
from node.exchange import verify_provenance
from node.pki import CaDir
from node.settings import load_settings, region_tier
from node.tables import render_table
from node.trust import load_trust

__all__ = ["TOPOLOGY", "run_demo", "write_sample_files"]

# node -> parent (None at the root); Zhejiang: Hangzhou and Ningbo with two districts each
TOPOLOGY: dict[str, str | None] = {
    "330000": None,
    "330100": "330000",
    "330200": "330000",
    "330106": "330100",
    "330108": "330100",
    "330203": "330200",
    "330206": "330200",
}
SAMPLE_PER_COUNTY = 5


@dataclass
class DemoNode:
    """One node process of the demo."""

    node_id: str
    parent: str | None
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    address: str = ""
    expected: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # own stream digests
    ingest_seconds: float = 0.0

    @property
    def config(self) -> Path:
        """The node's config file."""
        return self.folder / "node.toml"


def _jgnode(*args: str) -> list[str]:
    return [sys.executable, "-m", "node.cli", *args]


def write_sample_files(out: Path, *, region: str, seed: int, inspections: int) -> list[tuple[str, Path, int]]:
    """Generate CSV files of every dataset for ``region``, in an order that ingests cleanly; (dataset, path, rows)."""
    out.mkdir(parents=True, exist_ok=True)
    generator = SampleGenerator(seed, region)
    objects = generator.enterprises(max(50, inspections // 20))
    checks = list(generator.inspections(inspections, objects=objects))
    files: list[tuple[str, Sequence[DatasetRecord]]] = [
        ("matter", generator.matters()),
        ("matter_sub", generator.matter_subs()),
        ("impl_list", generator.impl_lists()),
        ("matter_mapping", generator.matter_mappings()),
        ("personnel", generator.personnel()),
        (REGULATED_OBJECT, objects),
        ("credit_grade", generator.credit_grades(objects=objects)),
        ("list_entry", list(generator.list_entries(max(1, len(objects) // 20), objects=objects))),
        (INSPECTION, checks),  # before the actions that name an inspection
        (PENALTY, list(generator.penalties(inspections // 10, inspections=checks))),
        ("enforcement", list(generator.enforcements(max(1, inspections // 50), inspections=checks))),
        ("other_action", list(generator.other_actions(max(1, inspections // 50), inspections=checks))),
        (COMPLAINT, list(generator.complaints(inspections // 10, objects=objects))),
        ("public_opinion", list(generator.public_opinion(max(1, inspections // 50), objects=objects))),
    ]
    written = []
    for dataset, records in files:
        path = out / f"{dataset}.csv"
        written.append((dataset, path, write_records(path, records)))
    return written


def _init_nodes(root: Path, *, insecure: bool) -> dict[str, DemoNode]:
    """Create the seven nodes; with a PKI: a root CA at the province, an intermediate CA per city."""
    nodes = {}
    for node_id, parent in TOPOLOGY.items():
        folder = root / node_id
        create_node(
            folder,
            node_id=node_id,
            tier=region_tier(node_id),
            listen="127.0.0.1:0",
            insecure=insecure,
            extra={"batch_size": 1000, "batch_linger_ms": 100},
        )
        nodes[node_id] = DemoNode(node_id, parent, folder)
    if insecure:
        _share_keys(nodes)
    else:
        _certify(nodes, root / "pki")
    return nodes


def _share_keys(nodes: dict[str, DemoNode]) -> None:
    """Insecure development mode: every ancestor trusts every descendant's public signing key.

    Every node also trusts the root's key: it signs the registry snapshot.
    """
    root = next(n for n in nodes.values() if n.parent is None)
    for node in nodes.values():
        if node is not root:
            shutil.copyfile(root.folder / "keys" / "signing.pub", node.folder / "trust" / f"{root.node_id}.pub")
        ancestor = node.parent
        while ancestor is not None:
            shutil.copyfile(
                node.folder / "keys" / "signing.pub", nodes[ancestor].folder / "trust" / f"{node.node_id}.pub"
            )
            ancestor = nodes[ancestor].parent


def _certify(nodes: dict[str, DemoNode], pki: Path) -> None:
    """Root CA 330000 certifies the province and the cities' CAs; each city's CA certifies its counties."""
    root = CaDir.init_root(pki / "root-ca", node_id="330000", name="Zhejiang demo root", days=365, crl_days=7)
    anchor = anchor_of(root)
    cas = {"330000": root}
    for city in ("330100", "330200"):
        folder = pki / f"{city}-ca"
        request = CaDir.request_intermediate(folder, node_id=city)
        cas[city] = CaDir.install_intermediate(folder, issue_from(root, request, days=365), crl_days=7)
    for node in nodes.values():
        issuer = cas[node.parent if node.parent and node.parent != "330000" else "330000"]
        settings = load_settings(node.config)
        install_certificate(
            settings, issue_from(issuer, node.folder / "certs" / "request.csr", days=90), anchors_pem=anchor
        )
        for ca in {id(c): c for c in (root, issuer, cas.get(node.node_id, root))}.values():
            publish_crl(settings, (ca.folder / "crl.pem").read_bytes(), f"ca-{ca.info.node_id}")


def _start(node: DemoNode, nodes: dict[str, DemoNode], deadline: float) -> None:
    env = dict(os.environ)
    if node.parent:
        env["JGNODE_PARENT"] = nodes[node.parent].address
    with (node.folder / "node.log").open("ab") as log:
        node.process = subprocess.Popen(_jgnode("run", "-c", str(node.config)), stdout=log, stderr=log, env=env)
    address_file = node.folder / ADDRESS_FILE
    while not address_file.exists():
        if node.process.poll() is not None:
            raise ConfigError(f"node {node.node_id} exited at start; see {node.folder / 'node.log'}")
        if time.monotonic() > deadline:
            raise ConfigError(f"node {node.node_id} did not start in time")
        time.sleep(0.05)
    node.address = address_file.read_text(encoding="utf-8").strip()


def _ingest_all(counties: list[DemoNode], root: Path, *, per_county: int, seed: int) -> None:
    """Generate each county's files, then ingest them, counties in parallel."""
    plans = []
    for county in counties:
        files = write_sample_files(
            root / "input" / county.node_id,
            region=county.node_id,
            seed=seed,
            inspections=max(10, int(per_county / 1.25)),
        )
        plans.append((county, files))
    started = time.monotonic()
    running = []
    for county, files in plans:
        # one process per county loads its files in order, each as the dataset it is named after
        command = _jgnode("ingest", "--no-progress", "-c", str(county.config), *(str(p) for _d, p, _n in files))
        running.append((county, subprocess.Popen(command, stdout=subprocess.PIPE)))
    for county, process in running:
        output, _ = process.communicate()
        county.ingest_seconds = time.monotonic() - started
        for line in output.decode().splitlines():
            print(f"  {county.node_id} {line}")
        if process.returncode != 0:
            raise ConfigError(f"ingest at {county.node_id} failed (exit {process.returncode})")


def _client(node: DemoNode) -> NodeClient:
    return NodeClient(load_settings(node.config), address=node.address)


def _digests(node: DemoNode, origin: str, datasets: list[str]) -> dict[str, tuple[int, bytes]]:
    with _client(node) as client:
        return {dataset: client.digest(dataset=dataset, origin=origin) for dataset in datasets}


def _wait_for_province(province: DemoNode, expected_total: int, deadline: float) -> admin_pb2.NodeStatus:
    last_print = 0.0
    with _client(province) as client:
        while True:
            status = client.status()
            if status.records_held >= expected_total:
                return status
            if time.monotonic() > deadline:
                raise JgnodeError(f"timed out: province holds {status.records_held} of {expected_total} records")
            if time.monotonic() - last_print > 2:
                print(f"  province holds {status.records_held:,} of {expected_total:,} records")
                last_print = time.monotonic()
            time.sleep(0.25)


def _check_sets(province: DemoNode, counties: list[DemoNode]) -> list[str]:
    problems = []
    for county in counties:
        held = _digests(province, county.node_id, sorted(county.expected))
        for dataset, (count, digest) in county.expected.items():
            got_count, got_digest = held[dataset]
            if got_count != count:
                problems.append(f"{county.node_id}/{dataset}: province holds {got_count}, county has {count}")
            elif got_digest != digest:
                problems.append(f"{county.node_id}/{dataset}: same count, different records (digest mismatch)")
    return problems


def _verify_sample(province: DemoNode, counties: list[DemoNode], root: Path) -> list[str]:
    """Ask the province for sample records' provenance and check it with the province's own trust."""
    trust, _signer = load_trust(load_settings(province.config))
    problems = []
    with _client(province) as client:
        for county in counties:
            for uid in _sample_uids(root / "input" / county.node_id / f"{INSPECTION}.csv"):
                request = admin_pb2.GetProvenanceRequest(uid=uid, dataset=INSPECTION, origin=county.node_id)
                try:
                    (bundle,) = client.provenance(request)
                    checks = verify_provenance(bundle, trust.keyring, admit=lambda c, at: trust.admit(c, at_us=at))
                except (JgnodeError, ValueError) as exc:
                    problems.append(f"{county.node_id}/{uid}: {exc}")
                    continue
                record = exchange_pb2.Record.FromString(bundle.record)
                hops = ", ".join(c.split(" ")[2] for c in checks if c.startswith("forwarded"))
                signed = "certificates" if trust.pki else "trusted keys"
                print(
                    f"  {record.origin}/{record.dataset}/{record.uid}: origin signature, inclusion proof and "
                    f"hops ({hops}) verified against {signed}"
                )
    return problems


def _sample_uids(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        uids = [row[uid_column(INSPECTION)] for row in csv.DictReader(handle)]
    step = max(1, len(uids) // SAMPLE_PER_COUNTY)
    return uids[::step][:SAMPLE_PER_COUNTY]


def _summary(nodes: dict[str, DemoNode]) -> str:
    rows = []
    for node in nodes.values():
        with _client(node) as client:
            s = client.status()
        if s.records_own and node.ingest_seconds:
            rate = s.records_own / node.ingest_seconds
        elif s.last_received_at_us > s.first_received_at_us:
            rate = s.records_received / ((s.last_received_at_us - s.first_received_at_us) / 1e6)
        else:
            rate = 0.0
        rows.append(
            [
                node.node_id,
                s.tier,
                s.records_held,
                s.records_own,
                s.records_received,
                s.records_forwarded,
                s.outbox_records + s.unsealed_records,
                s.records_quarantined,
                round(rate),
            ]
        )
    return render_table(
        ["node", "tier", "held", "own", "received", "forwarded", "backlog", "quarantined", "records/s"], rows
    )


def _stop_all(nodes: dict[str, DemoNode]) -> None:
    for node in nodes.values():
        if node.process and node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    for node in nodes.values():
        if node.process:
            try:
                node.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()


def run_demo(root: Path, *, records: int, seed: int, timeout_s: float, insecure: bool = False) -> int:
    """Run the whole demo; returns the exit status (0 only if every check passed)."""
    if records < 1000:
        raise ConfigError("--records must be at least 1000")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    print(f"demo: 7 nodes in {root}/ (province 330000; cities 330100, 330200; counties 330106, 330108, 330203, 330206)")
    print(
        "  transport: INSECURE plain text, trust folder (development mode)"
        if insecure
        else "  transport: mutual TLS; PKI: root CA 330000, intermediate CAs 330100 and 330200, CRLs"
    )
    nodes = _init_nodes(root, insecure=insecure)
    counties = [n for n in nodes.values() if region_tier(n.node_id) == "county"]
    deadline = time.monotonic() + timeout_s
    try:
        for node in nodes.values():  # parents first: TOPOLOGY is ordered root to leaves
            _start(node, nodes, deadline)
            print(
                f"  started {region_tier(node.node_id):8} {node.node_id} at {node.address} "
                f"(pid {node.process.pid if node.process else '-'})"
            )
        print(f"ingesting about {records:,} generated records in the four counties ...")
        _ingest_all(counties, root, per_county=records // len(counties), seed=seed)
        for county in counties:
            county.expected = _digests(county, county.node_id, list(DATASETS))
        total = sum(count for county in counties for count, _ in county.expected.values())
        print(f"waiting for the province to hold all {total:,} county records ...")
        _wait_for_province(nodes["330000"], total, deadline)
        problems = _check_sets(nodes["330000"], counties)
        print("verifying provenance of sample records at the province back to their county:")
        problems += _verify_sample(nodes["330000"], counties, root)
        print()
        print(_summary(nodes))
    finally:
        _stop_all(nodes)
    if problems:
        print("\nFAILED:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(
        f"\nOK: the province holds exactly the {total:,} county records (count and digest per county and "
        "dataset), and every sampled record verified back to its county."
    )
    return 0
