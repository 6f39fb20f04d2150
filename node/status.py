"""Assembles a running node's status from its store and live links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jgnode.exchange.v1 import admin_pb2

from governance.codes import REFERENCE_TABLES
from node.store import DecisionBook

if TYPE_CHECKING:
    from node.runtime import Node

__all__ = ["build_status"]


def build_status(node: Node) -> admin_pb2.NodeStatus:
    """What ``jgnode status`` shows."""
    from node.runtime import now_us  # noqa: PLC0415 - runtime imports this module

    settings = node.settings
    counters = node.store.status()
    backlog = node.store.outbox_backlog()
    trust = node.trust.status()
    registry = node.registry.status()
    intake_problems = node.store.intake_check()
    own = [s for s in counters.streams if s.key.origin == settings.node_id]
    held = sum(s.records for s in counters.streams)
    own_records = sum(s.records for s in own)
    uplink = node.uplink.state if node.uplink else None
    live = node.children.snapshot()
    now = now_us()
    children = []
    for child in sorted({c.node_id for c in counters.children} | set(live)):
        stored = next((c for c in counters.children if c.node_id == child), None)
        state = live.get(child)
        oldest = state.oldest_pending_us if state else 0
        children.append(
            admin_pb2.ChildStatus(
                node_id=child,
                connected=bool(state and state.streams_open > 0),
                records_received=stored.records_received if stored else 0,
                last_batch_at_us=stored.last_batch_at_us if stored else 0,
                reported_pending_records=state.pending_records if state else 0,
                lag_seconds=max(0.0, (now - oldest) / 1e6) if oldest else 0.0,
            )
        )
    return admin_pb2.NodeStatus(
        node_id=settings.node_id,
        tier=settings.tier,
        parent_address=settings.parent or "",
        parent_connected=bool(uplink and uplink.connected),
        parent_error=uplink.last_error if uplink and not uplink.connected else "",
        records_held=held,
        records_own=own_records,
        records_received=held - own_records,
        records_forwarded=sum(s.parent_acked_seq for s in counters.streams),
        unsealed_records=backlog.unsealed_records,
        outbox_records=backlog.records,
        outbox_batches=backlog.batches,
        outbox_refused_batches=backlog.refused_batches,
        last_ack_at_us=max((s.last_ack_at_us for s in counters.streams), default=0),
        started_at_us=node.started_at_us,
        first_received_at_us=counters.first_received_at_us,
        last_received_at_us=counters.last_received_at_us,
        batches_rejected=node.receiver.rejected,
        callers_refused=node.receiver.callers_refused,
        trust_refused=node.receiver.trust_refused,
        records_quarantined=counters.quarantined,
        projection_backlog=sum(s.applied_seq - s.projected_seq for s in counters.streams),
        pki=trust.pki,
        insecure=settings.tls.insecure,
        crl_next_update_us=trust.crl_next_update_us,
        trust_alarm=trust.alarm,
        streams=[
            admin_pb2.StreamStatus(
                origin=s.key.origin,
                dataset=s.key.dataset,
                records=s.records,
                applied_seq=s.applied_seq,
                parent_acked_seq=s.parent_acked_seq,
                received_from=s.received_from,
            )
            for s in counters.streams
        ],
        children=children,
        intake=_intake(node),
        intake_balanced=not intake_problems,
        intake_problem="; ".join(intake_problems),
        decisions=DecisionBook(node.store).counts(),
        reference_tables=REFERENCE_TABLES,
        registry_version=registry.version,
        registry_issued_at_us=registry.issued_at_us,
        registry_expires_at_us=registry.expires_at_us,
        registry_alarm=registry.alarm,
        registry_parts=registry.parts,
        registry_error=node.registry_sync.error,
        registry_root=registry.root_id,
    )


def _intake(node: Node) -> list[admin_pb2.IntakeStatus]:
    """Intake counters summed over sources, per dataset."""
    per_dataset: dict[str, admin_pb2.IntakeStatus] = {}
    for c in node.store.intake_counters():
        item = per_dataset.setdefault(c.dataset, admin_pb2.IntakeStatus(dataset=c.dataset))
        item.received += c.received
        item.accepted += c.accepted
        item.duplicates += c.duplicates
        item.quarantined += c.quarantined
        item.dismissed += c.dismissed
    return [per_dataset[d] for d in sorted(per_dataset)]
