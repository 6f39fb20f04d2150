"""What a subscriber may see of a record: its region subtree, its predicates, its fields, personal data protected.

Delivery, the table and file sinks, queries and exports all go through one
:class:`View` per subscription, so a subscriber gets the same records and the
same fields whichever way it reads them.

A record is seen as its CSV row (``adapters.csv_records.to_row``: the catalog's
field names, every value a string). The view keeps it when its region code lies
in the subscription's region subtree and every predicate holds, then keeps only
the fields granted and protects personal values unless the subscription is
entitled to them (see :mod:`exchange_registry._personal`).

Predicates name an *indexed* field of the resource (:func:`indexed_fields`:
the uid fields, the region, dates and instants, and codes) with one of
``= != < <= > >= ^=`` (``^=`` is "starts with"): ``decision_date>=2026-01-01``,
``matter_code^=3301``. Integers compare as numbers, everything else as text
(ISO dates and instants order correctly as text).
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from adapters.csv_records import DATASET_TYPES
from exchange_registry._catalog import CatalogEntry
from exchange_registry._personal import Protector, mask_birth_date, mask_name
from governance import uid_fields

__all__ = [
    "FREE_TEXT_FIELDS",
    "Predicate",
    "SubscriptionError",
    "View",
    "indexed_fields",
    "parse_predicate",
    "parse_predicates",
    "region_field",
]

FREE_TEXT_FIELDS: Final = frozenset({"details", "facts", "text", "title", "outcome", "result"})
"""Fields of free text: phone and ID numbers written into them are protected too."""


class SubscriptionError(ValueError):
    """An application, a filter or an act on a subscription that the rules do not allow."""


_PREDICATE: Final = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(!=|<=|>=|\^=|=|<|>)\s*(.*?)\s*$")
_OPS: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# how each personal field is protected; counterparty fields only when the counterparty is a citizen
_ID_FIELDS: Final = frozenset({"counterparty_cert_number", "id_number"})
_NAME_FIELDS: Final = frozenset({"counterparty_name", "legal_representative", "name", "submitter"})
_ADDRESS_FIELDS: Final = frozenset({"counterparty_registered_address", "counterparty_operating_address"})
_CITIZEN: Final = "1"


def region_field(entry: CatalogEntry) -> str:
    """The field holding a record's region code, or "" when the resource has none."""
    return "region_code" if entry.field("region_code") is not None else ""


def indexed_fields(entry: CatalogEntry) -> tuple[str, ...]:
    """Fields a predicate may name: uid fields, region, dates and instants, and ``*_code`` fields."""
    keys = set(uid_fields(DATASET_TYPES[entry.dataset]))
    return tuple(
        f.name
        for f in entry.fields
        if f.name in keys or f.type in ("date", "instant", "integer", "money_fen") or f.name.endswith("_code")
    )


@dataclass(frozen=True, slots=True)
class Predicate:
    """``field op value`` on one indexed field."""

    field: str
    op: str
    value: str

    def holds(self, row: Mapping[str, str]) -> bool:
        """Whether the row's value of the field satisfies the predicate (a missing field never does)."""
        have = row.get(self.field)
        if have is None:
            return False
        if self.op == "^=":
            return have.startswith(self.value)
        left: object = have
        right: object = self.value
        if _is_int(have) and _is_int(self.value):
            left, right = int(have), int(self.value)
        return _OPS[self.op](left, right)

    def __str__(self) -> str:
        return f"{self.field}{self.op}{self.value}"


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def parse_predicate(text: str, entry: CatalogEntry) -> Predicate:
    """Read ``field op value``; SubscriptionError naming the indexed fields when the field is not one."""
    match = _PREDICATE.match(text)
    if match is None:
        raise SubscriptionError(f"predicate {text!r} is not 'field op value' with op one of = != < <= > >= ^=")
    name, op, value = match.groups()
    if name not in indexed_fields(entry):
        raise SubscriptionError(
            f"predicate {text!r}: {name} is not an indexed field of {entry.resource_code}; "
            f"indexed: {', '.join(indexed_fields(entry))}"
        )
    return Predicate(name, op, value)


def parse_predicates(texts: Sequence[str], entry: CatalogEntry) -> tuple[Predicate, ...]:
    """Every predicate read, or one SubscriptionError naming each bad one."""
    parsed, problems = [], []
    for text in texts:
        try:
            parsed.append(parse_predicate(text, entry))
        except SubscriptionError as exc:
            problems.append(str(exc))
    if problems:
        raise SubscriptionError("; ".join(problems))
    return tuple(parsed)


@dataclass(frozen=True, slots=True)
class View:
    """What one subscription sees of the records of its resource."""

    entry: CatalogEntry
    fields: tuple[str, ...]  # granted, in catalog order
    region: str = ""  # region code prefix; "" all
    predicates: tuple[Predicate, ...] = ()
    personal: bool = False  # entitled to personal data
    protector: Protector | None = None  # required when not entitled
    personal_fields: frozenset[str] = dataclasses.field(init=False, default=frozenset())  # of the granted fields
    uid_is_personal: bool = dataclasses.field(init=False, default=False)  # the uid is an ID number

    def __post_init__(self) -> None:
        """Refuse a view that could leak: not entitled to personal data and nothing to protect it with."""
        if not self.personal and self.protector is None:
            raise ValueError("a view without personal-data entitlement needs a Protector")
        personal = frozenset(f.name for f in self.entry.fields if f.personal and f.name in self.fields)
        object.__setattr__(self, "personal_fields", personal)
        uid_personal = any(name in _ID_FIELDS for name in uid_fields(DATASET_TYPES[self.entry.dataset]))
        object.__setattr__(self, "uid_is_personal", uid_personal)

    def admits(self, row: Mapping[str, str]) -> bool:
        """Whether the record is in the subscription's region and satisfies every predicate."""
        if self.region and not row.get("region_code", "").startswith(self.region):
            return False
        return all(p.holds(row) for p in self.predicates)

    def show(self, row: Mapping[str, str]) -> dict[str, str]:
        """The granted fields of a record, personal values protected unless entitled."""
        shown = {name: row.get(name, "") for name in self.fields}
        if self.personal:
            return shown
        assert self.protector is not None  # guaranteed by __post_init__
        citizen = row.get("counterparty_nature", _CITIZEN) in (_CITIZEN, "")
        for name, value in shown.items():
            if value:
                shown[name] = self._protect(name, value, citizen, self.protector)
        return shown

    def protected_uid(self, uid: str) -> str:
        """The record uid as the subscriber sees it: pseudonymised when it is a personal identifier."""
        if self.personal or not self.uid_is_personal:
            return uid
        assert self.protector is not None  # guaranteed by __post_init__
        return self.protector.pseudonym(uid)

    def _protect(self, name: str, value: str, citizen: bool, protector: Protector) -> str:
        if name in FREE_TEXT_FIELDS:
            return protector.text(value)
        if name not in self.personal_fields or (name.startswith("counterparty_") and not citizen):
            return value
        if name in _ID_FIELDS:
            return protector.pseudonym(value) if self.uid_is_personal else protector.identifier(value, "id_number")
        return _MASKERS.get(name, _hidden)(value)


def _mask_inspectors(value: str) -> str:
    """``name|certificate;...`` (as ``to_row`` writes inspectors) with each name masked."""
    return ";".join(mask_name(name) + sep + cert for name, sep, cert in (p.partition("|") for p in value.split(";")))


def _mask_address(value: str) -> str:
    return value[:6] + "***"


def _hidden(value: str) -> str:
    return "*"


_MASKERS: Final[Mapping[str, Callable[[str], str]]] = {
    **dict.fromkeys(_NAME_FIELDS, mask_name),
    **dict.fromkeys(_ADDRESS_FIELDS, _mask_address),
    "inspectors": _mask_inspectors,
    "birth_date": mask_birth_date,
}
