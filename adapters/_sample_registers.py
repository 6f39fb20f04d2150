"""Sample credit grades, list entries, public opinion and enforcement personnel."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Final

from adapters._sample_base import DATA_END, DATA_START, DAYS, HOUR_US, GeneratorState, pick, utc_midnight_us
from governance._records import CreditGrade, Inspector, ListEntry, Personnel, PublicOpinion, RegulatedObject
from governance.codes import make_id_number

__all__ = ["RegisterSamples"]

_GRADES: Final = "A" * 25 + "B" * 55 + "C" * 15 + "D" * 5  # first assessment
_ABNORMAL_REASONS: Final = (
    "未按照规定的期限公示年度报告",
    "通过登记的住所或者经营场所无法联系",
    "未在责令的期限内公示有关企业信息",
    "公示企业信息隐瞒真实情况、弄虚作假",
)
_SERIOUS_REASONS: Final = (
    "被列入经营异常名录届满3年仍未履行相关义务",
    "提交虚假材料或者采取其他欺诈手段隐瞒重要事实取得公司登记",
    "因食品安全违法行为受到较重行政处罚",
)
_OPINION_SOURCES: Final = ("微博", "微信公众号", "新闻网站", "网络论坛", "短视频平台")
_OPINION_TOPICS: Final = ("食品安全", "价格收费", "虚假宣传", "服务质量", "产品质量")
_SENTIMENTS: Final = ("negative",) * 6 + ("neutral",) * 3 + ("positive",)
_JOB_LEVELS: Final = ("一级主任科员", "二级主任科员", "三级主任科员", "四级主任科员", "一级科员")
_CATEGORIES: Final = ("市场监管", "卫生健康", "应急管理")  # per agency


class RegisterSamples(GeneratorState):
    """The credit-grade, list, public-opinion and personnel part of the sample generator."""

    def credit_grades(self, *, objects: Sequence[RegulatedObject]) -> list[CreditGrade]:
        """One grade per organisation and year of the data period, assessed on 20 January.

        A grade stays the same from one year to the next seven times in ten,
        else it moves one step; natural persons are not graded.
        """
        rng = self._rng("credit_grades")
        years = range(DATA_START.year, DATA_END.year + 1)
        grades = []
        for obj in (o for o in objects if o.object_type != "natural_person"):
            authority = self._agencies[self._county_of(rng, obj.region_code)][0].name
            grade = pick(rng, _GRADES)
            for year in years:
                grades.append(CreditGrade(obj.credit_code, grade, f"{year}-01-20", authority, f"v{year}.1"))
                grade = _next_grade(rng, grade)
        return grades

    def list_entries(self, count: int, *, objects: Sequence[RegulatedObject]) -> Iterator[ListEntry]:
        """Abnormal-operation entries (85%, half later removed) and serious-violation entries of ``objects``.

        An entry is given in its latest version: a removed entry carries its
        removal date and reason. Removals after the data period are left out.
        """
        organisations = [o for o in objects if o.object_type != "natural_person"]
        if not organisations:
            raise ValueError("list entries need at least one organisation")
        rng = self._rng("list_entries")
        used: set[str] = set()
        return (self._list_entry(rng, pick(rng, organisations), used) for _ in range(count))

    def _list_entry(self, rng: random.Random, obj: RegulatedObject, used: set[str]) -> ListEntry:
        serious = rng.random() < 0.15
        kind = "serious_violation" if serious else "abnormal_operation"
        entered = pick(rng, DAYS)
        while f"{obj.credit_code}:{kind}:{entered}" in used:
            entered += timedelta(days=1)
        used.add(f"{obj.credit_code}:{kind}:{entered}")
        removed = entered + timedelta(days=rng.randint(365, 1000) if serious else rng.randint(30, 400))
        if rng.random() >= (0.1 if serious else 0.5) or removed > DATA_END:
            removed_on, removal_reason = "", ""
        else:
            removed_on, removal_reason = removed.isoformat(), "已纠正违法行为并履行相关义务"
        return ListEntry(
            credit_code=obj.credit_code,
            list_kind=kind,
            entered_on=entered.isoformat(),
            reason=pick(rng, _SERIOUS_REASONS if serious else _ABNORMAL_REASONS),
            deciding_authority=self._agencies[self._county_of(rng, obj.region_code)][0].name,
            removed_on=removed_on,
            removal_reason=removal_reason,
        )

    def public_opinion(self, count: int, *, objects: Sequence[RegulatedObject]) -> Iterator[PublicOpinion]:
        """Public-opinion items about ``objects`` (60% negative), published 2022-2024."""
        if not objects:
            raise ValueError("public opinion needs at least one regulated object")
        rng = self._rng("public_opinion")
        return (self._opinion(rng, n, pick(rng, objects)) for n in range(1, count + 1))

    def _opinion(self, rng: random.Random, n: int, obj: RegulatedObject) -> PublicOpinion:
        county = self._county_of(rng, obj.region_code)
        day = pick(rng, DAYS)
        topic = pick(rng, _OPINION_TOPICS)
        sentiment = pick(rng, _SENTIMENTS)
        title, text = _opinion_text(sentiment, obj.name, topic)
        item_id = f"{county}YQ{day.year}{n:08d}"
        organisation = obj.object_type != "natural_person"
        return PublicOpinion(
            item_id=item_id,
            source=pick(rng, _OPINION_SOURCES),
            title=title,
            # 08:00-20:00 in UTC+8, so the day is the same in UTC and in China
            published_at_us=utc_midnight_us(day) + rng.randrange(12 * HOUR_US),
            text=text,
            url=f"https://opinion.example.com/{item_id}",
            linked_credit_codes=(obj.credit_code,) if organisation else (),
            linked_names=(obj.name,),
            region_code=county,
            sentiment=sentiment,
        )

    def personnel(self) -> list[Personnel]:
        """The register entry of every inspector the sample inspections name (same names and certificates)."""
        rng = self._rng("personnel")
        used: set[str] = set()
        return [
            self._officer(rng, county, inspector, used)
            for county in self._counties
            for inspector in self._inspectors[county]
        ]

    def _officer(self, rng: random.Random, county: str, inspector: Inspector, used: set[str]) -> Personnel:
        birth = date(1962, 1, 1) + timedelta(days=rng.randrange(10_957))  # to 1991-12-31
        sequence = rng.randrange(1000)
        while make_id_number(county, birth, sequence) in used:
            sequence = (sequence + 2) % 1000  # keeps the sex
        number = make_id_number(county, birth, sequence)
        used.add(number)
        agency_index = rng.randrange(len(_CATEGORIES))
        agency, place = self._agencies[county][agency_index], self._places[county]
        issued = date(int(inspector.cert_number[6:10]), rng.randint(1, 12), rng.randint(1, 28))
        on_duty = rng.random() < 0.95
        return Personnel(
            id_number=number,
            name=inspector.name,
            sex="1" if sequence % 2 else "2",
            birth_date=birth.isoformat(),
            organisation=agency.name,
            organisation_credit_code=agency.credit_code,
            job_level=pick(rng, _JOB_LEVELS),
            enforcement_category=_CATEGORIES[agency_index],
            enforcement_area=f"{place.city}{place.name}",
            cert_type="行政执法证",
            cert_number=inspector.cert_number,
            cert_issuer=f"{place.province}人民政府",
            cert_valid_from=issued.isoformat(),
            cert_valid_to=issued.replace(year=2025 + rng.randrange(3)).isoformat(),
            on_duty="1" if on_duty else "0",
            is_supervisor="1" if rng.random() < 0.1 else "0",
            legal_qualification="1" if rng.random() < 0.2 else "0",
            enabled="1" if on_duty else "0",
        )


def _next_grade(rng: random.Random, grade: str) -> str:
    """Next year's grade: the same seven times in ten, else one step up or down."""
    if rng.random() < 0.7:
        return grade
    index = "ABCD".index(grade) + rng.choice((-1, 1))
    return "ABCD"[min(3, max(0, index))]


def _opinion_text(sentiment: str, name: str, topic: str) -> tuple[str, str]:
    """(title, text) of an opinion item of ``sentiment`` about ``name``."""
    if sentiment == "negative":
        return f"网友反映{name}存在{topic}问题", f"有网友发文称在{name}消费时遇到{topic}问题并引发关注。"
    if sentiment == "positive":
        return f"{name}获评诚信经营示范单位", f"{name}因{topic}方面表现良好获评诚信经营示范单位。"
    return f"{name}回应{topic}相关咨询", f"{name}就网友关于{topic}的咨询作出说明。"
