"""Keeping the registry snapshot in step: publishing at the root, following and reporting everywhere else.

A child dials its parent, as for everything else: it keeps one ``Follow``
stream open (an update at once with what it lacks, then one per change) and
calls ``Report`` every ``registry.report_s`` and whenever its subtree changed.
Any failure (parent down, network gone, an update refused) ends the stream;
the follower reconnects with the retry policy's backoff and tells the parent
what it holds, so after an outage it catches up by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from jgnode.exchange.v1 import registry_pb2, registry_pb2_grpc

from node.errors import JgnodeError, PeerUnavailableError
from node.grpc_util import Transport
from node.registry import Registry
from node.retry import build_retrier, describe_error, is_recoverable
from node.settings import NodeSettings
from node.worker import Worker

__all__ = ["RegistryFollower", "RegistryPublisher", "RegistryReporter", "RegistrySync"]

log = logging.getLogger("jgnode.registry")


def _log_alarm(registry: Registry) -> None:
    alarm = registry.status().alarm
    if alarm:
        log.warning("REGISTRY ALARM: %s", alarm)


class RegistryPublisher(Worker):
    """At the root: publish when the tree changed, and a fresh version every ``registry.refresh_s``."""

    def __init__(self, *, settings: NodeSettings, registry: Registry, clock: Callable[[], int]) -> None:
        """Publish ``registry``'s snapshot; wake it (:meth:`wake`) when a report or the CRLs changed."""
        super().__init__("registry-publisher")
        self._settings = settings.registry
        self._registry = registry
        self._clock = clock

    def _seconds_to_refresh(self) -> float:
        held = self._registry.held()
        if held is None:
            return 0.0
        return held.manifest.issued_at_us / 1e6 + self._settings.refresh_s - self._clock() / 1e6

    def _run(self) -> None:
        while not self._stop.is_set():
            # look at least every report_s: the root's own certificate may have been renewed
            self._wake.wait(max(0.0, min(self._seconds_to_refresh(), self._settings.report_s)))
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._registry.publish(refresh=self._seconds_to_refresh() <= 0)
            except JgnodeError as exc:
                log.error("publishing the registry snapshot failed: %s; trying again", exc)
                self._stop.wait(1.0)
            except Exception:
                log.exception("publishing the registry snapshot failed; trying again")
                self._stop.wait(1.0)
            _log_alarm(self._registry)


class RegistryFollower(Worker):
    """Keeps a ``Follow`` stream open to the parent, holding each verified update; reconnects after any failure."""

    def __init__(self, *, settings: NodeSettings, registry: Registry, transport: Transport) -> None:
        """Follow the parent ``settings`` name."""
        super().__init__("registry-follower")
        assert settings.parent is not None
        self._settings = settings
        self._parent = settings.parent
        self._registry = registry
        self._transport = transport
        self._call: Any = None  # the Follow call (a grpc.Future): cancelled on stop
        self.connected = False
        self.last_error = ""

    def stop(self) -> None:
        """End the stream and the loop."""
        self._stop.set()
        call = self._call
        if call is not None:
            call.cancel()
        super().stop()

    def _failed(self, error: str) -> None:
        self.last_error = error

    def _run(self) -> None:
        retrier = build_retrier(
            self._settings.retry, stop=self._stop, what=f"registry stream from {self._parent}", on_failure=self._failed
        )
        wait = self._settings.retry.max_interval_s
        while not self._stop.is_set():
            try:
                retrier(self._session)
            except (grpc.RpcError, JgnodeError) as exc:
                if self._stop.is_set():
                    return
                self.last_error = describe_error(exc)
                log.warning(
                    "registry stream from %s failed: %s; trying again in %.0fs", self._parent, self.last_error, wait
                )
                self._stop.wait(wait)
            except Exception:
                log.exception("registry follower crashed; restarting it")
                self._stop.wait(wait)

    def _session(self) -> None:
        """One stream; returns when it dropped after working (reconnect at once, with a fresh backoff)."""
        updates = 0
        try:
            with self._transport.channel(self._parent, peer_id=self._settings.expected_parent_id) as channel:
                signed = self._registry.signed()
                request = signed.follow_request() if signed else registry_pb2.FollowRequest()
                call: Any = registry_pb2_grpc.RegistryStub(channel).Follow(request, metadata=self._transport.metadata())
                self._call = call
                if self._stop.is_set():
                    call.cancel()
                for update in call:
                    self._registry.accept(update)
                    updates += 1
                    self.connected, self.last_error = True, ""
        except grpc.RpcError as exc:
            if self._stop.is_set():
                return
            if updates and is_recoverable(exc):
                log.warning("registry stream from %s lost (%s); reconnecting", self._parent, describe_error(exc))
                return
            raise
        finally:
            self.connected = False
            self._call = None
        if not updates and not self._stop.is_set():
            raise PeerUnavailableError(f"{self._parent} ended the registry stream without an update")


class RegistryReporter(Worker):
    """Reports this node's subtree to its parent every ``registry.report_s`` and whenever it changes."""

    def __init__(self, *, settings: NodeSettings, registry: Registry, transport: Transport) -> None:
        """Report to the parent ``settings`` name."""
        super().__init__("registry-reporter")
        assert settings.parent is not None
        self._settings = settings
        self._parent = settings.parent
        self._registry = registry
        self._transport = transport
        self._call: grpc.Future[registry_pb2.ReportReply] | None = None

    def stop(self) -> None:
        """Cancel a report in flight (a parent that is going away would hold it up to its timeout), then stop."""
        self._stop.set()
        call = self._call
        if call is not None:
            call.cancel()
        super().stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self._settings.registry.report_s
            try:
                self._report()
            except (grpc.RpcError, JgnodeError) as exc:
                log.warning("reporting to %s failed: %s", self._parent, describe_error(exc))
                wait = min(wait, self._settings.retry.max_interval_s)
            self._wake.wait(wait)
            self._wake.clear()
            if not self._stop.is_set():
                _log_alarm(self._registry)  # after a wait: at start-up the first snapshot is on its way

    def _report(self) -> None:
        report = self._registry.subtree_report()
        with self._transport.channel(self._parent, peer_id=self._settings.expected_parent_id) as channel:
            stub = registry_pb2_grpc.RegistryStub(channel)
            self._call = stub.Report.future(report, metadata=self._transport.metadata(), timeout=30)
            try:
                self._call.result()
            except grpc.FutureCancelledError:
                return  # stopping
            finally:
                self._call = None


class RegistrySync:
    """The registry's background work: a publisher at the root; a follower and a reporter elsewhere."""

    def __init__(
        self, *, settings: NodeSettings, registry: Registry, transport: Transport, clock: Callable[[], int]
    ) -> None:
        """Build the workers this node's place in the tree needs; nothing runs until :meth:`start`."""
        self._registry = registry
        self.publisher: RegistryPublisher | None = None
        self.follower: RegistryFollower | None = None
        self._workers: list[Worker] = []
        if settings.parent is None:
            self.publisher = RegistryPublisher(settings=settings, registry=registry, clock=clock)
            self._workers = [self.publisher]
            registry.on_subtree_change(self.publisher.wake)
        else:
            self.follower = RegistryFollower(settings=settings, registry=registry, transport=transport)
            reporter = RegistryReporter(settings=settings, registry=registry, transport=transport)
            self._workers = [self.follower, reporter]
            registry.on_subtree_change(reporter.wake)

    def wake(self) -> None:
        """Something the snapshot holds changed (e.g. new CRLs): publish now (at the root)."""
        if self.publisher is not None:
            self.publisher.wake()

    def start(self) -> None:
        """At the root, publish at once (so the snapshot is fresh from the start); then start the workers."""
        if self.publisher is not None:
            self._registry.publish()
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        """End the Follow streams served here and stop the workers."""
        self._registry.close()
        for worker in self._workers:
            worker.stop()

    @property
    def error(self) -> str:
        """Why the follow stream to the parent is down, when it is ("" at the root)."""
        follower = self.follower
        return follower.last_error if follower is not None and not follower.connected else ""
