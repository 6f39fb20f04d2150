"""The full GB/T 4754-2017 industry table: counts, known codes, lookup, validation, hierarchy."""

from collections import Counter
from dataclasses import replace
from importlib import resources

import pytest

from adapters.sample_data import SampleGenerator
from governance import _industries, validate
from governance._industries import (
    INDUSTRY_CLASSES,
    INDUSTRY_TABLE,
    SECTION_DIVISIONS,
    IndustryNode,
    children,
    lookup,
)
from governance.codes import (
    INDUSTRY_CODES,
    INDUSTRY_TABLE_EDITION,
    check_industry_code,
    industry_lookup,
    industry_name,
)

LEVEL_LENGTHS = {"section": 1, "division": 3, "group": 4, "class": 5}


def test_counts_per_level() -> None:
    levels = Counter(entry.level for entry in INDUSTRY_TABLE.values())
    assert levels == {"section": 20, "division": 97, "group": 473, "class": 1381}
    assert len(INDUSTRY_CLASSES) == len(INDUSTRY_CODES) == 1381
    assert "Amendment No. 1" in INDUSTRY_TABLE_EDITION


def test_no_duplicate_codes_and_code_order() -> None:
    rows = [
        line.split("\t")[0]
        for line in resources.files("governance").joinpath("data/gbt4754_2017.tsv").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(rows) == len(set(rows)) == len(INDUSTRY_TABLE) == 1971
    assert rows == sorted(rows)
    assert list(INDUSTRY_TABLE) == rows
    assert tuple(code for code in rows if len(code) == 5) == INDUSTRY_CODES


def test_the_data_file_records_its_provenance() -> None:
    text = resources.files("governance").joinpath("data/gbt4754_2017.tsv").read_text("utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for fact in ("GB/T 4754-2017", "Amendment No. 1", "retrieved 2026-11-27", "Licence", "PyPI", "npm"):
        assert fact in header


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("A", "农、林、牧、渔业"),
        ("C", "制造业"),
        ("T", "国际组织"),
        ("A01", "农业"),
        ("C13", "农副食品加工业"),
        ("I65", "软件和信息技术服务业"),
        ("C131", "谷物磨制"),
        ("A0111", "稻谷种植"),
        ("C1311", "稻谷加工"),
        ("I6513", "应用软件开发"),
        ("C2522", "煤制合成气生产"),
        ("C3969", "其他智能消费设备制造"),
        ("F5267", "机动车充电销售"),
        ("F5292", "互联网零售"),
        ("E4710", "住宅房屋建筑"),
        ("H6130", "民宿服务"),
        ("L7123", "文化用品设备出租"),
        ("O8040", "理发及美容服务"),
        ("Q8425", "门诊部（所）"),  # noqa: RUF001 - the standard's full-width brackets
        ("S9100", "中国共产党机关"),
        ("T9700", "国际组织"),
    ],
)
def test_known_codes_and_names(code: str, name: str) -> None:
    assert industry_name(code) == name
    entry = industry_lookup(code)
    assert entry is not None
    assert (entry.code, entry.name) == (code, name)


def test_lookup_gives_the_hierarchy_of_a_class() -> None:
    entry = industry_lookup("C1311")
    assert entry is not None
    assert entry.level == "class"
    assert entry.section == IndustryNode("C", "制造业")
    assert entry.division == IndustryNode("C13", "农副食品加工业")
    assert entry.group == IndustryNode("C131", "谷物磨制")
    assert entry.industry_class == IndustryNode("C1311", "稻谷加工")
    assert entry.path == (entry.section, entry.division, entry.group, entry.industry_class)


def test_lookup_of_upper_levels_stops_at_the_code() -> None:
    division = industry_lookup("C13")
    assert division is not None
    assert division.level == "division"
    assert (division.group, division.industry_class) == (None, None)
    assert division.path == (IndustryNode("C", "制造业"), IndustryNode("C13", "农副食品加工业"))
    section = lookup("K")
    assert section is not None
    assert section.path == (IndustryNode("K", "房地产业"),)


@pytest.mark.parametrize("code", ["Z9999", "C1398", "C138", "A0", "", "c1311", "C13110"])
def test_lookup_of_unknown_codes(code: str) -> None:
    assert industry_lookup(code) is None
    assert industry_name(code) is None


def test_children() -> None:
    assert [node.code for node in children("A")] == ["A01", "A02", "A03", "A04", "A05"]
    assert children("C139") == (
        IndustryNode("C1391", "淀粉及淀粉制品制造"),
        IndustryNode("C1392", "豆制品制造"),
        IndustryNode("C1393", "蛋品加工"),
        IndustryNode("C1399", "其他未列明农副食品加工"),
    )
    assert children("C1311") == ()
    assert children("Z") == ()


@pytest.mark.parametrize("code", INDUSTRY_CODES)
def test_every_real_class_is_accepted(code: str) -> None:
    assert check_industry_code(code).errors == ()
    assert check_industry_code(code).warnings == ()


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("C1398", "group C139 其他农副食品加工 has C1391, C1392, C1393, C1399"),
        ("C1380", "division C13 农副食品加工业 has C131, C132, C133, C134, C135, C136, C137, C139"),
        ("C138", "division C13 农副食品加工业 has C131,"),
        ("E4711", "group E471 住宅房屋建筑 has E4710"),
    ],
)
def test_non_existent_codes_are_rejected_with_a_clear_message(code: str, parent: str) -> None:
    result = check_industry_code(code)
    assert not result.ok
    (message,) = result.errors
    assert message.startswith(f"industry code {code} does not exist in GB/T 4754-2017")
    assert parent in message


@pytest.mark.parametrize(("code", "level"), [("C13", "division"), ("T97", "division"), ("C131", "group")])
def test_divisions_and_groups_pass_with_a_warning(code: str, level: str) -> None:
    result = check_industry_code(code)
    assert result.ok
    assert result.warnings == (f"industry code {code} is a {level} ({industry_name(code)}), not a 4-digit class",)


def test_format_and_section_errors_come_first() -> None:
    assert check_industry_code("A1311").errors == ("division 13 is not in section A (divisions 01-05)",)
    assert "section letter A-T" in check_industry_code("Z9999").errors[0]


def test_hierarchy_is_consistent_over_the_whole_table() -> None:
    for code, entry in INDUSTRY_TABLE.items():
        assert entry.code == code
        assert len(code) == LEVEL_LENGTHS[entry.level]
        assert entry.path[-1] == (code, entry.name)
        assert len(entry.path) == list(LEVEL_LENGTHS).index(entry.level) + 1
        for node in entry.path:
            assert code.startswith(node.code)
            assert INDUSTRY_TABLE[node.code].name == node.name
        if entry.level != "section":
            assert int(code[1:3]) in SECTION_DIVISIONS[code[0]], code
        if entry.level != "class":
            assert children(code), f"{code} has nothing below it"


def test_divisions_match_the_section_ranges() -> None:
    for section, divisions in SECTION_DIVISIONS.items():
        assert [node.code for node in children(section)] == [f"{section}{number:02d}" for number in divisions]
    assert sum(len(divisions) for divisions in SECTION_DIVISIONS.values()) == 97


def test_a_group_without_sub_classes_has_the_class_group_plus_zero() -> None:
    single = 0
    for code, entry in INDUSTRY_TABLE.items():
        if entry.level != "group":
            continue
        classes = children(code)
        if len(classes) == 1:
            single += 1
            assert classes == (IndustryNode(code + "0", entry.name),)
        else:
            assert code + "0" not in INDUSTRY_TABLE
            assert all(node.code[-1] != "0" for node in classes)
    assert single == 199


def test_names_are_clean() -> None:
    for code, entry in INDUSTRY_TABLE.items():
        assert entry.name, code
        assert entry.name == entry.name.strip()
        assert not any(char.isspace() or char in "()?" for char in entry.name), (code, entry.name)


def test_a_broken_table_is_refused() -> None:
    rows = (IndustryNode("A", "农、林、牧、渔业"), IndustryNode("A", "农业"))
    with pytest.raises(ValueError, match="repeats a code"):
        _industries._build(rows)


def test_a_regulated_object_with_an_industry_code_the_table_lacks_is_refused() -> None:
    (enterprise,) = SampleGenerator(2026, "330106").enterprises(1)
    assert validate(replace(enterprise, industry_code="C1399")) == []
    problems = validate(replace(enterprise, industry_code="C1398"))
    assert len(problems) == 1
    assert "C1398 does not exist" in problems[0]
