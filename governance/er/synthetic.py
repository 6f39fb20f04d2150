# ruff: noqa: RUF001, RUF002, SIM905 - full-width and CJK characters are the data here; word lists read best as one string
"""Generated Chinese enterprise records with known duplicates, for tests, benchmarks and trying the commands.

Each original enterprise has a name (optional city prefix, a brand, an industry
and a legal form), a unified social credit code, an address, a legal
representative and an establishment date. A share of them get one to three
duplicates with the variations seen in practice: legal-form variants
(有限公司/有限责任公司/公司), region prefixes added, dropped or bracketed
(``某某科技（杭州）有限公司``), full-width characters, a typo or two swapped
characters in the name, missing or mistyped codes, addresses with or without
province and city and with Chinese house numbers, dates in other formats or with
day and month swapped. Brands and industries are drawn from small pools, so
distinct enterprises with similar names (hard non-matches) occur too.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from governance._regions import REGIONS
from governance.codes import USCC_ALPHABET, make_uscc

__all__ = ["COLUMNS", "ER_TOML", "SyntheticData", "cluster_pairs", "generate_enterprises", "pair_scores", "true_pairs"]

COLUMNS: Final = ("rec_id", "name", "credit_code", "address", "legal_rep", "established")
ER_TOML: Final = """\
id_column = "rec_id"
threshold = 0.9

[[compare]]
column = "name"
kind = "name"

[[compare]]
column = "credit_code"
kind = "code"

[[compare]]
column = "address"
kind = "address"

[[compare]]
column = "legal_rep"
kind = "name"

[[compare]]
column = "established"
kind = "date"
"""
"""An ``ER.toml`` for the generated columns."""

_BRAND = (
    "华鑫达盛源泰恒瑞辉嘉宏明新锦丰龙星金宇海云天汇创博凯通信诚安康永德顺昌富佳美亿优卓越豪晟腾飞"
    "正大中兴伟业光荣祥和聚力合众远航万象长青绿洲蓝图品尚精工智慧联合东方南北春秋广厦彩虹银河神州"
)
_INDUSTRIES = (
    "科技 贸易 建材 食品 电子 机械 服装 餐饮管理 物流 广告 文化传媒 网络科技 信息技术 "
    "环保科技 医疗器械 化工 纺织 装饰工程 房地产开发 教育咨询 农业开发 汽车服务 五金 印刷 "
    "家具 电器 生物科技 建筑工程 商贸 酒店管理"
).split()
_LEGAL = ("有限公司",) * 6 + ("有限责任公司",) * 2 + ("股份有限公司", "集团有限公司")
_ROADS = (
    "文三路 文二路 天目山路 莫干山路 延安路 解放路 中山路 人民路 建设路 学院路 体育场路 "
    "环城北路 江南大道 滨盛路 钱江路 新华路 庆春路 凤起路 西溪路 古墩路 丰潭路 教工路 "
    "湖墅南路 石桥路 东新路 秋涛路 江晖路 长河路"
).split()
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌海波鹏飞宇浩然子涵欣怡晨阳"
_CN_NUMBERS = "零一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class SyntheticData:
    """Generated rows (``COLUMNS``) and, per record id, the id of the enterprise it describes."""

    rows: list[dict[str, str]]
    entity_of: dict[str, str]


def _counties() -> list[tuple[str, str, str]]:
    """Current county-level districts and counties of Zhejiang: (code, city name, county name)."""
    names = {entry.code: entry.name for entry in REGIONS if entry.code.startswith("33") and entry.valid_to is None}
    return sorted(
        (code, names[code[:4] + "00"], name)
        for code, name in names.items()
        if not code.endswith("00") and code[:4] + "00" in names and name.endswith(("区", "县")) and name != "市辖区"
    )


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" if ch == " " else ch for ch in text)


def _chinese_number(number: int) -> str:
    if 10 <= number < 20:
        return "十" + (_CN_NUMBERS[number % 10] if number % 10 else "")
    if 20 <= number < 100:
        return _CN_NUMBERS[number // 10] + "十" + (_CN_NUMBERS[number % 10] if number % 10 else "")
    return "".join(_CN_NUMBERS[int(d)] for d in str(number))


@dataclass(frozen=True, slots=True)
class _Enterprise:
    brand: str
    industry: str
    legal: str
    city: str
    county: str
    prefixed: bool
    code: str
    road: str
    number: int
    room: str
    rep: str
    established: date


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counties = _counties()
        self.used: set[str] = set()

    def enterprise(self) -> _Enterprise:
        rng = self.rng
        while True:
            brand = "".join(rng.choice(_BRAND) for _ in range(rng.choice((2, 2, 3))))
            industry = rng.choice(_INDUSTRIES)
            if brand + industry not in self.used:
                self.used.add(brand + industry)
                break
        region, city, county = rng.choice(self.counties)
        body = "".join(rng.choice(USCC_ALPHABET) for _ in range(8))
        room = f"{rng.randint(1, 20)}幢{rng.randint(101, 2505)}室" if rng.random() < 0.5 else ""
        return _Enterprise(
            brand=brand,
            industry=industry,
            legal=rng.choice(_LEGAL),
            city=city,
            county=county,
            prefixed=rng.random() < 0.5,
            code=make_uscc("9", "1", region, body),
            road=rng.choice(_ROADS),
            number=rng.randint(1, 999),
            room=room,
            rep=rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2)))),
            established=date(1995, 1, 1) + timedelta(days=rng.randint(0, 28 * 365)),
        )

    def row(self, ent: _Enterprise, *, variant: bool) -> dict[str, str]:
        rng = self.rng
        core = ent.brand + ent.industry
        prefix = ent.city[:-1] if ent.prefixed else ""
        name, code, rep = prefix + core + ent.legal, ent.code, ent.rep
        address = f"浙江省{ent.city}{ent.county}{ent.road}{ent.number}号{ent.room}"
        day = ent.established
        if variant:
            name = self._name_variant(ent, core, prefix)
            if rng.random() < 0.25:
                code = "" if rng.random() < 0.6 else self._typo_code(code)
            address = self._address_variant(ent) if rng.random() < 0.6 else address
            if rng.random() < 0.1:
                rep = ""
            if rng.random() < 0.1 and day.day <= 12 and day.day != day.month:
                day = date(day.year, day.day, day.month)
        dated = rng.choice((f"{day:%Y-%m-%d}", f"{day:%Y%m%d}", f"{day.year}年{day.month}月{day.day}日"))
        return {"name": name, "credit_code": code, "address": address, "legal_rep": rep, "established": dated}

    def _name_variant(self, ent: _Enterprise, core: str, prefix: str) -> str:
        rng = self.rng
        legal = ent.legal
        ops: list[Callable[[str], str]] = []
        if rng.random() < 0.5:
            legal = rng.choice(("有限公司", "有限责任公司", "公司"))
        if rng.random() < 0.4:
            prefix = rng.choice(("", ent.city, "浙江省" + ent.city, ent.city[:-1] + ent.county[:-1], "(bracket)"))
        if rng.random() < 0.25:
            ops.append(self._typo)
        elif rng.random() < 0.2:
            ops.append(self._swap)
        for op in ops:
            core = op(core)
        name = core + f"（{ent.city[:-1]}）" + legal if prefix == "(bracket)" else prefix + core + legal
        if rng.random() < 0.2:
            name = _full_width(name.replace("（", "(").replace("）", ")"))
        if rng.random() < 0.1:
            cut = rng.randrange(1, len(name))
            name = name[:cut] + rng.choice((" ", "\u3000")) + name[cut:]
        return name

    def _typo(self, core: str) -> str:
        at = self.rng.randrange(len(core))
        return core[:at] + self.rng.choice(_BRAND) + core[at + 1 :]

    def _swap(self, core: str) -> str:
        at = self.rng.randrange(len(core) - 1)
        return core[:at] + core[at + 1] + core[at] + core[at + 2 :]

    def _typo_code(self, code: str) -> str:
        at = self.rng.randrange(8, 17)
        return code[:at] + self.rng.choice(USCC_ALPHABET) + code[at + 1 :]

    def _address_variant(self, ent: _Enterprise) -> str:
        rng = self.rng
        head = rng.choice(("", ent.city, ent.county, "浙江省" + ent.city + ent.county, ent.city + ent.county))
        number = _chinese_number(ent.number) if rng.random() < 0.3 else str(ent.number)
        room = ent.room if rng.random() < 0.7 else ""
        address = f"{head}{ent.road}{number}号{room}"
        return _full_width(address) if rng.random() < 0.2 else address


def generate_enterprises(originals: int, *, duplicate_share: float = 0.4, seed: int = 1) -> SyntheticData:
    """``originals`` enterprises; ``duplicate_share`` of them get 1-3 varied duplicates. Rows come shuffled."""
    generator = _Generator(seed)
    rows: list[dict[str, str]] = []
    entity_of: dict[str, str] = {}
    for n in range(originals):
        ent = generator.enterprise()
        copies = generator.rng.choice((1, 1, 1, 2, 3)) if generator.rng.random() < duplicate_share else 0
        for copy in range(copies + 1):
            rows.append(generator.row(ent, variant=copy > 0))
            entity_of[str(len(rows))] = f"E{n}"
    order = list(range(len(rows)))
    generator.rng.shuffle(order)
    shuffled = []
    truth: dict[str, str] = {}
    for position, original in enumerate(order, 1):
        rec_id = f"R{position:06d}"
        shuffled.append({"rec_id": rec_id, **rows[original]})
        truth[rec_id] = entity_of[str(original + 1)]
    return SyntheticData(rows=shuffled, entity_of=truth)


def true_pairs(entity_of: Mapping[str, str]) -> set[tuple[str, str]]:
    """Every unordered pair (sorted ids) of records of the same entity."""
    groups: dict[str, list[str]] = defaultdict(list)
    for record_id, entity in entity_of.items():
        groups[entity].append(record_id)
    return {tuple(sorted(pair)) for members in groups.values() for pair in itertools.combinations(members, 2)}  # type: ignore[misc]


def pair_scores(predicted: Iterable[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of ``predicted`` pairs (any order) against ``truth``."""
    found = {(a, b) if a <= b else (b, a) for a, b in predicted}
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def cluster_pairs(clusters: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The record pairs a clustering implies (every pair within a cluster)."""
    return true_pairs(dict(clusters))
