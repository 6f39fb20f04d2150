"""The deterministic sample data generator."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import NamedTuple

import pytest

from adapters.sample_data import SampleGenerator
from governance._records import Complaint, Inspection, Penalty, RegulatedObject
from governance.codes import (
    INDUSTRY_CODES,
    USCC_CATEGORIES,
    check_id_number,
    check_matter_code,
    check_region_code,
    check_uscc,
    is_within,
)

CHINA = timezone(timedelta(hours=8))
PENALTY_KINDS = {f"{k:02d}" for k in range(1, 15)}
CHECK_RESULTS = {"pass", "fail", "not_inspected", "not_applicable"}


class Sample(NamedTuple):
    objects: list[RegulatedObject]
    inspections: list[Inspection]
    penalties: list[Penalty]
    complaints: list[Complaint]


@pytest.fixture(scope="module")
def hangzhou() -> Sample:
    generator = SampleGenerator(42, "330100")
    objects = generator.enterprises(500)
    inspections = list(generator.inspections(4000, objects=objects))
    penalties = list(generator.penalties(400, inspections=inspections))
    complaints = list(generator.complaints(400, objects=objects))
    return Sample(objects, inspections, penalties, complaints)


def day_of(instant_us: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(instant_us / 1_000_000, tz).date()


# --- determinism --------------------------------------------------------------------------


def test_same_seed_same_data() -> None:
    first, second = SampleGenerator(7, "330106"), SampleGenerator(7, "330106")
    objects = first.enterprises(60)
    assert objects == second.enterprises(60)
    inspections = list(first.inspections(300, objects=objects))
    assert inspections == list(second.inspections(300, objects=objects))
    assert list(first.penalties(30, inspections=inspections)) == list(second.penalties(30, inspections=inspections))
    assert list(first.complaints(30, objects=objects)) == list(second.complaints(30, objects=objects))


def test_different_seeds_differ() -> None:
    first, second = SampleGenerator(7, "330106"), SampleGenerator(8, "330106")
    assert [o.credit_code for o in first.enterprises(20)] != [o.credit_code for o in second.enterprises(20)]
    assert list(first.inspections(20)) != list(second.inspections(20))


def test_streams_do_not_disturb_each_other() -> None:
    fresh, used = SampleGenerator(3, "330200"), SampleGenerator(3, "330200")
    list(used.inspections(50))
    list(used.complaints(10, objects=used.enterprises(5)))
    assert fresh.enterprises(40) == used.enterprises(40)
    assert list(fresh.inspections(40)) == list(used.inspections(40))


def test_shorter_call_is_a_prefix_of_a_longer_one() -> None:
    generator = SampleGenerator(5, "330100")
    assert generator.enterprises(30) == generator.enterprises(90)[:30]
    assert list(generator.inspections(25)) == list(generator.inspections(60))[:25]


def test_inspections_are_lazy() -> None:
    stream = SampleGenerator(1, "330100").inspections(10**9)
    assert next(stream).action_number.endswith("00000001")


# --- regulated objects --------------------------------------------------------------------


def test_every_credit_code_is_valid_and_unique(hangzhou: Sample) -> None:
    objects = hangzhou.objects
    for obj in objects:
        result = check_uscc(obj.credit_code)
        assert result.errors == (), obj
        assert result.warnings == (), obj
    assert len({o.uid for o in objects}) == len(objects)


def test_all_department_category_pairs_appear(hangzhou: Sample) -> None:
    pairs = {o.credit_code[:2] for o in hangzhou.objects}
    expected = {d + c for d, cats in USCC_CATEGORIES.items() for c in cats}
    assert pairs == expected
    assert {"A1", "A9", "N1", "N2", "N3", "N9", "Y1"} <= pairs


def test_object_fields_are_consistent(hangzhou: Sample) -> None:
    types = {"91": "enterprise", "92": "individual_business"}
    for obj in hangzhou.objects:
        assert obj.object_type == types.get(obj.credit_code[:2], "organisation")
        assert obj.credit_code[2:8] == obj.region_code
        assert obj.industry_code in INDUSTRY_CODES
        assert "1995-01-01" <= obj.established_on <= "2023-12-31"
        assert obj.name
        assert obj.legal_representative
    names = {o.credit_code[:2]: o.name for o in hangzhou.objects}
    assert names["92"].endswith("个体工商户\uff09")
    assert names["93"].endswith("合作社")
    assert re.search("(有限公司|有限责任公司)$", names["91"])
    assert Counter(o.object_type for o in hangzhou.objects).most_common(1)[0][0] == "enterprise"


# --- inspections --------------------------------------------------------------------------


def test_inspections_follow_the_rules(hangzhou: Sample) -> None:
    for record in hangzhou.inspections:
        header = record.header
        assert len(record.inspectors) >= 2
        assert len({i.cert_number for i in record.inspectors}) == len(record.inspectors)
        for inspector in record.inspectors:
            assert re.fullmatch(r"\d{14}", inspector.cert_number)
            assert inspector.cert_number.startswith(header.region_code)
        action_day = date.fromisoformat(record.action_date)
        assert date(2022, 1, 1) <= action_day <= date(2024, 12, 31)
        assert day_of(header.submitted_at_us, UTC) > action_day
        assert day_of(header.submitted_at_us, CHINA) > action_day
        assert check_matter_code(header.matter_code).ok
        assert check_uscc(header.agency_credit_code).warnings == ()
        assert header.agency_credit_code.startswith("11")
        assert header.impl_list_code.startswith(header.agency_credit_code)
        assert header.impl_list_code[18] in "12345"
        assert record.form in {"01", "02"}
        assert record.category in {"1", "2"}
        assert 1 <= len(record.check_items) <= 4
        assert {item.result for item in record.check_items} <= CHECK_RESULTS
        failed = any(item.result == "fail" for item in record.check_items)
        assert record.result == ("责令整改" if failed else "合格")
        assert record.action_number == f"{header.region_code}JC{action_day.year}{record.action_number[-8:]}"


def test_counterparties_are_objects_or_citizens(hangzhou: Sample) -> None:
    objects, inspections = hangzhou.objects, hangzhou.inspections
    codes = {o.credit_code for o in objects}
    citizens = 0
    for record in inspections:
        party = record.header.counterparty
        if party.nature == "1":
            citizens += 1
            assert party.cert_type == "id_card"
            assert check_id_number(party.cert_number).ok
            assert record.header.object_type == "natural_person"
        else:
            assert (party.nature, party.cert_type) == ("2", "uscc")
            assert party.cert_number in codes
    assert 0.01 < citizens / len(inspections) < 0.06


def test_inspection_uids_are_unique(hangzhou: Sample) -> None:
    numbers = [record.uid for record in hangzhou.inspections]
    assert len(set(numbers)) == len(numbers)
    assert all(len(number) <= 50 for number in numbers)


def test_inspector_pool_is_about_fifty_per_region(hangzhou: Sample) -> None:
    inspectors = {i for record in hangzhou.inspections for i in record.inspectors}
    assert 40 <= len(inspectors) <= 60


def test_default_object_pool_is_deterministic() -> None:
    first = list(SampleGenerator(9, "330200").inspections(100))
    second = list(SampleGenerator(9, "330200").inspections(100))
    assert first == second
    assert len({r.header.counterparty.cert_number for r in first}) > 50


# --- penalties and complaints -------------------------------------------------------------


def test_penalties_reference_inspections_with_ordered_dates(hangzhou: Sample) -> None:
    by_number = {record.action_number: record for record in hangzhou.inspections}
    for penalty in hangzhou.penalties:
        source = by_number[penalty.inspection_number]
        assert penalty.header.counterparty == source.header.counterparty
        filed = date.fromisoformat(penalty.filing_date)
        decided = date.fromisoformat(penalty.decision_date)
        assert filed > date.fromisoformat(source.action_date)
        assert decided > filed
        assert date.fromisoformat(penalty.closing_date) > filed
        assert day_of(penalty.header.submitted_at_us, CHINA) > decided
        assert set(penalty.kinds) <= PENALTY_KINDS
        assert (penalty.fine_fen > 0) == ("02" in penalty.kinds)
        assert re.fullmatch(r"\S{2}(市监罚|卫监罚|应急罚)\u3014\d{4}\u3015\d+号", penalty.decision_number)
        assert check_matter_code(penalty.header.matter_code).ok


def test_penalty_numbers_are_unique_and_mostly_warnings_or_fines(hangzhou: Sample) -> None:
    penalties = hangzhou.penalties
    assert len({p.uid for p in penalties}) == len(penalties)
    assert len({p.decision_number for p in penalties}) == len(penalties)
    common = sum(1 for p in penalties if p.kinds in {("01",), ("02",)})
    assert common / len(penalties) > 0.7


def test_complaints(hangzhou: Sample) -> None:
    objects, complaints = hangzhou.objects, hangzhou.complaints
    by_code = {o.credit_code: o for o in objects}
    assert len({c.uid for c in complaints}) == len(complaints)
    assert {c.kind for c in complaints} == {"complaint", "tip"}
    for complaint in complaints:
        assert by_code[complaint.object_credit_code].name == complaint.object_name
        assert complaint.details
        for tz in (UTC, CHINA):
            assert 2022 <= day_of(complaint.received_at_us, tz).year <= 2024
        assert complaint.dispute_date <= day_of(complaint.received_at_us, CHINA).isoformat()


# --- regions ------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["330100", "330200", "330106", "330000"])
def test_generated_regions_stay_inside_the_subtree(region: str) -> None:
    generator = SampleGenerator(11, region)
    objects = generator.enterprises(120)
    inspections = list(generator.inspections(300, objects=objects))
    regions = [o.region_code for o in objects]
    regions += [r.header.region_code for r in inspections]
    regions += [p.header.region_code for p in generator.penalties(40, inspections=inspections)]
    regions += [c.region_code for c in generator.complaints(40, objects=objects)]
    for code in regions:
        assert is_within(code, region)
        assert check_region_code(code, date(2022, 1, 1)).ok
        assert check_region_code(code, date(2024, 12, 31)).ok
    if region == "330106":
        assert set(regions) == {"330106"}


def test_foreign_objects_get_a_region_inside_the_subtree() -> None:
    outsiders = SampleGenerator(1, "330300").enterprises(20)
    generator = SampleGenerator(1, "330200")
    for record in generator.inspections(50, objects=outsiders):
        assert is_within(record.header.region_code, "330200")
    for complaint in generator.complaints(20, objects=outsiders):
        assert is_within(complaint.region_code, "330200")


@pytest.mark.parametrize("region", ["330199", "999999", "3301", "abcdef", "330103", "330204"])
def test_unknown_or_abolished_regions_are_rejected(region: str) -> None:
    with pytest.raises(ValueError, match="cannot generate data"):
        SampleGenerator(1, region)


def test_empty_inputs() -> None:
    generator = SampleGenerator(1, "330106")
    assert generator.enterprises(0) == []
    assert list(generator.inspections(0)) == []
    # raised at the call, not at the first next()
    with pytest.raises(ValueError, match="at least one"):
        generator.penalties(1, inspections=[])
    with pytest.raises(ValueError, match="at least one"):
        generator.complaints(1, objects=[])
    with pytest.raises(ValueError, match="at least one"):
        generator.inspections(1, objects=[])
