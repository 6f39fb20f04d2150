"""Deterministic sample data for the demo, tests and benchmarks.

:class:`SampleGenerator` makes records of every standard dataset for one node
region: regulated objects, inspections, penalties and complaints here; the
matters catalog (``_sample_catalog``), enforcement and other actions
(``_sample_actions``), credit grades, list entries, public opinion and
personnel (``_sample_registers``) in the parts it is made of. Every method
draws from its own random stream, seeded from ``(seed, region, method)``: the
same seed, region and call give the same records whatever else was called
before, and ``inspections(n)`` is a prefix of ``inspections(n + k)``. The n-th
record of a stream keeps its uid.

All codes are valid (credit codes, ID numbers, region codes valid in
2022-2024, industry codes from the shipped table). Matter codes are
illustrative 14-digit codes: the national catalog is not public.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Final

from adapters._sample_actions import ActionSamples
from adapters._sample_base import (
    AGENCIES,
    BRACKETS,
    DATA_END,
    DATA_START,
    DAY_US,
    DAYS,
    HOUR_US,
    INSPECTION_METHODS,
    MATTER_BY_CODE,
    MATTERS,
    Agency,
    Place,
    after,
    failed_first,
    make_place,
    person_name,
    pick,
    utc_midnight_us,
)
from adapters._sample_catalog import CatalogSamples
from adapters._sample_registers import RegisterSamples
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
)

__all__ = ["DATA_END", "DATA_START", "SampleGenerator"]

_DEFAULT_POOL: Final = 500
_INDIVIDUAL: Final = "\uff08个体工商户\uff09"  # in full-width brackets, as in real names

_PAIRS: Final = tuple(d + c for d in sorted(USCC_CATEGORIES) for c in sorted(USCC_CATEGORIES[d]))
_WORDS: Final = (
    "恒达", "华信", "博远", "瑞丰", "新宇", "天成", "金桥", "汇通", "鼎盛", "明德",
    "正和", "嘉禾", "永信", "东方", "兴业", "睿智", "云帆", "青山", "绿源", "海纳",
    "宏图", "安泰", "锦程", "立德", "星河", "万象", "和光", "祥瑞", "同创", "致远",
    "春晖", "秋实", "德润", "启航", "远景", "禾丰", "润泽", "长青", "凯旋", "九州",
)  # fmt: skip
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


_RESULTS: Final = ("pass",) * 16 + ("fail",) * 2 + ("not_inspected", "not_applicable")
# Check items: per item, CheckItems in the proportions of _RESULTS; per matter, the item sets
# an inspection may cover (1-4 consecutive items, wrapping round).
_CHECK_ITEMS: Final = {item: tuple(CheckItem(item, r) for r in _RESULTS) for m in MATTERS for item in m.items}
_ITEM_SETS: Final = {
    m.code: tuple(
        tuple(m.items[(start + j) % len(m.items)] for j in range(size))
        for start in range(len(m.items))
        for size in range(1, min(4, len(m.items)) + 1)
    )
    for m in MATTERS
}
_COMPLAINT_TYPES: Final = ("食品安全", "产品质量", "价格收费", "虚假宣传", "合同纠纷", "计量问题", "服务质量")
_SERVICES: Final = (("商品", "预包装食品"), ("商品", "家用电器"), ("服务", "餐饮服务"), ("服务", "美容美发服务"))
_HANDLING: Final = ("received", "accepted", "accepted", "handled", "closed", "closed")


# Per day of the data period: ISO date, year, YYYYMM, and 08:00 UTC+8 of the next day in µs.
_DAY_ROWS: Final = tuple(
    (day.isoformat(), day.year, f"{day.year}{day.month:02d}", utc_midnight_us(day) + DAY_US) for day in DAYS
)


class SampleGenerator(CatalogSamples, ActionSamples, RegisterSamples):
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
        self._places = {code: make_place(code) for code in counties}
        self._counties = tuple(counties)
        self._agencies = {code: self._county_agencies(code) for code in counties}
        self._matter_rows = {
            county: tuple((m, agencies[m.agency], f"{agencies[m.agency].credit_code}4{m.code[-6:]}") for m in MATTERS)
            for county, agencies in self._agencies.items()
        }
        self._inspectors = self._inspector_pool()

    def _county_agencies(self, county: str) -> tuple[Agency, ...]:
        place = self._places[county]
        return tuple(
            # organisation bodies starting with 0 never collide with generated objects' codes
            Agency(f"{place.city}{place.name}{name}", make_uscc("1", "1", county, f"0{county[2:]}{kind:02d}0"))
            for kind, (name, _) in enumerate(AGENCIES)
        )

    def _inspector_pool(self) -> dict[str, tuple[Inspector, ...]]:
        """About 50 inspectors for the region, at least three per county."""
        rng = self._rng("inspectors")
        per_county = max(3, -(-50 // len(self._counties)))
        pool: dict[str, tuple[Inspector, ...]] = {}
        for county in self._counties:
            years = sorted(rng.randrange(2008, 2022) for _ in range(per_county))
            pool[county] = tuple(
                Inspector(person_name(rng), f"{county}{year}{serial:04d}") for serial, year in enumerate(years, start=1)
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
            legal_representative=person_name(rng),
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
    def _name_and_industry(rng: random.Random, pair: str, place: Place) -> tuple[str, str]:
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
        return (self._inspection(rng, n, *pick(rng, targets)) for n in range(1, count + 1))

    def _inspection(self, rng: random.Random, n: int, obj: RegulatedObject, party: Counterparty) -> Inspection:
        # the hot path of benchmarks: plain rng.random() index picks, precomputed rows
        rand = rng.random
        county = obj.region_code if obj.region_code in self._places else pick(rng, self._counties)
        object_type = obj.object_type
        if rand() < 0.03:
            party, object_type = self._citizen(rng, county), "natural_person"
        matter, agency, impl_list_code = pick(rng, self._matter_rows[county])
        iso_day, year, month, next_day_us = pick(rng, _DAY_ROWS)
        inspectors = self._pick_inspectors(rng, county)
        items = tuple(pick(rng, _CHECK_ITEMS[item]) for item in pick(rng, _ITEM_SETS[matter.code]))
        header = ActionHeader(
            matter_code=matter.code,
            impl_list_code=impl_list_code,
            agency_name=agency.name,
            agency_credit_code=agency.credit_code,
            object_type=object_type,
            counterparty=party,
            region_code=county,
            submitted_at_us=next_day_us + int(rand() * 3 * DAY_US),
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
            method=pick(rng, INSPECTION_METHODS),
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
        return Counterparty(person_name(rng), "1", "id_card", number, f"{place.city}{place.name}")

    # --- penalties --------------------------------------------------------------------

    def penalties(self, count: int, *, inspections: Sequence[Inspection]) -> Iterator[Penalty]:
        """Penalties that follow ``inspections`` (failed ones preferred).

        Each carries the inspection's action number and counterparty; it is filed
        after the inspection, decided after filing and closed after the decision.
        Kinds are mostly 01 (warning) or 02 (fine); a fine is 500-49,900 yuan.
        """
        if not inspections:
            raise ValueError("penalties need at least one inspection")
        sources = failed_first(inspections)
        rng = self._rng("penalties")
        serials: dict[str, int] = {}
        return (self._penalty(rng, n, pick(rng, sources), serials) for n in range(1, count + 1))

    def _penalty(self, rng: random.Random, n: int, source: Inspection, serials: dict[str, int]) -> Penalty:
        county = self._county_of(rng, source.header.region_code)
        matter = MATTER_BY_CODE.get(source.header.matter_code) or rng.choice(MATTERS)
        agency = self._agencies[county][matter.agency]
        filed = date.fromisoformat(source.action_date) + timedelta(days=rng.randint(1, 30))
        decided = filed + timedelta(days=rng.randint(3, 60))
        kinds = _penalty_kinds(rng)
        fine = rng.randrange(5, 500) * 10_000 if "02" in kinds else 0
        prefix = self._places[county].abbreviation + AGENCIES[matter.agency][1]
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
            submitted_at_us=after(rng, decided),
            submitter=rng.choice(self._inspectors[county]).name,
        )
        return Penalty(
            header=header,
            action_number=f"{county}CF{filed.year}{n:08d}",
            action_name=matter.penalty_name,
            filing_date=filed.isoformat(),
            decision_number=f"{prefix}{BRACKETS[0]}{decided.year}{BRACKETS[1]}{serial}号",
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
        return (self._complaint(rng, n, pick(rng, objects)) for n in range(1, count + 1))

    def _complaint(self, rng: random.Random, n: int, obj: RegulatedObject) -> Complaint:
        county = self._county_of(rng, obj.region_code)
        day = rng.choice(DAYS)
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
            received_at_us=utc_midnight_us(day) + rng.randrange(12 * HOUR_US),
            service_type=service_type,
            service_name=service_name,
            dispute_date=(day - timedelta(days=rng.randint(0, 30))).isoformat(),
            handling_status=rng.choice(_HANDLING),
        )


def _penalty_kinds(rng: random.Random) -> tuple[str, ...]:
    draw = rng.random()
    if draw < 0.4:
        return ("01",)
    if draw < 0.85:
        return ("02",)
    if draw < 0.93:
        return ("02", "03")
    return rng.choice((("04",), ("02", "11"), ("08",), ("02", "12")))
