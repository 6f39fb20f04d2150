# ruff: noqa: RUF001, SIM905 - full-width and CJK characters are the data here; word lists read best as one string
"""Normalisation of Chinese enterprise names, addresses and dates for entity resolution.

:func:`parse_enterprise_name` splits a name into its core (the distinctive part
that identifies the enterprise: ``杭州西湖某某科技有限公司`` -> ``某某科技``), the
legal form, region words and a branch name. Both comparison and blocking use
these forms. Region words come from a built-in list of provinces and large
cities plus the project's GB/T 2260 table (:mod:`governance._regions`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final

from governance._regions import REGIONS

__all__ = [
    "EnterpriseName",
    "has_cjk",
    "normalise_address",
    "normalise_name",
    "normalise_text",
    "parse_date",
    "parse_enterprise_name",
    "to_half_width",
]

_PROVINCES: Final = (
    "北京市 天津市 河北省 山西省 内蒙古自治区 辽宁省 吉林省 黑龙江省 上海市 江苏省 浙江省 "
    "安徽省 福建省 江西省 山东省 河南省 湖北省 湖南省 广东省 广西壮族自治区 海南省 重庆市 "
    "四川省 贵州省 云南省 西藏自治区 陕西省 甘肃省 青海省 宁夏回族自治区 新疆维吾尔自治区 "
    "台湾省 香港特别行政区 澳门特别行政区"
).split()
_CITIES: Final = (
    "嘉兴市 湖州市 绍兴市 金华市 衢州市 舟山市 台州市 丽水市 义乌市 南京市 苏州市 无锡市 "
    "常州市 广州市 深圳市 成都市 武汉市 长沙市 郑州市 济南市 青岛市 合肥市 福州市 厦门市 "
    "南昌市 西安市 沈阳市 大连市 长春市 哈尔滨市 石家庄市 太原市 呼和浩特市 南宁市 海口市 "
    "贵阳市 昆明市 拉萨市 兰州市 西宁市 银川市 乌鲁木齐市"
).split()
_REGION_SUFFIXES: Final = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区",
    "新区", "省", "市", "区", "县", "盟", "旗", "州",
)  # fmt: skip


def _short_form(name: str) -> str | None:
    for suffix in _REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def _region_levels() -> dict[str, int]:
    """Region words and their level (1 province, 2 prefecture, 3 county), the highest level a word can have.

    Full names and short forms of provinces and prefectures (浙江, 杭州) may start a name;
    short forms of counties (西湖) only follow a higher-level word (杭州西湖).
    """
    levels: dict[str, int] = {}

    def add(word: str, level: int) -> None:
        levels[word] = min(levels.get(word, level), level)

    named = [(name, 1) for name in _PROVINCES] + [(name, 2) for name in _CITIES]
    named += [(e.name, 1 if e.code.endswith("0000") else 2 if e.code.endswith("00") else 3) for e in REGIONS]
    for name, level in named:
        add(name, level)
        if short := _short_form(name):
            add(short, level)
    return levels


_REGION_LEVEL: Final = _region_levels()
_COUNTY_SHORT: Final = frozenset(
    short for e in REGIONS if not e.code.endswith("00") and (short := _short_form(e.name)) and short != e.name
)
_LONGEST_REGION: Final = max(map(len, _REGION_LEVEL))


# longest first, so 股份有限公司 is taken whole rather than as 有限公司
_LEGAL_FORMS: Final = (
    "集团股份有限公司",
    "集团有限责任公司",
    "农民专业合作社",
    "股份有限公司",
    "有限责任公司",
    "股份合作公司",
    "个人独资企业",
    "集团有限公司",
    "个体工商户",
    "专业合作社",
    "有限公司",
    "股份公司",
    "集团公司",
    "有限合伙",
    "普通合伙",
    "合伙企业",
    "总公司",
    "合作社",
    "公司",
    "集团",
)
_BRANCH = re.compile(
    r"^(?P<head>.+?(?:有限责任公司|股份有限公司|有限公司|公司|厂|店))"
    r"(?P<branch>.+?(?:分公司|分店|分厂|营业部|办事处|门市部|经营部|分部))$"
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_BRACKETED = re.compile(r"\(([^()]*)\)")
_NOT_WORD = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "{": "(", "}": ")"})


def to_half_width(text: str) -> str:
    """NFKC (full-width letters, digits, brackets and spaces to half width), minus invisible characters."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK ideograph."""
    return _CJK.search(text) is not None


def normalise_text(text: str) -> str:
    """Half width, lower case, punctuation dropped, whitespace collapsed (for free text and Latin names)."""
    text = to_half_width(text).lower()
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


@dataclass(frozen=True, slots=True)
class EnterpriseName:
    """A normalised enterprise name.

    Attributes:
        full: half width, lower case, without whitespace, brackets or punctuation.
        core: ``full`` without legal form, region words, bracketed parts and branch.
        legal_form: the legal-form suffix removed (``有限公司``), or ``""``.
        branch: the branch part removed (``西湖分公司``, or a bracketed non-region part), or ``""``.
        regions: region words removed, in order of appearance.
    """

    full: str
    core: str
    legal_form: str = ""
    branch: str = ""
    regions: tuple[str, ...] = ()


def parse_enterprise_name(text: str) -> EnterpriseName:
    """Split a (Chinese) enterprise name into core, legal form, regions and branch.

    Names without CJK characters are only normalised with :func:`normalise_text`.
    """
    if not has_cjk(text):
        plain = normalise_text(text)
        return EnterpriseName(full=plain, core=plain)
    name = _SPACES.sub("", to_half_width(text).lower().translate(_BRACKETS))
    regions: list[str] = []
    branches: list[str] = []
    for inner in _BRACKETED.findall(name):
        inner_word = _NOT_WORD.sub("", inner)
        (regions if _strip_regions(inner_word, [], keep=0) == "" else branches).append(inner_word)
    full = _NOT_WORD.sub("", name)
    name = _NOT_WORD.sub("", _BRACKETED.sub("", name))
    if found := _BRANCH.match(name):
        name = found["head"]
        branches.insert(0, found["branch"])
    legal = ""
    for form in _LEGAL_FORMS:
        if name.endswith(form) and len(name) > len(form):
            name, legal = name[: -len(form)], form
            break
    core = _strip_regions(name, regions, keep=2)
    core = _strip_trailing_regions(core, regions)
    return EnterpriseName(
        full=full, core=core or name, legal_form=legal, branch="".join(branches), regions=tuple(regions)
    )


def normalise_name(text: str) -> str:
    """The core of an enterprise name (see :func:`parse_enterprise_name`)."""
    return parse_enterprise_name(text).core


def _leading_region(text: str, above: int) -> str:
    """The longest region word starting ``text`` below level ``above`` (a county short form only when above > 0)."""
    for size in range(min(_LONGEST_REGION, len(text)), 1, -1):
        word = text[:size]
        level = _REGION_LEVEL.get(word, 0)
        if level > above and (above > 0 or word not in _COUNTY_SHORT or level < 3):
            return word
    return ""


def _strip_regions(text: str, found: list[str], *, keep: int) -> str:
    """Remove leading region words, each below the one before (省, 市, 区), while ``keep`` characters remain."""
    above = 0
    while (word := _leading_region(text, above)) and len(text) - len(word) >= keep:
        found.append(word)
        text = text[len(word) :]
        above = _REGION_LEVEL[word]
    return text


def _strip_trailing_regions(text: str, found: list[str]) -> str:
    for size in range(min(_LONGEST_REGION, len(text) - 2), 1, -1):
        word = text[-size:]
        if word in _REGION_LEVEL and (word not in _COUNTY_SHORT or _REGION_LEVEL[word] < 3):
            found.append(word)
            return text[:-size]
    return text


_CN_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER_BEFORE_UNIT = re.compile(r"第?([零〇一二两三四五六七八九十百千]+)(?=[号弄室栋幢楼层单元组村])")
_ADDRESS_UNITS = str.maketrans({"幢": "栋", "#": "号"})


def _chinese_to_int(numeral: str) -> int:
    """``十二`` -> 12, ``一百零五`` -> 105, ``二〇一`` -> 201 (digit by digit when there are no units)."""
    if not any(ch in _CN_UNITS for ch in numeral):
        return int("".join(str(_CN_DIGITS[ch]) for ch in numeral))
    total, digit = 0, 0
    for ch in numeral:
        if ch in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        else:
            digit = _CN_DIGITS[ch]
    return total + digit


def normalise_address(text: str) -> str:
    """Half width, lower case, region prefixes removed, Chinese house numbers as digits (``十二号`` -> ``12号``).

    Addresses without CJK characters get :func:`normalise_text`.
    """
    if not has_cjk(text):
        return normalise_text(text)
    address = _SPACES.sub("", to_half_width(text).lower()).translate(_ADDRESS_UNITS)
    address = _strip_regions(address, [], keep=2)
    address = _CN_NUMBER_BEFORE_UNIT.sub(lambda found: str(_chinese_to_int(found[1])), address)
    address = re.sub(r"第(?=\d)", "", address)
    return re.sub(r"[^\w\-]+", "", address)


_DATE_FORMS: Final = (
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ t].*)?$"),
)


def parse_date(text: str) -> date | None:
    """``2023-01-05``, ``2023/1/5``, ``20230105``, ``2023年1月5日`` (a time part is ignored); None if invalid."""
    value = to_half_width(text).strip().lower()
    for form in _DATE_FORMS:
        if found := form.match(value):
            try:
                return date(int(found[1]), int(found[2]), int(found[3]))
            except ValueError:
                return None
    return None
