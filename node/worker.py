"""A background thread that can be woken early and stopped promptly."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

from node.errors import StoreError

__all__ = ["Worker"]


class Worker(ABC):
    """Base of the node's background loops (sealer, uplink, projector).

    Subclasses implement :meth:`_run`, which must return soon after ``_stop``
    is set and should wait on ``_wake`` (set by :meth:`wake`) or ``_stop``
    instead of sleeping.
    """

    def __init__(self, name: str) -> None:
        """Prepare the thread; nothing runs until :meth:`start`."""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the loop in its thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for it (at most 30 s)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def wake(self) -> None:
        """There is new work: look now instead of at the next poll."""
        self._wake.set()

    def _round_failed(self, log: logging.Logger, what: str, exc: Exception) -> None:
        """Log a failed round and pause a second before the next one.

        A database that is locked or full is expected now and then: one line.
        Anything else is a bug: the traceback.
        """
        if isinstance(exc, StoreError):
            log.error("%s failed: %s; retrying", what, exc)
        else:
            log.exception("%s failed; retrying", what)
        self._stop.wait(1.0)

    @abstractmethod
    def _run(self) -> None:
        """The loop; returns once ``_stop`` is set."""
