"""The Query service over real gRPC: pages, predicates, region, projection, personal data, refusals, page tokens,
full-text search, CSV and JSONL exports equal to the paged query, usage audit, and the node and CLI wiring."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import grpc
import pytest
from jgnode.exchange.v1 import sharing_pb2, sharing_pb2_grpc

from adapters.sample_data import SampleGenerator
from exchange_registry import Application
from node.cli import main
from node.departments import SUBSCRIBER_METADATA, Caller
from node.entitlements import protector, view_for
from node.ingest import ingest_records
from node.query_client import QueryClient
from node.query_servicer import EXPORT_HEAD, Querying, QueryServicer
from node.settings import NodeSettings, load_settings
from node.shared_reader import Change
from node.sharing_index import SharingIndex
from node.store import Store, SubscriptionBook
from node.subscriptions import act_on, apply_for
from node.usage import USAGE
from tests.conftest import eventually
from tests.harness import Tree
from tests.test_sharing_index import CRAFTED, ID_NUMBER, NODE, Held, fill

MARKET = f"{NODE}/market"
HEALTH = f"{NODE}/health"
CHUNK = 4096
PAGE_MAX = 25


def identify(context: grpc.ServicerContext) -> Caller:
    """The department the insecure metadata names (the node's own identify is tested through the node)."""
    metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
    return Caller(metadata.get(SUBSCRIBER_METADATA, ""))


@dataclass
class Served:
    store: Store
    settings: NodeSettings
    index: SharingIndex
    held: Held
    channel: grpc.Channel

    def client(self, subscriber: str = MARKET) -> QueryClient:
        return QueryClient(self.channel, [(SUBSCRIBER_METADATA, subscriber)])

    def subscribe(self, resource: str, *, subscriber: str = MARKET, approve: bool = True, **asked: Any) -> int:
        application = Application(subscriber=subscriber, resource_code=resource, purpose="supervision", **asked)
        held = apply_for(self.store, self.settings, application, today=date.today(), now_us=time.time_ns() // 1000)
        if held.state == "applied" and approve:
            act_on(self.store, held.id, "approve", by="reviewer", reason="", now_us=time.time_ns() // 1000)
        return held.id

    def view_of(self, ident: int) -> Any:
        subscription = SubscriptionBook(self.store).find(ids=[ident])[0]
        return view_for(subscription, self.index.entry(subscription.dataset), protector(self.settings))

    def usage(self) -> list[dict[str, Any]]:
        return [json.loads(e.detail) for e in self.store.audit_entries(kind=USAGE)]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = load_settings(None, node_id=NODE, tier="city", data_dir=tmp_path / "n", sharing={"page_max": PAGE_MAX})
    store = Store.open(settings.db_url, NODE)
    held = fill(store)
    index = SharingIndex(store=store, settings=settings)
    index.catch_up()
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    querying = Querying(store, settings, index)
    sharing_pb2_grpc.add_QueryServicer_to_server(QueryServicer(querying, identify, chunk_bytes=CHUNK), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # no BDP probing: the HTTP/2 window stays at 64 KiB, so a cancelled export stops early
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.http2.bdp_probe", 0)])
    yield Served(store, settings, index, held, channel)
    channel.close()
    server.stop(0)
    store.close()


def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error: Any = caught.value
    code: grpc.StatusCode = error.code()
    return code


def _pages(client: QueryClient, ident: int, *, size: int, **query: Any) -> list[list[Change]]:
    pages, token = [], ""
    while True:
        page = client.page(ident, page_size=size, page_token=token, **query)
        pages.append(page.records)
        token = page.next_page_token
        if not token:
            return pages


# -- pages -----------------------------------------------------------------------------------------


def test_pages_cover_every_record_once_in_a_stable_order(served: Served) -> None:
    ident = served.subscribe("regulated_object")
    client = served.client()
    pages = _pages(client, ident, size=7)
    assert all(len(p) == 7 for p in pages[:-1])
    assert 0 < len(pages[-1]) <= 7
    uids = [r.uid for page in pages for r in page]
    assert sorted(uids) == sorted(served.held.of("regulated_object"))
    assert len(set(uids)) == len(uids)
    assert uids == sorted(uids)  # one origin: uid order
    assert [r.uid for r in client.records(ident, page_size=7)] == uids
    assert [r.uid for r in client.records(ident, page_size=4)] == uids
    assert len(client.page(ident).records) == PAGE_MAX  # 0: the node's default
    assert len(client.page(ident, page_size=10_000).records) == PAGE_MAX  # never more than page_max


def test_a_page_holds_only_what_the_view_admits(served: Served) -> None:
    ident = served.subscribe("inspection", region="330122", filters=("action_date>=2022-06-01",))
    extra = ["submitted_at<2024-12-01", "matter_code^=3301"]
    view = served.view_of(ident)
    expected = sorted(
        uid
        for uid, row in served.held.of("inspection").items()
        if view.admits(row) and row["submitted_at"] < "2024-12-01" and row["matter_code"].startswith("3301")
    )
    assert 0 < len(expected) < len(served.held.of("inspection"))
    pages = _pages(served.client(), ident, size=3, filters=extra)
    assert [r.uid for page in pages for r in page] == expected
    assert all(len(p) == 3 for p in pages[:-1])


def test_projection_and_filters_only_on_granted_fields(served: Served) -> None:
    ident = served.subscribe("regulated_object", fields=("credit_code", "name", "region_code"))
    client = served.client()
    records = list(client.records(ident, filters=["region_code^=330122"]))
    assert records
    assert all(set(r.fields) == {"credit_code", "name", "region_code"} for r in records)
    assert all(r.fields["region_code"].startswith("330122") for r in records)
    assert _code(lambda: client.page(ident, filters=["industry_code^=C"])) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: client.page(ident, filters=["nonsense"])) == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(lambda: client.page(ident, filters=["status=1"])) == grpc.StatusCode.INVALID_ARGUMENT  # not indexed


# -- personal data ---------------------------------------------------------------------------------


def test_personal_data_is_protected_unless_entitled(served: Served) -> None:
    plain = served.subscribe("inspection")
    entitled = served.subscribe("inspection", subscriber=HEALTH, personal=True)
    citizens = {u: r for u, r in served.held.of("inspection").items() if r["counterparty_nature"] == "1"}
    assert citizens
    shown = {r.uid: r.fields for r in served.client().records(plain)}
    view = served.view_of(plain)
    for uid, row in citizens.items():
        assert shown[uid] == view.show(row)
        name = row["counterparty_name"]
        assert shown[uid]["counterparty_name"] == name[0] + "*" * (len(name) - 1)
        assert shown[uid]["counterparty_cert_number"] != row["counterparty_cert_number"]
    clear = {r.uid: r.fields for r in served.client(HEALTH).records(entitled)}
    assert clear == served.held.of("inspection")


def test_a_personal_uid_is_pseudonymised_unless_entitled(served: Served) -> None:
    plain = served.subscribe("personnel")
    entitled = served.subscribe("personnel", subscriber=HEALTH, personal=True)
    people = served.held.of("personnel")
    seen = list(served.client().records(plain))
    assert len(seen) == len(people)
    assert all(r.uid.startswith("p:") and r.fields["id_number"] == r.uid for r in seen)
    assert all(r.fields["name"].endswith("*") for r in seen)
    assert {r.uid: r.fields for r in served.client(HEALTH).records(entitled)} == people


def test_filters_on_personal_fields(served: Served) -> None:
    plain = served.subscribe("personnel")
    entitled = served.subscribe("personnel", subscriber=HEALTH, personal=True)
    someone = next(iter(served.held.of("personnel")))
    by_id = [f"id_number={someone}"]
    assert _code(lambda: served.client().page(plain, filters=by_id)) == grpc.StatusCode.PERMISSION_DENIED
    assert [r.uid for r in served.client(HEALTH).records(entitled, filters=by_id)] == [someone]
    others = list(served.client(HEALTH).records(entitled, filters=[f"id_number!={someone}"]))
    assert len(others) == len(served.held.of("personnel")) - 1
    ranged = ["birth_date>=1980-01-01"]
    assert _code(lambda: served.client(HEALTH).page(entitled, filters=ranged)) == grpc.StatusCode.INVALID_ARGUMENT


# -- refusals --------------------------------------------------------------------------------------


def test_callers_without_an_active_subscription_of_their_own_are_refused_and_audited(served: Served) -> None:
    mine = served.subscribe("regulated_object")
    waiting = served.subscribe("inspection", approve=False)
    revoked = served.subscribe("complaint")
    act_on(served.store, revoked, "revoke", by="reviewer", reason="duty ended", now_us=time.time_ns() // 1000)
    denied = grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: served.client(HEALTH).page(mine)) == denied
    assert _code(lambda: served.client().page(waiting)) == denied
    assert _code(lambda: served.client().page(revoked)) == denied
    assert _code(lambda: served.client().page(9999)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: served.client(HEALTH).export(mine, Path("never.csv"))) == denied
    refused = [json.loads(e.detail) for e in served.store.audit_entries(kind="usage_refused")]
    assert [(r["who"], r["channel"]) for r in refused] == [
        (HEALTH, "query"),
        (MARKET, "query"),
        (MARKET, "query"),
        (MARKET, "query"),
        (HEALTH, "export"),
    ]
    assert served.usage() == []
    assert not Path("never.csv").exists()


def test_page_tokens_cannot_be_forged_or_moved(served: Served) -> None:
    ident = served.subscribe("regulated_object")
    other = served.subscribe("regulated_object", fields=("credit_code", "name"))
    client = served.client()
    token = client.page(ident, page_size=5).next_page_token
    assert token
    body, mac = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    assert _code(lambda: client.page(ident, page_token=forged)) == invalid
    assert _code(lambda: client.page(ident, page_token="garbage")) == invalid
    assert _code(lambda: client.page(ident, page_token=token, filters=["region_code^=33"])) == invalid
    assert _code(lambda: client.page(other, page_token=token)) == invalid
    assert client.page(ident, page_size=5, page_token=token).records


# -- full-text search ------------------------------------------------------------------------------


def test_full_text_search_goes_through_the_view(served: Served) -> None:
    ident = served.subscribe("complaint")
    client = served.client()
    details = {u: r["details"] for u, r in served.held.of("complaint").items()}
    found = {r.uid for r in client.records(ident, text="食品安全")}
    assert found == {u for u, d in details.items() if "食品安全" in d}
    crafted = list(client.records(ident, text="ABC Foods"))
    assert len(crafted) == 1
    assert ID_NUMBER not in crafted[0].fields["details"]
    assert crafted[0].fields["details"] == served.view_of(ident).show({"details": CRAFTED})["details"]
    assert list(client.records(ident, text=ID_NUMBER)) == []
    narrow = served.subscribe("complaint", subscriber=HEALTH, fields=("complaint_number", "region_code"))
    assert _code(lambda: served.client(HEALTH).page(narrow, text="食品安全")) == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(lambda: client.page(ident, text="食")) == grpc.StatusCode.INVALID_ARGUMENT


# -- exports ---------------------------------------------------------------------------------------


def _flat(change: Change) -> dict[str, str]:
    head = ("upsert", change.origin, str(change.seq), change.uid, str(change.version))
    return {**dict(zip(EXPORT_HEAD, head, strict=True)), **change.fields}


def _export_chunks(served: Served, ident: int, fmt: str, **query: Any) -> list[sharing_pb2.ExportChunk]:
    stub = sharing_pb2_grpc.QueryStub(served.channel)
    request = sharing_pb2.ExportRequest(subscription_id=ident, format=fmt, **query)
    return list(stub.Export(request, metadata=((SUBSCRIBER_METADATA, MARKET),)))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_equals_the_paged_query(served: Served, tmp_path: Path, fmt: str) -> None:
    ident = served.subscribe("inspection", region="3301")
    query: dict[str, Any] = {"filters": ["action_date>=2022-06-01"]}
    paged = [_flat(r) for r in served.client().records(ident, page_size=6, **query)]
    assert len(paged) > 20
    chunks = _export_chunks(served, ident, fmt, **query)
    assert len(chunks) > 1
    assert all(len(c.data) < CHUNK + 2048 for c in chunks)
    assert sum(c.records for c in chunks) == len(paged)
    data = b"".join(c.data for c in chunks)
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf_op,_origin,_seq,_uid,_version,matter_code,")
        exported = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        exported = [{k: str(v) for k, v in json.loads(line).items()} for line in data.decode().splitlines()]
    assert exported == paged
    out = tmp_path / f"export.{fmt}"
    assert served.client().export(ident, out, fmt=fmt, **query) == len(paged)
    assert out.read_bytes() == data
    exports = [u for u in served.usage() if u["channel"] == "export"]
    assert [(u["records"], u["complete"], u["format"]) for u in exports] == [(len(paged), True, fmt)] * 2


def test_an_unknown_export_format_is_refused(served: Served) -> None:
    ident = served.subscribe("regulated_object")
    assert _code(lambda: _export_chunks(served, ident, "xml")) == grpc.StatusCode.INVALID_ARGUMENT


def test_every_query_page_is_audited(served: Served) -> None:
    ident = served.subscribe("regulated_object")
    pages = _pages(served.client(), ident, size=12, filters=["region_code^=33"])
    used = served.usage()
    assert [u["records"] for u in used] == [len(p) for p in pages]
    assert all(u["channel"] == "query" and u["who"] == MARKET and u["subscription"] == ident for u in used)
    assert used[0]["filters"] == ["region_code^=33"]


def test_a_cancelled_export_is_audited_with_what_was_sent(served: Served) -> None:
    generator = SampleGenerator(9, NODE)
    ingest_records(served.store, "inspection", list(generator.inspections(600, objects=generator.enterprises(20))))
    served.index.catch_up()
    ident = served.subscribe("inspection")
    total = sum(1 for _ in served.client().records(ident))
    stub = sharing_pb2_grpc.QueryStub(served.channel)
    call: Any = stub.Export(
        sharing_pb2.ExportRequest(subscription_id=ident, format="jsonl"), metadata=((SUBSCRIBER_METADATA, MARKET),)
    )
    received = next(call).records
    call.cancel()

    def export_entry() -> dict[str, Any] | None:
        return next((u for u in served.usage() if u["channel"] == "export"), None)

    entry: dict[str, Any] = eventually(export_entry, what="the export's usage entry")  # type: ignore[arg-type]
    assert entry["complete"] is False
    assert received <= entry["records"] < total


# -- the node and the command line -----------------------------------------------------------------


def test_the_node_serves_queries_and_the_cli_reads_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = Tree(tmp_path, None)
    try:
        node = tree.start("330106", "county")
        generator = SampleGenerator(4, "330106")
        objects = generator.enterprises(12)
        ingest_records(node.store, "regulated_object", objects)
        node.sealer.wake()
        application = Application(subscriber="330106/market", resource_code="regulated_object", purpose="duty")
        ident = apply_for(node.store, node.settings, application, today=date.today(), now_us=time.time_ns() // 1000).id
        client_file = tmp_path / "client.toml"
        client_file.write_text(f'address = "{node.address}"\ninsecure = true\nsubscriber = "330106/market"\n')
        channel = grpc.insecure_channel(node.address)
        client = QueryClient(channel, [(SUBSCRIBER_METADATA, "330106/market")])
        eventually(lambda: len(list(client.records(ident))) == 12, what="the node to index its records")
        channel.close()
        assert main(["share", "query", "--client", str(client_file), "--subscription", str(ident), "--json"]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert sorted(line["uid"] for line in lines) == sorted(o.uid for o in objects)
        out = tmp_path / "objects.csv"
        argv = ["share", "export", "--client", str(client_file), "--subscription", str(ident)]
        assert main([*argv, "--out", str(out), "--where", "region_code^=3301", "--no-progress"]) == 0
        assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 13
        assert main(["share", "query", "--client", str(client_file), "--subscription", "77"]) == 1
        assert "NOT_FOUND" in capsys.readouterr().err
        tree.stop("330106")
    finally:
        tree.stop_all()
    assert main(["share", "reindex", "-c", str(tmp_path / "330106" / "node.toml"), "--no-progress"]) == 0
    assert "12 current records" in capsys.readouterr().out
