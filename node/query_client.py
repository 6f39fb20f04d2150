"""A department's client of a node's ``Query`` service: pages of current records, all of them, or an export file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from jgnode.exchange.v1 import sharing_pb2, sharing_pb2_grpc

from node.shared_reader import Change

__all__ = ["Page", "QueryClient", "change_from_proto"]

Metadata = Sequence[tuple[str, str | bytes]]


def change_from_proto(record: sharing_pb2.SharedRecord) -> Change:
    """A SharedRecord as the plain record it stands for."""
    return Change(
        origin=record.origin,
        seq=record.seq,
        uid=record.uid,
        version=record.version,
        op=record.op,
        event_time_us=record.event_time_us,
        fields=dict(record.fields),
    )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query and the token of the next ("" after the last)."""

    records: list[Change]
    next_page_token: str


class QueryClient:
    """Queries and exports over one channel; ``metadata`` goes with every call (e.g. the department's name)."""

    def __init__(self, channel: grpc.Channel, metadata: Metadata = (), *, provider: str = "") -> None:
        """Call the node at the other end of ``channel`` (``provider``: the node holding the resource)."""
        self._stub = sharing_pb2_grpc.QueryStub(channel)
        self._metadata = tuple(metadata)
        self._provider = provider

    def page(
        self,
        subscription_id: int,
        *,
        filters: Sequence[str] = (),
        text: str = "",
        page_size: int = 0,
        page_token: str = "",
        timeout: float = 60.0,
    ) -> Page:
        """One page (``page_token`` from the previous one; "" for the first)."""
        reply = self._stub.Query(
            sharing_pb2.QueryRequest(
                provider=self._provider,
                subscription_id=subscription_id,
                filters=list(filters),
                text=text,
                page_size=page_size,
                page_token=page_token,
            ),
            metadata=self._metadata,
            timeout=timeout,
        )
        return Page([change_from_proto(r) for r in reply.records], reply.next_page_token)

    def records(
        self, subscription_id: int, *, filters: Sequence[str] = (), text: str = "", page_size: int = 0
    ) -> Iterator[Change]:
        """Every record of the query, page after page."""
        token = ""
        while True:
            page = self.page(subscription_id, filters=filters, text=text, page_size=page_size, page_token=token)
            yield from page.records
            token = page.next_page_token
            if not token:
                return

    def export(
        self,
        subscription_id: int,
        out: Path,
        *,
        fmt: str = "csv",
        filters: Sequence[str] = (),
        text: str = "",
        progress: Callable[[int], object] | None = None,
    ) -> int:
        """Write the export to ``out`` (atomically: a temp file renamed at the end); returns the records written."""
        chunks: Any = self._stub.Export(  # a grpc.Call too: cancelled when writing fails
            sharing_pb2.ExportRequest(
                provider=self._provider, subscription_id=subscription_id, filters=list(filters), text=text, format=fmt
            ),
            metadata=self._metadata,
        )
        tmp = out.with_name(f".{out.name}.tmp")
        records = 0
        try:
            with tmp.open("wb") as sink:
                for chunk in chunks:
                    sink.write(chunk.data)
                    records += chunk.records
                    if progress is not None:
                        progress(chunk.records)
                sink.flush()
                os.fsync(sink.fileno())
            tmp.replace(out)
        except BaseException:
            chunks.cancel()
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return records
