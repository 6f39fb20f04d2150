"""What the sample generators share: the data period, places, agencies, matters and quick picks.

Private to ``adapters``: :mod:`adapters.sample_data` is the public surface.
Matter codes are illustrative 14-digit codes (the national catalog is not public).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, TypeVar

from governance._records import Inspection, Inspector
from governance.codes import region_name, region_parent

__all__ = [
    "AGENCIES",
    "BRACKETS",
    "DATA_END",
    "DATA_START",
    "DAYS",
    "DAY_US",
    "HOUR_US",
    "INSPECTION_METHODS",
    "MATTERS",
    "MATTER_BY_CODE",
    "Agency",
    "GeneratorState",
    "MatterSpec",
    "Place",
    "after",
    "failed_first",
    "make_place",
    "person_name",
    "pick",
    "utc_midnight_us",
]

_T = TypeVar("_T")

DATA_START: Final = date(2022, 1, 1)
"""First day of generated actions and complaints."""
DATA_END: Final = date(2024, 12, 31)
"""Last day of generated actions and complaints."""

DAYS: Final = tuple(DATA_START + timedelta(days=d) for d in range((DATA_END - DATA_START).days + 1))
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
DAY_US: Final = 86_400_000_000
HOUR_US: Final = 3_600_000_000
BRACKETS: Final = ("\u3014", "\u3015")  # the tortoise-shell brackets of document numbers
INSPECTION_METHODS: Final = ("实地核查", "书面检查", "抽样检测", "网络监测")

_SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程沈钟姚方金陆汪范"
)
_GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华建国文辉玲斌宇浩凯晨婷欣佳俊鹏琳思雨涵博晓燕红海林"


@dataclass(frozen=True, slots=True)
class MatterSpec:
    """An inspection matter and the penalty matter that follows a failed inspection."""

    code: str
    name: str
    agency: int  # index into AGENCIES
    items: tuple[str, ...]
    penalty_code: str
    penalty_name: str
    legal_basis: str


# (department, decision-number word) of the three county agencies
AGENCIES: Final = (("市场监督管理局", "市监罚"), ("卫生健康局", "卫监罚"), ("应急管理局", "应急罚"))
_FOOD_ITEMS: Final = ("证照公示情况", "从业人员健康管理", "原料进货查验记录", "食品贮存条件", "餐饮具清洗消毒")
MATTERS: Final = (
    MatterSpec("33010100000001", "对食品经营者的监督检查", 0, _FOOD_ITEMS, "33010200000001",
               "对餐饮具未按规定清洗消毒的行政处罚", "《中华人民共和国食品安全法》第一百二十六条"),
    MatterSpec("33010100000002", "对产品质量的监督检查", 0, ("产品标识标注", "出厂检验记录", "不合格品处置"),
               "33010200000002", "对销售不合格产品的行政处罚", "《中华人民共和国产品质量法》第四十九条"),
    MatterSpec("33010100000003", "对企业公示信息的抽查", 0, ("年度报告公示信息", "登记住所", "股东及出资信息"),
               "33010200000003", "对公示信息隐瞒真实情况的行政处罚", "《企业信息公示暂行条例》"),
    MatterSpec("33010100000004", "对价格行为的监督检查", 0, ("明码标价", "收费公示", "价格欺诈行为"),
               "33010200000004", "对不按规定明码标价的行政处罚", "《中华人民共和国价格法》第四十二条"),
    MatterSpec("33010100000005", "对计量器具的监督检查", 0, ("强制检定", "计量器具准确度", "定量包装净含量"),
               "33010200000005", "对使用未经检定计量器具的行政处罚", "《中华人民共和国计量法》"),
    MatterSpec("33020100000001", "对公共场所卫生的监督检查", 1, ("卫生许可证", "从业人员健康证明", "公共用品消毒"),
               "33020200000001", "对公共场所卫生不合格的行政处罚", "《公共场所卫生管理条例》"),
    MatterSpec("33030100000001", "对生产经营单位安全生产的监督检查", 2,
               ("安全生产责任制", "隐患排查治理", "安全培训记录", "应急预案演练"),
               "33030200000001", "对未按规定开展安全培训的行政处罚", "《中华人民共和国安全生产法》"),
)  # fmt: skip
MATTER_BY_CODE: Final = {matter.code: matter for matter in MATTERS}


@dataclass(frozen=True, slots=True)
class Place:
    """A county of the node's subtree with everything names and numbers need."""

    code: str
    name: str
    city: str
    city_short: str
    province: str
    abbreviation: str  # e.g. 杭西 for 杭州市西湖区, used in decision numbers


@dataclass(frozen=True, slots=True)
class Agency:
    """A county enforcement agency (an organ: credit code department 1, category 1)."""

    name: str
    credit_code: str


def utc_midnight_us(day: date) -> int:
    """00:00 UTC of ``day`` in microseconds since the epoch."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_US


def after(rng: random.Random, day: date) -> int:
    """An instant from 08:00 (UTC+8) the day after ``day`` to three days later."""
    return utc_midnight_us(day) + DAY_US + rng.randrange(3 * DAY_US)


def pick(rng: random.Random, options: Sequence[_T]) -> _T:
    """``rng.choice`` without its per-call overhead: the hot paths make millions of picks."""
    return options[int(rng.random() * len(options))]


def person_name(rng: random.Random) -> str:
    """A Chinese personal name: a surname and one or two given characters."""
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def make_place(code: str) -> Place:
    """The :class:`Place` of a county code."""
    city_code = region_parent(code) or code
    city = region_name(city_code) or ""
    city_short = city.removesuffix("市")
    county = region_name(code) or ""
    city_abbr = "甬" if city_code == "330200" else city_short[:1]
    province = region_name(code[:2] + "0000") or ""
    return Place(code, county, city, city_short, province, city_abbr + county[:1])


def failed_first(inspections: Sequence[Inspection]) -> list[Inspection]:
    """The inspections that found a problem, or all of them when none did."""
    return [i for i in inspections if i.result != "合格"] or list(inspections)


class GeneratorState:
    """What every part of :class:`adapters.sample_data.SampleGenerator` reads; set once by its constructor."""

    _seed: int
    _region: str
    _places: dict[str, Place]
    _counties: tuple[str, ...]
    _agencies: dict[str, tuple[Agency, ...]]
    _matter_rows: dict[str, tuple[tuple[MatterSpec, Agency, str], ...]]  # (matter, agency, impl-list code)
    _inspectors: dict[str, tuple[Inspector, ...]]

    def _rng(self, stream: str) -> random.Random:
        """The random stream of one generator method, seeded from (seed, region, stream)."""
        return random.Random(f"{self._seed}:{self._region}:{stream}")

    def _county_of(self, rng: random.Random, region_code: str) -> str:
        """``region_code`` when it is a county of the node, else one drawn from them."""
        return region_code if region_code in self._places else rng.choice(self._counties)
