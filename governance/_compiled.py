"""Fast acceptance of valid records, for bulk intake: a yes that :func:`governance.validate` would give too.

An acceptor looks at a record's field values laid out flat (see
:func:`compile_acceptor`) and answers True only when :func:`validate` would
return no problem at all. It never explains: False means "ask :func:`validate`",
which then names every problem. So an acceptor may be stricter than the rules,
never looser, and the rules keep one home.

What makes it fast: the code checks (matter, implementation-list, credit and
ID numbers, region codes on a day) are pure functions of a few values that
repeat across a file (one agency, a few thousand counterparties), so their
verdicts are cached; dates are read once per distinct text. An ID number's
verdict depends on today (a birth date may not be in the future), but only a
yes is cached and a yes stays a yes as days pass.

Acceptors exist for the high-volume action datasets (inspections, penalties);
:func:`compile_acceptor` returns None for the others, and for a record class
whose fields differ from the ones these rules were written for.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Final

from governance._clean_base import CHINA_TZ
from governance._records import ActionHeader, Counterparty, Inspection, Penalty
from governance._validate_base import FLAGS, REGION
from governance.codes import check_id_number, check_impl_list_code, check_matter_code, check_region_code, check_uscc

__all__ = ["Acceptor", "compile_acceptor", "day_start_us"]

Acceptor = Callable[[Sequence[Any]], bool]
_CACHE: Final = 1 << 16
_DISCLOSURE: Final = frozenset({"", "0", "1", "2"})
_MAX_ACTION_NUMBER: Final = 50
_US_PER_DAY: Final = 86_400_000_000


@functools.lru_cache(maxsize=_CACHE)
def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=_CACHE)
def day_start_us(day: date) -> int:
    """Midnight China time of ``day`` in microseconds, computed as ingest dates records by it."""
    return int(datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ).timestamp() * 1_000_000)


@functools.lru_cache(maxsize=_CACHE)
def _matter_ok(code: str) -> bool:
    return check_matter_code(code).ok


@functools.lru_cache(maxsize=_CACHE)
def _impl_ok(code: str, agency: str) -> bool:
    return check_impl_list_code(code, agency_credit_code=agency).ok


@functools.lru_cache(maxsize=_CACHE)
def _region_ok(code: str, day: date) -> bool:
    return REGION.match(code) is not None and check_region_code(code, day).ok


@functools.lru_cache(maxsize=_CACHE)
def _uscc_ok(code: str) -> bool:
    return check_uscc(code).ok


@functools.lru_cache(maxsize=_CACHE)
def _cert_ok(cert_type: str, number: str) -> bool:
    if cert_type == "uscc":
        return check_uscc(number).ok
    if cert_type == "id_card":
        return check_id_number(number).ok
    return True


def _submitted_on_or_after(submitted_us: int, day: date) -> bool:
    """Whether the submission's China date is not before ``day`` (exact where float rounding could matter)."""
    start = day_start_us(day)
    if submitted_us >= start + 1_000_000:
        return True
    if submitted_us < start - _US_PER_DAY:
        return False
    return datetime.fromtimestamp(submitted_us / 1e6, CHINA_TZ).date() >= day


def _fields_of(*classes: type) -> frozenset[tuple[type, str]]:
    return frozenset((cls, f.name) for cls in classes for f in dataclasses.fields(cls))


class _Layout:
    """Where each (class, field) sits in the flat values."""

    def __init__(self, fields: Sequence[tuple[type, str]]) -> None:
        self._index = {key: i for i, key in enumerate(fields)}

    def __call__(self, owner: type, name: str) -> int:
        return self._index[(owner, name)]


def _header_acceptor(at: _Layout) -> Callable[[Sequence[Any], date], bool]:
    """The header rules of every action (``header_problems``), for the action's day."""
    matter, impl, agency = (
        at(ActionHeader, "matter_code"),
        at(ActionHeader, "impl_list_code"),
        at(ActionHeader, "agency_credit_code"),
    )
    region, submitted = at(ActionHeader, "region_code"), at(ActionHeader, "submitted_at_us")
    party, cert_type, cert = at(Counterparty, "name"), at(Counterparty, "cert_type"), at(Counterparty, "cert_number")

    def accept(values: Sequence[Any], day: date) -> bool:
        return bool(
            _matter_ok(values[matter])
            and (not values[impl] or _impl_ok(values[impl], values[agency]))
            and _region_ok(values[region], day)
            and (not values[agency] or _uscc_ok(values[agency]))
            and values[party]
            and _cert_ok(values[cert_type], values[cert])
            and _submitted_on_or_after(values[submitted], day)
        )

    return accept


def _inspection(at: _Layout) -> Acceptor:
    header_ok = _header_acceptor(at)
    number, action_date, inspectors = (
        at(Inspection, "action_number"),
        at(Inspection, "action_date"),
        at(Inspection, "inspectors"),
    )

    def accept(values: Sequence[Any]) -> bool:
        day = _day(values[action_date])
        return (
            day is not None
            and len(values[number]) <= _MAX_ACTION_NUMBER
            and header_ok(values, day)
            and sum(1 for name, cert in values[inspectors] if name and cert) >= 2
        )

    return accept


def _penalty(at: _Layout) -> Acceptor:
    header_ok = _header_acceptor(at)
    filing, decision, closing = at(Penalty, "filing_date"), at(Penalty, "decision_date"), at(Penalty, "closing_date")
    kinds, fine, paid = at(Penalty, "kinds"), at(Penalty, "fine_fen"), at(Penalty, "paid_fen")
    flags = [at(Penalty, name) for name in ("hearing_held", "criminal_case", "major_case")]
    disclosure = at(Penalty, "disclosure_status")

    def accept(values: Sequence[Any]) -> bool:
        filed, decided = _day(values[filing]), _day(values[decision])
        if filed is None or decided is None or decided < filed or not header_ok(values, decided):
            return False
        if values[closing]:
            closed = _day(values[closing])
            if closed is None or closed <= filed:
                return False
        return bool(
            values[kinds]
            and values[fine] >= 0
            and values[paid] >= 0
            and all(values[i] in FLAGS for i in flags)
            and values[disclosure] in _DISCLOSURE
        )

    return accept


# record class -> (the fields the rules were written for, the acceptor's compiler)
_ACCEPTORS: Final[dict[type, tuple[frozenset[tuple[type, str]], Callable[[_Layout], Acceptor]]]] = {
    Inspection: (
        _fields_of(Inspection, ActionHeader, Counterparty) - {(Inspection, "header"), (ActionHeader, "counterparty")},
        _inspection,
    ),
    Penalty: (
        _fields_of(Penalty, ActionHeader, Counterparty) - {(Penalty, "header"), (ActionHeader, "counterparty")},
        _penalty,
    ),
}


def compile_acceptor(cls: type, fields: Sequence[tuple[type, str]]) -> Acceptor | None:
    """An acceptor of ``cls`` records whose flat values name the ``(declaring class, field)`` of ``fields``.

    Lists of objects come as tuples of field tuples (inspectors as ``(name, cert_number)``),
    instants as microseconds. None when there is no acceptor for ``cls`` or its
    fields are not those the acceptor was written for.
    """
    known = _ACCEPTORS.get(cls)
    if known is None or frozenset(fields) != known[0]:
        return None
    return known[1](_Layout(fields))
