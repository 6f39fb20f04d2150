"""Applying for, reviewing and revoking subscriptions to this node's resources (``jgnode subscription``).

Delivery (the subscribe stream, the table and file sinks) builds on these
records in a later part of issue 5; a subscription that is not ``active`` on
the day delivers nothing.
"""

from __future__ import annotations

from datetime import date

from exchange_registry import Application, SubscriptionError, check_application, fields_granted, first_state, next_state
from exchange_registry import effective_state as _effective
from node.catalog import find_resource, node_catalog
from node.errors import ConfigError, NotFoundError
from node.settings import NodeSettings
from node.store import Store, Subscription, SubscriptionBook

__all__ = ["act_on", "apply_for", "effective_state"]


def apply_for(
    store: Store, settings: NodeSettings, application: Application, *, today: date, now_us: int
) -> Subscription:
    """Record an application: active, awaiting review or refused by the resource's sharing class.

    Raises ConfigError when the application breaks a rule (nothing is recorded then).
    """
    entry = find_resource(node_catalog(settings), application.resource_code)
    try:
        check_application(application, entry, today=today)
    except SubscriptionError as exc:
        raise ConfigError(f"application refused: {exc}") from None
    state, reason = first_state(entry, personal=application.personal)
    book = SubscriptionBook(store)
    ident = book.add(
        {
            "subscriber": application.subscriber,
            "resource_code": entry.resource_code,
            "dataset": entry.dataset,
            "purpose": application.purpose,
            "fields": fields_granted(application, entry),
            "region": application.region,
            "filters": application.filters,
            "personal": application.personal,
            "valid_from": application.valid_from,
            "valid_until": application.valid_until,
            "state": state,
            "reason": reason,
        },
        now_us=now_us,
    )
    return book.find(ids=[ident])[0]


def act_on(store: Store, ident: int, act: str, *, by: str, reason: str, now_us: int) -> Subscription:
    """Approve, reject or revoke subscription ``ident``; ConfigError when the act does not apply to it."""
    book = SubscriptionBook(store)
    found = book.find(ids=[ident])
    if not found:
        raise NotFoundError(f"no subscription {ident}")
    try:
        state = next_state(found[0].state, act, ident=ident)
    except SubscriptionError as exc:
        raise ConfigError(str(exc)) from None
    if not reason.strip() and act != "approve":
        raise ConfigError(f"say why you {act} subscription {ident} (--reason)")
    if not book.move(found[0], state=state, by=by, reason=reason or f"approved by {by}", now_us=now_us):
        raise ConfigError(f"subscription {ident} changed meanwhile; look at it again")
    return book.find(ids=[ident])[0]


def effective_state(subscription: Subscription, *, today: date) -> str:
    """The subscription's state on ``today`` (active past its period: expired)."""
    return _effective(subscription.state, subscription.valid_until, today=today)
