"""Keeps the thematic tables up to date with the records held, in the background."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from node.errors import BatchRejectedError
from node.serde import decode_record, payload_from_record
from node.store import Store
from node.store._projection import PROJECTED_DATASETS, ProjectedRow

__all__ = ["Projector"]

log = logging.getLogger("jgnode.projector")


class Projector:
    """Projects new record versions into thematic tables, chunk by chunk."""

    def __init__(self, *, store: Store, clock: Callable[[], int], chunk: int = 5000) -> None:
        """Wire the projector to a store."""
        self._store = store
        self._clock = clock
        self._chunk = chunk
        self._wake = threading.Event()
        self._stop = threading.Event()
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
        """New records are held."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                done = self.project_pending()
            except Exception:
                log.exception("projection failed; retrying")
                self._stop.wait(1.0)
                continue
            if not done:
                self._wake.wait(0.5)

    def project_pending(self) -> int:
        """Project one chunk of every stream behind; returns the records looked at."""
        seen = 0
        for stream_id, origin, dataset, projected, applied in self._store.projection_backlog():
            if self._stop.is_set():
                break
            spec = PROJECTED_DATASETS.get(dataset)
            rows: list[ProjectedRow] = []
            refused: list[tuple[str, str, str, str, bytes]] = []
            if spec is None:
                up_to = applied  # no thematic table for this dataset: records only
            else:
                batch = self._store.records_after(stream_id, projected, self._chunk)
                for seq, uid, version, _op, body in batch:
                    try:
                        record = payload_from_record(decode_record(body))
                    except BatchRejectedError as exc:
                        refused.append(("projection", f"{origin}/{dataset}/{seq}", dataset, str(exc), body))
                        continue
                    if record is not None and not isinstance(record, spec[1]):
                        reason = f"payload {type(record).__name__} is not a {spec[1].__name__}"
                        refused.append(("projection", f"{origin}/{dataset}/{seq}", dataset, reason, body))
                        continue
                    rows.append((seq, uid, version, record))
                up_to = batch[-1][0] if batch else applied
                seen += len(batch)
            self._store.project(
                stream_id=stream_id,
                origin=origin,
                dataset=dataset,
                rows=rows,
                up_to_seq=up_to,
                refused=refused,
                now_us=self._clock(),
            )
        return seen
