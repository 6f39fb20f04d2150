"""Subscriptions held by a provider node, and every change to them, audited in the same transaction.

The rules (what an application may ask for, where it starts, which act leads
where) are ``exchange_registry``'s; this keeps the rows. Audit kinds:
``subscription_<state>`` with the subscriber, the resource, who acted and why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Column, Text, select, update
from sqlmodel import Field, SQLModel

from node.store import _audit

if TYPE_CHECKING:
    from node.store._store import Store

__all__ = ["SUBSCRIPTION", "Subscription", "SubscriptionBook", "SubscriptionRow"]


class SubscriptionRow(SQLModel, table=True):
    """One department's subscription to one resource of this node's catalog."""

    __tablename__: ClassVar[str] = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    subscriber: str = Field(index=True)
    resource_code: str = Field(index=True)
    dataset: str
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    fields: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of the fields granted
    region: str = ""  # region subtree of the records delivered; "" all
    filters: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))  # JSON predicates
    personal: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="0"))
    valid_from: str = ""
    valid_until: str = ""
    state: str = Field(index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))  # why it is in its state
    decided_by: str = ""
    created_at_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at_us: int = Field(sa_column=Column(BigInteger, nullable=False))


SUBSCRIPTION = SubscriptionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as held (``state`` as stored; expiry is worked out on reading)."""

    id: int
    subscriber: str
    resource_code: str
    dataset: str
    purpose: str
    fields: tuple[str, ...]
    region: str
    filters: tuple[str, ...]
    personal: bool
    valid_from: str
    valid_until: str
    state: str
    reason: str
    decided_by: str
    created_at_us: int
    updated_at_us: int


def _subscription(row: Any) -> Subscription:
    values = dict(row._mapping)
    values["fields"] = tuple(json.loads(values["fields"]))
    values["filters"] = tuple(json.loads(values["filters"]))
    values["personal"] = bool(values["personal"])
    return Subscription(**values)


class SubscriptionBook:
    """The subscriptions of one store."""

    def __init__(self, store: Store) -> None:
        """Read and write the subscriptions of ``store``."""
        self._store = store

    def add(self, values: dict[str, Any], *, now_us: int) -> int:
        """Record an application in its first state; returns its id."""
        row = {
            **values,
            "fields": json.dumps(list(values["fields"]), ensure_ascii=False),
            "filters": json.dumps(list(values.get("filters", ())), ensure_ascii=False),
        }
        with self._store.write() as conn:
            inserted = conn.execute(SUBSCRIPTION.insert().values(**row, created_at_us=now_us, updated_at_us=now_us))
            ident = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            detail = {k: values[k] for k in ("subscriber", "resource_code", "state", "reason", "purpose")}
            _audit.append(conn, [(f"subscription_{values['state']}", f"subscription/{ident}", detail)], now_us=now_us)
        return ident

    def find(self, *, ids: Sequence[int] = (), subscriber: str = "", states: Sequence[str] = ()) -> list[Subscription]:
        """Subscriptions matching every filter given, oldest first."""
        query = select(SUBSCRIPTION).order_by(SUBSCRIPTION.c.id)
        if ids:
            query = query.where(SUBSCRIPTION.c.id.in_(list(ids)))
        if subscriber:
            query = query.where(SUBSCRIPTION.c.subscriber == subscriber)
        if states:
            query = query.where(SUBSCRIPTION.c.state.in_(list(states)))
        with self._store.read() as conn:
            return [_subscription(row) for row in conn.execute(query)]

    def move(self, held: Subscription, *, state: str, by: str, reason: str, now_us: int) -> bool:
        """Move a subscription still as ``held`` shows it to ``state``, audited; False when it changed meanwhile."""
        with self._store.write() as conn:
            changed = conn.execute(
                update(SUBSCRIPTION)
                .where((SUBSCRIPTION.c.id == held.id) & (SUBSCRIPTION.c.updated_at_us == held.updated_at_us))
                .values(state=state, decided_by=by, reason=reason, updated_at_us=now_us)
            ).rowcount
            if not changed:
                return False
            detail = {"subscriber": held.subscriber, "resource_code": held.resource_code, "from": held.state}
            detail |= {"by": by, "reason": reason}
            _audit.append(conn, [(f"subscription_{state}", f"subscription/{held.id}", detail)], now_us=now_us)
        return True
