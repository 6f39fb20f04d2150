"""The ``Intake`` gRPC service: department systems stream rows in, each request acked after commit.

Thin: the servicer learns which source is calling, turns each request into
a :class:`node.intake.Submission`, calls :meth:`node.intake.PushIntake.submit`
and answers with the counts and every quarantined row. Requests arrive as raw
bytes, so that one that does not parse ends the stream with
INVALID_ARGUMENT rather than gRPC's own INTERNAL. Refused callers (not a
source of this node, not configured, or pushing a dataset they may not) are
counted and audited as ``caller_refused`` like every other refused caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Final, NoReturn

import grpc
from google.protobuf.message import DecodeError
from jgnode.exchange.v1 import exchange_pb2, intake_pb2

from adapters.csv_records import DATASET_TYPES, to_row
from node.collect_settings import IntakeSource
from node.errors import BackpressureError, BatchRejectedError, IngestError, JgnodeError, VerificationError
from node.grpc_util import abort_with, caller_certificate, caller_chain
from node.intake import PushedRow, PushIntake, Submission, SubmitOutcome
from node.serde import OP_UPSERT, payload_from_record
from node.trust import TrustStore

__all__ = [
    "SOURCE_METADATA",
    "IntakeServicer",
    "ack_to_proto",
    "identify_source",
    "intake_handler",
    "submission_from_proto",
]

log = logging.getLogger("jgnode.intake")
SOURCE_METADATA: Final = "jgnode-source"
"""Metadata naming the calling source (insecure development nodes only; otherwise the certificate names it)."""
SERVICE: Final = intake_pb2.DESCRIPTOR.services_by_name["Intake"].full_name


def identify_source(trust: TrustStore, *, node_id: str, insecure: bool) -> Callable[[grpc.ServicerContext], str]:
    """How the servicer learns the calling source's name."""

    def identify(context: grpc.ServicerContext) -> str:
        pem = caller_certificate(context)
        if pem:
            source = trust.source(pem, intermediates=caller_chain(context))
            if source.node_id != node_id:
                raise VerificationError(f"the certificate names source {source.label}, not a source of {node_id}")
            return source.name
        if insecure:
            return next((str(v) for k, v in context.invocation_metadata() if k == SOURCE_METADATA), "")
        raise VerificationError("no client certificate")

    return identify


def submission_from_proto(request: intake_pb2.SubmitRequest, numbering: dict[str, int]) -> Submission:
    """A request as the intake takes it; rows without a line number are numbered per batch (``numbering``)."""
    rows = []
    for row in request.rows:
        count = numbering.get(request.batch, 0) + 1
        numbering[request.batch] = count
        rows.append(_pushed_row(row, request.dataset, row.line or count))
    return Submission(request.dataset, request.batch, tuple(rows))


def _pushed_row(row: intake_pb2.IntakeRow, dataset: str, line: int) -> PushedRow:
    """A row of columns; a typed record flattened to the same columns (or kept with why it could not be)."""
    if not row.HasField("record"):
        return PushedRow(line, dict(row.columns), row.read_error)
    if row.columns:
        raise IngestError(f"row {line} carries both columns and a typed record")
    try:
        record = payload_from_record(exchange_pb2.Record(op=OP_UPSERT, payload=row.record))
    except BatchRejectedError as exc:
        return PushedRow(line, {"record": row.record.type_url}, str(exc))
    expected = DATASET_TYPES.get(dataset)
    if record is None or isinstance(record, dict) or expected is None or not isinstance(record, expected):
        return PushedRow(line, {"record": row.record.type_url}, f"{row.record.type_url} is not a {dataset} record")
    return PushedRow(line, to_row(record), row.read_error)


def ack_to_proto(number: int, outcome: SubmitOutcome) -> intake_pb2.SubmitAck:
    """What became of request ``number`` as its ack."""
    report = outcome.report
    return intake_pb2.SubmitAck(
        request=number,
        dataset=outcome.dataset,
        batch=outcome.batch,
        rows=report.rows,
        stored=report.stored,
        duplicates=report.duplicates,
        quarantined=report.quarantined,
        errors=[
            intake_pb2.IntakeRowError(index=p.index, line=p.line, reasons=p.reasons, quarantine_id=p.quarantine_id)
            for p in outcome.problems
        ],
        first_seq=report.first_seq,
        last_seq=report.last_seq,
    )


class IntakeServicer:
    """Serves :class:`node.intake.PushIntake` to department systems."""

    def __init__(
        self,
        intake: PushIntake,
        identify: Callable[[grpc.ServicerContext], str],
        *,
        refused: Callable[[str, str], None],
        max_message_bytes: int,
    ) -> None:
        """``refused(peer, reason)`` counts and audits a refused caller."""
        self._intake = intake
        self._identify = identify
        self._refused = refused
        self._max_bytes = max_message_bytes

    def _refuse(self, context: grpc.ServicerContext, exc: JgnodeError) -> NoReturn:
        log.warning("refused an intake caller from %s: %s", context.peer(), exc)
        self._refused(context.peer(), str(exc))
        abort_with(context, exc)

    def _source(self, context: grpc.ServicerContext) -> IntakeSource:
        try:
            return self._intake.authorise(self._identify(context))
        except JgnodeError as exc:
            self._refuse(context, exc)

    def Submit(  # noqa: N802
        self, request_iterator: Iterator[bytes], context: grpc.ServicerContext
    ) -> Iterator[intake_pb2.SubmitAck]:
        """Take each request's rows and ack it after commit, in order."""
        source = self._source(context)
        numbering: dict[str, int] = {}
        for number, raw in enumerate(request_iterator, start=1):
            try:
                outcome = self._intake.submit(source, self._parse(raw, numbering))
            except VerificationError as exc:
                self._refuse(context, exc)
            except JgnodeError as exc:
                level = logging.WARNING if isinstance(exc, BackpressureError | IngestError) else logging.ERROR
                log.log(level, "intake stream from %s ended at request %d: %s", source.name, number, exc)
                abort_with(context, exc)
            yield ack_to_proto(number, outcome)

    def _parse(self, raw: bytes, numbering: dict[str, int]) -> Submission:
        if len(raw) > self._max_bytes:
            raise IngestError(f"request of {len(raw)} bytes exceeds {self._max_bytes}")
        try:
            request = intake_pb2.SubmitRequest.FromString(raw)
        except DecodeError as exc:
            raise IngestError(f"malformed request: {exc}") from exc
        return submission_from_proto(request, numbering)


def intake_handler(servicer: IntakeServicer) -> Any:
    """The Intake service, taking raw request bytes."""
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Submit": grpc.stream_stream_rpc_method_handler(
                servicer.Submit, request_deserializer=None, response_serializer=intake_pb2.SubmitAck.SerializeToString
            ),
        },
    )
