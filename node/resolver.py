"""Links new records to regulated objects in the background, every ``resolve.interval_s``.

Resolution is derived work, like projection: it trails the records held, never
delays an ack, and what it concludes is an overlay (``node.store._decisions``)
that operators review with ``jgnode resolve``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from node.resolve import resolve_records
from node.settings import ResolveSettings
from node.store import Store
from node.worker import Worker

__all__ = ["Resolver"]

log = logging.getLogger("jgnode.resolve")


class Resolver(Worker):
    """Runs :func:`node.resolve.resolve_records` until it has read everything new, then waits."""

    def __init__(self, *, store: Store, settings: ResolveSettings, clock: Callable[[], int]) -> None:
        """Wire the resolver to a store."""
        self._store = store
        self._settings = settings
        self._clock = clock
        super().__init__("resolver")

    def _run(self) -> None:
        while not self._stop.wait(self._settings.interval_s):
            try:
                self.resolve_pending()
            except Exception as exc:  # the loop must survive; _round_failed logs it
                self._round_failed(log, "entity resolution", exc)

    def resolve_pending(self) -> dict[str, int]:
        """Resolve every record version not looked at yet; returns the decisions written by state."""
        written: dict[str, int] = {}
        while not self._stop.is_set():
            report = resolve_records(
                self._store, strong=self._settings.strong, weak=self._settings.weak, now_us=self._clock()
            )
            for state, count in report.written.items():
                written[state] = written.get(state, 0) + count
            if not report.records:
                break
        if written:
            log.info("entity resolution: %s", ", ".join(f"{n} {state}" for state, n in sorted(written.items())))
        return written
