"""Code rules: credit codes, ID numbers, region, industry and matter codes."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric

from governance import validate
from governance._regions import REGIONS
from governance.codes import (
    INDUSTRY_CODES,
    REGION_TABLE_VERSION,
    USCC_ALPHABET,
    USCC_CATEGORIES,
    check_id_number,
    check_impl_list_code,
    check_industry_code,
    check_matter_code,
    check_region_code,
    check_uscc,
    counties_within,
    id15_to_18,
    id_check_digit,
    industry_name,
    is_within,
    make_id_number,
    make_uscc,
    org_code_check_char,
    region_level,
    region_name,
    region_parent,
    uscc_check_char,
)
from tests.test_ingest import sample_inspection

# Business-licence codes of two well-known enterprises (public registration data).
REAL_CODES = ("91330100716105852F", "91110000802100433B")


def full_width(text: str) -> str:
    """The full-width twin of an ASCII string: str.isdigit() accepts such digits."""
    return "".join(chr(ord(char) + 0xFEE0) for char in text)


def reference_check_char(first17: str) -> str:
    """The GB 32100 formula written out independently of the module."""
    total = sum(USCC_ALPHABET.index(char) * pow(3, i, 31) for i, char in enumerate(first17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def with_valid_check_char(first17: str) -> str:
    return first17 + reference_check_char(first17)


# --- unified social credit code -----------------------------------------------------------


def test_alphabet_has_31_characters_without_i_o_s_v_z() -> None:
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass_both_checks(code: str) -> None:
    result = check_uscc(code)
    assert result.ok
    assert result.errors == ()
    assert result.warnings == ()


def test_check_char_computed_by_hand() -> None:
    # 9*1 + 1*3 + 3*9 + 3*27 + 0*19 + 1*26 + 0*16 + 6*17 + M(21)*20 + A(10)*29 + 2*25 + 7*13
    # + X(29)*(8 + 24 + 10 + 30 + 28) = 3999 = 129 * 31, so the check value is (31 - 0) mod 31 = 0
    assert uscc_check_char("91330106MA27XXXXX") == "0"
    # Alibaba (China): sum 884 = 28 * 31 + 16, check value 15 -> "F"
    assert uscc_check_char("91330100716105852") == "F"


@pytest.mark.parametrize(
    "first17", ["91330106MA27Y6K30", "N2330106MA2CF1XL8", "A1330100000000000", "Y1330212MA27Y6K9X"]
)
def test_check_char_matches_reference_formula(first17: str) -> None:
    assert uscc_check_char(first17) == reference_check_char(first17)


def test_uscc_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_char("91330106MA27XXXX")
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_char("91330106MA27XXXXI")


@pytest.mark.parametrize(
    "first17", ["A1330106MA27Y6K30", "N2330106MA27Y6K30", "N3330106MA27Y6K30", "Y1330106MA27Y6K30"]
)
def test_codes_starting_with_a_n_y_are_accepted(first17: str) -> None:
    # python-stdnum rejects these; GB 32100 lists A, N and Y as registering departments
    code = with_valid_check_char(first17)
    assert check_uscc(code).ok, check_uscc(code).errors


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z", "a", "m", "x"])
def test_each_forbidden_character_is_rejected(letter: str) -> None:
    code = REAL_CODES[0][:12] + letter + REAL_CODES[0][13:]
    result = check_uscc(code)
    assert not result.ok
    assert f"{letter!r} at position 13" in result.errors[0]


def test_lower_case_is_not_upper_cased_silently() -> None:
    code = with_valid_check_char("91330106MA27Y6K30").lower()
    result = check_uscc(code)
    assert not result.ok
    assert "outside the credit-code alphabet" in result.errors[0]


def test_wrong_check_char_names_the_expected_one() -> None:
    result = check_uscc(REAL_CODES[0][:17] + "K")
    assert result.errors == ("check character is 'K', expected 'F'",)


@pytest.mark.parametrize("length", [0, 17, 19])
def test_wrong_length_is_rejected(length: int) -> None:
    result = check_uscc(("91330100716105852F" * 2)[:length])
    assert result.errors == (f"credit code must be 18 characters, got {length}",)


def test_category_not_allowed_for_department() -> None:
    result = check_uscc(with_valid_check_char("94330106MA27Y6K30"))
    assert not result.ok
    assert "category '4' is not allowed for department '9' (allowed: 1, 2, 3)" in result.errors[0]


def test_unknown_department_is_rejected() -> None:
    result = check_uscc(with_valid_check_char("B1330106MA27Y6K30"))
    assert any("unknown registering department 'B'" in error for error in result.errors)


def test_region_part_must_be_digits() -> None:
    result = check_uscc(with_valid_check_char("913301A6MA27Y6K30"))
    assert result.errors == ("region part (positions 3-8) must be 6 digits, got '3301A6'",)


def test_inner_org_code_failure_is_only_a_warning() -> None:
    code = with_valid_check_char("91330100716105853")  # inner check should be 2, not 3
    result = check_uscc(code)
    assert result.ok
    assert result.warnings == ("inner GB 11714 organisation-code check character is '3', expected '2'",)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("71610585", "2"),  # from the real code 91330100 71610585 2 F
        ("80210043", "3"),  # from the real code 91110000 80210043 3 B
        ("MA27Y6K9", "X"),  # weighted sum 540, 540 mod 11 = 1, 11 - 1 = 10 -> X
        ("MA27Y6K3", "0"),  # weighted sum 528 = 48 * 11, 11 - 0 = 11 -> 0
    ],
)
def test_org_code_check_char(body: str, expected: str) -> None:
    assert org_code_check_char(body) == expected


def test_department_category_table_matches_the_standard() -> None:
    assert {dept: "".join(sorted(cats)) for dept, cats in USCC_CATEGORIES.items()} == {
        "1": "1239",
        "2": "19",
        "3": "123459",
        "4": "19",
        "5": "1239",
        "6": "129",
        "7": "129",
        "8": "19",
        "9": "123",
        "A": "19",
        "N": "1239",
        "Y": "1",
    }


@pytest.mark.parametrize("pair", [d + c for d, cats in USCC_CATEGORIES.items() for c in sorted(cats)])
def test_make_uscc_builds_valid_codes_for_every_pair(pair: str) -> None:
    code = make_uscc(pair[0], pair[1], "330106", "MA27Y6K9")
    assert code[:10] == f"{pair}330106MA"
    assert code[16] == "X"
    result = check_uscc(code)
    assert result.ok
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("9", "4", "330106", "MA27Y6K9"), "not allowed"),
        (("B", "1", "330106", "MA27Y6K9"), "unknown registering department"),
        (("9", "1", "33010", "MA27Y6K9"), "region"),
        (("9", "1", full_width("330106"), "MA27Y6K9"), "region"),
        (("9", "1", "330106", "MA27Y6KI"), "organisation body"),
        (("9", "1", "330106", "MA27Y6K"), "organisation body"),
    ],
)
def test_make_uscc_rejects_invalid_parts(args: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_uscc(*args)


# --- citizen ID number --------------------------------------------------------------------


def test_id_check_digit_known_example() -> None:
    assert id_check_digit("11010519491231002") == "X"


def test_valid_id_number() -> None:
    assert check_id_number("11010519491231002X").ok


def test_wrong_id_check_digit_names_the_expected_one() -> None:
    assert check_id_number("110105194912310021").errors == ("check digit is '1', expected 'X'",)


def test_lower_case_x_is_an_error() -> None:
    assert not check_id_number("11010519491231002x").ok


def test_impossible_birth_date() -> None:
    first17 = "11010519490230002"
    result = check_id_number(first17 + id_check_digit(first17))
    assert result.errors == ("birth date 19490230 is not a valid date",)


def test_future_birth_date() -> None:
    number = make_id_number("330106", date(2021, 1, 1), 7)
    assert check_id_number(number, today=date(2021, 1, 1)).ok
    assert check_id_number(number, today=date(2020, 12, 31)).errors == ("birth date 2021-01-01 is in the future",)


@pytest.mark.parametrize("number", ["11010519491231002", "11010519491231002XX", "1101051949123100A2"])
def test_malformed_id_numbers(number: str) -> None:
    assert not check_id_number(number).ok


def test_unknown_birthplace_is_a_warning() -> None:
    known = make_id_number("330106", date(1990, 5, 17), 1)
    assert check_id_number(known).warnings == ()
    unknown = make_id_number("339999", date(1990, 5, 17), 1)
    result = check_id_number(unknown)
    assert result.ok
    assert "birthplace 339999 is not a GB/T 2260 code" in result.warnings[0]


# python-stdnum's table lacks the 2021 Hangzhou districts (its cn.ric raises KeyError for them), and it
# wants the birthplace code in force in the birth year; sample what both sides can judge.
_STDNUM_GAPS = {"330113", "330114"}
_BIRTHPLACES = [e for e in REGIONS if region_level(e.code) == "county" and e.code not in _STDNUM_GAPS]


@st.composite
def _births(draw: st.DrawFn) -> tuple[str, date]:
    entry = draw(st.sampled_from(_BIRTHPLACES))
    start = max(entry.valid_from or date(1930, 1, 1), date(1930, 1, 1))
    end = min((entry.valid_to or date(2021, 1, 1)) - timedelta(days=1), date(2020, 12, 31))
    return entry.code, draw(st.dates(min_value=start, max_value=max(start, end)))


@given(place=_births(), sequence=st.integers(0, 999), damage=st.sampled_from(["none", "check", "birth", "sequence"]))
@settings(max_examples=300, deadline=None)
def test_id_checks_agree_with_python_stdnum(place: tuple[str, date], sequence: int, damage: str) -> None:
    """Our GB 11643 check and python-stdnum's cn.ric accept and refuse the same numbers."""
    number = make_id_number(place[0], place[1], sequence)
    if damage == "check":
        number = number[:17] + ("0" if number[17] != "0" else "1")
    elif damage == "birth":
        number = number[:10] + "13" + number[12:]  # month 13
    elif damage == "sequence":
        number = number[:14] + "A" + number[15:]
    ours = check_id_number(number, today=date(2026, 1, 1))
    assert ours.ok == stdnum_ric.is_valid(number)
    if ours.ok:
        assert not ours.warnings  # a birthplace stdnum knows is one our table knows


def test_15_to_18_round_trip() -> None:
    assert id15_to_18("110105491231002") == "11010519491231002X"
    converted = id15_to_18("330106850317123")
    assert check_id_number(converted).ok
    assert converted[:6] + converted[8:17] == "330106850317123"


def test_15_to_18_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="15-digit"):
        id15_to_18("11010549123100")


def test_make_id_number() -> None:
    number = make_id_number("330106", date(1990, 5, 17), 123)
    assert number.startswith("33010619900517123")
    assert check_id_number(number).ok
    with pytest.raises(ValueError, match="sequence"):
        make_id_number("330106", date(1990, 5, 17), 1000)
    with pytest.raises(ValueError, match="region"):
        make_id_number("3301", date(1990, 5, 17), 1)


# --- region codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [("330000", "province", None), ("330100", "city", "330000"), ("330106", "county", "330100")],
)
def test_region_level_and_parent(code: str, level: str, parent: str | None) -> None:
    assert region_level(code) == level
    assert region_parent(code) == parent


@pytest.mark.parametrize("code", ["33010", "3301066", "33010A", "", full_width("330106")])
def test_region_level_rejects_malformed_codes(code: str) -> None:
    with pytest.raises(ValueError, match="6 digits"):
        region_level(code)


@pytest.mark.parametrize(
    ("code", "ancestor", "expected"),
    [
        ("330106", "330100", True),
        ("330106", "330000", True),
        ("330106", "330106", True),
        ("330100", "330100", True),
        ("330000", "330000", True),
        ("330106", "330200", False),
        ("330106", "330108", False),
        ("330100", "330106", False),
        ("330000", "330100", False),
        ("440106", "330000", False),
    ],
)
def test_is_within(code: str, ancestor: str, expected: bool) -> None:
    assert is_within(code, ancestor) is expected


def test_region_names() -> None:
    assert region_name("330000") == "浙江省"
    assert region_name("330106") == "西湖区"
    assert region_name("330103") == "下城区"
    assert region_name("330199") is None


def test_the_region_table_covers_the_country_and_its_history() -> None:
    provinces = {e.code for e in REGIONS if region_level(e.code) == "province"}
    assert len(provinces) == 34  # 31 provinces, Taiwan, Hong Kong, Macao
    assert region_name("110101") == "东城区"
    assert check_region_code("110103", date(2005, 1, 1)).ok  # 崇文区, merged into 东城区 in 2010
    assert "until 2011-01-01" in check_region_code("110103", date(2015, 1, 1)).errors[0]
    # one code, two names over time
    assert [e.name for e in REGIONS if e.code == "330206"] == ["滨海区", "北仑区"]
    assert check_region_code("330206", date(1986, 6, 1)).ok
    assert not check_region_code("330206", date(1984, 6, 1)).ok
    # exact dates where we have them; codes the upstream list lacks
    assert check_region_code("330113", date(2021, 3, 11)).ok
    assert not check_region_code("330113", date(2021, 3, 10)).ok
    assert "python-stdnum" in REGION_TABLE_VERSION


def test_counties_within_follows_the_2021_reorganisation() -> None:
    before = counties_within("330100", date(2020, 1, 1))
    after = counties_within("330100", date(2022, 1, 1))
    assert "330103" in before
    assert "330113" not in before
    assert "330103" not in after
    assert {"330102", "330105", "330106", "330108", "330109", "330110", "330113", "330114"} <= set(after)
    assert after == sorted(after)
    assert set(before) | set(after) <= set(counties_within("330100"))


def test_counties_within_a_province_and_a_county() -> None:
    province = counties_within("330000", date(2023, 6, 1))
    assert {"330106", "330212", "330302"} <= set(province)
    assert all(region_level(code) == "county" for code in province)
    assert counties_within("330106", date(2023, 6, 1)) == ["330106"]
    assert counties_within("330103", date(2023, 6, 1)) == []
    assert counties_within("330203", date(2023, 6, 1)) == ["330203"]


def test_abolished_code_valid_on_old_records_but_flagged_on_new_ones() -> None:
    assert check_region_code("330103", date(2020, 1, 1)).ok
    result = check_region_code("330103", date(2022, 1, 1))
    assert not result.ok
    assert "下城区" in result.errors[0]
    assert "until 2021-03-11" in result.errors[0]
    assert "2022-01-01" in result.errors[0]


def test_new_code_not_valid_before_it_existed() -> None:
    assert check_region_code("330113", date(2021, 3, 11)).ok
    assert not check_region_code("330113", date(2021, 3, 10)).ok


def test_unknown_and_malformed_region_codes() -> None:
    assert "not in the shipped table" in check_region_code("330199", date(2022, 1, 1)).errors[0]
    assert "6 digits" in check_region_code("33010", date(2022, 1, 1)).errors[0]


# --- industry and matter codes ------------------------------------------------------------


def test_industry_subset_size_and_sections() -> None:
    assert len(INDUSTRY_CODES) >= 40
    assert len(set(INDUSTRY_CODES)) == len(INDUSTRY_CODES)
    assert set("ACEFGHIKLMOPQR") <= {code[0] for code in INDUSTRY_CODES}


def test_every_shipped_industry_code_is_clean() -> None:
    for code in INDUSTRY_CODES:
        result = check_industry_code(code)
        assert result.errors == ()
        assert result.warnings == ()
        assert industry_name(code)


def test_industry_names() -> None:
    assert industry_name("A0111") == "稻谷种植"
    assert industry_name("C1311") == "稻谷加工"
    assert industry_name("I6513") == "应用软件开发"
    assert industry_name("Z9999") is None


@pytest.mark.parametrize("code", ["C13", "C131", "T97"])
def test_a_division_or_group_is_a_warning(code: str) -> None:
    result = check_industry_code(code)
    assert result.ok
    assert len(result.warnings) == 1


def test_a_class_the_table_lacks_is_an_error_naming_its_group() -> None:
    assert check_industry_code("C1399").ok  # 其他未列明农副食品加工: a real class (the old subset lacked it)
    result = check_industry_code("C1398")
    assert not result.ok
    assert "group C139" in result.errors[0]


@pytest.mark.parametrize(
    "code", ["a0111", "U0111", "A0", "A01111", "0111", "A 0111", full_width("A0111"), "A" + full_width("0") + "111"]
)
def test_malformed_industry_codes(code: str) -> None:
    assert not check_industry_code(code).ok


def test_division_must_belong_to_the_section() -> None:
    result = check_industry_code("A1311")
    assert result.errors == ("division 13 is not in section A (divisions 01-05)",)


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("33010100000001", True),
        ("3301010000000", False),
        ("330101000000011", False),
        ("3301010000000A", False),
        (full_width("33") + "010100000001", False),
        ("", False),
    ],
)
def test_matter_code_is_14_digits(code: str, ok: bool) -> None:
    assert check_matter_code(code).ok is ok


# --- implementation-list codes and the rules that use the tables ----------------------------


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (REAL_CODES[0] + "3", ""),
        (REAL_CODES[0] + "5" + "X" * 40, ""),  # agency-specific part of any length
        (REAL_CODES[0], "needs a credit code, a level digit"),
        (REAL_CODES[0] + "6001", "exercising level must be a digit 1-5"),
        (REAL_CODES[0][:17] + "0" + "3001", "its credit code part"),
    ],
)
def test_implementation_list_code(code: str, problem: str) -> None:
    errors = check_impl_list_code(code).errors
    assert any(problem in e for e in errors) if problem else errors == ()


def test_implementation_list_code_belongs_to_the_acting_agency() -> None:
    code = REAL_CODES[0] + "3001"
    assert check_impl_list_code(code, agency_credit_code=REAL_CODES[0]).ok
    (error,) = check_impl_list_code(code, agency_credit_code=REAL_CODES[1]).errors
    assert f"belongs to agency {REAL_CODES[0]}, not to the acting agency {REAL_CODES[1]}" in error


def test_actions_are_checked_against_the_region_table_of_their_date() -> None:
    record = sample_inspection("JC-1")  # 330106, action date 2023-12-28
    assert validate(record) == []
    old_district = dataclasses.replace(record, header=dataclasses.replace(record.header, region_code="330103"))
    assert any("330103 was not valid on 2023-12-28" in p for p in validate(old_district))  # 下城区, gone in 2021
    then = dataclasses.replace(old_district, action_date="2020-06-01")
    assert not any("330103" in p for p in validate(then))
    foreign = dataclasses.replace(record, header=dataclasses.replace(record.header, impl_list_code=REAL_CODES[1] + "3"))
    assert any("not to the acting agency" in p for p in validate(foreign))
