"""The node's database: exchange tables, thematic tables and their queries."""

from node.store._cursors import CursorBook
from node.store._decisions import Decision, DecisionBook, NewDecision
from node.store._findings import IngestFinding
from node.store._projection import thematic_layout
from node.store._quarantine import IntakeCounters, QuarantineEntry, source_of
from node.store._queries import ChildCounters, ProvenanceData, StoreStatus, StreamCounters
from node.store._store import Store
from node.store._subscriptions import Subscription, SubscriptionBook
from node.store._types import (
    AppendResult,
    ApplyOutcome,
    BacklogGuard,
    BatchData,
    DeadLetter,
    NewRecord,
    OutboxBacklog,
    PendingBatch,
    StreamKey,
)

__all__ = [
    "AppendResult",
    "ApplyOutcome",
    "BacklogGuard",
    "BatchData",
    "ChildCounters",
    "CursorBook",
    "DeadLetter",
    "Decision",
    "DecisionBook",
    "IngestFinding",
    "IntakeCounters",
    "NewDecision",
    "NewRecord",
    "OutboxBacklog",
    "PendingBatch",
    "ProvenanceData",
    "QuarantineEntry",
    "Store",
    "StoreStatus",
    "StreamCounters",
    "StreamKey",
    "Subscription",
    "SubscriptionBook",
    "source_of",
    "thematic_layout",
]
