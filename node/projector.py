"""Keeps the thematic tables and the uid index up to date with the records held.

Projection is derived work: it trails the exchange behind a per-stream
watermark and never delays an ack. While batches are flowing it waits, so that
a transfer gets the machine; once the exchange has been busy for longer than
``max_defer_s`` it runs anyway, taking about a quarter of the time (it sleeps
three times as long as each chunk took). When the exchange is quiet it runs
flat out and catches up. Own records are projected by the ingest itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from node.errors import BatchRejectedError
from node.serde import decode_record, payload_from_record
from node.store import Store
from node.store._projection import PROJECTED_DATASETS, ProjectedRow

__all__ = ["Projector"]

log = logging.getLogger("jgnode.projector")
_BUSY_WINDOW_S = 0.25  # the exchange counts as busy for this long after its last batch
_YIELD_FACTOR = 3.0  # when busy, sleep this many times the time the last chunk took


class Projector:
    """Projects new record versions into thematic tables and the uid index, chunk by chunk."""

    def __init__(
        self, *, store: Store, clock: Callable[[], int], chunk: int = 2_000, max_defer_s: float = 30.0
    ) -> None:
        """Wire the projector to a store."""
        self._store = store
        self._clock = clock
        self._chunk = chunk
        self._max_defer_s = max_defer_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_activity = 0.0
        self._busy_since = 0.0
        self._thread = threading.Thread(target=self._run, name="projector", daemon=True)

    def start(self) -> None:
        """Start projecting in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the chunk in hand."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def wake(self) -> None:
        """New records are held: the exchange is busy."""
        now = time.monotonic()
        if now - self._last_activity >= _BUSY_WINDOW_S:
            self._busy_since = now
        self._last_activity = now
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            now = time.monotonic()
            busy = now - self._last_activity < _BUSY_WINDOW_S
            if busy and now - self._busy_since < self._max_defer_s:
                self._stop.wait(_BUSY_WINDOW_S)
                continue
            try:
                done = self.project_pending()
            except Exception:
                log.exception("projection failed; retrying")
                self._stop.wait(1.0)
                continue
            if not done:
                self._wake.wait(0.5)
            elif busy:
                self._stop.wait(min((time.monotonic() - now) * _YIELD_FACTOR, 2.0))

    def project_pending(self) -> int:
        """Project one chunk of every stream behind; returns the records looked at."""
        seen = 0
        for stream_id, origin, dataset, projected, _applied in self._store.projection_backlog():
            if self._stop.is_set():
                break
            spec = PROJECTED_DATASETS.get(dataset)
            batch = self._store.records_after(stream_id, projected, self._chunk, bodies=spec is not None)
            if not batch:
                continue
            rows: list[ProjectedRow] = []
            refused: list[tuple[str, str, str, str, bytes]] = []
            expected = spec[1] if spec is not None else object
            for seq, uid, version, _op, body in batch if spec is not None else ():
                try:
                    record = payload_from_record(decode_record(body))
                except BatchRejectedError as exc:
                    refused.append(("projection", f"{origin}/{dataset}/{seq}", dataset, str(exc), body))
                    continue
                if record is not None and not isinstance(record, expected):
                    reason = f"payload {type(record).__name__} is not a {expected.__name__}"
                    refused.append(("projection", f"{origin}/{dataset}/{seq}", dataset, reason, body))
                    continue
                rows.append((seq, uid, version, record))
            self._store.project(
                stream_id=stream_id,
                origin=origin,
                dataset=dataset,
                rows=rows,
                keys=[(stream_id, uid, version, seq) for seq, uid, version, _op, _body in batch],
                up_to_seq=batch[-1][0],
                refused=refused,
                now_us=self._clock(),
            )
            seen += len(batch)
        return seen
