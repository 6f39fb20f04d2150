"""A client of a node's ``Intake`` service: what ``jgnode push`` uses, and a model for department systems.

A source's identity is a folder written by ``jgnode pki issue-source``:
``source.key`` (its TLS key, 0600), ``source.crt`` (its certificate chain,
leaf first) and ``ca.crt`` (the root the node's certificate chains to). The
certificate names the node it is for, so the client checks that the node at
the other end really is that node. On an insecure development node there is
no certificate: the client names its source in the ``jgnode-source`` metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final

import grpc
from cryptography.hazmat.primitives import serialization
from jgnode.exchange.v1 import intake_pb2, intake_pb2_grpc

from adapters.files import ROW_ERROR, FileReader
from node.errors import BackpressureError, ConfigError, IngestError, PeerUnavailableError, VerificationError
from node.grpc_util import CHAIN_METADATA
from node.intake_servicer import SOURCE_METADATA
from node.pki import (
    CaDir,
    SourceCertificate,
    dns_name,
    generate_tls_key,
    load_certificates,
    private_pem,
    source_certificate,
    write_private,
)

__all__ = [
    "IntakeClient",
    "PushReport",
    "SourceIdentity",
    "file_requests",
    "issue_source_identity",
    "push_file",
]

_MESSAGE_BYTES: Final = 64 * 1024 * 1024
_OPTIONS: Final = [
    ("grpc.max_send_message_length", _MESSAGE_BYTES),
    ("grpc.max_receive_message_length", _MESSAGE_BYTES),
]
_ERRORS: Final = {
    grpc.StatusCode.PERMISSION_DENIED: VerificationError,
    grpc.StatusCode.INVALID_ARGUMENT: IngestError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: BackpressureError,
}


@dataclass(frozen=True)
class SourceIdentity:
    """The files that identify a source to a node over mutual TLS."""

    cert: Path
    key: Path
    ca: Path

    @classmethod
    def in_folder(cls, folder: Path) -> SourceIdentity:
        """The identity ``jgnode pki issue-source --out FOLDER`` wrote."""
        return cls(folder / "source.crt", folder / "source.key", folder / "ca.crt")

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(certificate chain, key, root) as PEM; ConfigError naming a file that cannot be read."""
        found = []
        for path, what in ((self.cert, "source certificate"), (self.key, "source key"), (self.ca, "root certificate")):
            try:
                found.append(path.read_bytes())
            except OSError as exc:
                raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
        return found[0], found[1], found[2]

    def source(self) -> SourceCertificate:
        """The source and node the certificate names."""
        return source_certificate(load_certificates(self.read()[0])[0])


def issue_source_identity(ca: CaDir, folder: Path, *, node_id: str, name: str, days: int) -> SourceIdentity:
    """A new key and a certificate from ``ca`` for source ``name`` of node ``node_id``, written into ``folder``."""
    identity = SourceIdentity.in_folder(folder)
    key = generate_tls_key()
    chain = ca.issue_source(key.public_key(), node_id=node_id, name=name, days=days)
    write_private(identity.key, private_pem(key))
    identity.cert.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
    identity.ca.write_bytes(ca.chain[-1].public_bytes(serialization.Encoding.PEM))
    return identity


class IntakeClient:
    """A push connection to one node."""

    def __init__(
        self, address: str, *, identity: SourceIdentity | None = None, node_id: str = "", source: str = ""
    ) -> None:
        """Connect with ``identity`` (mutual TLS), or without one as ``source`` (insecure development nodes)."""
        self.address = address
        if identity is None:
            if not source:
                raise ConfigError("without a source certificate, name the source (insecure development nodes only)")
            self.source, self.node_id = source, node_id
            self._channel = grpc.insecure_channel(address, options=_OPTIONS)
            self._metadata: tuple[tuple[str, str | bytes], ...] = ((SOURCE_METADATA, source),)
        else:
            chain, key, root = identity.read()
            named = source_certificate(load_certificates(chain)[0])
            self.source, self.node_id = named.name, node_id or named.node_id
            credentials = grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=chain)
            target = ("grpc.ssl_target_name_override", dns_name(self.node_id))
            self._channel = grpc.secure_channel(address, credentials, options=[*_OPTIONS, target])
            self._metadata = _chain_metadata(chain)
        self._stub = intake_pb2_grpc.IntakeStub(self._channel)

    def __enter__(self) -> IntakeClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def submit(
        self, requests: Iterable[intake_pb2.SubmitRequest], *, timeout: float | None = None
    ) -> Iterator[intake_pb2.SubmitAck]:
        """Stream ``requests``; yields each ack as the node commits it. Errors end the stream as jgnode errors."""
        try:
            yield from self._stub.Submit(iter(requests), metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: grpc.RpcError) -> Exception:
        code = exc.code() if isinstance(exc, grpc.Call) else None
        detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
        kind = _ERRORS.get(code) if code is not None else None
        if kind is not None:
            return kind(f"node {self.node_id or self.address}: {detail}")
        return PeerUnavailableError(f"cannot push to {self.node_id or 'the node'} at {self.address}: {detail}")


def _chain_metadata(chain_pem: bytes) -> tuple[tuple[str, str | bytes], ...]:
    """The intermediate CA certificates (TLS hands the node only the leaf), as the node's clients send them."""
    certs = [c for c in load_certificates(chain_pem)[1:] if c.issuer != c.subject]
    if not certs:
        return ()
    return ((CHAIN_METADATA, b"".join(c.public_bytes(serialization.Encoding.DER) for c in certs)),)


def file_requests(
    path: Path, dataset: str, *, batch: str, rows_per_request: int = 1000
) -> Iterator[intake_pb2.SubmitRequest]:
    """The rows of a CSV, TSV, XLSX or JSON Lines file as requests, each row with its line number.

    A row that cannot be read whole (wrong number of values) is sent with its
    reason, for the node to quarantine. Raises FileFormatError when the file
    as a whole cannot be read.
    """
    rows: list[intake_pb2.IntakeRow] = []
    for line, columns in FileReader(dataset).rows(path):
        error = columns.pop(ROW_ERROR, "")
        rows.append(intake_pb2.IntakeRow(columns=columns, line=line, read_error=error))
        if len(rows) == rows_per_request:
            yield intake_pb2.SubmitRequest(dataset=dataset, batch=batch, rows=rows)
            rows = []
    if rows:
        yield intake_pb2.SubmitRequest(dataset=dataset, batch=batch, rows=rows)


@dataclass
class PushReport:
    """What a push did: rows = stored + duplicates + quarantined, over the acked requests."""

    requests: int = 0
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    errors: list[intake_pb2.IntakeRowError] = field(default_factory=list)
    stopped: str = ""  # why the push ended before every row was acked

    def add(self, ack: intake_pb2.SubmitAck) -> None:
        """Count one acked request."""
        self.requests += 1
        self.rows += ack.rows
        self.stored += ack.stored
        self.duplicates += ack.duplicates
        self.quarantined += ack.quarantined
        self.errors.extend(ack.errors)

    def summary(self) -> str:
        """The push as one line."""
        return (
            f"{self.rows} rows acked in {self.requests} requests: {self.stored} stored, "
            f"{self.duplicates} duplicates, {self.quarantined} quarantined"
        )


def push_file(
    client: IntakeClient,
    path: Path,
    *,
    dataset: str,
    batch: str,
    rows_per_request: int = 1000,
    progress: Callable[[int], object] | None = None,
) -> PushReport:
    """Push a file's rows; a full outbox at the node ends the push early (``stopped``), acked rows stay taken."""
    report = PushReport()
    try:
        for ack in client.submit(file_requests(path, dataset, batch=batch, rows_per_request=rows_per_request)):
            report.add(ack)
            if progress is not None:
                progress(ack.rows)
    except BackpressureError as exc:
        report.stopped = str(exc)
    return report
