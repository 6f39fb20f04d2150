"""Keeps a running node's trust fresh: CRLs from its folder and its parent, renewed keys, alarms."""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
from jgnode.exchange.v1 import exchange_pb2, exchange_pb2_grpc

from node.errors import JgnodeError
from node.grpc_util import Transport
from node.retry import describe_error
from node.settings import NodeSettings
from node.trust import TrustStore, read_crl_dir
from node.worker import Worker

__all__ = ["TrustKeeper"]

log = logging.getLogger("jgnode.trust")


class TrustKeeper(Worker):
    """Every ``tls.refresh_s``: re-read the CRL folder, fetch CAs and CRLs from the parent, notice renewals."""

    def __init__(
        self,
        *,
        settings: NodeSettings,
        trust: TrustStore,
        transport: Transport,
        on_identity_change: Callable[[], None],
        on_tick: Callable[[], None] = lambda: None,
    ) -> None:
        """Wire the keeper; ``on_identity_change`` reloads the node's certificate and keys."""
        super().__init__("trust-keeper")
        self._settings = settings
        self._trust = trust
        self._transport = transport
        self._on_identity_change = on_identity_change
        self._on_tick = on_tick
        self._stamp = self._identity_stamp()
        self.last_error = ""

    def _identity_stamp(self) -> tuple[float, ...]:
        files = (self._settings.cert_path, self._settings.signing_key_path, self._settings.tls_key_path)
        return tuple(p.stat().st_mtime if p.exists() else 0.0 for p in files)

    def _run(self) -> None:
        while not self._stop.wait(self._settings.tls.refresh_s):
            self.refresh()

    def refresh(self) -> None:
        """One round: folder, parent, renewal, alarm, audit checkpoint. Never raises."""
        try:
            self._on_tick()
        except JgnodeError as exc:
            log.error("audit checkpoint failed: %s", exc)
        if not self._trust.pki:
            return
        try:
            self._trust.add_crls(read_crl_dir(self._settings.crl_path))
        except JgnodeError as exc:
            log.error("a CRL in %s is not usable: %s", self._settings.crl_path, exc)
        if self._settings.parent:
            self._fetch_from_parent()
        stamp = self._identity_stamp()
        if stamp != self._stamp:
            try:
                self._on_identity_change()
            except JgnodeError as exc:  # half-installed files: tried again next round
                log.error("renewed certificate or keys not usable yet, keeping the old ones: %s", exc)
            else:
                self._stamp = stamp
        alarm = self._trust.status().alarm
        if alarm:
            log.warning("TRUST ALARM: %s", alarm)

    def _fetch_from_parent(self) -> None:
        assert self._settings.parent is not None
        try:
            with self._transport.channel(self._settings.parent, peer_id=self._settings.expected_parent_id) as channel:
                bundle = exchange_pb2_grpc.TrustStub(channel).GetTrust(
                    exchange_pb2.GetTrustRequest(), metadata=self._transport.metadata(), timeout=30
                )
            self._trust.add_cas(bundle.ca_certificates)
            added = self._trust.add_crls(bundle.crls)
        except (grpc.RpcError, JgnodeError) as exc:
            self.last_error = describe_error(exc)
            log.warning("could not fetch CRLs from the parent: %s", self.last_error)
            return
        self.last_error = ""
        if added:
            log.info("%d new CRL(s) from the parent", added)
