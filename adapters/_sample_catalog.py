"""Sample records of the regulatory matters catalog: one catalog version with every matter the samples cite.

Main items and sub-items for the inspection, penalty, enforcement and other
matters, the implementation lists the sample inspections cite (per county
agency), and an illustrative national code per local matter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from adapters._sample_base import AGENCIES, INSPECTION_METHODS, MATTERS, GeneratorState, pick
from governance._records_catalog import ImplList, Matter, MatterMapping, MatterSub

__all__ = [
    "CATALOG_VERSION",
    "ENFORCEMENT_MATTERS",
    "OTHER_MATTERS",
    "ActionMatter",
    "CatalogSamples",
    "action_impl_code",
]

CATALOG_VERSION: Final = ("20211231000001", "2021-12-31")
"""(version id, version date) of the sample catalog, published before the data period."""


@dataclass(frozen=True, slots=True)
class ActionMatter:
    """The enforcement or other-action matter of one agency, and the measures it takes."""

    code: str
    name: str
    legal_basis: str
    measures: tuple[str, ...]


# per agency (index into AGENCIES)
ENFORCEMENT_MATTERS: Final = (
    ActionMatter("33010300000001", "对涉嫌违法财物的查封扣押", "《中华人民共和国行政强制法》",
                 ("查封场所、设施或者财物", "扣押财物")),
    ActionMatter("33020300000001", "对公共场所危害健康物品的封存", "《公共场所卫生管理条例》", ("封存物品",)),
    ActionMatter("33030300000001", "对存在重大事故隐患设施设备的查封扣押", "《中华人民共和国安全生产法》",
                 ("查封场所、设施或者财物", "扣押设备")),
)  # fmt: skip
OTHER_MATTERS: Final = (
    ActionMatter("33010400000001", "对经营者的行政约谈", "《中华人民共和国消费者权益保护法》",
                 ("行政约谈", "行政提示", "责令改正通知")),
    ActionMatter("33020400000001", "对公共场所经营者的卫生监督意见", "《公共场所卫生管理条例实施细则》",
                 ("卫生监督意见书", "行政提示")),
    ActionMatter("33030400000001", "对生产经营单位的安全生产约谈", "《中华人民共和国安全生产法》",
                 ("安全生产约谈", "行政告诫")),
)  # fmt: skip

# per action type: (form, method, process, result) of a sub-item
_SUB_TEXTS: Final = {
    "0": ("双随机抽查", "实地核查", "制定计划-随机抽取-实施检查-公示结果", "检查结果依法公示"),
    "1": ("行政处罚", "调查取证", "立案-调查取证-告知-决定-执行", "作出行政处罚决定"),
    "2": ("行政强制措施", "查封扣押", "审批-告知-实施-解除或处理", "依法解除或作出处理决定"),
    "3": ("行政指导", "约谈告诫", "发现问题-约谈告知-整改跟踪", "督促整改到位"),
}
_OBJECT_CATEGORIES: Final = ("企业、个体工商户", "公共场所经营者", "生产经营单位")  # per agency
_RATIOS_BP: Final = (100, 200, 300, 500, 1000)
_FREQUENCIES: Final = ("每年1次", "每半年1次", "每季度1次")


def action_impl_code(agency_credit_code: str, matter_code: str) -> str:
    """The county-level implementation-list code of an enforcement or other-action matter.

    Its agency part is 8 digits (action type and serial), so it never equals an
    inspection list's 6-digit one.
    """
    return f"{agency_credit_code}4{matter_code[4:6]}{matter_code[-6:]}"


def _catalog_rows() -> tuple[tuple[str, str, int, str, str], ...]:
    """(matter code, name, agency index, action type, legal basis) of every matter the samples cite."""
    inspections = [(m.code, m.name, m.agency, "0", m.legal_basis) for m in MATTERS]
    penalties = [(m.penalty_code, m.penalty_name, m.agency, "1", m.legal_basis) for m in MATTERS]
    enforcement = [(m.code, m.name, i, "2", m.legal_basis) for i, m in enumerate(ENFORCEMENT_MATTERS)]
    other = [(m.code, m.name, i, "3", m.legal_basis) for i, m in enumerate(OTHER_MATTERS)]
    return (*inspections, *penalties, *enforcement, *other)


class CatalogSamples(GeneratorState):
    """The catalog part of the sample generator."""

    def matters(self) -> list[Matter]:
        """Main items (all in use) of every matter the sample actions cite."""
        version, day = CATALOG_VERSION
        return [
            Matter(
                matter_code=code,
                name=name,
                version_id=version,
                version_date=day,
                department=AGENCIES[agency][0],
                power_item_code=f"{code[:2]}{code[4:6]}{code[-8:]}",  # illustrative 12-digit power-item code
            )
            for code, name, agency, _type, _basis in _catalog_rows()
        ]

    def matter_subs(self) -> list[MatterSub]:
        """One sub-item (``<matter code>001``) per main item, in force from the catalog date."""
        version, day = CATALOG_VERSION
        subs = []
        for code, name, agency, action_type, basis in _catalog_rows():
            form, method, process, result = _SUB_TEXTS[action_type]
            subs.append(
                MatterSub(
                    sub_code=f"{code}001",
                    matter_code=code,
                    name=name,
                    version_id=version,
                    version_date=day,
                    action_type=action_type,
                    object_category=_OBJECT_CATEGORIES[agency],
                    form=form,
                    method=method,
                    legal_basis=basis,
                    process=process,
                    result=result,
                    supervision_level="县级",
                    effective_date=day,
                )
            )
        return subs

    def impl_lists(self) -> list[ImplList]:
        """The implementation lists of each county agency: one per inspection, enforcement and other matter.

        The inspection lists are the ones sample inspections (and penalties) cite;
        enforcement and other-action lists are outside the random-inspection pool.
        """
        rng = self._rng("impl_lists")
        lists: list[ImplList] = []
        for county in self._counties:
            lists.extend(
                self._impl_list(rng, matter.code, agency.name, agency.credit_code, code)
                for matter, agency, code in self._matter_rows[county]
            )
            lists.extend(self._action_impl_lists(county))
        return lists

    def _action_impl_lists(self, county: str) -> list[ImplList]:
        version, day = CATALOG_VERSION
        return [
            ImplList(
                impl_list_code=action_impl_code(agency.credit_code, matter.code),
                matter_code=matter.code,
                level="4",
                agency_name=agency.name,
                agency_credit_code=agency.credit_code,
                version_id=version,
                version_date=day,
                sub_code=f"{matter.code}001",
                random_pool="2",
                frequency="按需",
                content_kind="special",
            )
            for matters in (ENFORCEMENT_MATTERS, OTHER_MATTERS)
            for matter, agency in zip(matters, self._agencies[county], strict=True)
        ]

    @staticmethod
    def _impl_list(rng: random.Random, matter_code: str, agency: str, agency_code: str, code: str) -> ImplList:
        version, day = CATALOG_VERSION
        in_pool = rng.random() < 0.85
        return ImplList(
            impl_list_code=code,
            matter_code=matter_code,
            level=code[18],
            agency_name=agency,
            agency_credit_code=agency_code,
            version_id=version,
            version_date=day,
            sub_code=f"{matter_code}001",
            inspection_category="1" if rng.random() < 0.8 else "2",
            inspection_method=pick(rng, INSPECTION_METHODS),
            random_pool="1" if in_pool else "2",
            inspection_ratio_bp=pick(rng, _RATIOS_BP) if in_pool else 0,
            frequency=pick(rng, _FREQUENCIES),
            content_kind="routine" if rng.random() < 0.8 else "special",
            collaborative="1" if rng.random() < 0.15 else "0",
        )

    def matter_mappings(self) -> list[MatterMapping]:
        """Each local matter code and an illustrative national code (``00`` for the province prefix)."""
        version, day = CATALOG_VERSION
        return [
            MatterMapping(local_code=code, national_code=f"00{code[2:]}", version_id=version, mapped_on=day)
            for code, *_rest in _catalog_rows()
        ]
