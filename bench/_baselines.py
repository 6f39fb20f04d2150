"""What the exchange is compared with: a naive per-record exchange, and plain sqlite3 inserts."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

import grpc
from jgnode.exchange.v1 import exchange_pb2
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable
from sqlmodel import Field, Session, SQLModel, create_engine

from bench._tree import COUNTY, ROOT, County
from node.signing import KeyRing, load_signer
from node.store._schema import RECORD

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
    key = ring.add_pem(COUNTY, public_pem.read_bytes())
    engine = create_engine(f"sqlite:///{db}")
    SQLModel.metadata.create_all(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")

    def push_one(request: bytes, _context: grpc.ServicerContext) -> bytes:
        signature, body = request[:64], request[64:]
        ring.verify(key_id=key.key_id, node_id=COUNTY, suite="ed25519", data=body, signature=signature)
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


def run_naive(root: Path, county: County, records: int) -> float:
    """Records/s of the naive exchange on the county's first ``records`` records (plain text, Ed25519)."""
    folder = root / "naive"
    folder.mkdir()
    port_file = folder / "port"
    key = county.settings.signing_key_path
    arguments = [str(port_file), str(folder / "naive.db"), str(key.with_suffix(".pub"))]
    script = ROOT / "bench" / "exchange.py"
    server = subprocess.Popen([sys.executable, str(script), "--naive-server", *arguments], cwd=ROOT)
    rows = county.rows[:records]
    try:
        while not port_file.exists():
            time.sleep(0.02)
        signer = load_signer(COUNTY, key)
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
    shutil.rmtree(root)
    return len(tuples) / elapsed
