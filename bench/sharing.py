"""Sharing benchmark (``make bench``): 100 subscribers on one node while it ingests 10,000 records/s.

A city node (its own process) holds 100 approved subscriptions to its
inspections, each limited to one of 10 counties and to 8 fields, so each
subscriber receives about a tenth of what is ingested. The node ingests
inspections of the 10 counties at ``--rate`` records/s for ``--seconds`` s, as
``jgnode ingest`` does: from a process of its own, into the node's database
(``ingest_records``); the node notices new records within its 0.2 s poll. Each
record's ``submitted_at`` is the moment it is handed to ingest.

Two ways of getting the records to the 100 subscribers, in the same run, each
on fresh records:

- **stream**: each subscriber holds a ``Subscribe`` stream and acks what it
  has processed every 0.5 s (``Sharing`` service);
- **poll** (the baseline): each subscriber calls the ``Query`` API every second
  for records submitted after the newest it has (less a 5 s margin, since
  pages come in uid order while the index grows; records seen are dropped),
  paging through the answer. Queries read the node's sharing index, so the
  phase waits for the index to hold every record before its 30 s deadline.

Per way: delivery latency (receive time minus ``submitted_at``; p50, p99, max),
records delivered per second, and a check that every subscriber got exactly the
records of its county, none twice. The target (issue 5): stream p99 <= 1 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

if __name__ == "__main__" and not __package__:  # `make bench` runs this file as a script
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import grpc
from jgnode.exchange.v1 import exchange_pb2, sharing_pb2, sharing_pb2_grpc

from adapters.csv_records import CHINA_TZ
from adapters.sample_data import SampleGenerator
from exchange_registry import Application
from governance import Inspection
from node.ingest import ingest_records
from node.runtime import Node, now_us
from node.settings import load_settings
from node.store import Store
from node.subscriptions import act_on, apply_for

ROOT = Path(__file__).resolve().parent.parent
NODE_ID = "330100"
COUNTIES = ("330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113", "330114")
FIELDS = (
    "action_number",
    "action_date",
    "region_code",
    "agency_name",
    "counterparty_name",
    "counterparty_cert_number",
    "result",
    "submitted_at",
)
TARGET_P99_S = 1.0
TICK_S = 0.05
ACK_EVERY_S = 0.5
POLL_MARGIN = timedelta(seconds=5)


# -- the node, in its own process ----------------------------------------------------------------


def _node_main(config: Path, subscribers: int, conn: Connection) -> None:
    """Make the subscriptions, run the node until "stop"; on "drain", wait for the sharing index to catch up."""
    settings = load_settings(config)
    node = Node(settings)
    today = datetime.now().date()
    idents = []
    for n in range(subscribers):
        application = Application(
            f"{NODE_ID}/dept{n:03d}", "inspection", "benchmark", fields=FIELDS, region=COUNTIES[n % len(COUNTIES)]
        )
        held = apply_for(node.store, settings, application, today=today, now_us=now_us())
        act_on(node.store, held.id, "approve", by="bench", reason="", now_us=now_us())
        idents.append(held.id)
    node.start()
    conn.send((node.address, idents))
    while conn.recv() == "drain":
        deadline = time.time() + 300
        while node.sharing_index.backlog() and time.time() < deadline:
            time.sleep(0.5)
        conn.send(node.sharing_index.backlog())
    node.stop()


def _ingester_main(config: Path, rate: int, seconds: float, conn: Connection) -> None:
    """Ingest one phase of fresh records per "go", into the node's database, as `jgnode ingest` does."""
    settings = load_settings(config)
    per_phase = int(rate * seconds)
    phases = [_records(seed, per_phase) for seed in (1, 2)]
    store = Store.open(settings.db_url, settings.node_id)
    conn.send("ready")
    for records in phases:
        if conn.recv() != "go":
            break
        conn.send(_ingest(store, records, rate))
    store.close()


def _records(seed: int, count: int) -> list[Inspection]:
    per_county = count // len(COUNTIES)
    streams = []
    for county in COUNTIES:
        source = SampleGenerator(seed * 100 + COUNTIES.index(county), county)
        streams.append(list(source.inspections(per_county, objects=source.enterprises(50))))
    return [s[i] for i in range(per_county) for s in streams]  # counties interleaved


def _ingest(store: Store, records: list[Inspection], rate: int) -> tuple[float, float]:
    """Ingest at ``rate`` records/s in ticks; returns (start, end) wall times."""
    per_tick = max(int(rate * TICK_S), 1)
    start = time.time()
    for n, first in enumerate(range(0, len(records), per_tick)):
        due = start + n * TICK_S
        if due > time.time():
            time.sleep(due - time.time())
        now = time.time_ns() // 1000
        batch = [
            dataclasses.replace(r, header=dataclasses.replace(r.header, submitted_at_us=now + i))
            for i, r in enumerate(records[first : first + per_tick])
        ]
        ingest_records(store, "inspection", batch)
    return start, time.time()


# -- the subscribers, in this process ------------------------------------------------------------


@dataclasses.dataclass
class Subscriber:
    """One department's side: what it received and how late."""

    ident: int
    name: str
    county: str
    latencies: list[float] = dataclasses.field(default_factory=list)
    uids: set[str] = dataclasses.field(default_factory=set)
    doubled: int = 0
    last_seen: str = ""
    error: str = ""

    def take(self, records: Iterable[sharing_pb2.SharedRecord], received: float) -> None:
        for record in records:
            fields = record.fields
            if record.uid in self.uids:
                self.doubled += 1
            self.uids.add(record.uid)
            submitted = fields["submitted_at"]
            self.latencies.append(received - datetime.fromisoformat(submitted).timestamp())
            self.last_seen = max(self.last_seen, submitted)

    @property
    def metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return (("jgnode-subscriber", self.name),)


def _stream(address: str, sub: Subscriber, stop: threading.Event) -> None:
    with grpc.insecure_channel(address) as channel:
        stub = sharing_pb2_grpc.SharingStub(channel)
        call = stub.Subscribe(sharing_pb2.SubscribeRequest(subscription_id=sub.ident), metadata=sub.metadata)
        stop_watch = threading.Thread(target=lambda: (stop.wait(), call.cancel()), daemon=True)  # type: ignore[no-untyped-call]
        stop_watch.start()
        processed: dict[str, exchange_pb2.StreamCursor] = {}
        acked_at = 0.0
        try:
            for delivery in call:
                received = time.time()
                sub.take(delivery.records, received)
                processed.update((c.origin, c) for c in delivery.cursor)
                if received - acked_at >= ACK_EVERY_S:  # as a department's client would: not after every message
                    request = sharing_pb2.AckRequest(subscription_id=sub.ident, cursor=list(processed.values()))
                    stub.Ack(request, metadata=sub.metadata, timeout=30)
                    acked_at = received
        except grpc.RpcError as exc:
            if not stop.is_set():
                sub.error = f"{exc.code()}: {exc.details()}"


def _poll(address: str, sub: Subscriber, stop: threading.Event) -> None:
    with grpc.insecure_channel(address) as channel:
        query = sharing_pb2_grpc.QueryStub(channel)
        while not stop.wait(1.0):
            token = ""
            # pages come in uid order while the index grows: look back a margin and drop what was seen
            after = (datetime.fromisoformat(sub.last_seen) - POLL_MARGIN).isoformat()
            try:
                while True:
                    request = sharing_pb2.QueryRequest(
                        subscription_id=sub.ident,
                        filters=[f"submitted_at>{after}"] if after else [],
                        page_size=1000,
                        page_token=token,
                    )
                    page = query.Query(request, metadata=sub.metadata, timeout=30)
                    sub.take([r for r in page.records if r.uid not in sub.uids], time.time())
                    token = page.next_page_token
                    if not token:
                        break
            except grpc.RpcError as exc:
                sub.error = f"{exc.code()}: {exc.details()}"
                return


@dataclasses.dataclass
class Phase:
    """What one way of delivery achieved."""

    name: str
    latencies: list[float]
    delivered: int
    seconds: float
    ingest_rate: float
    problems: list[str]

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def _phase(
    name: str,
    conn: Connection,
    address: str,
    *,
    idents: list[int],
    run: Callable[..., None],
    expected: dict[str, int],
    settle: Callable[[], object] = lambda: None,
) -> Phase:
    begun = datetime.now(CHINA_TZ).isoformat()  # the poller asks for what was submitted after this
    subs = [
        Subscriber(ident, f"{NODE_ID}/dept{n:03d}", COUNTIES[n % len(COUNTIES)], last_seen=begun)
        for n, ident in enumerate(idents)
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=run, args=(address, s, stop), daemon=True) for s in subs]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every stream open (and every poller's first empty poll) before records flow
    conn.send("go")
    start, end = conn.recv()
    settle()
    deadline = time.time() + 30
    while time.time() < deadline and any(len(s.uids) < expected[s.county] and not s.error for s in subs):
        time.sleep(0.2)
    finished = time.time()
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    problems = [
        f"{s.name}: {len(s.uids)} of {expected[s.county]} records, {s.doubled} twice {s.error}".strip()
        for s in subs
        if len(s.uids) != expected[s.county] or s.doubled or s.error
    ]
    delivered = sum(len(s.latencies) for s in subs)
    latencies = [x for s in subs for x in s.latencies]
    ingested = sum(expected[c] for c in COUNTIES)
    return Phase(name, latencies, delivered, finished - start, ingested / (end - start), problems)


def main() -> int:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=int, default=10_000, help="records ingested per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of ingest per phase")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jgnode-bench-sharing-"))
    try:
        config = _init(work)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        feed, fed = context.Pipe()
        child = context.Process(target=_node_main, args=(config, args.subscribers, theirs))
        child.start()
        address, idents = ours.recv()
        ingester = context.Process(target=_ingester_main, args=(config, args.rate, args.seconds, fed))
        ingester.start()
        feed.recv()  # records generated
        per_county = int(args.rate * args.seconds) // len(COUNTIES)
        expected = dict.fromkeys(COUNTIES, per_county)
        print(
            f"{args.subscribers} subscribers, each one county of {len(COUNTIES)} and {len(FIELDS)} fields; "
            f"ingest {args.rate:,} records/s for {args.seconds:.0f} s per way"
        )
        phases = [_phase("stream (Subscribe + Ack)", feed, address, idents=idents, run=_stream, expected=expected)]

        def drained() -> object:  # the poller reads the sharing index: wait until it has every record
            ours.send("drain")
            return ours.recv()

        print(f"  (sharing index backlog before polling: {drained():,} records)")
        polled = _phase(
            "poll (Query every 1 s)", feed, address, idents=idents, run=_poll, expected=expected, settle=drained
        )
        phases.append(polled)
        ours.send("stop")
        child.join(timeout=60)
        ingester.join(timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _report(phases)


def _init(work: Path) -> Path:
    jgnode = Path(sys.executable).parent / "jgnode"
    subprocess.run(
        [str(jgnode), "init", "--node-id", NODE_ID, "--tier", "city", "--dir", str(work / "node"), "--insecure"],
        check=True,
        capture_output=True,
    )
    config = work / "node" / "node.toml"
    text = config.read_text(encoding="utf-8").replace('listen = "127.0.0.1:7400"', 'listen = "127.0.0.1:0"')
    config.write_text(text + "\n[resolve]\nenabled = false\n", encoding="utf-8")
    return config


def _report(phases: list[Phase]) -> int:
    print(f"\n  {'way':<28}{'ingested/s':>12}{'delivered/s':>13}{'p50 s':>9}{'p99 s':>9}{'max s':>9}  check")
    for p in phases:
        check = "ok" if not p.problems else f"FAILED ({len(p.problems)} subscribers)"
        worst = max(p.latencies, default=float("nan"))
        print(
            f"  {p.name:<28}{p.ingest_rate:>12,.0f}{p.delivered / p.seconds:>13,.0f}"
            f"{p.percentile(0.5):>9.3f}{p.percentile(0.99):>9.3f}{worst:>9.3f}  {check}"
        )
        for problem in p.problems[:5]:
            print(f"      {problem}")
    stream, poll = phases
    if stream.latencies and poll.latencies:
        ratio = statistics.median(poll.latencies) / statistics.median(stream.latencies)
        print(f"\n  median latency, poll / stream: {ratio:.1f}x")
    met = not stream.problems and stream.percentile(0.99) <= TARGET_P99_S
    print(f"  target: stream p99 <= {TARGET_P99_S:.0f} s: {'met' if met else 'MISSED'}")
    return 0 if not stream.problems and not poll.problems else 1


if __name__ == "__main__":
    sys.exit(main())
