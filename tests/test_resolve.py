"""Entity resolution on a node: records with a missing or wrong code linked to the right object, decisions reversible.

Objects and their varied duplicates come from the synthetic enterprise
generator (``governance.er.synthetic``), whose ground truth says which object
each variant describes; the action records name objects through those variants.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from adapters.sample_data import SampleGenerator
from governance import Counterparty, Inspection, RegulatedObject
from governance.codes import check_uscc, make_id_number
from governance.er.objects import KnownObject, Party, normalise_code, resolve_parties
from governance.er.synthetic import SyntheticData, generate_enterprises
from node.cli_resolve import _masked, _shown
from node.ingest import ingest_records
from node.resolve import merge_objects, parties_of, resolve_records
from node.resolver import Resolver
from node.settings import ResolveSettings, load_settings
from node.store import DecisionBook, Store
from tests.conftest import eventually
from tests.harness import Processes, jgnode, status_json

NOW = 1_780_000_000_000_000


@dataclasses.dataclass(frozen=True)
class World:
    """Objects (one per synthetic entity) and, per variant row, the code of the object it describes."""

    data: SyntheticData
    objects: list[RegulatedObject]
    truth: dict[str, str]  # rec_id -> object code


def _world(originals: int = 400, seed: int = 11) -> World:
    data = generate_enterprises(originals, duplicate_share=0.6, seed=seed)
    by_entity: dict[str, list[dict[str, str]]] = {}
    for row in data.rows:
        by_entity.setdefault(data.entity_of[row["rec_id"]], []).append(row)
    objects, code_of = [], {}
    for entity, rows in by_entity.items():
        code = Counter(r["credit_code"] for r in rows if check_uscc(r["credit_code"]).ok).most_common(1)[0][0]
        first = next(r for r in rows if r["credit_code"] == code)
        objects.append(
            RegulatedObject(code, first["name"], "enterprise", code[2:8], registered_address=first["address"])
        )
        code_of[entity] = code
    truth = {row["rec_id"]: code_of[data.entity_of[row["rec_id"]]] for row in data.rows}
    return World(data, objects, truth)


def _inspections(world: World) -> list[Inspection]:
    """One inspection per synthetic row, naming its object the way the row does."""
    generator = SampleGenerator(2026, "330106")
    template = next(iter(generator.inspections(1, objects=list(generator.enterprises(2)))))
    out = []
    for row in world.data.rows:
        party = Counterparty(row["name"], "2", "uscc", row["credit_code"], registered_address=row["address"])
        header = dataclasses.replace(template.header, counterparty=party)
        out.append(dataclasses.replace(template, header=header, action_number=f"JC-{row['rec_id']}"))
    return out


@pytest.fixture(scope="module")
def world() -> World:
    """A few hundred enterprises, 60 % of them with varied duplicates."""
    return _world()


@pytest.fixture
def store(tmp_path: Path, world: World) -> Iterator[Store]:
    """A node store holding the objects and one inspection per synthetic row."""
    s = Store.open(f"sqlite:///{tmp_path / 'node.db'}", "330106")
    ingest_records(s, "regulated_object", world.objects, now_us=NOW)
    ingest_records(s, "inspection", _inspections(world), now_us=NOW)
    yield s
    s.close()


def test_resolve_parties_never_links_wrongly_and_links_most_suspects(world: World) -> None:
    objects = [KnownObject(o.credit_code, o.name, o.region_code, o.registered_address) for o in world.objects]
    parties = [Party(r["rec_id"], r["name"], r["credit_code"], "", r["address"]) for r in world.data.rows]
    results = resolve_parties(parties, objects)
    by_status = Counter(r.status for r in results)
    wrong = [r for r in results if r.status in ("confirmed", "linked") and r.object_code != world.truth[r.key]]
    assert wrong == []
    suspects = len(results) - by_status["confirmed"]
    assert by_status["linked"] >= 0.7 * suspects, by_status
    flagged = [r for r in results if r.status == "flagged"]
    assert all(r.candidates and r.candidates[0].code == r.object_code for r in flagged)
    assert all(r.reason for r in results if r.status != "confirmed")


def test_a_code_of_another_object_does_not_pull_the_record_to_it(world: World) -> None:
    objects = [KnownObject(o.credit_code, o.name, o.region_code, o.registered_address) for o in world.objects]
    some = world.objects[:50]
    swapped = [
        Party(f"X{n}", obj.name, some[(n + 1) % len(some)].credit_code, "", obj.registered_address)
        for n, obj in enumerate(some)
    ]
    results = resolve_parties(swapped, objects)
    assert all(r.reason.startswith("code ") and " is " in r.reason for r in results)
    assert not [r for r in results if r.object_code == some[(int(r.key[1:]) + 1) % len(some)].credit_code]
    assert sum(r.status == "linked" and r.object_code == some[int(r.key[1:])].credit_code for r in results) >= 45


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="0 < weak <= strong < 1"):
        resolve_parties([], [], strong=0.5, weak=0.9)


def test_node_run_records_decisions_only_for_suspects_and_is_incremental(store: Store, world: World) -> None:
    report = resolve_records(store, now_us=NOW)
    assert report.records == len(world.data.rows)
    assert report.objects == len(world.objects)
    book = DecisionBook(store)
    decisions = book.find()
    confirmed = report.outcomes["confirmed"]
    assert len(decisions) == report.parties - confirmed
    for decision in decisions:
        rec_id = decision.uid.removeprefix("JC-")
        if decision.state == "linked":
            assert decision.object_code == world.truth[rec_id]
            assert book.object_of("330106", "inspection", decision.uid) == decision.object_code
        else:
            assert book.object_of("330106", "inspection", decision.uid) is None
    again = resolve_records(store, now_us=NOW + 1)
    assert (again.records, again.written) == (0, {})
    entries = [json.loads(e.detail) for e in store.audit_entries(kind="resolved")]
    assert entries[-1]["records"] == len(world.data.rows)
    assert store.audit_verify()[1] is None


def test_operator_acts_stick_and_a_corrected_record_supersedes(store: Store, world: World) -> None:
    resolve_records(store, now_us=NOW)
    book = DecisionBook(store)
    linked = book.find(states=["linked"])[0]
    flagged = book.find(states=["flagged"])[0]
    assert book.act(linked, state="reverted", object_code=linked.object_code, by="op", note="wrong", now_us=NOW + 5)
    assert not book.act(linked, state="accepted", object_code="X", by="op", note="stale", now_us=NOW + 6)
    choice = flagged.candidates[-1][0]
    assert book.act(flagged, state="accepted", object_code=choice, by="op", note="", now_us=NOW + 7)
    assert book.object_of("330106", "inspection", linked.uid) is None
    assert book.object_of("330106", "inspection", flagged.uid) == choice

    # new versions of both records: the operator's decisions stay; a record now carrying its code is superseded
    records = {r.action_number: r for r in _inspections(world)}
    unmatched = book.find(states=["unmatched", "flagged"])
    fixed_uid = next(d.uid for d in unmatched if d.id != flagged.id)
    right = world.truth[fixed_uid.removeprefix("JC-")]
    name = next(o.name for o in world.objects if o.credit_code == right)
    fixed = records[fixed_uid]
    party = dataclasses.replace(fixed.header.counterparty, cert_number=right, name=name)
    again = [
        dataclasses.replace(records[linked.uid], action_name="重新提交"),
        dataclasses.replace(records[flagged.uid], action_name="重新提交"),
        dataclasses.replace(fixed, header=dataclasses.replace(fixed.header, counterparty=party)),
    ]
    ingest_records(store, "inspection", again, now_us=NOW + 10)
    resolve_records(store, now_us=NOW + 11)
    states = {d.uid: d.state for d in book.find()}
    assert states[linked.uid] == "reverted"
    assert states[flagged.uid] == "accepted"
    assert states[fixed_uid] == "superseded"
    kinds = [e.kind for e in store.audit_entries()]
    assert "resolution_reverted" in kinds
    assert "resolution_accepted" in kinds
    assert store.audit_verify()[1] is None


def test_objects_held_twice_are_merged_and_a_merge_can_be_reverted(tmp_path: Path, world: World) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'objects.db'}", "330106")
    try:
        twins = []
        for obj in world.objects[:30]:
            legacy = "3301" + normalise_code(obj.credit_code)[8:17] + "00"  # a 15-character registration number
            twins.append(dataclasses.replace(obj, credit_code=legacy, name=obj.name.replace("有限公司", "公司")))
        ingest_records(store, "regulated_object", [*world.objects, *twins], now_us=NOW)
        merge_objects(store, now_us=NOW)
        book = DecisionBook(store)
        merges = book.find(kind="merge", states=["merged", "flagged"])
        legacy_codes = {t.credit_code: o.credit_code for t, o in zip(twins, world.objects, strict=False)}
        assert len(merges) >= 25
        for decision in merges:
            assert legacy_codes.get(decision.claimed_code) == decision.object_code, decision
        one = book.find(kind="merge", states=["merged"])[0]
        assert book.act(one, state="reverted", object_code=one.object_code, by="op", note="two firms", now_us=NOW + 1)
        merge_objects(store, now_us=NOW + 2)
        assert book.find(ids=[one.id])[0].state == "reverted"
    finally:
        store.close()


def test_parties_of_every_dataset_that_names_an_object(world: World) -> None:
    inspection = _inspections(world)[0]
    assert parties_of(inspection) == [
        (
            inspection.header.counterparty.name,
            inspection.header.counterparty.cert_number,
            inspection.header.region_code,
            inspection.header.counterparty.registered_address,
        )
    ]
    assert parties_of(world.objects[0]) == []


def test_cli_run_list_show_and_revert(tmp_path: Path, world: World) -> None:
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    config = tmp_path / "n" / "node.toml"
    settings = load_settings(config)
    store = Store.open(settings.db_url, settings.node_id)
    try:
        done = jgnode("resolve", "run", "-c", str(config))
        assert "no regulated objects held" in done.stdout
        ingest_records(store, "regulated_object", world.objects, now_us=NOW)
        ingest_records(store, "inspection", _inspections(world), now_us=NOW)
    finally:
        store.close()
    done = jgnode("resolve", "run", "-c", str(config))
    assert f"{len(world.data.rows)} record versions read" in done.stdout
    assert "linked" in done.stdout
    listing = jgnode("resolve", "list", "--state", "linked", "-c", str(config)).stdout
    first_id = listing.splitlines()[2].split()[0]
    shown = jgnode("resolve", "show", first_id, "-c", str(config)).stdout
    assert "state linked by engine" in shown
    done = jgnode("resolve", "revert", first_id, "--note", "checked by phone", "--by", "wang", "-c", str(config))
    assert "linked -> reverted" in done.stdout
    refused = jgnode("resolve", "revert", first_id, "--note", "again", "-c", str(config), check=False)
    assert refused.returncode == 1
    assert "already reverted" in refused.stderr
    missing = jgnode("resolve", "show", "999999", "-c", str(config), check=False)
    assert "no decision 999999" in missing.stderr


def test_records_that_came_before_their_objects_are_decided_again_when_the_objects_arrive(
    tmp_path: Path, world: World
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'late.db'}", "330106")
    try:
        first, rest = world.objects[:20], world.objects[20:]
        ingest_records(store, "regulated_object", first, now_us=NOW)
        ingest_records(store, "inspection", _inspections(world), now_us=NOW)
        resolver = Resolver(store=store, settings=ResolveSettings(), clock=lambda: NOW)
        early = resolver.resolve_pending()
        assert early["unmatched"] > 100
        ingest_records(store, "regulated_object", rest, now_us=NOW + 1)
        resolver.resolve_pending()
        book = DecisionBook(store)
        linked = book.find(states=["linked"])
        assert len(linked) > early.get("linked", 0) + 80
        assert all(d.object_code == world.truth[d.uid.removeprefix("JC-")] for d in linked)
        assert len(book.find(states=["unmatched"])) < early["unmatched"] // 4
    finally:
        store.close()


def test_resolve_settings_refuse_weak_above_strong() -> None:
    with pytest.raises(ValueError, match=r"resolve.weak \(0.9\) must not exceed resolve.strong \(0.8\)"):
        ResolveSettings(strong=0.8, weak=0.9)


def test_cli_masks_the_birth_date_of_citizen_id_numbers() -> None:
    citizen = make_id_number("330106", date(1985, 3, 7), 17)
    assert _shown(citizen) == citizen[:6] + "********" + citizen[14:]
    assert _masked(f"code {citizen} names no known object", citizen) == f"code {_shown(citizen)} names no known object"
    assert _shown("91330106MA2CXXXX0X") == "91330106MA2CXXXX0X"  # organisations' codes are public
    assert _shown("") == "-"


def test_a_running_node_links_in_the_background_and_status_counts_the_decisions(
    tmp_path: Path, world: World, procs: Processes
) -> None:
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    config = tmp_path / "n" / "node.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write("\n[resolve]\ninterval_s = 0.2\n")
    settings = load_settings(config)
    store = Store.open(settings.db_url, settings.node_id)
    try:
        ingest_records(store, "regulated_object", world.objects, now_us=NOW)
        ingest_records(store, "inspection", _inspections(world), now_us=NOW)
    finally:
        store.close()
    procs.run("county", config)
    decisions = eventually(lambda: status_json(config).get("decisions"), what="the resolver's first run")
    assert isinstance(decisions, dict)
    assert int(decisions["linked"]) > 100
    text_out = jgnode("status", "-c", str(config)).stdout
    waiting = int(decisions.get("flagged", 0)) + int(decisions.get("unmatched", 0))
    assert f"{waiting} waiting for an operator" in text_out
    assert "industries: GB/T 4754-2017 with Amendment No. 1 (2019)" in text_out  # the code tables it validates with
