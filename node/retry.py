"""Retry policy as data: one factory builds every retrier from ``RetrySettings``.

Only recoverable failures are retried (UNAVAILABLE, DEADLINE_EXCEEDED,
RESOURCE_EXHAUSTED, and our own store/peer availability errors); waits grow
exponentially with full jitter and are cut short when the node stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import grpc
import tenacity

from node.errors import JgnodeError, PeerUnavailableError, StoreError
from node.settings import RetrySettings

__all__ = ["RECOVERABLE_CODES", "build_retrier", "describe_error", "is_recoverable"]

RECOVERABLE_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)
log = logging.getLogger("jgnode.retry")


def is_recoverable(exc: BaseException) -> bool:
    """True for failures that may go away by themselves."""
    if isinstance(exc, grpc.RpcError) and isinstance(exc, grpc.Call):
        return exc.code() in RECOVERABLE_CODES
    return isinstance(exc, PeerUnavailableError | StoreError)


def build_retrier(
    policy: RetrySettings,
    *,
    stop: threading.Event,
    what: str,
    on_failure: Callable[[str], None] | None = None,
) -> tenacity.Retrying:
    """A retrier that retries recoverable failures until ``stop`` is set, logging each retry.

    ``on_failure`` hears each failure as one line (for status reports).
    """

    def _log(state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        error = describe_error(outcome.exception() if outcome else None)
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s: attempt %d failed (%s); retrying in %.1fs", what, state.attempt_number, error, wait)
        if on_failure is not None:
            on_failure(error)

    def _sleep(seconds: float) -> None:
        stop.wait(seconds)  # wakes up at once when the node stops

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_recoverable),
        wait=tenacity.wait_random_exponential(
            multiplier=policy.initial_s, exp_base=policy.multiplier, max=policy.max_interval_s
        ),
        stop=tenacity.stop_when_event_set(stop),
        sleep=_sleep,
        before_sleep=_log,
        reraise=True,
    )


def describe_error(error: BaseException | None) -> str:
    """A failure as one line: status code and detail (our own errors carry the status they map to)."""
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    if isinstance(error, JgnodeError):
        return f"{error.grpc_status}: {error}"
    return str(error)
