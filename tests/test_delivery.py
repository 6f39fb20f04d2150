"""Subscribe streams on one node, over mutual TLS with department certificates.

The approval workflow of each sharing class over gRPC, deny by default
(another department's, a revoked, an expired subscription), personal data
masked on the wire, region/predicate filters and field projection, resume
after a disconnect with no gap and no duplicate (from the client's cursor, from
the acked cursor, through a cut link), the ack window, 100 concurrent
subscribers, and ``jgnode share`` as a process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import grpc
import pytest
from jgnode.exchange.v1 import sharing_pb2, sharing_pb2_grpc
from sqlalchemy import update

from node import delivery
from node.catalog import find_resource, node_catalog
from node.delivery import view_key
from node.entitlements import protector, view_for
from node.errors import ConfigError, NotEntitledError, VerificationError
from node.intake_client import issue_source_identity
from node.pki import CaDir, department_certificate, load_certificates, node_certificate, source_certificate
from node.runtime import Node, now_us
from node.settings import RetrySettings
from node.share_client import (
    ClientSettings,
    DeliveryStream,
    SharingClient,
    issue_department_identity,
    load_client_settings,
)
from node.shared_reader import RawChange, read_raw, through
from node.store import CursorBook, SubscriptionBook
from node.store._subscriptions import SUBSCRIPTION
from node.subscriptions import act_on
from tests.conftest import PkiFixture, eventually
from tests.faultproxy import FaultProxy
from tests.harness import Tree, ingest, jgnode

CITY = "330100"
Key = tuple[str, int]


def department(
    pki: PkiFixture, folder: Path, label: str, address: str, *, ca: CaDir | None = None, node_id: str = ""
) -> SharingClient:
    """A department's client, with a certificate from ``ca`` (default: the root), talking to ``node_id``."""
    client_file = issue_department_identity(
        ca or pki.root, folder, label=label, days=30, address=address, node_id=node_id
    )
    settings = load_client_settings(client_file)
    return SharingClient(settings.model_copy(update={"retry": RetrySettings(initial_s=0.05, max_interval_s=0.5)}))


def apply(client: SharingClient, resource: str, **asked: object) -> sharing_pb2.SubscriptionInfo:
    """Apply once the node holds a fresh registry snapshot (new subscriptions fail closed until then)."""

    def attempt() -> sharing_pb2.SubscriptionInfo | None:
        try:
            return client.apply(resource, purpose="联合监管", **asked)  # type: ignore[arg-type]
        except ConfigError as exc:
            if "snapshot" not in str(exc) and "registry" not in str(exc):
                raise
            return None

    applied = eventually(attempt, what="a fresh registry snapshot")
    assert applied is not None
    return applied


def approve(node: Node, ident: int) -> None:
    act_on(node.store, ident, "approve", by="王科长", reason="", now_us=now_us())


class Reader:
    """Reads a stream in a thread, keeping every record and the cursor after it."""

    def __init__(self, stream: DeliveryStream, *, ack: SharingClient | None = None) -> None:
        self.stream = stream
        self.records: list[sharing_pb2.SharedRecord] = []
        self.cursor: dict[str, int] = {}
        self.caught_up = False
        self.error: BaseException | None = None
        self._ack = ack
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for message in self.stream:
                self.records.extend(message.records)
                self.cursor.update({c.origin: c.applied_seq for c in message.cursor})
                self.caught_up = self.caught_up or message.caught_up
                if self._ack is not None and message.records:
                    self._ack.ack(self.stream.subscription_id, self.cursor, provider=self.stream.provider)
        except BaseException as exc:  # handed to the test
            self.error = exc

    def until(self, cursor: Mapping[str, int], *, timeout: float = 30.0) -> list[sharing_pb2.SharedRecord]:
        """Wait until the stream has covered ``cursor``; the records read."""
        eventually(
            lambda: self.error is not None or all(self.cursor.get(o, 0) >= s for o, s in cursor.items()),
            timeout=timeout,
            what=f"the stream to reach {dict(cursor)} (at {self.cursor})",
        )
        if self.error is not None:
            raise self.error
        return self.records

    def stop(self) -> None:
        self.stream.cancel()
        self._thread.join(timeout=10)

    def failure(self) -> BaseException:
        """The error the stream ended with."""
        eventually(lambda: self.error is not None, what="the stream to end")
        assert self.error is not None
        return self.error


@pytest.fixture
def readers() -> Iterator[list[Reader]]:
    started: list[Reader] = []
    yield started
    for reader in started:
        reader.stop()


def read(readers: list[Reader], stream: DeliveryStream, *, ack: SharingClient | None = None) -> Reader:
    reader = Reader(stream, ack=ack)
    readers.append(reader)
    return reader


def held(node: Node, dataset: str) -> dict[str, int]:
    """Per origin, the last seq of ``dataset`` the node holds."""
    return {key.origin: seq for key, seq in node.store.cursors() if key.dataset == dataset}


def expected(node: Node, ident: int, raws: list[RawChange] | None = None) -> dict[Key, dict[str, str]]:
    """What subscription ``ident`` should receive of everything held (or of ``raws``): (origin, seq) -> fields."""
    subscription = SubscriptionBook(node.store).find(ids=[ident])[0]
    entry = find_resource(node_catalog(node.settings), subscription.resource_code)
    view = view_for(subscription, entry, protector(node.settings))
    if raws is None:
        raws = read_raw(node.store, subscription.dataset, {}, limit=10**6)[0]
    changes = [c for c in (through(view, r) for r in raws) if c is not None]
    return {(c.origin, c.seq): c.fields for c in changes}


def keys(records: list[sharing_pb2.SharedRecord]) -> list[Key]:
    return [(r.origin, r.seq) for r in records]


def exactly(records: list[sharing_pb2.SharedRecord], want: Mapping[Key, object]) -> None:
    """Every record wanted, once, and nothing else."""
    got = keys(records)
    assert len(got) == len(set(got)), "a record arrived twice"
    assert set(got) == set(want)


@pytest.fixture
def city(tree: Tree) -> Node:
    node = tree.start(CITY, "city", catalog={"resources": [{"dataset": "personnel", "sharing_class": "not_shared"}]})
    ingest(node, 1, 300)
    return node


def test_each_sharing_class_over_grpc(city: Node, pki: PkiFixture, tmp_path: Path, readers: list[Reader]) -> None:
    market = department(pki, tmp_path / "market", f"{CITY}/market", city.address)
    objects = apply(market, "regulated_object")
    assert (objects.state, objects.provider, objects.subscriber) == ("active", CITY, f"{CITY}/market")
    reader = read(readers, market.subscribe(objects.id))
    exactly(reader.until(held(city, "regulated_object")), expected(city, objects.id))

    inspections = apply(market, "inspection")
    assert inspections.state == "applied"
    with pytest.raises(NotEntitledError, match=f"subscription {inspections.id} is applied"):
        next(market.subscribe(inspections.id))
    approve(city, inspections.id)
    reader = read(readers, market.subscribe(inspections.id))
    records = reader.until(held(city, "inspection"))
    assert len(records) == len(expected(city, inspections.id)) > 200
    exactly(records, expected(city, inspections.id))

    personnel = market.apply("personnel", purpose="联合监管")
    assert personnel.state == "refused"
    assert "not shared" in personnel.reason
    with pytest.raises(ConfigError, match="no purpose"):
        market.apply("regulated_object", purpose=" ")
    assert [s.id for s in market.list()] == [objects.id, inspections.id, personnel.id]


def test_deny_by_default(city: Node, pki: PkiFixture, tmp_path: Path, readers: list[Reader]) -> None:
    market = department(pki, tmp_path / "market", f"{CITY}/market", city.address)
    health = department(pki, tmp_path / "health", f"{CITY}/health", city.address)
    mine = apply(market, "regulated_object")
    theirs = apply(health, "regulated_object")
    with pytest.raises(NotEntitledError, match=f"subscription {theirs.id} is not {CITY}/market's"):
        next(market.subscribe(theirs.id))
    with pytest.raises(NotEntitledError):
        market.ack(theirs.id, {})
    assert [s.id for s in market.list()] == [mine.id]  # another department's subscriptions stay out of sight

    live = read(readers, market.subscribe(mine.id))
    live.until(held(city, "regulated_object"))
    act_on(city.store, mine.id, "revoke", by="王科长", reason="purpose fulfilled", now_us=now_us())
    ended = live.failure()  # the running stream ends too (checked every few seconds)
    assert isinstance(ended, NotEntitledError)
    assert "revoked" in str(ended)
    with pytest.raises(NotEntitledError, match="revoked: purpose fulfilled"):
        next(market.subscribe(mine.id))

    expiring = apply(health, "regulated_object", valid_until=date.today().isoformat())
    with city.store.write() as conn:  # the period ended yesterday
        conn.execute(update(SUBSCRIPTION).where(SUBSCRIPTION.c.id == expiring.id).values(valid_until="2020-01-01"))
    with pytest.raises(NotEntitledError, match="expired"):
        next(health.subscribe(expiring.id))
    refused = [json.loads(e.detail) for e in city.store.audit_entries(kind=delivery.USAGE_REFUSED)]
    assert {(r["who"], r["channel"]) for r in refused} >= {(f"{CITY}/market", "stream"), (f"{CITY}/market", "ack")}
    assert len(refused) >= 5
    usage = [json.loads(e.detail) for e in city.store.audit_entries(kind="usage")]
    assert sum(u["records"] for u in usage if u["subscription"] == mine.id) == len(expected(city, mine.id))


def test_personal_data_masked_on_the_wire(city: Node, pki: PkiFixture, tmp_path: Path, readers: list[Reader]) -> None:
    market = department(pki, tmp_path / "market", f"{CITY}/market", city.address)
    masked, shown = apply(market, "inspection"), apply(market, "inspection", personal=True)
    approve(city, masked.id)
    approve(city, shown.id)
    target = held(city, "inspection")
    as_masked = {keys([r])[0]: dict(r.fields) for r in read(readers, market.subscribe(masked.id)).until(target)}
    as_shown = {keys([r])[0]: dict(r.fields) for r in read(readers, market.subscribe(shown.id)).until(target)}
    raws, _ = read_raw(city.store, "inspection", {}, limit=10_000)
    citizens = [r for r in raws if r.row and r.row["counterparty_nature"] == "1"]
    companies = [r for r in raws if r.row and r.row["counterparty_nature"] == "2"]
    assert citizens
    assert companies
    for raw in citizens:
        assert raw.row is not None
        masked_row, shown_row = as_masked[(raw.origin, raw.seq)], as_shown[(raw.origin, raw.seq)]
        number, name = raw.row["counterparty_cert_number"], raw.row["counterparty_name"]
        assert shown_row["counterparty_cert_number"] == number
        assert shown_row["counterparty_name"] == name
        assert number not in json.dumps(masked_row, ensure_ascii=False)
        assert masked_row["counterparty_name"] != name
        assert masked_row["counterparty_name"][0] == name[0]  # masked, not emptied
    for raw in companies[:20]:  # an enterprise's name and credit code are not personal
        assert raw.row is not None
        assert as_masked[(raw.origin, raw.seq)]["counterparty_name"] == raw.row["counterparty_name"]
        assert as_masked[(raw.origin, raw.seq)]["counterparty_cert_number"] == raw.row["counterparty_cert_number"]


def test_region_predicates_and_fields(city: Node, pki: PkiFixture, tmp_path: Path, readers: list[Reader]) -> None:
    market = department(pki, tmp_path / "market", f"{CITY}/market", city.address)
    asked = apply(
        market,
        "inspection",
        region="330110",
        filters=["action_date>=2023-06-01"],
        fields=["action_number", "action_date", "region_code"],
    )
    approve(city, asked.id)
    records = read(readers, market.subscribe(asked.id)).until(held(city, "inspection"))
    want = expected(city, asked.id)
    assert 0 < len(want) < 300
    exactly(records, want)
    for record in records:
        assert set(record.fields) == {"action_number", "action_date", "region_code"}
        assert record.fields["region_code"].startswith("330110")
        assert record.fields["action_date"] >= "2023-06-01"
    with pytest.raises(ConfigError, match="not an indexed field"):
        market.apply("inspection", purpose="联合监管", filters=["result=合格"])


def test_resume_without_gap_or_duplicate(
    tree: Tree, pki: PkiFixture, tmp_path: Path, readers: list[Reader], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "MAX_RECORDS", 40)  # many small deliveries
    node = tree.start(CITY, "city", sharing={"window": 100})  # without acks the stream stops mid-way
    ingest(node, 1, 300)
    market = department(pki, tmp_path / "market", f"{CITY}/market", node.address)
    asked = apply(market, "inspection")
    approve(node, asked.id)
    first = read(readers, market.subscribe(asked.id))
    eventually(lambda: len(first.records) >= 100, what="a few deliveries")
    acked_at = dict(first.cursor)
    market.ack(asked.id, acked_at)
    eventually(lambda: len(first.records) >= 140, what="a delivery past the ack")
    first.stop()  # cancelled mid-stream
    assert len(first.records) < len(expected(node, asked.id))

    ingest(node, 2, 200)  # records keep arriving while the subscriber is away
    want = expected(node, asked.id)
    from_ack = read(readers, market.subscribe(asked.id), ack=market)  # no cursor: from the last ack
    before_ack = [r for r in first.records if r.seq <= acked_at[CITY]]
    exactly(before_ack + from_ack.until(held(node, "inspection")), want)
    from_ack.stop()

    from_cursor = read(readers, market.subscribe(asked.id, cursor=first.cursor), ack=market)
    exactly(first.records + from_cursor.until(held(node, "inspection")), want)

    with pytest.raises(ConfigError, match="passes what was delivered"):
        market.ack(asked.id, {CITY: 10**9})


def test_a_cut_link_resumes_by_itself(
    city: Node, pki: PkiFixture, tmp_path: Path, readers: list[Reader], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "MAX_RECORDS", 30)
    with FaultProxy(city.address).start() as proxy:
        market = department(pki, tmp_path / "market", f"{CITY}/market", proxy.address)
        asked = apply(market, "inspection")
        approve(city, asked.id)
        reader = read(readers, market.subscribe(asked.id))
        eventually(lambda: len(reader.records) >= 60, what="a few deliveries")
        proxy.drop(refuse_s=0.3)
        ingest(city, 3, 150)
        records = reader.until(held(city, "inspection"))
        assert reader.stream.connects >= 2
        exactly(records, expected(city, asked.id))


def test_the_window_waits_for_acks(
    tree: Tree, pki: PkiFixture, tmp_path: Path, readers: list[Reader], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "MAX_RECORDS", 20)
    node = tree.start(CITY, "city", sharing={"window": 50})
    ingest(node, 1, 300)
    market = department(pki, tmp_path / "market", f"{CITY}/market", node.address)
    asked = apply(market, "inspection")
    approve(node, asked.id)
    reader = read(readers, market.subscribe(asked.id))  # reads, never acks
    waiting = eventually(lambda: [s for s in node.deliveries.status() if s.waiting_for_ack], what="a full window")
    assert 50 <= waiting[0].sent < 50 + 20
    eventually(lambda: len(reader.records) == waiting[0].sent, what="the reader to take what was sent")
    assert node.deliveries.status()[0].sent == waiting[0].sent  # still waiting: nothing more went out
    market.ack(asked.id, reader.cursor)
    eventually(lambda: len(reader.records) > waiting[0].sent, what="more after the ack")
    reader.stop()

    acking = read(readers, market.subscribe(asked.id, cursor=reader.cursor), ack=market)
    exactly(reader.records + acking.until(held(node, "inspection")), expected(node, asked.id))


def test_a_hundred_subscribers_each_get_their_view(
    tree: Tree, pki: PkiFixture, tmp_path: Path, readers: list[Reader]
) -> None:
    node = tree.start(CITY, "city")
    ingest(node, 1, 20)  # a little history; most records come on the live tail
    clients = [department(pki, tmp_path / f"d{i}", f"{CITY}/d{i}", node.address) for i in range(4)]
    regions = ["", "330110", "330106", "330122", "3301"]
    subscriptions = []
    for n in range(100):
        asked: dict[str, object] = {"region": regions[n % len(regions)]}
        if n % 3 == 1:
            asked["filters"] = ["action_date>=2023-06-01"]
        if n % 4 == 2:
            asked["fields"] = ["action_number", "region_code", "counterparty_name"]
        client = clients[n % len(clients)]
        info = apply(client, "inspection", **asked)
        approve(node, info.id)
        subscriptions.append((client, info.id))
    streams = [read(readers, client.subscribe(ident), ack=client) for client, ident in subscriptions]
    eventually(lambda: all(s.caught_up for s in streams), what="every stream on the live tail")
    assert len(node.deliveries.status()) == 100
    ingest(node, 2, 200)  # the live tail: each record decoded once, handed to all 100
    ingest(node, 3, 200)
    target = held(node, "inspection")
    raws = read_raw(node.store, "inspection", {}, limit=10**6)[0]
    assert len(raws) == 420
    wanted: dict[object, dict[Key, dict[str, str]]] = {}
    for reader, (_client, ident) in zip(streams, subscriptions, strict=True):
        view = view_key(SubscriptionBook(node.store).find(ids=[ident])[0])
        want = wanted[view] = wanted.get(view) or expected(node, ident, raws)
        records = reader.until(target)
        exactly(records, want)
        assert all(dict(r.fields) == want[(r.origin, r.seq)] for r in records)


def test_department_certificates_are_their_own_kind(city: Node, pki: PkiFixture, tmp_path: Path) -> None:
    client_file = issue_department_identity(pki.root, tmp_path / "m", label=f"{CITY}/market", days=5)
    cert = load_certificates((client_file.parent / "department.crt").read_bytes())[0]
    assert department_certificate(cert).label == f"{CITY}/market"
    with pytest.raises(VerificationError):
        source_certificate(cert)
    with pytest.raises(VerificationError):
        node_certificate(cert)
    node_cert = load_certificates(city.settings.cert_path.read_bytes())[0]
    with pytest.raises(VerificationError):
        department_certificate(node_cert)
    with pytest.raises(ConfigError, match="letters, digits"):
        issue_department_identity(pki.root, tmp_path / "x", label=f"{CITY}/市场", days=5)

    county = department(pki, tmp_path / "county", "330106/market", city.address, node_id=CITY)  # not the city's
    with pytest.raises(NotEntitledError, match="not a department of 330100"):
        county.list()

    # a node certificate calling for no department, and a CA's revocation of a department
    channel = city.transport.channel(city.address, peer_id=CITY)
    with pytest.raises(grpc.RpcError) as refused:
        sharing_pb2_grpc.SharingStub(channel).ListSubscriptions(
            sharing_pb2.ListSubscriptionsRequest(), metadata=city.transport.metadata()
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    channel.close()
    market = department(pki, tmp_path / "market", f"{CITY}/market", city.address)
    assert market.list() == []
    pki.root.revoke(f"{CITY}/market", crl_days=7)
    city.trust.add_crls([(pki.root.folder / "crl.pem").read_bytes()])
    with pytest.raises(NotEntitledError, match="revoked"):
        market.list()


def test_share_command_resumes_from_its_cursor_file(city: Node, pki: PkiFixture, tmp_path: Path) -> None:
    folder = tmp_path / "market"
    issue = ["pki", "issue-department", f"{CITY}/market", "--ca", str(pki.root.folder), "--out", str(folder)]
    jgnode(*issue, "--address", city.address)
    client_file = folder / "client.toml"
    asked = apply(SharingClient(load_client_settings(client_file)), "inspection")
    approve(city, asked.id)
    out, cursor = tmp_path / "records.jsonl", tmp_path / "cursor.json"
    args = ["share", "subscribe", str(asked.id), "--client", str(client_file), "--out", str(out)]
    jgnode(*args, "--cursor", str(cursor), "--max", "70")
    with out.open("a", encoding="utf-8") as torn:  # killed after writing, before keeping the cursor
        torn.write('{"origin": "330100", "seq": 71}\n')
    total = len(expected(city, asked.id))
    jgnode(*args, "--cursor", str(cursor), "--max", str(total - 70))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == total
    assert {(r["origin"], r["seq"]) for r in lines} == set(expected(city, asked.id))
    assert CursorBook(city.store).acked(asked.id) == held(city, "inspection")
    listed = jgnode("share", "list", "--client", str(client_file), "--json")
    assert [s["id"] for s in json.loads(listed.stdout)] == [asked.id]


def test_revoking_a_label_says_which_kind(pki: PkiFixture, tmp_path: Path) -> None:
    issue_department_identity(pki.root, tmp_path / "d", label=f"{CITY}/market", days=5)
    issue_source_identity(pki.root, tmp_path / "s", node_id=CITY, name="market", days=5)
    with pytest.raises(ConfigError, match="names a department and a source"):
        pki.root.revoke(f"{CITY}/market", crl_days=7)
    assert len(pki.root.revoke(f"department:{CITY}/market", crl_days=7)) == 1
    assert len(pki.root.revoke(f"source:{CITY}/market", crl_days=7)) == 1


def test_an_insecure_development_node_takes_the_department_from_metadata(tmp_path: Path, readers: list[Reader]) -> None:
    tree = Tree(tmp_path, None)
    try:
        node = tree.start(CITY, "city")
        ingest(node, 1, 30)
        market = SharingClient(ClientSettings(address=node.address, insecure=True, subscriber=f"{CITY}/market"))
        asked = apply(market, "regulated_object")
        reader = read(readers, market.subscribe(asked.id), ack=market)
        exactly(reader.until(held(node, "regulated_object")), expected(node, asked.id))
        other = SharingClient(ClientSettings(address=node.address, insecure=True, subscriber="330106/market"))
        with pytest.raises(NotEntitledError, match="not a department of 330100"):
            other.list()
        with pytest.raises(ValueError, match="does not name a department"):
            ClientSettings(address=node.address, insecure=True, subscriber="market")
        reader.stop()
    finally:
        tree.stop_all()
