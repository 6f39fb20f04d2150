"""The resource catalog: every dataset a node offers, as government data-sharing catalogs describe it.

An entry names the resource (code = the node's classification code + a
sequence number fixed per dataset), its provider (node and department), its
fields as subscribers see them (the dataset's CSV columns: name, type, whether
they hold personal data), its sharing class (无条件共享 unconditional, 有条件共享
conditional with its conditions, 不予共享 not shared), its update cycle and the
schema version of its records. Every dataset of the node is in its catalog; a
resource that is not shared is listed as such, as catalogs do, so that a
department can see it exists and why it cannot have it.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from adapters.csv_records import DATASET_TYPES, columns

__all__ = [
    "DATASET_NAMES",
    "CatalogEntry",
    "FieldDescriptor",
    "SharingClass",
    "UpdateCycle",
    "build_catalog",
    "field_descriptors",
    "resource_sequence",
]

SharingClass = Literal["unconditional", "conditional", "not_shared"]
UpdateCycle = Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]

DATASET_NAMES: Final[Mapping[str, str]] = {
    "regulated_object": "监管对象信息",
    "inspection": "行政检查行为信息",
    "penalty": "行政处罚行为信息",
    "complaint": "投诉举报信息",
    "credit_grade": "信用风险分类结果",
    "list_entry": "经营异常名录和严重违法失信名单",
    "enforcement": "行政强制行为信息",
    "other_action": "其他监管行为信息",
    "public_opinion": "舆情信息",
    "personnel": "执法人员信息",
    "matter": "监管事项目录主项",
    "matter_sub": "监管事项目录子项",
    "impl_list": "检查实施清单",
    "matter_mapping": "监管事项国家-地方对应关系",
}
"""The catalog name of each dataset (the name departments know it by), in resource-code order."""

# the sequence number of each dataset's resource code: its place in DATASET_NAMES, whose order is
# fixed so codes never move (new datasets append)
_SEQUENCE: Final[Mapping[str, int]] = {dataset: n for n, dataset in enumerate(DATASET_NAMES, 1)}

# a citizen counterparty's addresses are where the person lives or works
_CITIZEN_ADDRESS: Final = ("counterparty_registered_address", "counterparty_operating_address")
# columns that hold personal data (ID numbers, a person's name or birth date), per dataset
_PERSONAL: Final[Mapping[str, frozenset[str]]] = {
    "regulated_object": frozenset({"legal_representative"}),
    # an action's counterparty may be a citizen (nature 1): name and ID number are then personal
    "inspection": frozenset({"counterparty_name", "counterparty_cert_number", "inspectors", "submitter"}),
    "penalty": frozenset({"counterparty_name", "counterparty_cert_number", *_CITIZEN_ADDRESS, "submitter"}),
    "enforcement": frozenset({"counterparty_name", "counterparty_cert_number", *_CITIZEN_ADDRESS, "submitter"}),
    "other_action": frozenset({"counterparty_name", "counterparty_cert_number", *_CITIZEN_ADDRESS, "submitter"}),
    "complaint": frozenset({"details"}),
    "personnel": frozenset({"id_number", "name", "sex", "birth_date"}),
}

# the sharing class a resource has unless the node's [catalog] says otherwise: what the law
# makes public (objects, public lists, the catalog of matters) is unconditional; records that
# name persons or carry internal assessments are conditional
_DEFAULT_SHARING: Final[Mapping[str, SharingClass]] = {
    "regulated_object": "unconditional",
    "list_entry": "unconditional",
    "matter": "unconditional",
    "matter_sub": "unconditional",
    "impl_list": "unconditional",
    "matter_mapping": "unconditional",
}
_DEFAULT_CONDITIONS: Final = "for the applying department's supervision duties; reviewed by the provider"


@dataclass(frozen=True, slots=True)
class FieldDescriptor:
    """One field of a resource as subscribers see it (a column of the dataset's CSV shape)."""

    name: str
    type: str  # string, integer, instant, money_fen, date, list
    personal: bool = False


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One resource of a node's catalog."""

    resource_code: str
    dataset: str
    name: str
    provider_node: str
    provider_department: str
    fields: tuple[FieldDescriptor, ...]
    sharing_class: SharingClass
    conditions: str
    update_cycle: str
    schema_version: int

    def field(self, name: str) -> FieldDescriptor | None:
        """The field called ``name``, if the resource has it."""
        return next((f for f in self.fields if f.name == name), None)


def resource_sequence(dataset: str) -> int:
    """The fixed sequence number of a dataset's resource code."""
    return _SEQUENCE[dataset]


def _column_type(name: str, hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        return "list"
    if name.endswith("_fen"):
        return "money_fen"
    if hint is int:
        return "integer"
    if name.endswith(("_date", "_on")):
        return "date"
    return "string"


def field_descriptors(dataset: str) -> tuple[FieldDescriptor, ...]:
    """The fields of a dataset's resource: its CSV columns with their types and personal-data flags."""
    cls = DATASET_TYPES[dataset]
    types: dict[str, str] = {}
    _collect_types(cls, "", types)
    personal = _PERSONAL.get(dataset, frozenset())
    return tuple(FieldDescriptor(c, types.get(c, "string"), c in personal) for c in columns(cls))


def _collect_types(cls: type, prefix: str, out: dict[str, str]) -> None:
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            _collect_types(hint, "" if field.name == "header" else f"{prefix}{field.name}_", out)
        elif field.name.endswith("_us"):
            out[prefix + field.name.removesuffix("_us")] = "instant"
        else:
            out[prefix + field.name] = _column_type(field.name, hint)


def build_catalog(
    *,
    node_id: str,
    classification: str,
    department: str,
    schema_versions: Mapping[str, int],
    overrides: Sequence[Mapping[str, Any]] = (),
) -> list[CatalogEntry]:
    """The catalog of a node: every dataset, with its defaults and the node's ``overrides``.

    An override is a mapping with ``dataset`` and any of ``name``, ``department``,
    ``sharing_class``, ``conditions`` and ``update_cycle``.
    """
    by_dataset = {item["dataset"]: item for item in overrides}
    unknown = sorted(set(by_dataset) - set(DATASET_TYPES))
    if unknown:
        raise ValueError(f"catalog: unknown dataset {unknown[0]!r}; known: {', '.join(sorted(DATASET_TYPES))}")
    entries = []
    for dataset in sorted(DATASET_TYPES, key=resource_sequence):
        given = by_dataset.get(dataset, {})
        sharing: SharingClass = given.get("sharing_class") or _DEFAULT_SHARING.get(dataset, "conditional")
        entries.append(
            CatalogEntry(
                resource_code=f"{classification}-{resource_sequence(dataset):04d}",
                dataset=dataset,
                name=given.get("name") or DATASET_NAMES[dataset],
                provider_node=node_id,
                provider_department=given.get("department") or department,
                fields=field_descriptors(dataset),
                sharing_class=sharing,
                conditions=given.get("conditions") or (_DEFAULT_CONDITIONS if sharing == "conditional" else ""),
                update_cycle=given.get("update_cycle") or "daily",
                schema_version=schema_versions.get(dataset, 1),
            )
        )
    return entries
