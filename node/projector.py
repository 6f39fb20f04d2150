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
import time
from collections.abc import Callable

from jgnode.exchange.v1 import exchange_pb2

from node.errors import BatchRejectedError
from node.serde import OP_DELETE, OP_UPSERT, decode_record, payload_from_record
from node.store import Store
from node.store._projection import PROJECTED_DATASETS, ProjectedRow
from node.worker import Worker

__all__ = ["Projector"]

log = logging.getLogger("jgnode.projector")
_BUSY_WINDOW_S = 1.0  # the exchange counts as busy for this long after its last batch
_YIELD_FACTOR = 3.0  # when busy, sleep this many times the time the last chunk took


class Projector(Worker):
    """Projects new record versions into thematic tables and the uid index, chunk by chunk."""

    def __init__(
        self, *, store: Store, clock: Callable[[], int], chunk: int = 2_000, max_defer_s: float = 30.0
    ) -> None:
        """Wire the projector to a store."""
        self._store = store
        self._clock = clock
        self._chunk = chunk
        self._max_defer_s = max_defer_s
        self._last_activity = 0.0
        self._busy_since = 0.0
        super().__init__("projector")

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
            except Exception as exc:  # the loop must survive; _round_failed logs it
                self._round_failed(log, "projection", exc)
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
            chunk = self._store.records_after(stream_id, projected, self._chunk)
            if not chunk:
                continue
            rows, keys, refused = _read_chunk(stream_id, origin, dataset, chunk)
            self._store.project(
                stream_id=stream_id,
                origin=origin,
                dataset=dataset,
                rows=rows,
                keys=keys,
                up_to_seq=chunk[-1][0],
                refused=refused,
                now_us=self._clock(),
            )
            seen += len(chunk)
        return seen


def _read_chunk(
    stream_id: int, origin: str, dataset: str, chunk: list[tuple[int, bytes]]
) -> tuple[list[ProjectedRow], list[tuple[int, str, int, int]], list[tuple[str, str, str, str, bytes]]]:
    """Parse and check each record: thematic rows, index keys, and what to quarantine."""
    spec = PROJECTED_DATASETS.get(dataset)
    rows: list[ProjectedRow] = []
    keys: list[tuple[int, str, int, int]] = []
    refused: list[tuple[str, str, str, str, bytes]] = []
    expected = spec[1] if spec is not None else None
    for seq, body in chunk:
        try:
            record = decode_record(body)
            problem = _key_problem(record, origin, dataset, seq)
            payload = payload_from_record(record) if expected is not None and not problem else None
        except BatchRejectedError as exc:
            problem = str(exc)
        if not problem and expected is not None and payload is not None and not isinstance(payload, expected):
            problem = f"payload {type(payload).__name__} is not a {expected.__name__}"
        if problem:
            refused.append(("projection", f"{origin}/{dataset}/{seq}", dataset, problem, body))
            continue
        keys.append((stream_id, record.uid, record.version, seq))
        if expected is not None:
            rows.append((seq, record.uid, record.version, payload))
    return rows, keys, refused


def _key_problem(record: exchange_pb2.Record, origin: str, dataset: str, seq: int) -> str:
    """Why a record's key fields do not fit its place ("" when they do)."""
    if (record.origin, record.dataset, record.seq) != (origin, dataset, seq):
        return f"record says ({record.origin}, {record.dataset}, seq {record.seq}), stored as seq {seq}"
    if not record.uid or record.version < 1 or record.op not in (OP_UPSERT, OP_DELETE):
        return "record lacks a uid, a version or a valid operation"
    return ""
