"""The exception tree of jgnode and the gRPC status each maps to.

Every error a user can meet derives from :class:`JgnodeError`; the CLI prints
its message as one line, and servicers map it to the status named in
``grpc_status`` (see ``node.grpc_util.abort_with``).
"""

from __future__ import annotations

__all__ = [
    "BackpressureError",
    "BatchRejectedError",
    "ConfigError",
    "IngestError",
    "JgnodeError",
    "NotEntitledError",
    "NotFoundError",
    "PeerUnavailableError",
    "SnapshotExpiredError",
    "StoreError",
    "VerificationError",
]


class JgnodeError(Exception):
    """Base of every error jgnode raises on purpose."""

    grpc_status: str = "INTERNAL"


class ConfigError(JgnodeError):
    """Settings, key files or command-line options are missing or wrong."""

    grpc_status = "FAILED_PRECONDITION"


class VerificationError(JgnodeError):
    """A signature, Merkle root, inclusion proof or hop chain does not check out."""

    grpc_status = "PERMISSION_DENIED"


class BatchRejectedError(JgnodeError):
    """A received batch is malformed or out of place and was not applied."""

    grpc_status = "INVALID_ARGUMENT"


class NotFoundError(JgnodeError):
    """The record, stream or node asked for is not held here."""

    grpc_status = "NOT_FOUND"


class StoreError(JgnodeError):
    """The database refused an operation (locked, full, schema mismatch)."""

    grpc_status = "UNAVAILABLE"


class BackpressureError(JgnodeError):
    """The outbox is full: ingest must wait until the parent catches up."""

    grpc_status = "RESOURCE_EXHAUSTED"


class IngestError(JgnodeError):
    """An input file cannot be read at all (missing, wrong format, wrong header)."""

    grpc_status = "INVALID_ARGUMENT"


class PeerUnavailableError(JgnodeError):
    """The parent or a queried node cannot be reached."""

    grpc_status = "UNAVAILABLE"


class NotEntitledError(JgnodeError):
    """A subscriber asked for data its subscriptions do not grant (deny by default)."""

    grpc_status = "PERMISSION_DENIED"


class SnapshotExpiredError(JgnodeError):
    """The registry snapshot held has expired, or none has arrived: new subscriptions fail closed until one does."""

    grpc_status = "FAILED_PRECONDITION"
