"""Exchange benchmark (``make bench``): signed batches one hop and three tiers.

One hop county -> city: N records of ~300-byte payload (regulated objects) are
sealed, signed, sent, verified and persisted by real node processes. In the same
run, on the same machine:

(a) a naive baseline on a subset: one unary RPC, one signature and one ORM
    insert (and commit) per record;
(b) the raw limit: plain sqlite3 ``executemany`` of the same rows into the same
    table shape.

Then the three-tier run county -> city -> province. Prints records/s, the
ratios, and each node's peak RSS. Absolute figures drift on shared machines;
the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

import grpc
from jgnode.exchange.v1 import admin_pb2, admin_pb2_grpc, exchange_pb2
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable
from sqlmodel import Field, Session, SQLModel, create_engine

from adapters.sample_data import SampleGenerator
from node.ingest import ingest_records
from node.serde import record_key
from node.signing import KeyRing, generate_signing_key, load_signer
from node.store import Store
from node.store._schema import RECORD

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"one_hop": 100_000, "vs_naive": 50.0, "vs_raw": 0.25, "rss_mb": 300, "three_tier": 50_000}


# -- set-up ---------------------------------------------------------------------


def _node_dir(root: Path, node_id: str, tier: str) -> Path:
    folder = root / node_id
    generate_signing_key(folder / "keys" / "signing.key", folder / "keys" / "signing.pub")
    (folder / "trust").mkdir(parents=True, exist_ok=True)
    (folder / "node.toml").write_text(
        f'node_id = "{node_id}"\ntier = "{tier}"\nlisten = "127.0.0.1:0"\ndata_dir = "."\n'
        "batch_size = 1000\nbatch_linger_ms = 50\n",
        encoding="utf-8",
    )
    return folder


def _trust(root: Path, child: str, *ancestors: str) -> None:
    for ancestor in ancestors:
        shutil.copyfile(root / child / "keys" / "signing.pub", root / ancestor / "trust" / f"{child}.pub")


def prepare_county(root: Path, records: int) -> tuple[Path, list[tuple[str, bytes]]]:
    """A county folder whose store holds ``records`` regulated objects, not yet sealed."""
    folder = _node_dir(root, "330106", "county")
    objects = SampleGenerator(2026, "330106").enterprises(records)
    store = Store.open(f"sqlite:///{folder / 'node.db'}", "330106")
    started = time.perf_counter()
    for start in range(0, records, 5000):
        ingest_records(store, "regulated_object", objects[start : start + 5000])
    elapsed = time.perf_counter() - started
    rows = [(record_key(body)[0], body) for _seq, body in store.records_after(1, 0, records)]
    store.close()
    size = sum(len(b) for _, b in rows) / len(rows)
    print(f"county store: {records:,} records, mean record {size:.0f} bytes, ingested at {records / elapsed:,.0f}/s")
    return folder, rows


# -- running nodes ----------------------------------------------------------------


class NodeProcess:
    """A `jgnode run` process."""

    def __init__(self, folder: Path, parent: str | None = None) -> None:
        env = dict(os.environ)
        if parent:
            env["JGNODE_PARENT"] = parent
        (folder / "node.addr").unlink(missing_ok=True)
        with (folder / "node.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "node.cli", "run", "-c", str(folder / "node.toml")],
                stdout=log,
                stderr=log,
                env=env,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 60
        while not (folder / "node.addr").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"node in {folder} failed to start; see {folder / 'node.log'}")
            time.sleep(0.02)
        self.address = (folder / "node.addr").read_text().strip()
        self.channel = grpc.insecure_channel(self.address)
        self.admin = admin_pb2_grpc.NodeAdminStub(self.channel)

    def status(self) -> admin_pb2.NodeStatus:
        return self.admin.GetStatus(admin_pb2.GetStatusRequest(), timeout=30)

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.channel.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _wait_held(node: NodeProcess, records: int, timeout: float = 900) -> admin_pb2.NodeStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = node.status()
        if status.records_held >= records:
            return status
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {status.records_held} of {records} arrived")
        time.sleep(0.5)  # rates come from the nodes' own timestamps; polling only costs them CPU


def run_chain(
    root: Path, county_db: Path, records: int, tiers: list[tuple[str, str]]
) -> tuple[float, dict[str, float]]:
    """Run county -> tiers...; returns (records/s landed at the last tier, peak RSS per node)."""
    chain = ["330106", *[node_id for node_id, _ in tiers]]
    for node_id, tier in tiers:
        _node_dir(root, node_id, tier)
    county = _node_dir(root, "330106x", "county")  # a copy of the prepared county, keys included
    shutil.rmtree(county)
    shutil.copytree(county_db.parent, root / "330106", dirs_exist_ok=True)
    for i, child in enumerate(chain[:-1]):
        _trust(root, child, *chain[i + 1 :])
    nodes: list[NodeProcess] = []
    try:
        parent = None
        for node_id in reversed(chain[1:]):
            nodes.insert(0, NodeProcess(root / node_id, parent))
            parent = nodes[0].address
        nodes.insert(0, NodeProcess(root / "330106", parent))
        first_hop = nodes[1]
        last = _wait_held(nodes[-1], records)
        first = first_hop.status().first_received_at_us
        rate = records / ((last.last_received_at_us - first) / 1e6)
        rss = {node_id: node.peak_rss_mb() for node_id, node in zip(chain, nodes, strict=True)}
        return rate, rss
    finally:
        for node in nodes:
            node.stop()


# -- naive baseline -----------------------------------------------------------------


class NaiveRecord(SQLModel, table=True):
    """One row per record, inserted through the ORM."""

    origin: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    uid: str
    version: int
    op: int
    event_time_us: int
    body: bytes


def naive_server(port_file: Path, db: Path, public_pem: Path) -> None:
    """Unary RPC per record: verify its own signature, parse it, ORM insert and commit."""
    ring = KeyRing()
    key = ring.add_pem("330106", public_pem.read_bytes())
    engine = create_engine(f"sqlite:///{db}")
    SQLModel.metadata.create_all(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")

    def push_one(request: bytes, _context: grpc.ServicerContext) -> bytes:
        signature, body = request[:64], request[64:]
        ring.verify(key_id=key.key_id, node_id="330106", suite="ed25519", data=body, signature=signature)
        record = exchange_pb2.Record.FromString(body)
        with Session(engine) as session:
            session.add(
                NaiveRecord(
                    origin=record.origin,
                    seq=record.seq,
                    uid=record.uid,
                    version=record.version,
                    op=record.op,
                    event_time_us=record.event_time_us,
                    body=body,
                )
            )
            session.commit()
        return b"ok"

    handler = grpc.method_handlers_generic_handler(
        "bench.Naive", {"PushOne": grpc.unary_unary_rpc_method_handler(push_one)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    port_file.write_text(str(port))
    server.wait_for_termination()


def run_naive(root: Path, county: Path, rows: list[tuple[str, bytes]]) -> float:
    """Records/s of the naive exchange on ``rows``."""
    folder = root / "naive"
    folder.mkdir()
    port_file = folder / "port"
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--naive-server",
            str(port_file),
            str(folder / "naive.db"),
            str(county / "keys" / "signing.pub"),
        ],
        cwd=ROOT,
    )
    try:
        while not port_file.exists():
            time.sleep(0.02)
        signer = load_signer("330106", county / "keys" / "signing.key")
        with grpc.insecure_channel(f"127.0.0.1:{port_file.read_text()}") as channel:
            push_one = channel.unary_unary("/bench.Naive/PushOne", request_serializer=None, response_deserializer=None)
            push_one(signer.sign(rows[0][1]) + rows[0][1], timeout=30)  # connect and warm up
            started = time.perf_counter()
            for _uid, body in rows[1:]:
                push_one(signer.sign(body) + body, timeout=30)
            return (len(rows) - 1) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait()


# -- raw limit ----------------------------------------------------------------------


def run_raw(root: Path, rows: list[tuple[str, bytes]]) -> float:
    """Records/s of plain sqlite3 executemany of the same rows into the node's own record table.

    Same DDL and pragmas as a node, 1000 rows per transaction, and no checkpoint at
    all (a node pays for its checkpoints in a background thread): a ceiling.
    """
    root.mkdir(parents=True, exist_ok=True)
    db = root / "raw.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "wal_autocheckpoint=0", "cache_size=-65536"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(str(CreateTable(RECORD).compile(dialect=sqlite.dialect())))
    tuples = [(1, seq, body) for seq, (_uid, body) in enumerate(rows, start=1)]
    started = time.perf_counter()
    for start in range(0, len(tuples), 1000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO record (stream_id, seq, body) VALUES (?, ?, ?)", tuples[start : start + 1000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(tuples) / elapsed


# -- main ---------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "BELOW TARGET"


def _spread(values: list[float]) -> str:
    return f"median of {len(values)}; runs: " + ", ".join(f"{v:,.0f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--naive", type=int, default=3_000, help="records in the naive baseline subset")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is reported")
    parser.add_argument("--dir", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--naive-server", nargs=3, metavar=("PORT_FILE", "DB", "PUBKEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_server:
        port_file, db, pub = (Path(a) for a in args.naive_server)
        naive_server(port_file, db, pub)
        return
    if args.dir.exists():
        shutil.rmtree(args.dir)
    args.dir.mkdir(parents=True)
    print(f"jgnode exchange benchmark: {args.records:,} records, {os.cpu_count()} CPUs, {args.repeat} runs each")
    county, rows = prepare_county(args.dir / "prepared", args.records)
    naive_rate = run_naive(args.dir, county, rows[: args.naive])
    hops, raws, threes = [], [], []
    rss: dict[str, float] = {}
    for run in range(args.repeat):
        rate, peaks = run_chain(args.dir / f"one_hop_{run}", county / "node.db", args.records, [("330100", "city")])
        hops.append(rate)
        rss.update({f"{k} (1 hop)": max(v, rss.get(f"{k} (1 hop)", 0)) for k, v in peaks.items()})
        raws.append(run_raw(args.dir / f"raw_{run}", rows))
        rate, peaks = run_chain(
            args.dir / f"three_tier_{run}",
            county / "node.db",
            args.records,
            [("330100", "city"), ("330000", "province")],
        )
        threes.append(rate)
        rss.update({f"{k} (3 tiers)": max(v, rss.get(f"{k} (3 tiers)", 0)) for k, v in peaks.items()})
        print(f"run {run + 1}: one hop {hops[-1]:,.0f}/s, raw {raws[-1]:,.0f}/s, three tiers {threes[-1]:,.0f}/s")
    hop, raw, three = statistics.median(hops), statistics.median(raws), statistics.median(threes)
    peak = max(rss.values())
    print()
    print(f"one hop county->city        {hop:>10,.0f} records/s  ({_spread(hops)})")
    print(f"    target >= {TARGETS['one_hop']:,}/s: {_verdict(hop >= TARGETS['one_hop'])}")
    print(
        f"naive baseline              {naive_rate:>10,.0f} records/s  ({args.naive:,} records: unary RPC, "
        "signature and ORM insert per record)"
    )
    print(
        f"    one hop / naive = {hop / naive_rate:,.0f}x; target >= {TARGETS['vs_naive']:.0f}x: "
        f"{_verdict(hop / naive_rate >= TARGETS['vs_naive'])}"
    )
    print(f"raw sqlite3 executemany     {raw:>10,.0f} records/s  ({_spread(raws)})")
    print(
        f"    one hop / raw = {hop / raw:.0%}; target >= {TARGETS['vs_raw']:.0%}: "
        f"{_verdict(hop / raw >= TARGETS['vs_raw'])}"
    )
    print(f"three tiers, at province    {three:>10,.0f} records/s  ({_spread(threes)})")
    print(f"    target >= {TARGETS['three_tier']:,}/s: {_verdict(three >= TARGETS['three_tier'])}")
    print("peak RSS per node: " + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items()))
    print(f"    max {peak:.0f} MB; target <= {TARGETS['rss_mb']} MB: {_verdict(peak <= TARGETS['rss_mb'])}")


if __name__ == "__main__":
    main()
