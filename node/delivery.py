"""Subscribe streams: a subscription's records from history, then the live tail, resumable and flow-controlled.

A stream starts at a cursor (per origin, the last seq the subscriber has
processed: the one it sends, or its last ack) and first reads history from
the store (:func:`node.shared_reader.read_raw`). Once it has read everything
held it joins the node's :class:`Hub`, one thread that notices new records
(woken by the node's hooks, and polling the store every ``poll_s`` because
``jgnode ingest`` writes from another process), decodes each record once and
hands it to every live stream of its dataset, in rounds at most every
``gap_s`` (each round costs every live stream a message and its ack).
Streams whose subscriptions grant the same fields share each record as
already masked and serialised, so a hundred subscribers cost one decoding per
record and one masking per record and field set.

Records a view does not admit still move the cursor, so a resume never reads
them again. A stream sends at most ``sharing.window`` records past the last
ack and then waits for one; a live stream that falls further behind than its
queue holds leaves the hub and catches up from the store. Acked and delivered
positions are held in memory and kept in ``subscription_cursor`` every
second and when a stream ends. Every few seconds a stream checks that its
subscription is still active (revoked or expired: it ends with
PERMISSION_DENIED). Usage is audited at most once a second per stream, and
once when it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from jgnode.exchange.v1 import exchange_pb2, sharing_pb2

from exchange_registry import CatalogEntry, Protector, View
from node.catalog import find_resource
from node.departments import Caller
from node.entitlements import entitled, view_for
from node.errors import BackpressureError, ConfigError, JgnodeError, PeerUnavailableError
from node.shared_reader import RawChange, admits, read_raw, through, to_proto
from node.store import CursorBook, Store, Subscription
from node.usage import record_usage

__all__ = [
    "MAX_RECORDS",
    "USAGE_REFUSED",
    "Deliveries",
    "Hub",
    "OpenStream",
    "StreamStatus",
    "ViewKey",
    "delivery_bytes",
    "view_key",
]

log = logging.getLogger("jgnode.delivery")
USAGE_REFUSED: Final = "usage_refused"
"""Audit kind of a refused use of shared data (not entitled, no such subscription)."""
MAX_RECORDS = 500  # records per Delivery message (a part the hub handed out whole may make one larger)
_HUB_READ: Final = 2000  # records the hub reads and hands out at once
_HUB_READS: Final = 5  # reads of one dataset per round
_QUEUE_RECORDS: Final = 4000  # records a live stream may hold unsent before it leaves the hub
_RECHECK_S: Final = 2.0  # how often a stream checks its subscription is still active
_USAGE_S: Final = 1.0  # at most one usage entry a second per stream
_QUIET_S: Final = 1.0  # a stream with no records for its subscriber tells its position at most this often
_RECORDS_TAG: Final = bytes([(sharing_pb2.Delivery.DESCRIPTOR.fields_by_name["records"].number << 3) | 2])
_CAUGHT_UP: Final = sharing_pb2.Delivery(caught_up=True).SerializeToString()

ViewKey = tuple[str, tuple[str, ...], str, tuple[str, ...], bool]
"""What a subscription sees: resource, fields, region, filters, personal. Equal keys, equal records."""


def view_key(subscription: Subscription) -> ViewKey:
    """The view a subscription grants, as a key shared by every subscription granting the same."""
    s = subscription
    return (s.resource_code, s.fields, s.region, s.filters, s.personal)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _framed(record: sharing_pb2.SharedRecord) -> bytes:
    """A SharedRecord as it sits inside a Delivery (field ``records``), ready to be concatenated."""
    data = record.SerializeToString()
    return _RECORDS_TAG + _varint(len(data)) + data


def _encoded(view: View, raw: RawChange, stored_at_us: int) -> bytes:
    change = through(view, raw)
    assert change is not None  # callers pass only what the view admits
    record = to_proto(change)
    record.stored_at_us = stored_at_us
    return _framed(record)


def delivery_bytes(pieces: list[bytes], moved: Mapping[str, int], dataset: str, *, caught_up: bool = False) -> bytes:
    """One Delivery message: framed records, then the cursor of every origin that moved."""
    tail = sharing_pb2.Delivery(
        cursor=[exchange_pb2.StreamCursor(origin=o, dataset=dataset, applied_seq=s) for o, s in sorted(moved.items())],
        caught_up=caught_up,
    )
    return b"".join(pieces) + tail.SerializeToString()


@dataclass(slots=True)
class _Slice:
    """What one view shows of one read of the hub: per origin the seqs and framed records, and where it ends."""

    before: dict[str, int]
    after: dict[str, int]  # only the origins that moved
    seqs: dict[str, list[int]] = field(default_factory=dict)
    pieces: dict[str, list[bytes]] = field(default_factory=dict)
    records: int = 0


def _slices(
    raws: list[RawChange],
    views: Mapping[ViewKey, View],
    before: dict[str, int],
    after: dict[str, int],
    *,
    stored_at_us: int,
) -> dict[ViewKey, _Slice]:
    """Each view's share of ``raws``; a record is serialised once per (fields, personal) shape."""
    shaped: dict[tuple[str, tuple[str, ...], bool], list[bytes | None]] = {}
    moved = {o: s for o, s in after.items() if s > before.get(o, 0)}
    out = {}
    for key, view in views.items():
        cache = shaped.setdefault((key[0], key[1], key[4]), [None] * len(raws))
        part = _Slice(before, moved)
        for i, raw in enumerate(raws):
            if not admits(view, raw):
                continue
            piece = cache[i]
            if piece is None:
                piece = cache[i] = _encoded(view, raw, stored_at_us)
            part.seqs.setdefault(raw.origin, []).append(raw.seq)
            part.pieces.setdefault(raw.origin, []).append(piece)
            part.records += 1
        out[key] = part
    return out


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """One subscribe stream as ``jgnode status`` and tests see it."""

    subscription_id: int
    subscriber: str
    via: str  # the child that relayed it ("" when the department called this node)
    sent: int  # records sent
    unacked: int  # records sent since the last ack
    live: bool  # reading the live tail (else catching up from history)
    waiting_for_ack: bool  # the window is full
    cursor: dict[str, int]


class Hub:
    """One thread that reads new records once and hands them to the live streams of their dataset."""

    def __init__(self, store: Store, *, clock: Callable[[], int], poll_s: float = 0.2, gap_s: float = 0.25) -> None:
        """Watch ``store`` (every ``poll_s``, and when woken, at most once per ``gap_s``); :meth:`start` starts."""
        self._store = store
        self._clock = clock
        self._poll_s = poll_s
        self._gap_s = gap_s
        self._lock = threading.Lock()
        self._positions: dict[str, dict[str, int]] = {}  # dataset -> origin -> last seq handed out
        self._streams: dict[str, set[_Stream]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for key, applied in store.cursors():  # what is held now is history: streams read it themselves
            self._positions.setdefault(key.dataset, {})[key.origin] = applied

    def start(self) -> None:
        """Watch for new records."""
        self._thread = threading.Thread(target=self._run, name="sharing-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        """New records were committed: look now rather than at the next poll."""
        self._wake.set()

    def join(self, stream: _Stream) -> bool:
        """Take ``stream`` live if it has read at least as far as the hub has handed out; False otherwise."""
        with self._lock:
            handed = self._positions.get(stream.dataset, {})
            if any(stream.cursor.get(origin, 0) < seq for origin, seq in handed.items()):
                return False
            self._streams.setdefault(stream.dataset, set()).add(stream)
            return True

    def leave(self, stream: _Stream) -> None:
        """Stop handing records to ``stream``."""
        with self._lock:
            self._streams.get(stream.dataset, set()).discard(stream)

    def _run(self) -> None:
        started = 0.0
        while not self._stop.is_set():
            self._wake.wait(self._poll_s)
            self._wake.clear()
            # one round per gap at most: every round costs each live stream a message (and its ack)
            self._stop.wait(started + self._gap_s - time.monotonic())
            started = time.monotonic()
            try:
                self._look()
            except JgnodeError as exc:  # the store is busy or gone for a moment: look again at the next poll
                log.warning("sharing hub: %s", exc)
            except Exception:
                log.exception("sharing hub failed a round; it carries on")

    def _look(self) -> None:
        applied: dict[str, dict[str, int]] = {}
        for key, seq in self._store.cursors():
            applied.setdefault(key.dataset, {})[key.origin] = seq
        for dataset, held in applied.items():
            with self._lock:
                handed = self._positions.setdefault(dataset, {})
                if not self._streams.get(dataset):
                    handed.update(held)  # nobody listens: nothing to read
                    continue
                if all(seq <= handed.get(origin, 0) for origin, seq in held.items()):
                    continue
                start = dict(handed)
            self._forward(dataset, start)

    def _forward(self, dataset: str, cursor: dict[str, int]) -> None:
        for _read in range(_HUB_READS):  # the rest waits for the next round: other datasets have theirs
            raws, after = read_raw(self._store, dataset, cursor, limit=_HUB_READ)
            if after == cursor:
                return
            with self._lock:
                streams = list(self._streams.get(dataset, ()))
                views = {s.key: s.view for s in streams}
                parts = _slices(raws, views, cursor, after, stored_at_us=self._clock())
                for stream in streams:
                    if not stream.offer(parts[stream.key]):
                        self._streams[dataset].discard(stream)
                self._positions[dataset] = dict(after)
            cursor = after


class _Stream:
    """One Subscribe call."""

    def __init__(
        self,
        engine: Deliveries,
        caller: Caller,
        subscription: Subscription,
        *,
        view: View,
        cursor: dict[str, int],
        is_active: Callable[[], bool],
    ) -> None:
        self._engine = engine
        self.caller = caller
        self.subscription = subscription
        self.dataset = subscription.dataset
        self.view = view
        self.key = view_key(subscription)
        self.cursor = dict(cursor)  # what has been sent (records filtered out included)
        self._started = dict(cursor)
        self._is_active = is_active
        self._cond = threading.Condition()
        self._parts: deque[_Slice] = deque()
        self._queued = 0
        self._live = False
        self._overflowed = False
        self._closed = False
        self._unacked: list[tuple[dict[str, int], int]] = []  # (positions a delivery moved to, its records)
        self._checked = time.monotonic()
        self._usage = (0, dict(cursor))  # records sent since the last usage entry, and the cursor then
        self.sent = 0
        self._untold: dict[str, int] = {}  # positions moved past filtered records, not yet told
        self._told_at = time.monotonic()

    # -- called by other threads -------------------------------------------------

    def offer(self, part: _Slice) -> bool:
        """The hub hands over new records; False when the stream is too far behind to hold them."""
        with self._cond:
            if self._queued + part.records > _QUEUE_RECORDS:
                self._parts.clear()
                self._queued = 0
                self._overflowed = True
                self._cond.notify_all()
                return False
            self._parts.append(part)
            self._queued += part.records
            self._cond.notify_all()
            return True

    def acked(self, cursor: Mapping[str, int]) -> None:
        """The subscriber acknowledged up to ``cursor``: deliveries it covers no longer count against the window."""
        with self._cond:
            self._unacked = [
                (moved, n) for moved, n in self._unacked if any(cursor.get(o, 0) < s for o, s in moved.items())
            ]
            self._cond.notify_all()

    def close(self) -> None:
        """Have the stream end at its next step (the client went away); any thread may call it."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def end(self, reason: str) -> None:
        """Account for the ended stream (once)."""
        self._engine.ended(self, reason)

    # -- the stream's own thread ---------------------------------------------------

    def run(self) -> Generator[bytes, None, None]:
        """Delivery messages, encoded, until the client cancels, the node stops or the subscription ends."""
        reason = "cancelled by the subscriber"
        try:
            yield delivery_bytes([], self.cursor, self.dataset)  # where the stream starts, for every origin
            caught_up = False
            while self._going():
                message = self._next() if self._window_open() else None
                if message is not None and self._live and not caught_up:
                    caught_up = True
                    message += _CAUGHT_UP
                if message:
                    yield message
        except JgnodeError as exc:
            reason = str(exc)
            raise
        finally:
            self.end(reason)

    def _going(self) -> bool:
        """False when the stream should end quietly; raises when it must end with an error."""
        if self._engine.stopping:
            raise PeerUnavailableError(f"node {self._engine.node_id} is stopping; subscribe again later")
        if self._closed or not self._is_active():
            return False
        now = time.monotonic()
        if now - self._checked >= _RECHECK_S:
            self._checked = now
            self._engine.entitle(self.caller, self.subscription.id)
        return True

    def _window_open(self) -> bool:
        with self._cond:
            if sum(n for _moved, n in self._unacked) < self._engine.window:
                return True
            self._cond.wait(0.5)
            return False

    def _next(self) -> bytes | None:
        if not self._live:
            return self._catch_up()
        with self._cond:
            if self._overflowed:  # the hub dropped us: what was queued is read from the store instead
                self._overflowed, self._live = False, False
                return None
            if not self._parts:
                self._cond.wait(0.5)
            parts: list[_Slice] = []
            records = 0
            while self._parts and records < MAX_RECORDS:
                part = self._parts.popleft()
                self._queued -= part.records
                records += part.records
                parts.append(part)
        return self._take(parts) if parts else None

    def _catch_up(self) -> bytes | None:
        raws, after = read_raw(self._engine.store, self.dataset, self.cursor, limit=MAX_RECORDS)
        if after != self.cursor:
            pieces = [_encoded(self.view, r, 0) for r in raws if admits(self.view, r)]
            return self._deliver(pieces, {o: s for o, s in after.items() if s > self.cursor.get(o, 0)})
        if self._engine.hub.join(self):
            self._live = True
            told, self._untold, self._told_at = self._untold, {}, time.monotonic()
            return delivery_bytes([], told, self.dataset)  # where the history ends
        self._engine.hub.wake()  # it is behind the store: have it catch up, then try again
        with self._cond:
            self._cond.wait(0.05)
        return None

    def _take(self, parts: list[_Slice]) -> bytes | None:
        pieces: list[bytes] = []
        moved: dict[str, int] = {}
        for part in parts:
            if any(part.before.get(o, 0) > moved.get(o, self.cursor.get(o, 0)) for o in part.after):
                # a gap between what was sent and what the hub hands over: never expected, never skipped
                log.error("stream of subscription %d: gap in the live tail; reading history", self.subscription.id)
                self._drop_live()
                break
            for origin, end in part.after.items():
                have = moved.get(origin, self.cursor.get(origin, 0))
                if end <= have:
                    continue
                seqs = part.seqs.get(origin)
                if seqs:
                    pieces.extend(part.pieces[origin][bisect_right(seqs, have) :])
                moved[origin] = end
        return self._deliver(pieces, moved) if moved else None

    def _drop_live(self) -> None:
        self._engine.hub.leave(self)
        with self._cond:
            self._parts.clear()
            self._queued = 0
            self._live = False

    def _deliver(self, pieces: list[bytes], moved: dict[str, int]) -> bytes:
        """A message with ``pieces`` and the positions moved; b"" when there is nothing worth a message yet.

        Positions past records the view filtered out are told with the next
        records, or every ``_QUIET_S`` (a resume from an older position reads
        them again and finds nothing to send).
        """
        with self._cond:  # the usage thread reads cursor and counts together
            self.cursor.update(moved)
            if pieces:
                self._unacked.append((moved, len(pieces)))
                records, since = self._usage
                self._usage = (records + len(pieces), since)
                self.sent += len(pieces)
        self._engine.delivered(self.subscription.id, moved)
        self._untold.update(moved)
        now = time.monotonic()
        if not pieces and now - self._told_at < _QUIET_S:
            return b""
        told, self._untold, self._told_at = self._untold, {}, now
        return delivery_bytes(pieces, told, self.dataset)

    def status(self) -> StreamStatus:
        """Where the stream stands."""
        with self._cond:
            unacked = sum(n for _moved, n in self._unacked)
        return StreamStatus(
            subscription_id=self.subscription.id,
            subscriber=self.caller.subscriber,
            via=self.caller.via,
            sent=self.sent,
            unacked=unacked,
            live=self._live,
            waiting_for_ack=unacked >= self._engine.window,
            cursor=dict(self.cursor),
        )

    def summary(self) -> dict[str, object]:
        """The stream's counts and cursor range, for its last usage entry."""
        return {"records_total": self.sent, "started_at": self._started}

    def take_usage(self) -> tuple[int, dict[str, int], dict[str, int]]:
        """Records sent since the last usage entry, the cursor then and now; the next entry starts here."""
        with self._cond:
            records, since = self._usage
            upto = dict(self.cursor)
            self._usage = (0, upto)
        return records, since, upto

    def audit_usage(self) -> None:
        """One usage entry for what was sent since the last one (none when nothing was)."""
        records, since, upto = self.take_usage()
        if records:
            self._engine.audit_use(self, records, since, upto)


class _Marks:
    """Acked and delivered positions per subscription: held here, kept in the store at most a second later.

    A crash loses at most the last second of acks: a subscriber resuming from
    its ack then receives those records again (its own cursor has none twice).
    """

    def __init__(self, book: CursorBook) -> None:
        self._book = book
        self._lock = threading.Lock()
        self._acked: dict[int, dict[str, int]] = {}
        self._delivered: dict[int, dict[str, int]] = {}
        self._dirty: set[int] = set()

    def _load(self, ident: int) -> None:
        """Read a subscription's positions from the store the first time it is needed (lock held)."""
        if ident not in self._acked:
            self._acked[ident], self._delivered[ident] = self._book.positions(ident)

    def acked(self, ident: int) -> dict[str, int]:
        """The positions acknowledged."""
        with self._lock:
            self._load(ident)
            return dict(self._acked[ident])

    def delivered(self, ident: int, moved: Mapping[str, int]) -> None:
        """A stream sent up to ``moved``."""
        with self._lock:
            self._load(ident)
            _advance(self._delivered[ident], moved)
            self._dirty.add(ident)

    def ack(self, ident: int, cursor: Mapping[str, int]) -> dict[str, int]:
        """Take an ack; every position acknowledged. ConfigError when it passes what was delivered."""
        with self._lock:
            self._load(ident)
            acked, delivered = self._acked[ident], self._delivered[ident]
            beyond = {o: s for o, s in cursor.items() if s > max(delivered.get(o, 0), acked.get(o, 0))}
            if beyond:
                shown = ", ".join(f"{o} seq {s}" for o, s in sorted(beyond.items()))
                raise ConfigError(f"ack of subscription {ident} passes what was delivered ({shown})")
            _advance(acked, cursor)
            self._dirty.add(ident)
            return dict(sorted(acked.items()))

    def flush(self, *, now_us: int) -> None:
        """Keep the positions that moved since the last flush (one transaction)."""
        with self._lock:
            dirty = {i: (dict(self._acked[i]), dict(self._delivered[i])) for i in self._dirty}
            self._dirty.clear()
        if not dirty:
            return
        try:
            self._book.save(dirty, now_us=now_us)
        except JgnodeError:
            with self._lock:
                self._dirty.update(dirty)  # try again at the next flush
            raise


def _advance(held: dict[str, int], moved: Mapping[str, int]) -> None:
    for origin, seq in moved.items():
        if seq > held.get(origin, 0):
            held[origin] = seq


class Deliveries:
    """Every subscribe stream of a node, the hub that feeds them, and the acks."""

    def __init__(
        self,
        store: Store,
        *,
        node_id: str,
        catalog: list[CatalogEntry],
        protector: Protector,
        window: int,
        max_streams: int,
        clock: Callable[[], int],
        today: Callable[[], date] = date.today,
        poll_s: float = 0.2,
    ) -> None:
        """Serve the subscriptions of ``store`` over ``catalog``; nothing runs until :meth:`start`."""
        self.store = store
        self.node_id = node_id
        self.window = window
        self.hub = Hub(store, clock=clock, poll_s=poll_s)
        self.stopping = False
        self._catalog = catalog
        self._protector = protector
        self._max_streams = max_streams
        self._clock = clock
        self._today = today
        self._marks = _Marks(CursorBook(store))
        self._lock = threading.Lock()
        self._streams: dict[int, set[_Stream]] = {}
        self._slots = 0  # streams served, relayed ones included
        self._granted: dict[tuple[int, str], tuple[float, Subscription]] = {}  # acks' entitlement, checked lately
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="sharing-flush", daemon=True)

    def start(self) -> None:
        """Start the hub and the thread that keeps positions and usage."""
        self.hub.start()
        self._flusher.start()

    def stop(self, *, wait_s: float = 2.0) -> None:
        """End every stream (UNAVAILABLE: subscribers resume later), keep positions and usage, stop the hub."""
        self.stopping = True
        for stream in self._all():
            stream.close()
        deadline = time.monotonic() + wait_s
        while self._all() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        if self._flusher.is_alive():
            self._flusher.join(timeout=10)
        self.hub.stop()

    def _all(self) -> list[_Stream]:
        with self._lock:
            return [s for group in self._streams.values() for s in group]

    def _flush_loop(self) -> None:
        while True:
            stopping = self._stop.wait(_USAGE_S)
            try:
                for stream in self._all():
                    stream.audit_usage()
                self._marks.flush(now_us=self._clock())
            except JgnodeError as exc:
                log.warning("sharing: positions or usage not kept this round: %s", exc)
            except Exception:
                log.exception("sharing: keeping positions and usage failed; trying again")
            if stopping:
                return

    def wake(self) -> None:
        """New records were committed (own ingest, a child's batch, a collector or push intake)."""
        self.hub.wake()

    def status(self) -> list[StreamStatus]:
        """Every local stream: who, what it sent, what waits for an ack."""
        return sorted((s.status() for s in self._all()), key=lambda t: (t.subscription_id, t.subscriber))

    # -- slots -------------------------------------------------------------------------

    def take_slot(self) -> None:
        """Count a stream about to be served; BackpressureError (RESOURCE_EXHAUSTED) when there are too many."""
        with self._lock:
            if self._slots >= self._max_streams:
                raise BackpressureError(
                    f"node {self.node_id} serves {self._slots} subscribe streams already (sharing.max_streams); "
                    "try again later"
                )
            self._slots += 1

    def free_slot(self) -> None:
        """A stream counted by :meth:`take_slot` ended."""
        with self._lock:
            self._slots -= 1

    # -- entitlement ---------------------------------------------------------------------

    def entitle(self, caller: Caller, ident: int, *, channel: str = "stream") -> Subscription:
        """The caller's active subscription ``ident``; refusals are audited (``usage_refused``) and raised."""
        try:
            return entitled(self.store, ident, caller.subscriber, today=self._today())
        except JgnodeError as exc:
            detail = {"who": caller.subscriber, "via": caller.via, "channel": channel, "reason": str(exc)}
            self.store.audit([(USAGE_REFUSED, f"subscription/{ident}", detail)], now_us=self._clock())
            raise

    def open(
        self, caller: Caller, ident: int, *, cursor: Mapping[str, int] | None, is_active: Callable[[], bool]
    ) -> OpenStream:
        """A subscribe stream of ``caller``'s subscription ``ident`` from ``cursor`` (None: from its last ack).

        Entitlement and the stream limit are checked here, before the first
        message; the iterator then yields encoded Delivery messages.
        """
        subscription = self.entitle(caller, ident)
        view = view_for(subscription, find_resource(self._catalog, subscription.resource_code), self._protector)
        start = dict(cursor) if cursor is not None else self._marks.acked(ident)
        self.take_slot()
        stream = _Stream(self, caller, subscription, view=view, cursor=start, is_active=is_active)
        with self._lock:
            self._streams.setdefault(ident, set()).add(stream)
        self.delivered(ident, start)  # the subscriber says it has these: acking them is no lie
        return OpenStream(stream)

    def delivered(self, ident: int, moved: Mapping[str, int]) -> None:
        """Positions a stream of subscription ``ident`` has sent."""
        self._marks.delivered(ident, moved)

    def ack(self, caller: Caller, ident: int, cursor: Mapping[str, int]) -> tuple[Subscription, dict[str, int]]:
        """Take the caller's ack of subscription ``ident`` and open its streams' windows; the positions held."""
        subscription = self._granted_lately(caller, ident)
        acked = self._marks.ack(ident, cursor)
        with self._lock:
            streams = list(self._streams.get(ident, ()))
        for stream in streams:
            stream.acked(acked)
        return subscription, acked

    def _granted_lately(self, caller: Caller, ident: int) -> Subscription:
        """Entitlement for acks, checked at most every few seconds (a subscriber acks every delivery)."""
        key = (ident, caller.subscriber)
        now = time.monotonic()
        with self._lock:
            checked = self._granted.get(key)
        if checked is not None and now - checked[0] < _RECHECK_S:
            return checked[1]
        subscription = self.entitle(caller, ident, channel="ack")
        with self._lock:
            self._granted[key] = (now, subscription)
        return subscription

    def audit_use(
        self, stream: _Stream, records: int, since: Mapping[str, int], upto: Mapping[str, int], **extra: object
    ) -> None:
        """One usage entry for a stretch of a stream: ``records`` sent from cursor ``since`` to ``upto``."""
        record_usage(
            self.store,
            stream.subscription,
            channel="stream",
            records=records,
            now_us=self._clock(),
            who=stream.caller.subscriber,
            extra={"via": stream.caller.via, "from": dict(since), "to": dict(upto), **extra},
        )

    def ended(self, stream: _Stream, reason: str) -> None:
        """A stream ended: leave the hub, keep positions, write its last usage entry (once)."""
        self.hub.leave(stream)
        ident = stream.subscription.id
        with self._lock:
            if stream not in self._streams.get(ident, set()):
                return
            self._streams[ident].discard(stream)
        try:
            self._marks.flush(now_us=self._clock())
            records, since, upto = stream.take_usage()
            self.audit_use(stream, records, since, upto, ended=reason, **stream.summary())
        except JgnodeError as exc:
            log.warning("stream of subscription %d ended; its positions or last usage entry failed: %s", ident, exc)
        finally:
            self.free_slot()


class OpenStream(Iterator[bytes]):
    """A stream as an iterator of encoded Delivery messages; :meth:`close` (from the RPC's thread) ends it."""

    def __init__(self, stream: _Stream) -> None:
        self.stream = stream
        self._messages: Generator[bytes, None, None] = stream.run()

    def __next__(self) -> bytes:
        return next(self._messages)

    def close(self) -> None:
        """End the stream and account for it, even when it never sent a message."""
        self.stream.close()
        self._messages.close()
        self.stream.end("cancelled by the subscriber")
