"""A node process: store, gRPC server, sealer, uplink, projector, resolver, trust keeper, registry, collectors."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from jgnode.exchange.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    exchange_pb2,
    exchange_pb2_grpc,
    intake_pb2,
    registry_pb2,
    registry_pb2_grpc,
    sharing_pb2,
    sharing_pb2_grpc,
)

from node.catalog import CatalogServicer, node_catalog
from node.client import ADDRESS_FILE
from node.delivery import Deliveries
from node.departments import identify_subscriber
from node.entitlements import protector
from node.errors import NotFoundError
from node.exchange import Applied, Children, Receiver, Sealer, Uplink
from node.grpc_util import Transport, make_server
from node.intake import PushIntake
from node.intake_servicer import IntakeServicer, identify_source, intake_handler
from node.projector import Projector
from node.query_servicer import Querying, QueryServicer
from node.registry import Registry
from node.registry_servicer import RegistryServicer
from node.registry_sync import RegistrySync
from node.resolver import Resolver
from node.scheduler import CollectScheduler
from node.servicers import AdminServicer, ExchangeServicer, TrustServicer, exchange_handler, identify_caller
from node.settings import NodeSettings
from node.sharing_index import SharingIndex
from node.sharing_servicer import ParentRelay, SharingServicer, sharing_handler
from node.signing import Signer
from node.sinks import SinkWorkers
from node.store import Store
from node.trust import load_identity, load_trust
from node.trust_keeper import TrustKeeper

__all__ = ["ADDRESS_FILE", "Node", "now_us", "run_until_signalled"]

log = logging.getLogger("jgnode.node")
SERVICE_NAMES = (
    exchange_pb2.DESCRIPTOR.services_by_name["Exchange"].full_name,
    exchange_pb2.DESCRIPTOR.services_by_name["Trust"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["NodeAdmin"].full_name,
    intake_pb2.DESCRIPTOR.services_by_name["Intake"].full_name,
    catalog_pb2.DESCRIPTOR.services_by_name["Catalog"].full_name,
    registry_pb2.DESCRIPTOR.services_by_name["Registry"].full_name,
    sharing_pb2.DESCRIPTOR.services_by_name["Query"].full_name,
    sharing_pb2.DESCRIPTOR.services_by_name["Sharing"].full_name,
)


def now_us() -> int:
    """Wall-clock time in microseconds since the epoch."""
    return time.time_ns() // 1000


class Node:
    """One running node."""

    def __init__(self, settings: NodeSettings) -> None:
        """Open the store, keys and certificates and build the server; nothing runs until :meth:`start`."""
        self.settings = settings
        self.transport = Transport(settings)
        self.trust, self._signer = load_trust(settings)
        self.store = Store.open(settings.db_url, settings.node_id, busy_timeout_s=settings.limits.db_busy_timeout_s)
        self.children = Children()
        self.started_at_us = 0
        self.uplink = (
            Uplink(settings=settings, store=self.store, transport=self.transport, trust=self.trust, clock=now_us)
            if settings.parent
            else None
        )
        self.projector = Projector(store=self.store, clock=now_us)
        self.sharing_index = SharingIndex(store=self.store, settings=settings)  # current records for queries
        self.resolver = (
            Resolver(store=self.store, settings=settings.resolve, clock=now_us) if settings.resolve.enabled else None
        )
        self.sealer = Sealer(
            store=self.store,
            signer=self.signer_now,
            batch_size=settings.batch_size,
            linger_ms=settings.batch_linger_ms,
            to_parent=self.uplink is not None,
            clock=now_us,
            on_sealed=self._sealed,
        )
        self.receiver = Receiver(
            store=self.store,
            trust=self.trust,
            signer=self.signer_now,
            forward=self.uplink is not None,
            max_records=settings.limits.max_batch_records,
            allowed_children=settings.children,
            clock=now_us,
            on_applied=self._applied,
            backlog=self.store.backlog_guard(settings.limits),
        )
        self.collectors = CollectScheduler(settings, self.store, on_stored=self._stored)
        self.sinks = SinkWorkers(settings, self.store)  # [[sharing.sinks]]: table and file sinks
        self.push_intake = PushIntake(
            self.store, settings.intake, guard=self.store.backlog_guard(settings.limits), on_stored=self._stored
        )
        self.keeper = TrustKeeper(
            settings=settings,
            trust=self.trust,
            transport=self.transport,
            on_identity_change=self.reload_identity,
            on_tick=self.checkpoint_audit,
        )
        self._checkpointed = (0, 0.0)  # audit seq and time of the last signed checkpoint
        # every subscribe stream holds a server thread while it runs
        self.server, self.port = make_server(
            settings.listen, self.transport, max_workers=16 + settings.sharing.max_streams
        )
        identify = identify_caller(self.trust, insecure=settings.tls.insecure)
        exchange = ExchangeServicer(
            self.receiver,
            self.store,
            self.children,
            identify,
            trust=self.trust,
            max_message_bytes=settings.limits.max_message_bytes,
        )
        self.server.add_generic_rpc_handlers((exchange_handler(exchange),))
        exchange_pb2_grpc.add_TrustServicer_to_server(TrustServicer(self.trust, self.receiver, identify), self.server)
        admin_pb2_grpc.add_NodeAdminServicer_to_server(
            AdminServicer(
                self.store, self.status, identify, node_id=settings.node_id, crls=lambda: self.trust.bundle()[1]
            ),
            self.server,
        )
        intake = IntakeServicer(
            self.push_intake,
            identify_source(self.trust, node_id=settings.node_id, insecure=settings.tls.insecure),
            refused=self.receiver.record_refused_caller,
            max_message_bytes=settings.limits.max_message_bytes,
        )
        self.server.add_generic_rpc_handlers((intake_handler(intake),))
        catalog = node_catalog(settings)  # settings are frozen: the catalog is built once
        catalog_pb2_grpc.add_CatalogServicer_to_server(CatalogServicer(lambda: catalog, identify), self.server)
        self.registry = Registry(
            settings=settings,
            trust=self.trust,
            signer=self.signer_now,
            catalog=catalog,
            endpoint=self.address,
            clock=now_us,
        )
        self.registry_sync = RegistrySync(
            settings=settings, registry=self.registry, transport=self.transport, clock=now_us
        )
        self.trust.on_new_crls(self.registry_sync.wake)
        registry_pb2_grpc.add_RegistryServicer_to_server(
            RegistryServicer(
                self.registry, identify, admit=self.receiver.admit, refused=self.receiver.record_refused_caller
            ),
            self.server,
        )
        departments = identify_subscriber(
            self.trust, node_id=settings.node_id, insecure=settings.tls.insecure, children=settings.children
        )
        sharing_pb2_grpc.add_QueryServicer_to_server(
            QueryServicer(Querying(self.store, settings, self.sharing_index), departments), self.server
        )
        self.deliveries = Deliveries(
            self.store,
            node_id=settings.node_id,
            catalog=catalog,
            protector=protector(settings),
            window=settings.sharing.window,
            max_streams=settings.sharing.max_streams,
            clock=now_us,
        )
        self.relay = (
            ParentRelay(self.transport, address=settings.parent, peer_id=settings.expected_parent_id)
            if settings.parent
            else None
        )
        sharing = SharingServicer(
            self.deliveries,
            departments,
            settings=settings,
            relay=self.relay,
            check_registry=self.registry.require_fresh,  # fail closed on an expired snapshot
            refused=self.receiver.record_refused_caller,
            clock=now_us,
            above=self._above,
        )
        self.server.add_generic_rpc_handlers((sharing_handler(sharing),))
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)

    @property
    def signer(self) -> Signer:
        """The current signing key (it changes when a renewed certificate is installed)."""
        return self._signer

    def signer_now(self) -> Signer:
        """The current signing key, as a callable for components that sign."""
        return self._signer

    def reload_identity(self) -> None:
        """Pick up a renewed certificate and keys without stopping (old keys stay trusted)."""
        if not self.trust.pki:
            return
        signer, chain = load_identity(self.settings, self.trust.anchors)
        self.trust.trust_own(signer, chain[0])
        self._signer = signer
        log.info("now signing with key %s", signer.key_id)

    def checkpoint_audit(self, *, force: bool = False) -> None:
        """Sign the audit log's head, if it grew by 1,000 entries or in 10 minutes (or ``force``).

        A signed checkpoint makes truncating the log detectable up to it: the
        hash chain alone cannot tell a log cut short from a short log.
        """
        seq, head = self.store.audit_head()
        last_seq, last_time = self._checkpointed
        due = seq - last_seq >= 1000 or (seq > last_seq and time.monotonic() - last_time > 600)
        if seq == 0 or not (due or (force and seq > last_seq)):
            return
        signer = self.signer
        statement = f"jgnode-audit-checkpoint:{signer.node_id}:{seq}:{head.hex()}".encode()
        detail = {"seq": seq, "hash": head.hex(), "key_id": signer.key_id, "signature": signer.sign(statement).hex()}
        self.store.audit([("checkpoint", signer.node_id, detail)], now_us=now_us())
        self._checkpointed = (seq + 1, time.monotonic())

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
        self.sharing_index.wake()
        self.deliveries.wake()

    def _applied(self, applied: list[Applied]) -> None:
        if self.uplink is not None:
            for batch in applied:
                self.uplink.offer(batch.batch_id, batch.records)
        self.projector.wake()
        self.sharing_index.wake()
        self.deliveries.wake()

    def _above(self) -> tuple[str, ...]:
        """The nodes above this one, as the registry snapshot held knows them (none when it knows nothing)."""
        try:
            return tuple(entry.node_id for entry in self.registry.path_to_root(self.settings.node_id)[1:])
        except NotFoundError:
            return ()

    def _stored(self) -> None:
        """A collector or the push intake committed records: seal them, and hand them to subscribers."""
        self.sealer.wake()
        self.deliveries.wake()

    def start(self) -> None:
        """Serve, seal, project, send and keep trust fresh until :meth:`stop`."""
        self.started_at_us = now_us()
        self.receiver.start()
        self.server.start()
        self.sealer.start()
        self.projector.start()
        self.sharing_index.start()
        self.deliveries.start()
        if self.resolver is not None:
            self.resolver.start()
        if self.uplink is not None:
            self.uplink.start()
        self.keeper.start()
        self.keeper.refresh()
        self.registry_sync.start()
        self.collectors.start()
        self.sinks.start()
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        _write_atomically(self.settings.data_dir / ADDRESS_FILE, self.address + "\n")
        log.info(
            "node %s (%s) listening on %s (%s); parent %s",
            self.settings.node_id,
            self.settings.tier,
            self.address,
            "INSECURE plain text" if self.settings.tls.insecure else "mutual TLS",
            self.settings.parent or "none",
        )

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop taking batches, finish the ones in hand, stop background work, close the store."""
        self.health.enter_graceful_shutdown()
        self.registry_sync.stop()  # ends the Follow streams served here, which would hold up the server's stop
        self.deliveries.stop()  # ends the subscribe streams (UNAVAILABLE: subscribers come back later)
        if self.relay is not None:
            self.relay.close()
        self.server.stop(grace_s).wait()
        self.receiver.stop()
        self.collectors.stop()
        self.sinks.stop()
        self.keeper.stop()
        if self.uplink is not None:
            self.uplink.stop()
        self.sealer.stop()
        if self.resolver is not None:
            self.resolver.stop()
        self.projector.stop()
        self.sharing_index.stop()
        self.checkpoint_audit(force=True)
        self.store.close()
        (self.settings.data_dir / ADDRESS_FILE).unlink(missing_ok=True)
        log.info("node %s stopped", self.settings.node_id)

    def status(self) -> admin_pb2.NodeStatus:
        """Counters, links, trust and per-stream positions."""
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
