"""Deterministic sample data for the demo, tests and benchmarks.

:class:`SampleGenerator` makes regulated objects, inspections, penalties and
complaints for one node region. Every method draws from its own random stream,
seeded from ``(seed, region, method)``: the same seed, region and call give the
same records whatever else was called before, and ``inspections(n)`` is a
prefix of ``inspections(n + k)``. The n-th record of a stream keeps its uid.

All codes are valid (credit codes, ID numbers, region codes valid in
2022-2024, industry codes from the shipped table). Matter codes are
illustrative 14-digit codes: the national catalog is not public.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, TypeVar

from governance._records import (
    ActionHeader,
    CheckItem,
    Complaint,
    Counterparty,
    Inspection,
    Inspector,
    Penalty,
    RegulatedObject,
)
from governance.codes import (
    USCC_ALPHABET,
    USCC_CATEGORIES,
    check_region_code,
    counties_within,
    make_id_number,
    make_uscc,
    region_level,
    region_name,
    region_parent,
)

__all__ = ["DATA_END", "DATA_START", "SampleGenerator"]

_T = TypeVar("_T")

DATA_START: Final = date(2022, 1, 1)
"""First day of generated actions and complaints."""
DATA_END: Final = date(2024, 12, 31)
"""Last day of generated actions and complaints."""

_DAYS: Final = tuple(DATA_START + timedelta(days=d) for d in range((DATA_END - DATA_START).days + 1))
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_DAY_US: Final = 86_400_000_000
_HOUR_US: Final = 3_600_000_000
_DEFAULT_POOL: Final = 500
_BRACKETS: Final = ("\u3014", "\u3015")  # the tortoise-shell brackets of document numbers
_INDIVIDUAL: Final = "\uff08个体工商户\uff09"  # in full-width brackets, as in real names

_PAIRS: Final = tuple(d + c for d in sorted(USCC_CATEGORIES) for c in sorted(USCC_CATEGORIES[d]))
_WORDS: Final = (
    "恒达", "华信", "博远", "瑞丰", "新宇", "天成", "金桥", "汇通", "鼎盛", "明德",
    "正和", "嘉禾", "永信", "东方", "兴业", "睿智", "云帆", "青山", "绿源", "海纳",
    "宏图", "安泰", "锦程", "立德", "星河", "万象", "和光", "祥瑞", "同创", "致远",
    "春晖", "秋实", "德润", "启航", "远景", "禾丰", "润泽", "长青", "凯旋", "九州",
)  # fmt: skip
_SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程沈钟姚方金陆汪范"
)
_GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华建国文辉玲斌宇浩凯晨婷欣佳俊鹏琳思雨涵博晓燕红海林"
_STREETS: Final = (
    "文一路", "文三路", "学院路", "中山路", "解放路", "人民路", "建设路",
    "江南大道", "环城北路", "天目山路", "体育场路", "新华路", "工业园路", "科技大道",
)  # fmt: skip

# Enterprises (9-1): trade words by GB/T 4754 section, legal-form suffixes.
_TRADES: Final = {
    "A": ("农业开发", "生态农业"),
    "C": ("实业", "制造", "科技"),
    "E": ("建设工程", "建筑装饰"),
    "F": ("商贸", "贸易", "商业连锁"),
    "G": ("物流", "运输"),
    "H": ("餐饮管理", "酒店管理"),
    "I": ("网络科技", "信息技术"),
    "K": ("房地产开发", "物业管理"),
    "L": ("企业管理咨询", "广告"),
    "M": ("检测技术", "工程设计"),
    "O": ("家政服务", "汽车服务"),
    "P": ("教育科技",),
    "Q": ("健康管理",),
    "R": ("文化传媒", "体育发展"),
}
_ENTERPRISE_INDUSTRIES: Final = (
    "A0141", "A0164", "C1411", "C1514", "C1530", "C1819", "C2110", "C2682", "C2740", "C3311", "C3670",
    "C3841", "C3854", "C3973", "E4710", "E5012", "F5121", "F5212", "F5213", "F5265", "F5292", "G5431",
    "G6020", "H6110", "H6210", "H6220", "I6432", "I6513", "I6531", "K7010", "K7020", "L7241", "L7251",
    "M7452", "M7484", "O8010", "O8111", "P8391", "Q8425", "R8760", "R8930", "R9011",
)  # fmt: skip
_SUFFIXES: Final = ("有限公司", "有限公司", "有限责任公司", "股份有限公司")
# Individual businesses (9-2) and farmers' cooperatives (9-3): (industry, shop or product word).
_SHOPS: Final = (
    ("F5213", "便利店"),
    ("F5221", "粮油店"),
    ("F5251", "药店"),
    ("H6220", "快餐店"),
    ("H6291", "小吃店"),
    ("H6231", "茶馆"),
    ("O8040", "美发店"),
    ("O8052", "足浴店"),
    ("O8111", "汽车修理部"),
    ("R9013", "网吧"),
)
_COOPS: Final = (
    ("A0111", "粮食"),
    ("A0141", "蔬菜"),
    ("A0151", "水果"),
    ("A0164", "茶叶"),
    ("A0313", "生猪"),
    ("A0321", "家禽"),
    ("A0412", "水产"),
)
# Other organisations: pair -> ((name template, industry), ...). {c} city, {s} city short, {q} county.
_ORGS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "11": (("{c}{q}教育局", "S9224"), ("{c}{q}发展和改革局", "S9221"), ("{c}{q}综合行政执法局", "S9226")),
    "12": (("{c}{q}疾病预防控制中心", "Q8431"), ("{c}{q}中医院", "Q8412"), ("{c}{q}图书馆", "R8831")),
    "13": (("{c}{q}妇女联合会", "S9512"), ("共青团{c}{q}委员会", "S9513"), ("{c}{q}科学技术协会", "S9519")),
    "19": (("{c}{q}{w}服务中心", "S9224"),),
    "21": (("路透社{s}记者站", "R8610"), ("共同社{s}记者站", "R8610")),
    "29": (("{w}新闻{s}联络处", "R8610"),),
    "31": (("浙江{w}律师事务所", "L7231"),),
    "32": (("{c}{q}公证处", "L7232"),),
    "33": (("{c}{q}{w}法律服务所", "L7239"),),
    "34": (("浙江{w}司法鉴定所", "L7239"),),
    "35": (("{s}仲裁委员会", "L7239"),),
    "39": (("{c}{q}{w}人民调解委员会", "L7239"),),
    "41": (("{s}{w}国际文化中心", "R8890"),),
    "49": (("{c}{q}{w}文化交流中心", "R8890"),),
    "51": (("{s}{w}行业协会", "S9522"), ("{c}{q}{w}商会", "S9522")),
    "52": (("{c}{q}{w}培训学校", "P8393"), ("{c}{q}{w}养老服务中心", "Q8514"), ("{c}{q}{w}幼儿园", "P8310")),
    "53": (("浙江{w}公益基金会", "S9530"),),
    "59": (("{c}{q}{w}社会工作服务中心", "Q8521"),),
    "61": (("新加坡旅游局{s}代表处", "L7291"), ("泰国国家旅游局{s}代表处", "L7291")),
    "62": (("香港旅游发展局{s}办事处", "L7291"),),
    "69": (("{c}{q}{w}旅游服务中心", "L7291"),),
    "71": (("{s}{w}寺", "S9542"), ("{c}{q}{w}堂", "S9542")),
    "72": (("浙江{w}佛学院", "S9541"),),
    "79": (("{c}{q}{w}宗教事务服务站", "S9541"),),
    "81": (("{s}{w}有限公司工会委员会", "S9511"),),
    "89": (("{c}{q}{w}工会联合会", "S9511"),),
    "A1": (("{s}{w}军队离退休干部休养所", "Q8511"),),
    "A9": (("{s}{w}军供服务站", "S9299"),),
    "N1": (("{c}{q}{w}村第一股份经济合作社", "L7215"),),
    "N2": (("{c}{q}{w}村股份经济合作社", "L7215"),),
    "N3": (("{c}{q}{w}镇经济联合社", "L7215"),),
    "N9": (("{c}{q}{w}农村集体资产服务中心", "L7215"),),
    "Y1": (("{c}{q}{w}便民服务站", "O8090"),),
}


@dataclass(frozen=True, slots=True)
class _Matter:
    """An inspection matter and the penalty matter that follows a failed inspection."""

    code: str
    name: str
    agency: int  # index into _AGENCIES
    items: tuple[str, ...]
    penalty_code: str
    penalty_name: str
    legal_basis: str


_AGENCIES: Final = (("市场监督管理局", "市监罚"), ("卫生健康局", "卫监罚"), ("应急管理局", "应急罚"))
_FOOD_ITEMS: Final = ("证照公示情况", "从业人员健康管理", "原料进货查验记录", "食品贮存条件", "餐饮具清洗消毒")
_MATTERS: Final = (
    _Matter("33010100000001", "对食品经营者的监督检查", 0, _FOOD_ITEMS, "33010200000001",
            "对餐饮具未按规定清洗消毒的行政处罚", "《中华人民共和国食品安全法》第一百二十六条"),
    _Matter("33010100000002", "对产品质量的监督检查", 0, ("产品标识标注", "出厂检验记录", "不合格品处置"),
            "33010200000002", "对销售不合格产品的行政处罚", "《中华人民共和国产品质量法》第四十九条"),
    _Matter("33010100000003", "对企业公示信息的抽查", 0, ("年度报告公示信息", "登记住所", "股东及出资信息"),
            "33010200000003", "对公示信息隐瞒真实情况的行政处罚", "《企业信息公示暂行条例》"),
    _Matter("33010100000004", "对价格行为的监督检查", 0, ("明码标价", "收费公示", "价格欺诈行为"),
            "33010200000004", "对不按规定明码标价的行政处罚", "《中华人民共和国价格法》第四十二条"),
    _Matter("33010100000005", "对计量器具的监督检查", 0, ("强制检定", "计量器具准确度", "定量包装净含量"),
            "33010200000005", "对使用未经检定计量器具的行政处罚", "《中华人民共和国计量法》"),
    _Matter("33020100000001", "对公共场所卫生的监督检查", 1, ("卫生许可证", "从业人员健康证明", "公共用品消毒"),
            "33020200000001", "对公共场所卫生不合格的行政处罚", "《公共场所卫生管理条例》"),
    _Matter("33030100000001", "对生产经营单位安全生产的监督检查", 2,
            ("安全生产责任制", "隐患排查治理", "安全培训记录", "应急预案演练"),
            "33030200000001", "对未按规定开展安全培训的行政处罚", "《中华人民共和国安全生产法》"),
)  # fmt: skip
_RESULTS: Final = ("pass",) * 16 + ("fail",) * 2 + ("not_inspected", "not_applicable")
# Check items: per item, CheckItems in the proportions of _RESULTS; per matter, the item sets
# an inspection may cover (1-4 consecutive items, wrapping round).
_CHECK_ITEMS: Final = {item: tuple(CheckItem(item, r) for r in _RESULTS) for m in _MATTERS for item in m.items}
_ITEM_SETS: Final = {
    m.code: tuple(
        tuple(m.items[(start + j) % len(m.items)] for j in range(size))
        for start in range(len(m.items))
        for size in range(1, min(4, len(m.items)) + 1)
    )
    for m in _MATTERS
}
_METHODS: Final = ("实地核查", "书面检查", "抽样检测", "网络监测")
_COMPLAINT_TYPES: Final = ("食品安全", "产品质量", "价格收费", "虚假宣传", "合同纠纷", "计量问题", "服务质量")
_SERVICES: Final = (("商品", "预包装食品"), ("商品", "家用电器"), ("服务", "餐饮服务"), ("服务", "美容美发服务"))
_HANDLING: Final = ("received", "accepted", "accepted", "handled", "closed", "closed")


@dataclass(frozen=True, slots=True)
class _Place:
    """A county of the node's subtree with everything names and numbers need."""

    code: str
    name: str
    city: str
    city_short: str
    province: str
    abbreviation: str  # e.g. 杭西 for 杭州市西湖区, used in decision numbers


@dataclass(frozen=True, slots=True)
class _Agency:
    """A county enforcement agency (an organ: credit code department 1, category 1)."""

    name: str
    credit_code: str


def _utc_midnight_us(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_US


def _after(rng: random.Random, day: date) -> int:
    """An instant from 08:00 (UTC+8) the day after ``day`` to three days later."""
    return _utc_midnight_us(day) + _DAY_US + rng.randrange(3 * _DAY_US)


def _pick(rng: random.Random, options: Sequence[_T]) -> _T:
    """``rng.choice`` without its per-call overhead: the hot paths make millions of picks."""
    return options[int(rng.random() * len(options))]


# Per day of the data period: ISO date, year, YYYYMM, and 08:00 UTC+8 of the next day in µs.
_DAY_ROWS: Final = tuple(
    (day.isoformat(), day.year, f"{day.year}{day.month:02d}", _utc_midnight_us(day) + _DAY_US) for day in _DAYS
)


def _person_name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _place(code: str) -> _Place:
    city_code = region_parent(code) or code
    city = region_name(city_code) or ""
    city_short = city.removesuffix("市")
    county = region_name(code) or ""
    city_abbr = "甬" if city_code == "330200" else city_short[:1]
    province = region_name(code[:2] + "0000") or ""
    return _Place(code, county, city, city_short, province, city_abbr + county[:1])


class SampleGenerator:
    """Deterministic sample records for one node region.

    Args:
        seed: Any integer; different seeds give different data.
        region: GB/T 2260 code of the node (province, city or county). Every
            generated region code lies inside its subtree.

    Raises:
        ValueError: The region is unknown or not in force in 2022-2024.
    """

    def __init__(self, seed: int, region: str) -> None:
        problems = [*check_region_code(region, DATA_START).errors, *check_region_code(region, DATA_END).errors]
        if problems:
            raise ValueError(f"cannot generate data for region {region!r}: {problems[0]}")
        counties = [region] if region_level(region) == "county" else counties_within(region, DATA_START)
        if not counties:
            raise ValueError(f"no known county-level codes inside region {region}")
        self._seed = seed
        self._region = region
        self._places = {code: _place(code) for code in counties}
        self._counties = tuple(counties)
        self._agencies = {code: self._county_agencies(code) for code in counties}
        self._matter_rows = {
            county: tuple((m, agencies[m.agency], f"{agencies[m.agency].credit_code}4{m.code[-6:]}") for m in _MATTERS)
            for county, agencies in self._agencies.items()
        }
        self._inspectors = self._inspector_pool()

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"{self._seed}:{self._region}:{stream}")

    def _county_agencies(self, county: str) -> tuple[_Agency, ...]:
        place = self._places[county]
        return tuple(
            # organisation bodies starting with 0 never collide with generated objects' codes
            _Agency(f"{place.city}{place.name}{name}", make_uscc("1", "1", county, f"0{county[2:]}{kind:02d}0"))
            for kind, (name, _) in enumerate(_AGENCIES)
        )

    def _inspector_pool(self) -> dict[str, tuple[Inspector, ...]]:
        """About 50 inspectors for the region, at least three per county."""
        rng = self._rng("inspectors")
        per_county = max(3, -(-50 // len(self._counties)))
        pool: dict[str, tuple[Inspector, ...]] = {}
        for county in self._counties:
            years = sorted(rng.randrange(2008, 2022) for _ in range(per_county))
            pool[county] = tuple(
                Inspector(_person_name(rng), f"{county}{year}{serial:04d}")
                for serial, year in enumerate(years, start=1)
            )
        return pool

    # --- regulated objects ------------------------------------------------------------

    def enterprises(self, count: int) -> list[RegulatedObject]:
        """Regulated objects with valid, unique credit codes.

        Every eighth object cycles through all department/category pairs, so a
        few hundred objects cover them all; the rest are mostly enterprises and
        individual businesses.
        """
        rng = self._rng("enterprises")
        used: set[str] = set()
        return [self._enterprise(rng, index, used) for index in range(count)]

    def _enterprise(self, rng: random.Random, index: int, used: set[str]) -> RegulatedObject:
        pair = self._pair(rng, index)
        place = self._places[rng.choice(self._counties)]
        established = date(1995, 1, 1) + timedelta(days=rng.randrange(10_592))  # up to 2023-12-31
        name, industry = self._name_and_industry(rng, pair, place)
        code = self._credit_code(rng, pair, place.code, established, used)
        kind = {"91": "enterprise", "92": "individual_business"}.get(pair, "organisation")
        address = f"{place.province}{place.city}{place.name}{rng.choice(_STREETS)}{rng.randrange(1, 999)}号"
        return RegulatedObject(
            credit_code=code,
            name=name,
            object_type=kind,
            region_code=place.code,
            industry_code=industry,
            legal_representative=_person_name(rng),
            established_on=established.isoformat(),
            registered_address=address,
            operating_address=address,
        )

    @staticmethod
    def _pair(rng: random.Random, index: int) -> str:
        if index % 8 == 0:
            return _PAIRS[(index // 8) % len(_PAIRS)]
        draw = rng.random()
        if draw < 0.62:
            return "91"
        if draw < 0.9:
            return "92"
        return "93" if draw < 0.95 else rng.choice(_PAIRS)

    @staticmethod
    def _name_and_industry(rng: random.Random, pair: str, place: _Place) -> tuple[str, str]:
        word = rng.choice(_WORDS)
        if pair == "91":
            industry = rng.choice(_ENTERPRISE_INDUSTRIES)
            trade = rng.choice(_TRADES[industry[0]])
            return f"{place.city_short}{word}{trade}{rng.choice(_SUFFIXES)}", industry
        if pair == "92":
            industry, shop = rng.choice(_SHOPS)
            return f"{place.city}{place.name}{word}{shop}{_INDIVIDUAL}", industry
        if pair == "93":
            industry, product = rng.choice(_COOPS)
            return f"{place.city}{place.name}{word}{product}专业合作社", industry
        template, industry = rng.choice(_ORGS[pair])
        return template.format(c=place.city, s=place.city_short, q=place.name, w=word), industry

    @staticmethod
    def _credit_code(rng: random.Random, pair: str, county: str, established: date, used: set[str]) -> str:
        while True:
            if pair[0] == "9" and established.year >= 2016:
                body = "MA" + "".join(rng.choices(USCC_ALPHABET, k=6))
            else:  # a legacy organisation code; agencies of this module start with 0
                body = str(rng.randrange(10_000_000, 100_000_000))
            code = make_uscc(pair[0], pair[1], county, body)
            if code not in used:
                used.add(code)
                return code

    # --- inspections ------------------------------------------------------------------

    def inspections(self, count: int, *, objects: Sequence[RegulatedObject] | None = None) -> Iterator[Inspection]:
        """Inspections of ``objects`` (default: a deterministic pool of 500 enterprises).

        About 3% concern a citizen with a valid ID number instead. Action numbers
        look like ``330106JC202300000042`` and are unique within the stream.
        """
        pool = objects if objects is not None else self.enterprises(_DEFAULT_POOL)
        if not pool:
            raise ValueError("inspections need at least one regulated object")
        targets = [(o, Counterparty(o.name, "2", "uscc", o.credit_code, o.registered_address)) for o in pool]
        rng = self._rng("inspections")
        return (self._inspection(rng, n, *_pick(rng, targets)) for n in range(1, count + 1))

    def _inspection(self, rng: random.Random, n: int, obj: RegulatedObject, party: Counterparty) -> Inspection:
        # the hot path of benchmarks: plain rng.random() index picks, precomputed rows
        rand = rng.random
        county = obj.region_code if obj.region_code in self._places else _pick(rng, self._counties)
        object_type = obj.object_type
        if rand() < 0.03:
            party, object_type = self._citizen(rng, county), "natural_person"
        matter, agency, impl_list_code = _pick(rng, self._matter_rows[county])
        iso_day, year, month, next_day_us = _pick(rng, _DAY_ROWS)
        inspectors = self._pick_inspectors(rng, county)
        items = tuple(_pick(rng, _CHECK_ITEMS[item]) for item in _pick(rng, _ITEM_SETS[matter.code]))
        header = ActionHeader(
            matter_code=matter.code,
            impl_list_code=impl_list_code,
            agency_name=agency.name,
            agency_credit_code=agency.credit_code,
            object_type=object_type,
            counterparty=party,
            region_code=county,
            submitted_at_us=next_day_us + int(rand() * 3 * _DAY_US),
            submitter=inspectors[0].name,
        )
        random_draw = rand() < 0.6
        return Inspection(
            header=header,
            action_number=f"{county}JC{year}{n:08d}",
            action_name=matter.name,
            action_date=iso_day,
            inspectors=inspectors,
            plan_id=f"{county}SJ{month}" if random_draw else "",
            form="01" if random_draw or rand() < 0.5 else "02",
            category="1" if rand() < 0.8 else "2",
            method=_pick(rng, _METHODS),
            result="责令整改" if any(item.result == "fail" for item in items) else "合格",
            check_items=items,
        )

    def _pick_inspectors(self, rng: random.Random, county: str) -> tuple[Inspector, ...]:
        """Two (sometimes three) distinct inspectors of the county."""
        local = self._inspectors[county]
        size = len(local)
        first = int(rng.random() * size)
        second = (first + 1 + int(rng.random() * (size - 1))) % size
        if rng.random() >= 0.2:
            return (local[first], local[second])
        third = next(i for i in range(size) if i not in (first, second))
        return (local[first], local[second], local[third])

    def _citizen(self, rng: random.Random, county: str) -> Counterparty:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(18_262))  # to 1999-12-31
        number = make_id_number(county, birth, rng.randrange(1000))
        place = self._places[county]
        return Counterparty(_person_name(rng), "1", "id_card", number, f"{place.city}{place.name}")

    # --- penalties --------------------------------------------------------------------

    def penalties(self, count: int, *, inspections: Sequence[Inspection]) -> Iterator[Penalty]:
        """Penalties that follow ``inspections`` (failed ones preferred).

        Each carries the inspection's action number and counterparty; it is filed
        after the inspection, decided after filing and closed after the decision.
        Kinds are mostly 01 (warning) or 02 (fine); a fine is 500-49,900 yuan.
        """
        if not inspections:
            raise ValueError("penalties need at least one inspection")
        sources = [i for i in inspections if i.result != "合格"] or list(inspections)
        rng = self._rng("penalties")
        serials: dict[str, int] = {}
        return (self._penalty(rng, n, _pick(rng, sources), serials) for n in range(1, count + 1))

    def _penalty(self, rng: random.Random, n: int, source: Inspection, serials: dict[str, int]) -> Penalty:
        county = source.header.region_code
        if county not in self._places:
            county = rng.choice(self._counties)
        matter = _MATTER_BY_CODE.get(source.header.matter_code) or rng.choice(_MATTERS)
        agency = self._agencies[county][matter.agency]
        filed = date.fromisoformat(source.action_date) + timedelta(days=rng.randint(1, 30))
        decided = filed + timedelta(days=rng.randint(3, 60))
        kinds = _penalty_kinds(rng)
        fine = rng.randrange(5, 500) * 10_000 if "02" in kinds else 0
        prefix = self._places[county].abbreviation + _AGENCIES[matter.agency][1]
        serials[f"{prefix}{decided.year}"] = serial = serials.get(f"{prefix}{decided.year}", 0) + 1
        finding = next((c.item for c in source.check_items if c.result == "fail"), matter.items[0])
        header = ActionHeader(
            matter_code=matter.penalty_code,
            impl_list_code=f"{agency.credit_code}4{matter.penalty_code[-6:]}",
            agency_name=agency.name,
            agency_credit_code=agency.credit_code,
            object_type=source.header.object_type,
            counterparty=source.header.counterparty,
            region_code=county,
            submitted_at_us=_after(rng, decided),
            submitter=rng.choice(self._inspectors[county]).name,
        )
        return Penalty(
            header=header,
            action_number=f"{county}CF{filed.year}{n:08d}",
            action_name=matter.penalty_name,
            filing_date=filed.isoformat(),
            decision_number=f"{prefix}{_BRACKETS[0]}{decided.year}{_BRACKETS[1]}{serial}号",
            decision_date=decided.isoformat(),
            kinds=kinds,
            case_source="监督检查",
            inspection_number=source.action_number,
            facts=f"{source.action_date}执法人员在{matter.name}中发现当事人{finding}不符合规定。",
            legal_basis=matter.legal_basis,
            procedure="01" if kinds == ("01",) and rng.random() < 0.5 else "02",
            fine_fen=fine,
            closing_date=(decided + timedelta(days=rng.randint(1, 90))).isoformat(),
            paid_fen=fine,
        )

    # --- complaints -------------------------------------------------------------------

    def complaints(self, count: int, *, objects: Sequence[RegulatedObject]) -> Iterator[Complaint]:
        """Complaints and tips (about 30%) about ``objects``, received 2022-2024."""
        if not objects:
            raise ValueError("complaints need at least one regulated object")
        rng = self._rng("complaints")
        return (self._complaint(rng, n, _pick(rng, objects)) for n in range(1, count + 1))

    def _complaint(self, rng: random.Random, n: int, obj: RegulatedObject) -> Complaint:
        county = obj.region_code if obj.region_code in self._places else rng.choice(self._counties)
        day = rng.choice(_DAYS)
        tip = rng.random() < 0.3
        complaint_type = rng.choice(_COMPLAINT_TYPES)
        service_type, service_name = rng.choice(_SERVICES)
        if tip:
            details = f"举报人反映{obj.name}涉嫌{complaint_type}违法行为并请求查处。"
        else:
            details = f"消费者反映在{obj.name}购买的{service_name}存在{complaint_type}问题并要求处理。"
        return Complaint(
            complaint_number=f"{county}{'JB' if tip else 'TS'}{day.year}{n:08d}",
            kind="tip" if tip else "complaint",
            object_name=obj.name,
            object_credit_code=obj.credit_code,
            complaint_type=complaint_type,
            region_code=county,
            details=details,
            # 08:00-20:00 in UTC+8, so the day is the same in UTC and in China
            received_at_us=_utc_midnight_us(day) + rng.randrange(12 * _HOUR_US),
            service_type=service_type,
            service_name=service_name,
            dispute_date=(day - timedelta(days=rng.randint(0, 30))).isoformat(),
            handling_status=rng.choice(_HANDLING),
        )


_MATTER_BY_CODE: Final = {matter.code: matter for matter in _MATTERS}


def _penalty_kinds(rng: random.Random) -> tuple[str, ...]:
    draw = rng.random()
    if draw < 0.4:
        return ("01",)
    if draw < 0.85:
        return ("02",)
    if draw < 0.93:
        return ("02", "03")
    return rng.choice((("04",), ("02", "11"), ("08",), ("02", "12")))
