"""Subscriptions: apply -> approve -> active -> expired or revoked, deny by default.

What an application may ask for, and where it goes first, depends on the
resource's sharing class in the provider's catalog:

- unconditional (无条件共享): active at once;
- conditional (有条件共享): ``applied``, until the provider approves or rejects it;
- not shared (不予共享): refused at once, with the reason.

An application must name a resource of the catalog, a purpose, fields the
resource has (none: all of them) and a period that has not ended. Only an
``applied`` subscription can be approved or rejected, only an ``active`` one
revoked; an active subscription past its period is ``expired``. These rules are
pure functions here; the store keeps the subscriptions and audits every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from exchange_registry._catalog import CatalogEntry
from exchange_registry._entitlement import SubscriptionError, parse_predicates, region_field

__all__ = [
    "Application",
    "SubscriptionError",
    "SubscriptionState",
    "check_application",
    "effective_state",
    "fields_granted",
    "first_state",
    "next_state",
]

SubscriptionState = Literal["applied", "active", "rejected", "refused", "revoked", "expired"]
_ACTS: Final[dict[str, tuple[SubscriptionState, SubscriptionState]]] = {
    "approve": ("applied", "active"),
    "reject": ("applied", "rejected"),
    "revoke": ("active", "revoked"),
}


@dataclass(frozen=True, slots=True)
class Application:
    """What a department asks for."""

    subscriber: str  # the department (its certificate's name once departments have certificates)
    resource_code: str
    purpose: str
    fields: tuple[str, ...] = ()  # () = every field of the resource
    region: str = ""  # only records of this region subtree; "" = all the provider holds
    valid_from: str = ""  # ISO date; "" = from the approval
    valid_until: str = ""  # ISO date, inclusive
    filters: tuple[str, ...] = ()  # predicates "field op value" on indexed fields (see _entitlement)
    personal: bool = False  # asks to see personal data unprotected (always needs the provider's review)


def check_application(application: Application, entry: CatalogEntry, *, today: date) -> None:
    """Raise SubscriptionError naming every rule the application breaks."""
    problems = []
    if not application.subscriber.strip():
        problems.append("no subscriber")
    if not application.purpose.strip():
        problems.append("no purpose: say what the data is for")
    unknown = [name for name in application.fields if entry.field(name) is None]
    if unknown:
        problems.append(f"{entry.resource_code} has no field {', '.join(unknown)}")
    if application.region and not (application.region.isdigit() and len(application.region) in (2, 4, 6)):
        problems.append(f"region {application.region!r} is not a 2-, 4- or 6-digit region code prefix")
    elif application.region and not region_field(entry):
        problems.append(
            f"{entry.resource_code} has no region field: it cannot be limited to region {application.region}"
        )
    try:
        parse_predicates(application.filters, entry)
    except SubscriptionError as exc:
        problems.append(str(exc))
    start = _date("valid_from", application.valid_from, problems)
    end = _date("valid_until", application.valid_until, problems)
    if end is not None and end < today:
        problems.append(f"the period ended on {end}")
    if start is not None and end is not None and end < start:
        problems.append(f"valid_until {end} is before valid_from {start}")
    if problems:
        raise SubscriptionError("; ".join(problems))


def _date(name: str, text: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name} {text!r} is not a date (YYYY-MM-DD)")
        return None


def first_state(entry: CatalogEntry, *, personal: bool = False) -> tuple[SubscriptionState, str]:
    """Where an application that passed :func:`check_application` starts, and why.

    Personal data unprotected is never granted without the provider's review,
    even on an unconditional resource.
    """
    if entry.sharing_class == "unconditional" and personal and any(f.personal for f in entry.fields):
        return "applied", "personal data asked for: the provider reviews it"
    if entry.sharing_class == "unconditional":
        return "active", "unconditional sharing: active on application"
    if entry.sharing_class == "conditional":
        return "applied", f"conditional sharing: the provider reviews it ({entry.conditions or 'no conditions stated'})"
    return "refused", f"{entry.resource_code} is not shared (不予共享)"


def next_state(state: str, act: str, *, ident: int) -> SubscriptionState:
    """The state after ``act`` (approve, reject, revoke); SubscriptionError when the act does not apply."""
    if act not in _ACTS:
        raise SubscriptionError(f"unknown act {act!r}; known: {', '.join(_ACTS)}")
    before, after = _ACTS[act]
    if state != before:
        raise SubscriptionError(f"subscription {ident} is {state}: only an {before} subscription can be {act}d")
    return after


def effective_state(state: str, valid_until: str, *, today: date) -> str:
    """The state as of ``today``: an active subscription past its period is expired."""
    if state == "active" and valid_until and date.fromisoformat(valid_until) < today:
        return "expired"
    return state


def fields_granted(application: Application, entry: CatalogEntry) -> tuple[str, ...]:
    """The fields a subscription delivers: those asked for, or all of the resource's."""
    return application.fields or tuple(f.name for f in entry.fields)
