"""Sample enforcement and other actions that follow the sample inspections."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Final

from adapters._sample_base import AGENCIES, BRACKETS, MATTER_BY_CODE, GeneratorState, after, failed_first, pick
from adapters._sample_catalog import ENFORCEMENT_MATTERS, OTHER_MATTERS, action_impl_code
from governance._records import ActionHeader, Enforcement, Inspection, OtherAction

__all__ = ["ActionSamples"]

_EXECUTION_TYPES: Final = ("行政机关实施", "申请人民法院强制执行")
_ENFORCEMENT_RESULTS: Final = ("已解除强制措施", "依法没收", "依法销毁", "已返还当事人")
_OTHER_SOURCES: Final = ("投诉举报", "上级交办", "部门移送")
_OUTCOMES: Final = ("已按要求整改", "已约谈并签订承诺书", "整改中", "已履行告知义务")
_MEASURE_DAYS: Final = 30  # 查封扣押 lasts up to 30 days, extendable once by 30 (行政强制法 第二十五条)


class ActionSamples(GeneratorState):
    """The enforcement and other-action part of the sample generator."""

    def enforcements(self, count: int, *, inspections: Sequence[Inspection]) -> Iterator[Enforcement]:
        """Enforcement measures that follow ``inspections`` (failed ones preferred).

        Each starts on or after its inspection, ends within 30 days or, about
        one in five, after a 30-day extension. Numbers look like ``330106QZ202300000042``.
        """
        if not inspections:
            raise ValueError("enforcements need at least one inspection")
        sources = failed_first(inspections)
        rng = self._rng("enforcements")
        serials: dict[str, int] = {}
        return (self._enforcement(rng, n, pick(rng, sources), serials) for n in range(1, count + 1))

    def _enforcement(self, rng: random.Random, n: int, source: Inspection, serials: dict[str, int]) -> Enforcement:
        county = self._county_of(rng, source.header.region_code)
        agency = _agency_index(source)
        matter = ENFORCEMENT_MATTERS[agency]
        start = date.fromisoformat(source.action_date) + timedelta(days=rng.randint(0, 5))
        extended = start + timedelta(days=_MEASURE_DAYS) if rng.random() < 0.2 else None
        end = (extended or start) + timedelta(days=rng.randint(1, _MEASURE_DAYS))
        prefix = self._places[county].abbreviation + AGENCIES[agency][1][:-1] + "强"
        serials[f"{prefix}{start.year}"] = serial = serials.get(f"{prefix}{start.year}", 0) + 1
        measure = pick(rng, matter.measures)
        return Enforcement(
            header=self._action_header(rng, county, agency=agency, matter_code=matter.code, source=source, end=end),
            action_number=f"{county}QZ{start.year}{n:08d}",
            action_name=matter.name,
            start_date=start.isoformat(),
            inspection_number=source.action_number,
            facts=f"{source.action_date}执法人员检查中发现当事人涉嫌违法并依法采取{measure}措施。",
            legal_basis=matter.legal_basis,
            decision_number=f"{prefix}{BRACKETS[0]}{start.year}{BRACKETS[1]}{serial}号",
            measure_kind=measure,
            execution_type=pick(rng, _EXECUTION_TYPES),
            result=pick(rng, _ENFORCEMENT_RESULTS),
            extension_date=extended.isoformat() if extended else "",
            end_date=end.isoformat(),
        )

    def other_actions(self, count: int, *, inspections: Sequence[Inspection]) -> Iterator[OtherAction]:
        """Interviews, warnings and notices; about 80% follow one of ``inspections`` (failed ones preferred).

        Each ends on its start day or within 30 days after. Numbers look like ``330106QT202300000042``.
        """
        if not inspections:
            raise ValueError("other actions need at least one inspection")
        sources = failed_first(inspections)
        rng = self._rng("other_actions")
        return (self._other_action(rng, n, pick(rng, sources)) for n in range(1, count + 1))

    def _other_action(self, rng: random.Random, n: int, source: Inspection) -> OtherAction:
        county = self._county_of(rng, source.header.region_code)
        agency = _agency_index(source)
        matter = OTHER_MATTERS[agency]
        start = date.fromisoformat(source.action_date) + timedelta(days=rng.randint(1, 20))
        end = start + timedelta(days=rng.randint(0, 30))
        followed = rng.random() < 0.8
        return OtherAction(
            header=self._action_header(rng, county, agency=agency, matter_code=matter.code, source=source, end=end),
            action_number=f"{county}QT{start.year}{n:08d}",
            action_name=matter.name,
            start_date=start.isoformat(),
            inspection_number=source.action_number if followed else "",
            source="监督检查" if followed else pick(rng, _OTHER_SOURCES),
            measure=pick(rng, matter.measures),
            outcome=pick(rng, _OUTCOMES),
            end_date=end.isoformat(),
        )

    def _action_header(
        self, rng: random.Random, county: str, *, agency: int, matter_code: str, source: Inspection, end: date
    ) -> ActionHeader:
        """The header of an action of ``county``'s agency about ``source``'s counterparty, submitted after ``end``."""
        acting = self._agencies[county][agency]
        return ActionHeader(
            matter_code=matter_code,
            impl_list_code=action_impl_code(acting.credit_code, matter_code),
            agency_name=acting.name,
            agency_credit_code=acting.credit_code,
            object_type=source.header.object_type,
            counterparty=source.header.counterparty,
            region_code=county,
            submitted_at_us=after(rng, end),
            submitter=rng.choice(self._inspectors[county]).name,
        )


def _agency_index(source: Inspection) -> int:
    """The agency (index into AGENCIES) whose matter ``source`` inspected; market regulation when unknown."""
    spec = MATTER_BY_CODE.get(source.header.matter_code)
    return spec.agency if spec is not None else 0
