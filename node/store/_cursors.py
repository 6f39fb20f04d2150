"""Where each subscriber stands: per subscription and origin, the last seq it acknowledged and the last delivered.

A subscribe stream that starts without a cursor resumes from the acked
positions; an ack may not pass what was delivered (``node.delivery`` checks
that and keeps these positions, written here at most a second later).
Positions only move forward.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import BigInteger, Column, Connection, Integer, String, select, update
from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from node.store._store import Store

__all__ = ["SUBSCRIPTION_CURSOR", "CursorBook", "SubscriptionCursorRow"]


class SubscriptionCursorRow(SQLModel, table=True):
    """One subscription's position in one origin's stream of its dataset."""

    __tablename__: ClassVar[str] = "subscription_cursor"

    subscription_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    origin: str = Field(sa_column=Column(String, primary_key=True))
    acked_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    delivered_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    updated_at_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


SUBSCRIPTION_CURSOR = SubscriptionCursorRow.__table__  # type: ignore[attr-defined]
_C = SUBSCRIPTION_CURSOR.c


class CursorBook:
    """The subscription cursors of one store."""

    def __init__(self, store: Store) -> None:
        """Read and write the cursors of ``store``."""
        self._store = store

    def positions(self, subscription_id: int) -> tuple[dict[str, int], dict[str, int]]:
        """Per origin, the last seq acknowledged and the last delivered (origins at 0 left out)."""
        with self._store.read() as conn:
            held = _positions(conn, subscription_id)
        return {o: a for o, a, _d in held if a}, {o: d for o, _a, d in held if d}

    def acked(self, subscription_id: int) -> dict[str, int]:
        """Per origin, the last seq the subscriber acknowledged (origins never acked left out)."""
        return self.positions(subscription_id)[0]

    def save(self, positions: Mapping[int, tuple[Mapping[str, int], Mapping[str, int]]], *, now_us: int) -> None:
        """Keep (acked, delivered) positions of many subscriptions in one transaction; a position never moves back."""
        with self._store.write() as conn:
            for subscription_id, (acked, delivered) in positions.items():
                held = {o: (a, d) for o, a, d in _positions(conn, subscription_id)}
                for origin in sorted({*acked, *delivered}):
                    old = held.get(origin)
                    new = (acked.get(origin, 0), delivered.get(origin, 0))
                    if old is None:
                        conn.execute(
                            SUBSCRIPTION_CURSOR.insert().values(
                                subscription_id=subscription_id,
                                origin=origin,
                                acked_seq=new[0],
                                delivered_seq=new[1],
                                updated_at_us=now_us,
                            )
                        )
                    elif new[0] > old[0] or new[1] > old[1]:
                        conn.execute(
                            update(SUBSCRIPTION_CURSOR)
                            .where((_C.subscription_id == subscription_id) & (_C.origin == origin))
                            .values(
                                acked_seq=max(new[0], old[0]), delivered_seq=max(new[1], old[1]), updated_at_us=now_us
                            )
                        )


def _positions(conn: Connection, subscription_id: int) -> list[tuple[str, int, int]]:
    query = select(_C.origin, _C.acked_seq, _C.delivered_seq).where(_C.subscription_id == subscription_id)
    return [(o, int(a), int(d)) for o, a, d in conn.execute(query)]
