"""Data subscribed from above flows down the tree on streams the child opened.

A department at a city applies for, is approved for and subscribes to a
province resource through its own node, with mutual TLS and department
certificates (issued by the city's intermediate CA); the province holds the
subscription and decides; the city relays the province's deliveries
unchanged. A node may relay only for departments of its own subtree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from jgnode.exchange.v1 import sharing_pb2, sharing_pb2_grpc

from node.errors import NotEntitledError, NotFoundError
from node.runtime import Node
from node.store import CursorBook, SubscriptionBook
from tests.conftest import PkiFixture, eventually
from tests.harness import Tree, ingest
from tests.test_delivery import Reader, apply, approve, department, exactly, expected, held, read

PROVINCE, CITY, COUNTY = "330000", "330100", "330106"


@pytest.fixture
def readers() -> Iterator[list[Reader]]:
    started: list[Reader] = []
    yield started
    for reader in started:
        reader.stop()


@pytest.fixture
def tiers(tree: Tree, pki: PkiFixture) -> tuple[Node, Node]:
    pki.intermediate(CITY)  # the city's CA certifies its departments; its CRL is published on every node
    province = tree.start(PROVINCE, "province")
    city = tree.start(CITY, "city", parent=PROVINCE)
    ingest(province, 1, 200)
    return province, city


def test_a_city_department_subscribes_to_a_province_resource(
    tree: Tree, tiers: tuple[Node, Node], pki: PkiFixture, tmp_path: Path, readers: list[Reader]
) -> None:
    province, city = tiers
    market = department(pki, tmp_path / "market", f"{CITY}/market", city.address, ca=pki.intermediate(CITY))
    asked = apply(market, "inspection", provider=PROVINCE, region="3301")
    assert (asked.state, asked.provider, asked.subscriber) == ("applied", PROVINCE, f"{CITY}/market")
    assert [s.subscriber for s in SubscriptionBook(province.store).find()] == [f"{CITY}/market"]  # held above
    assert SubscriptionBook(city.store).find() == []
    with pytest.raises(NotEntitledError, match="is applied"):  # the province's refusal, passed down unchanged
        next(market.subscribe(asked.id, provider=PROVINCE))

    approve(province, asked.id)  # jgnode subscription approve, on the provider
    county = tree.start(COUNTY, "county", parent=CITY)  # records of two origins: the province's and a county's
    ingest(county, 5, 100)
    eventually(lambda: held(province, "inspection").get(COUNTY) == 100, what="the county's records at the province")
    reader = read(readers, market.subscribe(asked.id, provider=PROVINCE), ack=market)
    first = reader.until(held(province, "inspection"))
    exactly(first, expected(province, asked.id))
    assert {r.origin for r in first} == {PROVINCE, COUNTY}
    ingest(province, 2, 100)  # the live tail flows down too
    records = reader.until(held(province, "inspection"))
    exactly(records, expected(province, asked.id))
    assert all(r.fields["region_code"].startswith("3301") for r in records)
    eventually(
        lambda: CursorBook(province.store).acked(asked.id) == held(province, "inspection"),
        what="the relayed acks at the province",
    )
    reader.stop()

    acked = CursorBook(province.store).acked(asked.id)
    resumed = read(readers, market.subscribe(asked.id, provider=PROVINCE))  # from the ack the province holds
    ingest(province, 3, 50)
    want = {key: fields for key, fields in expected(province, asked.id).items() if key[1] > acked[key[0]]}
    assert want
    exactly(resumed.until(held(province, "inspection")), want)
    assert [s.id for s in market.list(provider=PROVINCE)] == [asked.id]
    assert market.list() == []  # the city holds no subscription of the department
    usage = [json.loads(e.detail) for e in province.store.audit_entries(kind="usage")]
    assert {(u["who"], u["via"]) for u in usage} == {(f"{CITY}/market", CITY)}


def test_relays_only_for_departments_of_the_subtree(tiers: tuple[Node, Node], pki: PkiFixture, tmp_path: Path) -> None:
    province, city = tiers
    channel = city.transport.channel(province.address, peer_id=PROVINCE)  # the city's own node certificate
    stub = sharing_pb2_grpc.SharingStub(channel)
    request = sharing_pb2.ListSubscriptionsRequest()
    for label in (f"{CITY}/market", "330106/market"):  # its own department, and one of its county's
        stub.ListSubscriptions(request, metadata=(*city.transport.metadata(), ("jgnode-on-behalf-of", label)))
    for label, why in (("330200/market", "outside its subtree"), (f"{PROVINCE}/office", "outside its subtree")):
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListSubscriptions(request, metadata=(*city.transport.metadata(), ("jgnode-on-behalf-of", label)))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert why in str(refused.value.details())
    channel.close()
    refusals = [json.loads(e.detail)["reason"] for e in province.store.audit_entries(kind="caller_refused")]
    assert any("330200/market" in r for r in refusals)

    office = department(pki, tmp_path / "office", f"{PROVINCE}/office", province.address)
    with pytest.raises(NotFoundError, match="no provider 110000"):
        office.list(provider="110000")
    market = department(pki, tmp_path / "market", f"{CITY}/market", city.address)
    eventually(lambda: city.registry.held() is not None, what="the registry snapshot at the city")
    for provider in ("110000", "330200"):  # the snapshot says who is above: nothing else is relayed
        with pytest.raises(NotFoundError, match=f"provider {provider} is not above {CITY} \\(above it: {PROVINCE}\\)"):
            apply(market, "inspection", provider=provider)
