"""Every standard dataset: serde and CSV round trips, schema versions, validation rules, sample data."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import any_pb2
from jgnode.data.v1 import datasets_pb2
from jgnode.exchange.v1 import exchange_pb2
from sqlalchemy import select

from adapters.csv_records import DATASET_TYPES, read_records, write_records
from adapters.sample_data import SampleGenerator
from governance import (
    DATASETS,
    UID_FORMATS,
    ActionHeader,
    Counterparty,
    CreditGrade,
    DatasetRecord,
    Enforcement,
    ImplList,
    ListEntry,
    Matter,
    MatterMapping,
    MatterSub,
    OtherAction,
    Penalty,
    Personnel,
    PublicOpinion,
    cross_field_problems,
    uid_fields,
    validate,
)
from governance.codes import make_id_number, make_uscc
from node.cli import DATASETS as CLI_DATASETS
from node.errors import BatchRejectedError
from node.exchange import seal
from node.ingest import event_time_us
from node.projector import Projector
from node.serde import (
    OP_UPSERT,
    SCHEMA_VERSIONS,
    dataset_of,
    decode_record,
    encode_record,
    pack_payload,
    pack_struct,
    payload_from_record,
)
from node.signing import generate_signing_key, load_signer
from node.store import Store, StreamKey
from node.store._schema import QUARANTINE
from tests.test_ingest import sample_inspection

CHINA = timezone(timedelta(hours=8))
AGENCY = make_uscc("1", "1", "330106", "00250001")
OTHER_AGENCY = make_uscc("1", "1", "330106", "00250002")
PARTY = make_uscc("9", "1", "330106", "MA27AB12")
OFFICER = make_id_number("330106", datetime(1985, 3, 7).date(), 123)  # odd sequence: male
VERSION = "20211231000001"


def instant(day: str, hour: int = 10) -> int:
    """Microseconds of ``hour``:00 China time on ``day``."""
    moment = datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA)
    return int(moment.timestamp()) * 1_000_000


def header(matter_code: str, submitted_on: str) -> ActionHeader:
    return ActionHeader(
        matter_code=matter_code,
        impl_list_code=f"{AGENCY}403000001",
        agency_name="杭州市西湖区市场监督管理局",
        agency_credit_code=AGENCY,
        object_type="enterprise",
        counterparty=Counterparty(name="杭州某某科技有限公司", nature="2", cert_type="uscc", cert_number=PARTY),
        region_code="330106",
        submitted_at_us=instant(submitted_on),
        submitter="王五",
    )


# one valid record per new (or changed) dataset; the rule cases below break one rule each
VALID: dict[str, DatasetRecord] = {
    "matter": Matter("33010100000001", "对食品经营者的监督检查", VERSION, "2021-12-31", department="市场监督管理局"),
    "matter_sub": MatterSub(
        "33010100000001001",
        "33010100000001",
        "对食品经营者的监督检查",
        VERSION,
        "2021-12-31",
        action_type="0",
        effective_date="2022-01-01",
        cancel_date="2025-12-31",
    ),
    "impl_list": ImplList(
        impl_list_code=f"{AGENCY}4000001",
        matter_code="33010100000001",
        level="4",
        agency_name="杭州市西湖区市场监督管理局",
        agency_credit_code=AGENCY,
        version_id=VERSION,
        version_date="2021-12-31",
        inspection_ratio_bp=300,
        collaborative="1",
    ),
    "matter_mapping": MatterMapping("33010100000001", "00010100000001", VERSION, "2021-12-31"),
    "credit_grade": CreditGrade(PARTY, "B", "2023-01-20", "杭州市市场监督管理局", "v2023.1"),
    "list_entry": ListEntry(
        PARTY,
        "abnormal_operation",
        "2023-03-01",
        "未按照规定的期限公示年度报告",
        "杭州市西湖区市场监督管理局",
        removed_on="2023-09-01",
        removal_reason="已补报",
    ),
    "enforcement": Enforcement(
        header=header("33010300000001", "2023-05-20"),
        action_number="330106QZ202300000001",
        action_name="对涉嫌违法财物的查封扣押",
        start_date="2023-04-10",
        extension_date="2023-05-10",
        end_date="2023-05-18",
        decision_number="杭西市监强\u30142023\u30151号",
    ),
    "other_action": OtherAction(
        header=header("33010400000001", "2023-04-12"),
        action_number="330106QT202300000001",
        action_name="对经营者的行政约谈",
        start_date="2023-04-10",
        end_date="2023-04-10",  # an interview ends the day it starts
        measure="行政约谈",
    ),
    "penalty": Penalty(
        header=header("33010200000001", "2023-06-02"),
        action_number="330106CF202300000001",
        action_name="对餐饮具未按规定清洗消毒的行政处罚",
        filing_date="2023-05-01",
        decision_number="杭西市监罚\u30142023\u30151号",
        decision_date="2023-06-01",
        kinds=("02",),
        fine_fen=500_000,
        closing_date="2023-07-01",
        hearing_held="0",
        major_case="1",
        disclosure_status="0",
    ),
    "public_opinion": PublicOpinion(
        item_id="330106YQ202300000001",
        source="微博",
        title="网友反映某店存在食品安全问题",
        published_at_us=instant("2023-08-08"),
        url="https://opinion.example.com/330106YQ202300000001",
        linked_credit_codes=(PARTY,),
        linked_names=("杭州某某科技有限公司",),
        region_code="330106",
        sentiment="negative",
    ),
    "personnel": Personnel(
        id_number=OFFICER,
        name="张三",
        sex="1",
        birth_date="1985-03-07",
        organisation="杭州市西湖区市场监督管理局",
        organisation_credit_code=AGENCY,
        cert_number="33010620150012",
        cert_valid_from="2015-06-01",
        cert_valid_to="2026-06-01",
    ),
}


def broken(dataset: str, **changes: Any) -> DatasetRecord:
    """The valid record of ``dataset`` with ``changes``; ``header_<field>`` changes its action header."""
    record = VALID[dataset]
    head = {k.removeprefix("header_"): v for k, v in changes.items() if k.startswith("header_")}
    fields = {k: v for k, v in changes.items() if not k.startswith("header_")}
    if head:
        fields["header"] = dataclasses.replace(record.header, **head)  # type: ignore[union-attr]
    return dataclasses.replace(record, **fields)


# --- one sample of every dataset ---------------------------------------------------------


@pytest.fixture(scope="module")
def samples() -> dict[str, Sequence[DatasetRecord]]:
    generator = SampleGenerator(11, "330100")
    objects = generator.enterprises(80)
    inspections = list(generator.inspections(300, objects=objects))
    return {
        "regulated_object": objects,
        "inspection": inspections,
        "penalty": list(generator.penalties(40, inspections=inspections)),
        "complaint": list(generator.complaints(40, objects=objects)),
        "credit_grade": generator.credit_grades(objects=objects),
        "list_entry": list(generator.list_entries(60, objects=objects)),
        "enforcement": list(generator.enforcements(40, inspections=inspections)),
        "other_action": list(generator.other_actions(40, inspections=inspections)),
        "public_opinion": list(generator.public_opinion(40, objects=objects)),
        "personnel": generator.personnel(),
        "matter": generator.matters(),
        "matter_sub": generator.matter_subs(),
        "impl_list": generator.impl_lists(),
        "matter_mapping": generator.matter_mappings(),
    }


def test_every_dataset_is_known_everywhere(samples: dict[str, Sequence[DatasetRecord]]) -> None:
    assert set(samples) == set(DATASETS) == set(DATASET_TYPES) == set(SCHEMA_VERSIONS) == set(CLI_DATASETS)
    assert len(DATASETS) == 14
    for dataset, records in samples.items():
        assert records, dataset
        assert all(dataset_of(r) == dataset for r in records)
        assert all(isinstance(r, DATASET_TYPES[dataset]) for r in records)


@pytest.mark.parametrize("dataset", DATASETS)
def test_serde_round_trip(samples: dict[str, Sequence[DatasetRecord]], dataset: str) -> None:
    for record in [*samples[dataset], *([VALID[dataset]] if dataset in VALID else [])]:
        body = encode_record(
            origin="330106", dataset=dataset, uid=record.uid, version=1, seq=1, op=OP_UPSERT, event_time_us=1,
            payload=pack_payload(record),
        )  # fmt: skip
        held = decode_record(body)
        assert held.schema_version == SCHEMA_VERSIONS[dataset]
        assert payload_from_record(held) == record


@pytest.mark.parametrize("dataset", DATASETS)
def test_csv_round_trip(samples: dict[str, Sequence[DatasetRecord]], tmp_path: Path, dataset: str) -> None:
    records = list(samples[dataset])
    assert write_records(tmp_path / f"{dataset}.csv", records) == len(records)
    rows = list(read_records(tmp_path / f"{dataset}.csv", dataset))
    assert [r.error for r in rows if r.error] == []
    assert [r.record for r in rows] == records


@pytest.mark.parametrize("dataset", DATASETS)
def test_samples_are_valid_and_unique(samples: dict[str, Sequence[DatasetRecord]], dataset: str) -> None:
    records = samples[dataset]
    assert {problem for r in records for problem in validate(r)} == set()
    assert {problem for r in records for problem in cross_field_problems(r)} == set()
    assert len({r.uid for r in records}) == len(records)


@pytest.mark.parametrize("dataset", DATASETS)
def test_uid_formats_say_what_the_uid_properties_return(
    samples: dict[str, Sequence[DatasetRecord]], dataset: str
) -> None:
    cls = DATASET_TYPES[dataset]
    for record in samples[dataset]:
        fields = {name: getattr(record, name) for name in uid_fields(cls)}
        assert UID_FORMATS[cls].format(**fields) == record.uid


@pytest.mark.parametrize("dataset", sorted(VALID))
def test_hand_made_records_are_valid(dataset: str) -> None:
    assert validate(VALID[dataset]) == []
    assert cross_field_problems(VALID[dataset]) == []


# --- uids: versions and assessments are never overwritten ------------------------------


def test_uids_keep_versions_and_assessments_apart() -> None:
    assert VALID["matter"].uid == f"33010100000001@{VERSION}"
    assert VALID["matter_sub"].uid == f"33010100000001001@{VERSION}"
    assert VALID["impl_list"].uid == f"{AGENCY}4000001@{VERSION}"
    assert VALID["matter_mapping"].uid == f"33010100000001@{VERSION}"
    assert VALID["credit_grade"].uid == f"{PARTY}@2023-01-20"
    assert VALID["list_entry"].uid == f"{PARTY}:abnormal_operation:2023-03-01"
    assert VALID["public_opinion"].uid == "330106YQ202300000001"
    assert VALID["personnel"].uid == OFFICER
    # a removal is a new version of the same entry
    assert broken("list_entry", removed_on="", removal_reason="").uid == VALID["list_entry"].uid
    assert broken("matter", version_id="20231231000001").uid != VALID["matter"].uid


def test_event_times_of_the_new_datasets() -> None:
    assert event_time_us(VALID["matter"]) == instant("2021-12-31", 0)
    assert event_time_us(VALID["matter_mapping"]) == instant("2021-12-31", 0)
    assert event_time_us(VALID["credit_grade"]) == instant("2023-01-20", 0)
    assert event_time_us(VALID["list_entry"]) == instant("2023-09-01", 0)  # the removal
    assert event_time_us(broken("list_entry", removed_on="", removal_reason="")) == instant("2023-03-01", 0)
    assert event_time_us(VALID["enforcement"]) == instant("2023-04-10", 0)
    assert event_time_us(VALID["public_opinion"]) == instant("2023-08-08")


# --- schema versions ---------------------------------------------------------------------


def test_schema_versions() -> None:
    assert SCHEMA_VERSIONS["penalty"] == 2
    assert {v for k, v in SCHEMA_VERSIONS.items() if k != "penalty"} == {1}


def _record(dataset: str, payload: bytes, schema_version: int) -> exchange_pb2.Record:
    record = exchange_pb2.Record(origin="330106", dataset=dataset, uid="u1", version=1, seq=1, op=OP_UPSERT)
    record.payload.ParseFromString(payload)
    record.schema_version = schema_version
    return record


def test_version_1_penalty_of_an_older_node_still_reads() -> None:
    v1 = broken("penalty", hearing_held="", major_case="", disclosure_status="")
    payload = _any(v1)
    written = datasets_pb2.Penalty.FromString(payload.value).ListFields()
    assert max(field.number for field, _ in written) <= 15  # only fields a version-1 node knows
    assert payload_from_record(_record("penalty", payload.SerializeToString(), 1)) == v1
    assert payload_from_record(_record("penalty", payload.SerializeToString(), 0)) == v1  # no version reads as 1


def _any(record: DatasetRecord) -> any_pb2.Any:
    return any_pb2.Any.FromString(pack_payload(record))


@pytest.mark.parametrize("dataset", ["penalty", "personnel", "matter"])
def test_a_newer_schema_version_is_refused_not_misread(dataset: str) -> None:
    payload = pack_payload(VALID[dataset])
    assert payload_from_record(_record(dataset, payload, SCHEMA_VERSIONS[dataset])) == VALID[dataset]
    too_new = _record(dataset, payload, SCHEMA_VERSIONS[dataset] + 1)
    with pytest.raises(BatchRejectedError, match=rf"schema version {SCHEMA_VERSIONS[dataset] + 1}, newer than"):
        payload_from_record(too_new)


def test_self_describing_payloads_have_no_schema_check() -> None:
    record = _record("custom", pack_struct({"a": 1}), 9)
    assert payload_from_record(record) == {"a": 1}


def test_projector_quarantines_a_too_new_record(tmp_path: Path) -> None:
    key = tmp_path / "330106" / "signing.key"
    generate_signing_key(key, key.with_suffix(".pub"))
    county = load_signer("330106", key)
    bodies = []
    for seq in (1, 2, 3):
        inspection = sample_inspection(f"A{seq}")
        record = decode_record(
            encode_record(
                origin="330106", dataset="inspection", uid=inspection.uid, version=1, seq=seq, op=OP_UPSERT,
                event_time_us=1, payload=pack_payload(inspection),
            )
        )  # fmt: skip
        record.schema_version += seq == 2  # written by a newer node
        bodies.append(record.SerializeToString())
    city = Store.open(f"sqlite:///{tmp_path / 'city.db'}", "330100")
    try:
        batch = seal(county, StreamKey("330106", "inspection"), bodies, first_seq=1, now_us=1)
        city.apply_batch(batch, bodies, received_from="330106", now_us=3, to_parent=False)
        projector = Projector(store=city, clock=lambda: 1)
        while projector.project_pending():
            pass
        with city.read() as conn:
            (entry,) = conn.execute(select(QUARANTINE)).all()
    finally:
        city.close()
    assert entry.kind == "projection"
    assert "payload schema version 2, newer than version 1 known here" in entry.reason
    assert entry.raw == bodies[1]


# --- validation rules: one broken rule per case ------------------------------------------

RULES = [
    # matters catalog
    ("matter", {"matter_code": "3301010000001"}, "matter_code must be exactly 14 digits"),
    ("matter", {"name": ""}, "name is empty"),
    ("matter", {"version_id": "2021-12-31"}, "version_id must be exactly 14 digits"),
    ("matter", {"version_date": "2021/12/31"}, "version_date '2021/12/31' is not a date"),
    ("matter", {"parent_code": "33"}, "parent_code must be exactly 14 digits"),
    ("matter", {"status": "3"}, "status '3' is not one of"),
    ("matter_sub", {"sub_code": ""}, "sub_code is empty"),
    ("matter_sub", {"matter_code": "x"}, "matter_code must be exactly 14 digits"),
    ("matter_sub", {"action_type": "4"}, "action_type '4' is not one of"),
    ("matter_sub", {"cancel_date": "2021-06-30"}, "cancel date 2021-06-30 not after effective date 2022-01-01"),
    ("matter_sub", {"effective_date": "2022-13-01"}, "effective_date '2022-13-01' is not a date"),
    ("impl_list", {"level": "3"}, "level '3' differs from the code's level digit '4'"),
    ("impl_list", {"level": "6"}, "level '6' is not one of"),
    ("impl_list", {"agency_credit_code": OTHER_AGENCY}, "not to the acting agency"),
    ("impl_list", {"impl_list_code": f"{AGENCY}6000001"}, "exercising level must be a digit 1-5"),
    ("impl_list", {"impl_list_code": AGENCY[:17] + "0" + "4000001"}, "its credit code part"),
    ("impl_list", {"agency_name": ""}, "agency_name is empty"),
    ("impl_list", {"matter_code": ""}, "matter_code must be exactly 14 digits"),
    ("impl_list", {"inspection_category": "3"}, "inspection_category '3' is not one of"),
    ("impl_list", {"random_pool": "0"}, "random_pool '0' is not one of"),
    ("impl_list", {"inspection_ratio_bp": 10_001}, "inspection ratio 10001 basis points is not 0-10000"),
    ("impl_list", {"content_kind": "weekly"}, "content_kind 'weekly' is not one of"),
    ("impl_list", {"collaborative": "yes"}, "collaborative 'yes' is not one of"),
    ("matter_mapping", {"national_code": "0001"}, "national_code must be exactly 14 digits"),
    ("matter_mapping", {"local_code": ""}, "local_code must be exactly 14 digits"),
    ("matter_mapping", {"version_id": "1"}, "version_id must be exactly 14 digits"),
    ("matter_mapping", {"mapped_on": "yesterday"}, "mapped_on 'yesterday' is not a date"),
    # time-versioned object attributes
    ("credit_grade", {"grade": "E"}, "grade 'E' is not one of"),
    ("credit_grade", {"credit_code": PARTY[:17] + "0"}, "check character"),
    ("credit_grade", {"assessed_on": "2023-02-30"}, "assessed_on '2023-02-30' is not a date"),
    ("list_entry", {"list_kind": "blacklist"}, "list_kind 'blacklist' is not one of"),
    ("list_entry", {"removed_on": "2023-02-01"}, "removed_on 2023-02-01 not after entered_on 2023-03-01"),
    ("list_entry", {"removed_on": "2023-03-01"}, "removed_on 2023-03-01 not after entered_on 2023-03-01"),
    ("list_entry", {"removed_on": ""}, "removal reason given without a removal date"),
    ("list_entry", {"reason": ""}, "reason is empty"),
    ("list_entry", {"deciding_authority": ""}, "deciding_authority is empty"),
    ("list_entry", {"credit_code": "91330106"}, "credit code must be 18 characters"),
    # actions
    ("enforcement", {"end_date": "2023-04-09"}, "end date 2023-04-09 before start date 2023-04-10"),
    ("enforcement", {"extension_date": "2023-04-01"}, "extension date 2023-04-01 before start date 2023-04-10"),
    ("enforcement", {"extension_date": "2023-05-19"}, "extension date 2023-05-19 after end date 2023-05-18"),
    ("enforcement", {"header_submitted_at_us": instant("2023-04-09")}, "submitted 2023-04-09 before the action date"),
    ("enforcement", {"start_date": "2023-4-10"}, "start_date '2023-4-10' is not a date"),
    ("enforcement", {"header_matter_code": "3301030000000"}, "matter code '3301030000000'"),
    ("enforcement", {"header_impl_list_code": f"{OTHER_AGENCY}403000001"}, "not to the acting agency"),
    ("enforcement", {"header_region_code": "330103"}, "330103 was not valid on 2023-04-10"),
    ("other_action", {"end_date": "2023-04-01"}, "end date 2023-04-01 before start date 2023-04-10"),
    ("other_action", {"header_submitted_at_us": instant("2023-04-01")}, "submitted 2023-04-01 before the action date"),
    ("other_action", {"header_counterparty": Counterparty("", "2", "uscc", PARTY)}, "counterparty has no name"),
    ("other_action", {"start_date": ""}, "start_date '' is not a date"),
    ("penalty", {"hearing_held": "2"}, "hearing_held '2' is not one of"),
    ("penalty", {"criminal_case": "yes"}, "criminal_case 'yes' is not one of"),
    ("penalty", {"major_case": "Y"}, "major_case 'Y' is not one of"),
    ("penalty", {"disclosure_status": "3"}, "disclosure_status '3' is not one of"),
    ("penalty", {"closing_date": "2023-05-01"}, "closing date 2023-05-01 not after filing date 2023-05-01"),
    # public opinion
    ("public_opinion", {"linked_credit_codes": (PARTY, "X" * 18)}, "linked object credit code 'XXXXXXXXXXXXXXXXXX'"),
    ("public_opinion", {"published_at_us": 0}, "public-opinion item has no publication time"),
    ("public_opinion", {"title": ""}, "title is empty"),
    ("public_opinion", {"source": ""}, "source is empty"),
    ("public_opinion", {"region_code": "33010"}, "region code '33010' is not 6 digits"),
    ("public_opinion", {"region_code": "330103"}, "330103 was not valid on 2023-08-08"),
    ("public_opinion", {"sentiment": "angry"}, "sentiment 'angry' is not one of"),
    ("public_opinion", {"url": "ftp://example.com/x"}, "is not an http(s) address"),
    # personnel
    ("personnel", {"id_number": OFFICER[:17] + ("0" if OFFICER[17] != "0" else "1")}, "officer ID number: check digit"),
    ("personnel", {"birth_date": "1985-03-08"}, "birth date '1985-03-08' differs from the ID number's 1985-03-07"),
    ("personnel", {"sex": "2"}, "sex '2' differs from the ID number's"),
    ("personnel", {"sex": "0"}, "sex '0' is not one of"),
    ("personnel", {"cert_valid_to": "2015-06-01"}, "cert_valid_to 2015-06-01 not after cert_valid_from 2015-06-01"),
    ("personnel", {"cert_valid_from": "2015-06"}, "cert_valid_from '2015-06' is not a date"),
    ("personnel", {"on_duty": "2"}, "on_duty '2' is not one of"),
    ("personnel", {"enabled": ""}, "enabled '' is not one of"),
    ("personnel", {"is_supervisor": "no"}, "is_supervisor 'no' is not one of"),
    ("personnel", {"legal_qualification": "2"}, "legal_qualification '2' is not one of"),
    ("personnel", {"organisation_credit_code": AGENCY[:17] + "0"}, "organisation credit code"),
    ("personnel", {"name": ""}, "name is empty"),
    ("personnel", {"organisation": ""}, "organisation is empty"),
]


@pytest.mark.parametrize(("dataset", "changes", "problem"), RULES, ids=[f"{d}-{p[:40]}" for d, _, p in RULES])
def test_validation_catches(dataset: str, changes: dict[str, Any], problem: str) -> None:
    problems = validate(broken(dataset, **changes))
    assert any(problem in p for p in problems), problems


CROSS_FIELD = [
    ("matter_sub", {"cancel_date": "2021-06-30"}, "cancel date"),
    ("impl_list", {"level": "3"}, "level digit"),
    ("impl_list", {"agency_credit_code": OTHER_AGENCY}, f"belongs to agency {AGENCY}, not {OTHER_AGENCY}"),
    ("list_entry", {"removed_on": "2023-02-01"}, "not after entered_on"),
    ("list_entry", {"removed_on": ""}, "removal reason given without a removal date"),
    ("enforcement", {"end_date": "2023-04-09"}, "before start date"),
    ("enforcement", {"extension_date": "2023-05-19"}, "after end date"),
    ("enforcement", {"header_submitted_at_us": instant("2023-04-09")}, "before the action date"),
    ("other_action", {"end_date": "2023-04-01"}, "before start date"),
    ("penalty", {"closing_date": "2023-05-01"}, "not after filing date"),
    ("personnel", {"birth_date": "1985-03-08"}, "differs from the ID number's"),
    ("personnel", {"sex": "2"}, "differs from the ID number's"),
    ("personnel", {"cert_valid_to": "2014-01-01"}, "not after cert_valid_from"),
]


@pytest.mark.parametrize(("dataset", "changes", "problem"), CROSS_FIELD)
def test_cross_field_rules_rerun_on_stored_records(dataset: str, changes: dict[str, Any], problem: str) -> None:
    problems = cross_field_problems(broken(dataset, **changes))
    assert any(problem in p for p in problems), problems


def test_cross_field_rules_skip_what_does_not_parse() -> None:
    assert cross_field_problems(broken("enforcement", start_date="soon")) == []
    assert cross_field_problems(broken("personnel", cert_valid_from="x")) == []
    assert cross_field_problems(broken("matter", matter_code="x")) == []  # a field rule only


# --- sample data -------------------------------------------------------------------------


def test_new_generators_are_deterministic_prefixes() -> None:
    first, second = SampleGenerator(5, "330106"), SampleGenerator(5, "330106")
    objects = first.enterprises(40)
    inspections = list(first.inspections(100, objects=objects))
    assert first.impl_lists() == second.impl_lists()
    assert first.personnel() == second.personnel()
    assert first.credit_grades(objects=objects) == second.credit_grades(objects=objects)
    streams: list[Callable[[SampleGenerator, int], Iterator[DatasetRecord]]] = [
        lambda g, n: g.list_entries(n, objects=objects),
        lambda g, n: g.public_opinion(n, objects=objects),
        lambda g, n: g.enforcements(n, inspections=inspections),
        lambda g, n: g.other_actions(n, inspections=inspections),
    ]
    for stream in streams:
        assert list(stream(first, 10)) == list(stream(second, 30))[:10]
        assert list(stream(first, 10)) != list(stream(SampleGenerator(6, "330106"), 10))


def test_samples_hang_together(samples: dict[str, Sequence[DatasetRecord]]) -> None:
    """Actions cite listed implementation lists and catalog matters; inspectors are in the personnel register."""
    lists = {r.impl_list_code: r for r in samples["impl_list"] if isinstance(r, ImplList)}
    matters = {r.matter_code for r in samples["matter"] if isinstance(r, Matter)}
    for dataset in ("inspection", "penalty", "enforcement", "other_action"):
        for record in samples[dataset]:
            head = record.header  # type: ignore[union-attr]
            assert head.impl_list_code in lists, (dataset, head.impl_list_code)
            assert head.matter_code in matters
    assert {r.matter_code for r in lists.values()} <= matters
    certificates = {p.cert_number for p in samples["personnel"] if isinstance(p, Personnel)}
    for inspection in samples["inspection"]:
        assert {i.cert_number for i in inspection.inspectors} <= certificates  # type: ignore[union-attr]
    kinds = {r.list_kind for r in samples["list_entry"] if isinstance(r, ListEntry)}
    assert kinds == {"abnormal_operation", "serious_violation"}
    assert any(r.removed_on for r in samples["list_entry"] if isinstance(r, ListEntry))
    enforcements = [r for r in samples["enforcement"] if isinstance(r, Enforcement)]
    assert any(r.extension_date for r in enforcements)
    assert {r.inspection_number for r in enforcements} <= {r.uid for r in samples["inspection"]}


def test_a_csv_delete_names_a_composite_uid_by_its_key_columns(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    path.write_text(
        f"credit_code,assessed_on,grade,op\n{PARTY},2023-06-30,,d\n{PARTY},,,d\n",
        encoding="utf-8",
    )
    deleted, empty = read_records(path, "credit_grade")
    assert (deleted.op, deleted.uid, deleted.error) == ("delete", f"{PARTY}@2023-06-30", "")
    assert empty.error == "empty assessed_on"
    (tmp_path / "no_date.csv").write_text("credit_code,grade\nX,A\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header has no 'assessed_on' column"):
        list(read_records(tmp_path / "no_date.csv", "credit_grade"))
