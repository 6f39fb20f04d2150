"""A node process: store, gRPC server, sealer, uplink and projector wired together."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from jgnode.exchange.v1 import admin_pb2, admin_pb2_grpc, exchange_pb2, exchange_pb2_grpc

from node.exchange import Applied, Children, Receiver, Sealer, Uplink
from node.grpc_util import make_server
from node.projector import Projector
from node.servicers import AdminServicer, ExchangeServicer
from node.settings import NodeSettings
from node.signing import KeyRing, load_signer
from node.store import Store

__all__ = ["ADDRESS_FILE", "Node", "now_us", "run_until_signalled"]

log = logging.getLogger("jgnode.node")
ADDRESS_FILE = "node.addr"
SERVICE_NAMES = (
    exchange_pb2.DESCRIPTOR.services_by_name["Exchange"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["NodeAdmin"].full_name,
)


def now_us() -> int:
    """Wall-clock time in microseconds since the epoch."""
    return time.time_ns() // 1000


class Node:
    """One running node."""

    def __init__(self, settings: NodeSettings) -> None:
        """Open the store and keys and build the server; nothing runs until :meth:`start`."""
        self.settings = settings
        self.signer = load_signer(settings.node_id, settings.signing_key_path, settings.suite)
        self.keyring = KeyRing.from_directory(settings.trust_path)
        self.keyring.add_pem(settings.node_id, self.signer.public_pem, settings.suite)
        self.store = Store.open(settings.db_url, settings.node_id)
        self.children = Children()
        self.started_at_us = 0
        self.uplink = Uplink(settings=settings, store=self.store, clock=now_us) if settings.parent else None
        self.projector = Projector(store=self.store, clock=now_us)
        self.sealer = Sealer(
            store=self.store,
            signer=self.signer,
            batch_size=settings.batch_size,
            linger_ms=settings.batch_linger_ms,
            to_parent=self.uplink is not None,
            clock=now_us,
            on_sealed=self._sealed,
        )
        self.receiver = Receiver(
            store=self.store,
            keyring=self.keyring,
            signer=self.signer,
            forward=self.uplink is not None,
            max_records=settings.limits.max_batch_records,
            allowed_children=settings.children,
            clock=now_us,
            on_applied=self._applied,
        )
        self.server, self.port = make_server(settings.listen, settings.limits)
        exchange_pb2_grpc.add_ExchangeServicer_to_server(
            ExchangeServicer(self.receiver, self.store, self.children), self.server
        )
        admin_pb2_grpc.add_NodeAdminServicer_to_server(AdminServicer(self.store, self.status), self.server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)

    @property
    def address(self) -> str:
        """host:port where other processes reach this node."""
        host = self.settings.listen.rsplit(":", 1)[0] or "127.0.0.1"
        if host in {"0.0.0.0", "[::]", "::"}:  # noqa: S104 - naming the wildcard, not binding it
            host = "127.0.0.1"
        return f"{host}:{self.port}"

    def _sealed(self, batch_id: int, records: list[bytes]) -> None:
        if self.uplink is not None:
            self.uplink.offer(batch_id, records)
        self.projector.wake()

    def _applied(self, applied: list[Applied]) -> None:
        if self.uplink is not None:
            for batch in applied:
                self.uplink.offer(batch.batch_id, batch.records)
        self.projector.wake()

    def start(self) -> None:
        """Serve, seal, project and send until :meth:`stop`."""
        self.started_at_us = now_us()
        self.receiver.start()
        self.server.start()
        self.sealer.start()
        self.projector.start()
        if self.uplink is not None:
            self.uplink.start()
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        _write_atomically(self.settings.data_dir / ADDRESS_FILE, self.address + "\n")
        log.info(
            "node %s (%s) listening on %s; parent %s",
            self.settings.node_id,
            self.settings.tier,
            self.address,
            self.settings.parent or "none",
        )

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop taking batches, finish the ones in hand, stop background work, close the store."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()
        self.receiver.stop()
        if self.uplink is not None:
            self.uplink.stop()
        self.sealer.stop()
        self.projector.stop()
        self.store.close()
        (self.settings.data_dir / ADDRESS_FILE).unlink(missing_ok=True)
        log.info("node %s stopped", self.settings.node_id)

    def status(self) -> admin_pb2.NodeStatus:
        """Counters, links and per-stream positions."""
        from node.status import build_status  # noqa: PLC0415 - keeps the status module out of start-up

        return build_status(self)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_until_signalled(settings: NodeSettings) -> None:
    """Run a node until SIGTERM or SIGINT, then stop it cleanly."""
    node = Node(settings)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    node.start()
    try:
        stop.wait()
    finally:
        node.stop()
