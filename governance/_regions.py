"""A small, versioned GB/T 2260 region-code table (a subset, not the full list).

Source: GB/T 2260 subset transcribed from the Ministry of Civil Affairs code list,
2023 edition; issue 4 replaces it with the full table. It holds Zhejiang province,
the cities of Hangzhou, Ningbo and Wenzhou, and most of their county-level units.

History recorded here starts in 2016: the Ningbo reorganisation approved on
2016-09-14 (State Council reply 国函 2016 No. 158) and the Hangzhou
reorganisation notified by the Zhejiang provincial government on 2021-03-11.
An entry without ``valid_from`` is in force from at least 2016-01-01; earlier
changes (e.g. 萧山/余杭 in 2001, 富阳 in 2014) are not recorded, so checks of
pre-2016 dates are lenient.

Validity is half-open: a code is valid on day ``d`` when
``valid_from <= d < valid_to`` (a missing bound is open). ``valid_to`` is the day
the code stopped being in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

REGION_TABLE_VERSION: Final = "GB/T 2260 subset, Ministry of Civil Affairs code list 2023"

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


# Entries of one code are listed oldest first; the last one gives its current name.
REGIONS: Final[tuple[RegionEntry, ...]] = (
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
