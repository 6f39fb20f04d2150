"""The ``Query`` service: a subscriber's filtered, paginated queries and streamed exports of current records.

Both read the sharing index (:mod:`node.sharing_index`) through the caller's
subscription, deny by default: the subscription must be the caller's and
active today (refusals are audited as ``usage_refused``), and every record goes
through its :class:`~exchange_registry.View` (region subtree, predicates,
granted fields, personal data protected unless entitled). A query may add
predicates (AND-ed with the subscription's) and a full-text search:

- a predicate may only name a field the subscription grants (otherwise the
  filter would reveal a field the subscriber may not see);
- a predicate on a personal field needs the personal-data entitlement, and
  only ``=`` and ``!=`` are answered (by the blind index, without decrypting);
- the search covers the text fields the subscription grants
  (:func:`~node.sharing_index.searchable_fields`).

Pages are in (origin, uid) order; a page token is opaque and signed by the
node (HMAC with its ``query`` key) and bound to the subscription and query, so
a token cannot be forged or moved to another query. Pages hold at most
``sharing.page_max`` records. An export streams the same selection as CSV
(UTF-8 with BOM, header ``_op,_origin,_seq,_uid,_version`` then the granted
fields, as the file sinks write it) or JSONL (one object per record, the same
keys), in chunks of about 64 KiB, reading the index page by page. Every query
page is one ``usage`` audit entry (channel ``query``); an export is one
(channel ``export``) when it ends, with the records sent, also when the client
cancels it midway.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import hmac
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import grpc
from jgnode.exchange.v1 import sharing_pb2, sharing_pb2_grpc

from exchange_registry import SubscriptionError, View, parse_predicates
from node.delivery import USAGE_REFUSED
from node.departments import Caller
from node.entitlements import entitled, node_secret, protector, view_for
from node.errors import JgnodeError, NotEntitledError, NotFoundError
from node.grpc_util import abort_with
from node.serde import OP_UPSERT
from node.settings import NodeSettings
from node.shared_reader import Change, to_proto
from node.sharing_index import CurrentRecord, QueryError, Scan, SharingIndex, searchable_fields
from node.store import Store, Subscription
from node.usage import record_usage

__all__ = [
    "CHUNK_BYTES",
    "EXPORT_HEAD",
    "QueryServicer",
    "Querying",
    "Selection",
    "export_chunks",
]

log = logging.getLogger("jgnode.sharing")
CHUNK_BYTES: Final = 64 * 1024
EXPORT_HEAD: Final = ("_op", "_origin", "_seq", "_uid", "_version")
"""Columns an export puts before the granted fields (the file sinks' shape)."""
_EXPORT_PAGE: Final = 500
_FORMATS: Final = ("csv", "jsonl")


def _now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class Selection:
    """What one query or export reads: the caller's subscription, its view with the query's predicates added."""

    subscription: Subscription
    view: View
    scan: Scan
    digest: str  # binds page tokens to this subscription and query
    filters: tuple[str, ...]
    text: str


class Querying:
    """Queries and exports of the current records of this node's resources, under the callers' subscriptions."""

    def __init__(
        self,
        store: Store,
        settings: NodeSettings,
        index: SharingIndex,
        *,
        today: Callable[[], date] = date.today,
        clock: Callable[[], int] = _now_us,
    ) -> None:
        """Answer from ``index``; keys and page limits from ``settings``."""
        self.store = store
        self.index = index
        self.node_id = settings.node_id
        self.page_max = settings.sharing.page_max
        self._protector = protector(settings)
        self._token_key = node_secret(settings, "query")
        self._today = today
        self._clock = clock

    # -- selection ---------------------------------------------------------------------

    def select(self, caller: Caller, ident: int, *, filters: Sequence[str], text: str, channel: str) -> Selection:
        """The caller's selection of subscription ``ident``; NotEntitledError, NotFoundError or QueryError."""
        subscription = self._entitle(caller, ident, channel)
        entry = self.index.entry(subscription.dataset)
        view = view_for(subscription, entry, self._protector)
        try:
            extra = parse_predicates(list(filters), entry)
        except SubscriptionError as exc:
            raise QueryError(str(exc)) from None
        for predicate in extra:
            self._check_predicate(subscription, view, predicate.field, predicate.op)
        view = dataclasses.replace(view, predicates=(*view.predicates, *extra))
        search = None
        if text.strip():
            fields = [f for f in searchable_fields(entry) if f in view.fields]
            if not fields:
                raise QueryError(f"subscription {ident} grants no text field of {entry.resource_code} to search")
            search = self.index.text_query(entry, fields, text)
        personal = {f.name for f in entry.fields if f.personal}
        wanted = frozenset(personal & {*view.fields, *(p.field for p in view.predicates)})
        scan = Scan(entry, region=view.region, predicates=view.predicates, text=search, wanted=wanted)
        digest = hashlib.sha256(json.dumps([ident, list(filters), text], ensure_ascii=False).encode()).hexdigest()
        return Selection(subscription, view, scan, digest[:32], tuple(filters), text)

    def _entitle(self, caller: Caller, ident: int, channel: str) -> Subscription:
        try:
            return entitled(self.store, ident, caller.subscriber, today=self._today())
        except JgnodeError as exc:
            detail = {"who": caller.subscriber, "via": caller.via, "channel": channel, "reason": str(exc)}
            self.store.audit([(USAGE_REFUSED, f"subscription/{ident}", detail)], now_us=self._clock())
            raise

    def _check_predicate(self, subscription: Subscription, view: View, name: str, op: str) -> None:
        if name not in view.fields:
            raise NotEntitledError(f"filter on {name}: subscription {subscription.id} does not grant that field")
        descriptor = view.entry.field(name)
        if descriptor is None or not descriptor.personal:
            return
        if not subscription.personal:
            raise NotEntitledError(
                f"filter on {name}: personal data, and subscription {subscription.id} is not entitled to it"
            )
        if op not in ("=", "!=") or not self.index.is_blinded(view.entry.dataset, name):
            raise QueryError(f"filter on {name}: personal data is only matched with = and != (it is encrypted)")

    # -- reading -----------------------------------------------------------------------

    def page(self, selection: Selection, *, page_size: int, page_token: str) -> tuple[list[Change], str]:
        """One page of the selection and the token of the next ("" after the last)."""
        size = min(page_size or self.page_max, self.page_max)
        after = self._read_token(selection, page_token)
        records, more = self._admitted(selection, after, size)
        token = self._token(selection, (records[-1].origin, records[-1].key)) if more else ""
        return [self._change(selection.view, r) for r in records], token

    def changes(self, selection: Selection) -> Iterator[Change]:
        """Every record of the selection, read page by page."""
        after = None
        while True:
            records, more = self._admitted(selection, after, _EXPORT_PAGE)
            yield from (self._change(selection.view, r) for r in records)
            if not more:
                return
            after = (records[-1].origin, records[-1].key)

    def _admitted(
        self, selection: Selection, after: tuple[str, str] | None, size: int
    ) -> tuple[list[CurrentRecord], bool]:
        """Up to ``size`` records the view admits after ``after``, and whether more follow."""
        found: list[CurrentRecord] = []
        while True:
            want = size + 1 - len(found)
            batch = self.index.scan(selection.scan, after=after, limit=want)
            for record in batch:
                after = (record.origin, record.key)
                if selection.view.admits(record.row):
                    found.append(record)
            if len(found) > size:
                return found[:size], True
            if len(batch) < want:
                return found, False

    @staticmethod
    def _change(view: View, record: CurrentRecord) -> Change:
        fields = view.show(record.row)
        return Change(
            record.origin, record.seq, view.protected_uid(record.uid), record.version, OP_UPSERT,
            record.event_time_us, fields,
        )  # fmt: skip

    # -- page tokens -------------------------------------------------------------------

    def _token(self, selection: Selection, key: tuple[str, str]) -> str:
        body = _b64(json.dumps([selection.digest, *key], ensure_ascii=False).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def _read_token(self, selection: Selection, token: str) -> tuple[str, str] | None:
        if not token:
            return None
        body, _, mac = token.partition(".")
        try:
            valid = hmac.compare_digest(base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4)), self._mac(body))
            digest, origin, key = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise QueryError("page token is not one this node issued")
        if digest != selection.digest:
            raise QueryError("page token belongs to another query (subscription, filters and text must not change)")
        return str(origin), str(key)

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._token_key, b"jgnode-page|" + body.encode(), hashlib.sha256).digest()[:16]

    # -- audit -------------------------------------------------------------------------

    def audit(self, selection: Selection, caller: Caller, *, channel: str, records: int, **extra: Any) -> None:
        """One usage entry for a query page or an export."""
        detail: dict[str, Any] = {"filters": list(selection.filters), "text": selection.text, **extra}
        if caller.via:
            detail["via"] = caller.via
        record_usage(
            self.store,
            selection.subscription,
            channel="query" if channel == "query" else "export",
            records=records,
            now_us=self._clock(),
            who=caller.subscriber,
            extra=detail,
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def export_chunks(
    changes: Iterable[Change], fields: Sequence[str], fmt: str, *, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[bytes, int]]:
    """The export file in chunks of about ``chunk_bytes``: (bytes, records in them)."""
    parts: list[bytes] = []
    size = records = 0
    line = io.StringIO()
    writer = csv.writer(line)
    if fmt == "csv":
        writer.writerow([*EXPORT_HEAD, *fields])
        parts.append(("\ufeff" + line.getvalue()).encode())
        size = len(parts[0])
    for change in changes:
        head = ("upsert", change.origin, change.seq, change.uid, change.version)
        line.seek(0)
        line.truncate()
        if fmt == "csv":
            writer.writerow([*head, *(change.fields.get(f, "") for f in fields)])
        else:
            line.write(json.dumps({**dict(zip(EXPORT_HEAD, head, strict=True)), **change.fields}, ensure_ascii=False))
            line.write("\n")
        data = line.getvalue().encode()
        parts.append(data)
        size += len(data)
        records += 1
        if size >= chunk_bytes:
            yield b"".join(parts), records
            parts, size, records = [], 0, 0
    if parts:
        yield b"".join(parts), records


@dataclass
class _Sent:
    """What an export has handed to gRPC, audited exactly once."""

    records: int = 0
    complete: bool = False
    audited: bool = False
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class QueryServicer(sharing_pb2_grpc.QueryServicer):
    """Thin gRPC edge of :class:`Querying`."""

    def __init__(
        self,
        querying: Querying,
        identify: Callable[[grpc.ServicerContext], Caller],
        *,
        check_registry: Callable[[], None] | None = None,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        """Serve callers ``identify`` names; ``check_registry`` (if given) runs before each call."""
        self._querying = querying
        self._identify = identify
        self._check_registry = check_registry
        self._chunk_bytes = chunk_bytes

    def _start(self, context: grpc.ServicerContext, provider: str) -> Caller:
        caller = self._identify(context)
        if provider not in ("", self._querying.node_id):
            raise NotFoundError(
                f"this is node {self._querying.node_id}: ask provider {provider}'s node for its resources"
            )
        if self._check_registry is not None:
            self._check_registry()
        return caller

    def Query(  # noqa: N802
        self, request: sharing_pb2.QueryRequest, context: grpc.ServicerContext
    ) -> sharing_pb2.QueryPage:
        """One page of the caller's subscribed resource."""
        try:
            caller = self._start(context, request.provider)
            selection = self._querying.select(
                caller, request.subscription_id, filters=request.filters, text=request.text, channel="query"
            )
            changes, token = self._querying.page(selection, page_size=request.page_size, page_token=request.page_token)
            self._querying.audit(selection, caller, channel="query", records=len(changes))
        except JgnodeError as exc:
            abort_with(context, exc)
        return sharing_pb2.QueryPage(records=[to_proto(c) for c in changes], next_page_token=token)

    def Export(  # noqa: N802
        self, request: sharing_pb2.ExportRequest, context: grpc.ServicerContext
    ) -> Iterator[sharing_pb2.ExportChunk]:
        """The caller's selection as a CSV or JSONL file, in chunks."""
        try:
            caller = self._start(context, request.provider)
            fmt = request.format or "csv"
            if fmt not in _FORMATS:
                raise QueryError(f"export format {request.format!r}: use csv or jsonl")
            selection = self._querying.select(
                caller, request.subscription_id, filters=request.filters, text=request.text, channel="export"
            )
        except JgnodeError as exc:
            abort_with(context, exc)
        sent = _Sent()
        context.add_callback(lambda: self._audit_export(selection, caller, sent, fmt))  # also on cancel
        try:
            changes = self._querying.changes(selection)
            for data, records in export_chunks(changes, selection.view.fields, fmt, chunk_bytes=self._chunk_bytes):
                if not context.is_active():
                    return
                sent.records += records
                yield sharing_pb2.ExportChunk(data=data, records=records)
            sent.complete = True
        except JgnodeError as exc:
            abort_with(context, exc)
        finally:
            self._audit_export(selection, caller, sent, fmt)

    def _audit_export(self, selection: Selection, caller: Caller, sent: _Sent, fmt: str) -> None:
        with sent.lock:
            if sent.audited:
                return
            sent.audited = True
        try:
            self._querying.audit(
                selection, caller, channel="export", records=sent.records, format=fmt, complete=sent.complete
            )
        except JgnodeError as exc:
            log.error("export of subscription %s: usage not audited: %s", selection.subscription.id, exc)
