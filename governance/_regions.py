"""The versioned GB/T 2260 region-code table: every code since 1980, with validity.

Sources, merged at import:

1. ``stdnum/cn/loc.dat`` of python-stdnum 2.2 (a pinned dependency, LGPL data
   file): the Wikipedia lists "中华人民共和国行政区划代码" (areas 1-8) with the
   years each code was in use, up to 2025. Years only: a code listed
   ``[1983-2021]`` is taken as valid from 1983-01-01 up to 2022-01-01, so a
   record dated in a year of change passes with the old and the new code.
2. Exact change dates for Zhejiang, transcribed from the Ministry of Civil
   Affairs notices: the Ningbo reorganisation approved on 2016-09-14 (国函
   2016 No. 158) and the Hangzhou reorganisation of 2021-03-11 (which created
   临平区 330113 and 钱塘区 330114; the stdnum data lacks both). Where given,
   these dates replace the year bounds.

Validity is half-open: a code is valid on day ``d`` when
``valid_from <= d < valid_to`` (a missing bound is open). ``valid_to`` is the day
the code stopped being in force.
"""

from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Final

REGION_TABLE_VERSION: Final = (
    "GB/T 2260 1980-2025 from python-stdnum 2.2 stdnum/cn/loc.dat (Wikipedia lists, years), "
    "with exact Zhejiang change dates 2016-09-14 and 2021-03-11"
)

_NINGBO_2016: Final = date(2016, 9, 14)
_HANGZHOU_2021: Final = date(2021, 3, 11)


@dataclass(frozen=True, slots=True)
class RegionEntry:
    """One period of one region code."""

    code: str
    name: str
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        """Whether this code was in force on ``day``."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day < self.valid_to


# Exact dates that replace the year bounds of the stdnum data (and codes it lacks).
_CURATED: Final[tuple[RegionEntry, ...]] = (
    RegionEntry("330000", "浙江省"),
    RegionEntry("330100", "杭州市"),
    RegionEntry("330102", "上城区"),
    RegionEntry("330103", "下城区", valid_to=_HANGZHOU_2021),
    RegionEntry("330104", "江干区", valid_to=_HANGZHOU_2021),
    RegionEntry("330105", "拱墅区"),
    RegionEntry("330106", "西湖区"),
    RegionEntry("330108", "滨江区"),
    RegionEntry("330109", "萧山区"),
    RegionEntry("330110", "余杭区"),
    RegionEntry("330111", "富阳区"),
    RegionEntry("330113", "临平区", valid_from=_HANGZHOU_2021),
    RegionEntry("330114", "钱塘区", valid_from=_HANGZHOU_2021),
    RegionEntry("330122", "桐庐县"),
    RegionEntry("330127", "淳安县"),
    RegionEntry("330182", "建德市"),
    RegionEntry("330200", "宁波市"),
    RegionEntry("330203", "海曙区"),
    RegionEntry("330204", "江东区", valid_to=_NINGBO_2016),
    RegionEntry("330205", "江北区"),
    RegionEntry("330206", "北仑区"),
    RegionEntry("330211", "镇海区"),
    RegionEntry("330212", "鄞州区"),
    RegionEntry("330213", "奉化区", valid_from=_NINGBO_2016),
    RegionEntry("330225", "象山县"),
    RegionEntry("330226", "宁海县"),
    RegionEntry("330281", "余姚市"),
    RegionEntry("330282", "慈溪市"),
    RegionEntry("330283", "奉化市", valid_to=_NINGBO_2016),
    RegionEntry("330300", "温州市"),
    RegionEntry("330302", "鹿城区"),
    RegionEntry("330303", "龙湾区"),
    RegionEntry("330304", "瓯海区"),
    RegionEntry("330305", "洞头区"),
    RegionEntry("330324", "永嘉县"),
    RegionEntry("330381", "瑞安市"),
    RegionEntry("330382", "乐清市"),
)


_PERIOD = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


def _periods(code: str, text: str) -> list[RegionEntry]:
    """``[1985-1986]滨海区,[1987-]北仑区`` -> one entry per period, oldest first."""
    entries = []
    for part in text.split(","):
        match = _PERIOD.match(part)
        if match is None:
            entries.append(RegionEntry(code, part))
            continue
        start, end, name = match.groups()
        entries.append(
            RegionEntry(
                code,
                name,
                valid_from=date(int(start), 1, 1) if start else None,
                valid_to=date(int(end) + 1, 1, 1) if end else None,
            )
        )
    return entries


def _load_stdnum() -> dict[str, list[RegionEntry]]:
    text = importlib.resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    table: dict[str, list[RegionEntry]] = {}
    province = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.strip().partition(" ")
        name = value.split("=", 1)[1].strip().strip('"')
        if not line.startswith(" "):  # "33 province="浙江省""
            province = key
            table.setdefault(f"{province}0000", [RegionEntry(f"{province}0000", name)])
            continue
        code = province + key
        if code.endswith("0000"):
            continue  # the province again
        table[code] = _periods(code, name)
    return table


def _merge() -> tuple[RegionEntry, ...]:
    table = _load_stdnum()
    for exact in _CURATED:
        entries = table.get(exact.code)
        if not entries:
            table[exact.code] = [exact]
            continue
        latest = entries[-1]  # exact dates win; the year bounds stay where none is given
        entries[-1] = replace(
            latest,
            name=exact.name,
            valid_from=exact.valid_from or latest.valid_from,
            valid_to=exact.valid_to or latest.valid_to,
        )
    return tuple(entry for code in sorted(table) for entry in table[code])


# Entries of one code are listed oldest first; the last one gives its current name.
REGIONS: Final[tuple[RegionEntry, ...]] = _merge()
