"""Usage audit: every delivery, sink write, query and export of shared data, and ``jgnode audit usage``.

Each use is one ``usage`` entry of the hash-chained audit log: who (the
subscriber), what (subscription, resource, dataset), how (``stream``,
``sink``, ``query``, ``export``), when (the entry's time) and how many
records, with the positions delivered where there are any. A subscribe stream
writes one entry per acknowledged stretch (at most one a second per stream)
and one when it ends, so the log grows with time, not with records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from node.store import Store, Subscription

__all__ = ["USAGE", "Channel", "UsageLine", "record_usage", "usage_summary"]

USAGE: Final = "usage"
Channel = Literal["stream", "sink", "query", "export"]


def record_usage(
    store: Store,
    subscription: Subscription,
    *,
    channel: Channel,
    records: int,
    now_us: int,
    who: str = "",
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Audit one use of ``subscription`` (``who`` defaults to its subscriber)."""
    detail = {
        "who": who or subscription.subscriber,
        "subscription": subscription.id,
        "resource_code": subscription.resource_code,
        "dataset": subscription.dataset,
        "channel": channel,
        "records": records,
        **(extra or {}),
    }
    store.audit([(USAGE, f"subscription/{subscription.id}", detail)], now_us=now_us)


@dataclass(slots=True)
class UsageLine:
    """Use of one resource by one subscriber over one channel."""

    who: str
    resource_code: str
    channel: str
    uses: int = 0
    records: int = 0
    first_us: int = 0
    last_us: int = 0


def usage_summary(store: Store, *, since_us: int = 0, who: str = "") -> list[UsageLine]:
    """Usage entries summed per subscriber, resource and channel, busiest first."""
    lines: dict[tuple[str, str, str], UsageLine] = {}
    for entry in store.audit_entries(kind=USAGE):
        if entry.at_us < since_us:
            continue
        detail = json.loads(entry.detail)
        if who and detail["who"] != who:
            continue
        key = (detail["who"], detail["resource_code"], detail["channel"])
        line = lines.setdefault(key, UsageLine(*key, first_us=entry.at_us))
        line.uses += 1
        line.records += int(detail["records"])
        line.last_us = entry.at_us
    return sorted(lines.values(), key=lambda u: (-u.records, u.who, u.resource_code, u.channel))
