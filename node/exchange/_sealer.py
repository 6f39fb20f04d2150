"""Turns this node's new records into signed batches: by size, or after the linger time."""

from __future__ import annotations

import logging
from collections.abc import Callable

from node.exchange._batches import seal
from node.signing import Signer
from node.store import Store
from node.worker import Worker

__all__ = ["Sealer"]

log = logging.getLogger("jgnode.sealer")


class Sealer(Worker):
    """Seals full batches at once and partial ones when their oldest record has lingered."""

    def __init__(
        self,
        *,
        store: Store,
        signer: Callable[[], Signer],
        batch_size: int,
        linger_ms: int,
        to_parent: bool,
        clock: Callable[[], int],
        on_sealed: Callable[[int, list[bytes]], None],
    ) -> None:
        """Wire the sealer; ``to_parent`` queues sealed batches for the parent.

        ``on_sealed(batch_id, records)`` hears of every batch sealed.
        """
        self._store = store
        self._signer = signer
        self._batch_size = batch_size
        self._linger_us = linger_ms * 1000
        self._to_parent = to_parent
        self._clock = clock
        self._on_sealed = on_sealed
        super().__init__("sealer")

    def _run(self) -> None:
        # Records may also arrive from another process (jgnode ingest), so poll too.
        poll = min(max(self._linger_us / 2_000_000, 0.02), 0.2)
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sealed = self.seal_ready()
            except Exception as exc:  # the loop must survive; _round_failed logs it
                self._round_failed(log, "sealing", exc)
                continue
            if not sealed:
                self._wake.wait(poll)

    def seal_ready(self) -> int:
        """Seal every batch that is due; returns how many were sealed."""
        count = 0
        for key, sealed_seq, applied, since in self._store.unsealed_streams():
            lingered = self._clock() - since >= self._linger_us
            sealed = sealed_seq
            while applied > sealed and not self._stop.is_set():
                last = min(applied, sealed + self._batch_size)
                if last - sealed < self._batch_size and not lingered:
                    break
                records = self._store.records_in_range(key, sealed + 1, last)
                batch = seal(self._signer(), key, records, first_seq=sealed + 1, now_us=self._clock())
                batch_id = self._store.save_sealed(
                    batch, to_parent=self._to_parent, record_bytes=sum(map(len, records))
                )
                sealed = last
                count += 1
                self._on_sealed(batch_id, records)
        return count
