"""Cleaning and standardisation: every rule with positive and negative cases, findings, idempotence, round trips."""

# The inputs are full-width and look-alike characters on purpose: they are what the rules clean.
# ruff: noqa: RUF001

from __future__ import annotations

import codecs
import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance import _clean_text
from governance.clean import (
    CHINA_TZ,
    ENUMERATIONS,
    KINDS,
    CleaningError,
    EncodingError,
    Enumeration,
    Finding,
    RowCleaner,
    clean_amount,
    clean_code,
    clean_date,
    clean_datetime,
    clean_enum,
    clean_field,
    clean_name,
    clean_text,
    decode_bytes,
    field_cleaner,
    read_text_file,
    to_fen,
)

OPEN, CLOSE = "\uff08", "\uff09"  # the full-width round brackets names are registered with
TRICKY = (
    "\u200b\u200d\ufeff\u00ad\u00a0\u3000\u2009\t\r\n  ()\ufe59\ufe5a\u30fb\u2022"
    "\uff10\uff19\uff21\uff41\uff08\uff09\uff0c\uff1a\uff5e杭州有限公司aZ09 ·"
)
messy_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(TRICKY)), max_size=40)


def assert_chain(raw: str, clean: str, findings: tuple[Finding, ...], field: str) -> None:
    """Findings chain raw -> clean, one per rule, each an actual change."""
    if not findings:
        assert clean == raw
        return
    assert findings[0].old == raw
    assert findings[-1].new == clean
    for before, after in itertools.pairwise(findings):
        assert before.new == after.old
    assert len({f.rule for f in findings}) == len(findings)
    assert all(f.old != f.new and f.field == field for f in findings)


# --- text, names, codes ------------------------------------------------------------------------------------------

TEXT_CASES = [
    ("检查发现：货架上有过期食品。", "检查发现：货架上有过期食品。", ()),
    ("ＡＢＣ１２３号", "ABC123号", ("width",)),
    ("全角标点保留：（一）", "全角标点保留：（一）", ()),
    ("a\u200bb\ufeff\u00ad", "ab", ("invisible",)),
    ("  两端  空格\u3000\u00a0多 ", "两端 空格 多", ("whitespace",)),
    ("第一行 \r\n  第二行", "第一行\n第二行", ("whitespace",)),
    ("\ufeffＸ\u3000 y", "X y", ("invisible", "width", "whitespace")),
]


@pytest.mark.parametrize(("raw", "expected", "rules"), TEXT_CASES)
def test_clean_text(raw: str, expected: str, rules: tuple[str, ...]) -> None:
    value, findings = clean_text(raw, "facts")
    assert value == expected
    assert tuple(f.rule for f in findings) == rules
    assert_chain(raw, value, findings, "facts")


NAME_CASES = [
    ("阿里巴巴" + OPEN + "中国" + CLOSE + "有限公司", "阿里巴巴（中国）有限公司", ()),
    ("阿里巴巴(中国)有限公司", "阿里巴巴（中国）有限公司", ("name.bracket",)),
    ("某某公司(杭州" + CLOSE, "某某公司（杭州）", ("name.bracket",)),
    ("杭州 某某 科技有限公司", "杭州某某科技有限公司", ("name.cjk_space",)),
    ("某某 (滨江) 分公司", "某某（滨江）分公司", ("name.bracket", "name.cjk_space")),
    ("ABC  Trading\u3000Co.", "ABC Trading Co.", ("whitespace",)),
    ("ABC 科技", "ABC 科技", ()),
    ("约翰・史密斯", "约翰·史密斯", ("name.middle_dot",)),
    ("阿卜杜拉·艾买提", "阿卜杜拉·艾买提", ()),
    ("ＡＢＣ＆Ｄ 贸易", "ABC&D 贸易", ("width",)),
    ("杭州\n某某公司", "杭州某某公司", ("whitespace", "name.cjk_space")),
    ("\u200b杭州某某", "杭州某某", ("invisible",)),
]


@pytest.mark.parametrize(("raw", "expected", "rules"), NAME_CASES)
def test_clean_name(raw: str, expected: str, rules: tuple[str, ...]) -> None:
    value, findings = clean_name(raw, "name")
    assert value == expected
    assert tuple(f.rule for f in findings) == rules
    assert_chain(raw, value, findings, "name")


CODE_CASES = [
    ("91330100716105852F", "91330100716105852F", ()),
    ("９１３３０１００７１６１０５８５２Ｆ", "91330100716105852F", ("width",)),
    (" 3301 0619 9001 0112 3x ", "33010619900101123X", ("whitespace", "code.case")),
    ("\ufeff330106", "330106", ("invisible",)),
]


@pytest.mark.parametrize(("raw", "expected", "rules"), CODE_CASES)
def test_clean_code(raw: str, expected: str, rules: tuple[str, ...]) -> None:
    value, findings = clean_code(raw, "credit_code")
    assert value == expected
    assert tuple(f.rule for f in findings) == rules
    assert_chain(raw, value, findings, "credit_code")


STRING_CLEANERS = [
    (clean_text, _clean_text._TEXT_STEPS),
    (clean_name, _clean_text._NAME_STEPS),
    (clean_code, _clean_text._CODE_STEPS),
]


@pytest.mark.parametrize(("clean", "steps"), STRING_CLEANERS)
@given(raw=messy_text)
def test_string_cleaners_are_idempotent_and_chain(
    clean: Callable[[str, str], tuple[str, tuple[Finding, ...]]],
    steps: tuple[tuple[str, Callable[[str], str]], ...],
    raw: str,
) -> None:
    value, findings = clean(raw, "f")
    assert_chain(raw, value, findings, "f")
    assert clean(value, "f") == (value, ())
    # the fast "anything to do?" scan never skips a change the rules would make
    assert _clean_text._apply(steps, raw, "f") == (value, findings)


# --- dates and instants ------------------------------------------------------------------------------------------

JAN5 = date(2023, 1, 5)
DATE_CASES = [
    ("2023年1月5日", "date.format"),
    ("2023年01月05号", "date.format"),
    ("2023年01月05日 14时30分", "date.format"),
    ("2023/1/5", "date.format"),
    ("2023-1-5", "date.format"),
    ("2023.1.5", "date.format"),
    ("20230105", "date.format"),
    ("２０２３－０１－０５", "date.format"),
    (" 2023-01-05 ", "date.format"),
    ("2023-01-05T14:30:00+08:00", "date.format"),
    ("2023-01-05 14:30:00", "date.format"),
    ("2023-01-05 00:00:00.000", "date.format"),
    ("44931", "date.excel_serial"),
    ("1672900200", "date.unix_time"),
    ("1672900200000", "date.unix_time"),
    ("二〇二三年一月五日", "date.chinese_numerals"),
    ("二零二三年一月五日", "date.chinese_numerals"),
    ("2023-01-04T20:00:00Z", "date.format"),  # 04:00 on the 5th in China
]


@pytest.mark.parametrize(("raw", "rule"), DATE_CASES)
def test_clean_date_forms(raw: str, rule: str) -> None:
    assert clean_date(raw, "action_date") == (JAN5, (Finding(rule, "action_date", raw, "2023-01-05"),))


def test_clean_date_canonical_has_no_finding() -> None:
    assert clean_date("2023-01-05", "d") == (JAN5, ())


def test_chinese_numerals_with_tens() -> None:
    assert clean_date("二零二三年十二月三十一日")[0] == date(2023, 12, 31)
    assert clean_date("二〇二三年十月二十日")[0] == date(2023, 10, 20)


INSTANT = datetime(2023, 1, 5, 14, 30, tzinfo=CHINA_TZ)
DATETIME_CASES = [
    ("2023-01-05T14:30:00+08:00", None),
    ("2023-01-05 14:30:00", "datetime.format"),
    ("2023-01-05 14:30", "datetime.format"),
    ("2023/1/5 14:30:00", "datetime.format"),
    ("2023年01月05日 14时30分", "datetime.format"),
    ("2023年1月5日14点30分00秒", "datetime.format"),
    ("2023-01-05T06:30:00Z", "datetime.format"),
    ("2023-01-05T07:30:00+0100", "datetime.format"),
    ("20230105143000", "datetime.format"),
    ("1672900200", "datetime.unix_time"),
    ("1672900200000", "datetime.unix_time"),
    ("44931.60416666667", "datetime.excel_serial"),
]


@pytest.mark.parametrize(("raw", "rule"), DATETIME_CASES)
def test_clean_datetime_forms(raw: str, rule: str | None) -> None:
    value, findings = clean_datetime(raw, "submitted_at")
    assert value == INSTANT
    assert value.utcoffset() == timedelta(hours=8)
    expected = () if rule is None else (Finding(rule, "submitted_at", raw, "2023-01-05T14:30:00+08:00"),)
    assert findings == expected


def test_datetime_without_time_is_midnight_china_time() -> None:
    value, _ = clean_datetime("2023-01-05")
    assert value == datetime(2023, 1, 5, tzinfo=CHINA_TZ)


BAD_DATES = [
    ("2023-02-30", "impossible date 2023-02-30"),
    ("2023-13-01", "impossible date"),
    ("2023年2月29日", "impossible date"),
    ("1/5/2023", "not a recognised date"),
    ("23-1-5", "not a recognised date"),
    ("2023-1/5", "not a recognised date"),
    ("5 January 2023", "not a recognised date"),
    ("1850-01-01", "outside 1900-2100"),
    ("12345", "Excel serial"),
    ("99999", "Excel serial"),
    ("73416", "Excel serial"),
    ("123456789", "Unix timestamp"),
    ("9999999999999", "Unix timestamp"),
    ("2023-01-05 25:00", "impossible time"),
    ("2023-01-05 nachmittags", "unrecognised time"),
    ("", "empty"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_DATES)
def test_impossible_or_ambiguous_dates_are_errors(raw: str, reason: str) -> None:
    with pytest.raises(CleaningError, match=reason) as caught:
        clean_date(raw, "action_date")
    assert (caught.value.rule, caught.value.field, caught.value.value) == ("date", "action_date", raw)
    with pytest.raises(CleaningError):
        clean_datetime(raw, "action_date")


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_date_round_trips(day: date) -> None:
    assert clean_date(day.isoformat()) == (day, ())
    for text in (
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        day.strftime("%Y%m%d"),
    ):
        value, findings = clean_date(text)
        assert value == day
        assert len(findings) == 1
        assert clean_date(findings[0].new) == (day, ())


@given(
    moment=st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2099, 12, 31)),
    serial_day=st.integers(min_value=20_000, max_value=73_415),
)
def test_instant_round_trips(moment: datetime, serial_day: int) -> None:
    aware = moment.replace(tzinfo=CHINA_TZ)
    assert clean_datetime(aware.isoformat()) == (aware, ())
    value, findings = clean_datetime(moment.isoformat(sep=" "))
    assert value == aware
    assert clean_datetime(findings[0].new) == (aware, ())
    whole = aware.replace(microsecond=0)
    assert clean_datetime(str(int(whole.timestamp())))[0] == whole
    assert clean_date(str(serial_day))[0] == date(1899, 12, 30) + timedelta(days=serial_day)


# --- amounts -----------------------------------------------------------------------------------------------------

AMOUNT_CASES = [
    ("15000", "15000.00", None),
    ("15000.5", "15000.50", None),
    ("1.5万元", "15000.00", "amount.unit"),
    ("1.5万", "15000.00", "amount.unit"),
    ("2亿元", "200000000.00", "amount.unit"),
    ("3千元", "3000.00", "amount.unit"),
    ("1,234,567.89", "1234567.89", "amount.format"),
    ("￥1,234.50", "1234.50", "amount.format"),
    ("¥ 100", "100.00", "amount.format"),
    ("RMB 100元", "100.00", "amount.format"),
    ("rmb100", "100.00", "amount.format"),
    ("人民币500元整", "500.00", "amount.format"),
    ("１２３４．５元", "1234.50", "amount.format"),
    ("12.345元", "12.35", "amount.round"),
    ("0.00001万元", "0.10", "amount.unit"),
    ("0", "0.00", None),
]


@pytest.mark.parametrize(("raw", "expected", "rule"), AMOUNT_CASES)
def test_clean_amount(raw: str, expected: str, rule: str | None) -> None:
    value, findings = clean_amount(raw, "fine")
    assert value == Decimal(expected)
    assert str(value) == expected
    assert findings == (() if rule is None else (Finding(rule, "fine", raw, expected),))
    assert clean_amount(str(value), "fine") == (value, ())


BAD_AMOUNTS = [
    ("-5", "negative"),
    ("−5元", "negative"),
    ("(5)", "negative"),
    ("￥-100", "negative"),
    ("1,5", "not an amount"),
    ("1,23,456", "not an amount"),
    ("1e5", "not an amount"),
    ("abc", "not an amount"),
    ("五百元", "not an amount"),
    ("100美元", "not an amount"),
    ("", "not an amount"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_AMOUNTS)
def test_junk_amounts_are_errors(raw: str, reason: str) -> None:
    with pytest.raises(CleaningError, match=reason) as caught:
        clean_amount(raw, "fine")
    assert caught.value.rule == "amount"


@given(cents=st.integers(min_value=0, max_value=10**14))
def test_amount_round_trips(cents: int) -> None:
    amount = Decimal(cents) / 100
    assert clean_amount(f"{amount:.2f}") == (amount, ())
    assert clean_amount(f"¥{amount:,.2f}")[0] == amount
    assert clean_amount(f"{amount / 10_000}万元")[0] == amount
    assert to_fen(amount) == cents


# --- enumerations ------------------------------------------------------------------------------------------------

ENUM_CASES = [
    ("penalty_kind", "01", "01", False),
    ("penalty_kind", "警告", "01", True),
    ("penalty_kind", " 罚款 ", "02", True),
    ("penalty_kind", "1", "01", True),
    ("penalty_kind", "1.0", "01", True),
    ("penalty_kind", "02 罚款", "02", True),
    ("penalty_kind", "02-罚款", "02", True),
    ("penalty_kind", "吊销营业执照", "05", True),
    ("penalty_kind", "Fine", "02", True),
    ("penalty_kind", "１４", "14", True),
    ("penalty_kind", "责令关闭", "14", True),
    ("inspection_form", "专项检查", "02", True),
    ("inspection_category", "非现场", "2", True),
    ("counterparty_nature", "01", "1", True),
    ("counterparty_nature", "自然人", "1", True),
    ("check_result", "合格", "pass", True),
    ("check_result", "合理缺项", "not_applicable", True),
    ("check_result", "PASS", "pass", True),
    ("credit_grade", "b级", "B", True),
    ("credit_grade", "D", "D", False),
    ("operation", "U", "u", True),
    ("random_pool", "是", "1", True),
]


@pytest.mark.parametrize(("enumeration", "raw", "code", "corrected"), ENUM_CASES)
def test_enumeration_synonyms(enumeration: str, raw: str, code: str, corrected: bool) -> None:
    value, findings = clean_enum(raw, enumeration, "kind")
    assert value == code
    assert findings == ((Finding(f"enum.{enumeration}", "kind", raw, code),) if corrected else ())


@pytest.mark.parametrize(
    ("enumeration", "raw"),
    [
        ("penalty_kind", "罚金"),
        ("penalty_kind", "15"),
        ("penalty_kind", "没收违法所得、没收非法财物"),  # two kinds in the old wording: not guessed
        ("check_result", "良好"),
        ("credit_grade", "E"),
        ("random_pool", "0"),
    ],
)
def test_unknown_enumeration_values_list_the_valid_ones(enumeration: str, raw: str) -> None:
    with pytest.raises(CleaningError) as caught:
        clean_enum(raw, enumeration, "kind")
    assert caught.value.rule == f"enum.{enumeration}"
    assert ENUMERATIONS[enumeration].describe() in caught.value.reason


def test_penalty_kind_codes_are_those_of_the_standard() -> None:
    labels = ENUMERATIONS["penalty_kind"].labels
    assert list(labels) == [f"{n:02d}" for n in range(1, 15)]
    assert (labels["01"], labels["02"], labels["14"]) == ("警告", "罚款", "责令关闭")


@pytest.mark.parametrize("table", ENUMERATIONS.values(), ids=lambda t: t.name)
def test_every_code_and_name_maps_to_itself(table: Enumeration) -> None:
    for code, label in table.labels.items():
        assert table.code_for(code) == (code, ())
        assert table.code_for(label)[0] == code


def test_enumeration_tables_refuse_contradictions() -> None:
    with pytest.raises(ValueError, match="unknown code"):
        Enumeration("t", "test", {"1": "是"}, {"yes": "3"})
    with pytest.raises(ValueError, match="would map to"):
        Enumeration("t", "test", {"1": "是", "2": "否"}, {"否": "1"})


# --- dispatcher and rows -----------------------------------------------------------------------------------------


def test_every_kind_resolves_and_unknown_kinds_fail() -> None:
    assert all(callable(field_cleaner(kind)) for kind in KINDS)
    for kind in ("enum:nope", "money", "enum:"):
        with pytest.raises(ValueError, match="unknown field kind"):
            field_cleaner(kind)


@pytest.mark.parametrize("kind", ["date", "datetime", "amount", "enum:penalty_kind"])
def test_typed_kinds_take_empty_as_none(kind: str) -> None:
    assert clean_field(kind, "", "f") == (None, ())
    assert clean_field(kind, " \u3000\u200b", "f") == (None, (Finding("whitespace", "f", " \u3000\u200b", ""),))


def test_row_cleaner_collects_findings_and_errors() -> None:
    cleaner = RowCleaner(
        {"name": "name", "fine": "amount", "kind": "enum:penalty_kind", "filed": "date", "decided": "date"}
    )
    row = {"name": "某某(杭州)公司", "fine": "1.5万元", "kind": "罚款", "filed": "2023-02-30", "decided": "2023-03-01"}
    result = cleaner.clean({**row, "extra": " kept "})
    assert not result.ok
    assert [(e.field, e.rule) for e in result.errors] == [("filed", "date")]
    assert [(f.field, f.rule) for f in result.findings] == [
        ("name", "name.bracket"),
        ("fine", "amount.unit"),
        ("kind", "enum.penalty_kind"),
    ]
    assert result.values["fine"] == Decimal("15000.00")
    assert result.values["decided"] == date(2023, 3, 1)
    assert result.values["extra"] == " kept "
    again = cleaner.clean({k: str(v) for k, v in result.values.items() if k != "filed"})
    assert again.ok
    assert again.findings == ()


def test_row_cleaner_refuses_unknown_kinds_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown field kind"):
        RowCleaner({"x": "enum:colour"})


# --- file encodings ----------------------------------------------------------------------------------------------

CSV_TEXT = "名称,罚款\n杭州某某（滨江）有限公司,1.5万元\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV_TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + CSV_TEXT.encode("utf-8"), "utf-8-sig"),
        (CSV_TEXT.encode("gbk"), "gb18030"),
        (CSV_TEXT.encode("gb18030") + "𠀀".encode("gb18030"), "gb18030"),
        (CSV_TEXT.encode("utf-16"), "utf-16"),
    ],
)
def test_files_decode_in_every_supported_encoding(data: bytes, encoding: str) -> None:
    decoded = decode_bytes(data)
    assert decoded.encoding == encoding
    assert decoded.text.startswith(CSV_TEXT)
    assert not decoded.text.startswith("\ufeff")


def test_undecodable_bytes_name_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name\n\xff\xfe\xfd abc")
    with pytest.raises(EncodingError, match=r"bad\.csv: not UTF-8 \(invalid byte at offset 5\)") as caught:
        read_text_file(path)
    assert caught.value.gb_offset == 5


def test_gbk_file_reads_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(CSV_TEXT.encode("gbk"))
    assert read_text_file(path).text == CSV_TEXT
