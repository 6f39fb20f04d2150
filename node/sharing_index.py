"""The sharing index: the current version of every record, personal fields sealed, text searchable.

Queries and exports read the current state of a resource, not its history, so
the node keeps one row per (dataset, origin, uid) in ``shared_record``: the
latest version's non-personal fields as JSON (``doc``), its region code and
event time as indexed columns, and a tombstone (``deleted``) for a deleted uid.
The :class:`SharingIndex` worker follows the record streams by position
(``shared_position``, moved in the transaction that writes the rows it covers)
and is woken by the node whenever records are stored; the index is derived
data, rebuilt from the streams when it is empty, when its format, cipher or
keys change, or on ``jgnode share reindex``.

Personal data at rest. Every field the catalog marks personal is taken out of
``doc`` and kept sealed (``sealed``) with the node's field cipher (AES-256-GCM
or SM4-GCM, ``[sharing] cipher``); the associated data is
``dataset|origin|uid|field``, so a sealed value copied to another row or field
does not open. A uid that is itself a personal identifier (a person's ID
number) is stored as a keyed hash, the uid sealed beside it. Predicates are
answered without decrypting: non-personal fields from ``doc`` (SQLite
``json_extract``, PostgreSQL ``->>``); personal fields that predicates may name
(a person's ID number, birth date) through a **blind index**: HMAC of the value
under the node's ``blind`` key, which answers ``=`` and ``!=`` only.

Full-text search. Chinese has no spaces: text is cut into overlapping
character bigrams for runs of CJK characters and lower-cased words for
everything else (NFKC first, so full-width letters are plain ones), the same
way when indexing and when querying; a query term is the phrase of its tokens.
Each token carries a two-letter code of its field (:data:`TEXT_FIELDS`), so a
search covers only the fields the subscription may see. ID and phone numbers
are masked (``mask_text``) before indexing. Personal text (complaint
``details``, an organisation counterparty's name, both sealed at rest) is
indexed as keyed hashes of its tokens, never in clear; a citizen's name is
not searchable at all. SQLite keeps the tokens in an FTS5 table
(``shared_text``, keyed by the row id); PostgreSQL in a ``tsvector`` column
(``to_tsvector('simple', ...)``, GIN index) queried with ``phraseto_tsquery``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import operator
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.exc import IntegrityError

from adapters.csv_records import DATASET_TYPES
from exchange_registry import FREE_TEXT_FIELDS, CatalogEntry, FieldCipher, Predicate, indexed_fields, mask_text
from governance import uid_fields
from node.catalog import node_catalog
from node.entitlements import field_cipher, node_secret
from node.errors import JgnodeError
from node.settings import NodeSettings
from node.shared_reader import RawChange, read_raw
from node.store import Store
from node.worker import Worker

__all__ = [
    "TEXT_FIELDS",
    "CurrentRecord",
    "QueryError",
    "Scan",
    "SealedValueError",
    "SharingIndex",
    "TextQuery",
    "searchable_fields",
    "text_tokens",
]

log = logging.getLogger("jgnode.sharing")
FORMAT: Final = "1"  # bump when what is stored changes: the index then rebuilds itself
UID_FIELD: Final = "_uid"  # where a personal uid is kept sealed
TEXT_FIELDS: Final[Mapping[str, str]] = {
    # free text
    "details": "dt",
    "facts": "fa",
    "title": "ti",
    "text": "tx",
    "outcome": "oc",
    "result": "rs",
    "reason": "re",
    "measure": "me",
    # names of organisations, objects, matters and actions
    "name": "nm",
    "object_name": "ob",
    "counterparty_name": "cp",
    "agency_name": "ag",
    "action_name": "an",
    "service_name": "sv",
    "linked_names": "ln",
    "organisation": "og",
    "deciding_authority": "da",
}
"""Fields searched by full-text queries, each with the code its tokens carry."""

_MAX_TERMS: Final = 10
_MAX_QUERY_CHARS: Final = 200
_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN: Final = re.compile(f"([{_CJK}]+)|[^\\W_{_CJK}]+")
_CITIZEN: Final = ("1", "")
_IN_CHUNK: Final = 500
_BUSY_WINDOW_S: Final = 1.0  # the exchange counts as busy for this long after records were last stored
_YIELD_FACTOR: Final = 3.0  # when busy, sleep this many times the time the last chunk took
_TOKEN_CACHE: Final = 200_000  # blind token hashes kept (a few tens of MB at most)
_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite numbers only INTEGER PRIMARY KEY by itself
_JSON = JSON().with_variant(JSONB(), "postgresql")
_TABLES = MetaData()
SHARED_RECORD: Final = Table(
    "shared_record",
    _TABLES,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("dataset", String(64), nullable=False),
    Column("origin", String(64), nullable=False),
    Column("uid", String(255), nullable=False),  # a keyed hash when the uid is a personal identifier
    Column("version", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("event_time_us", BigInteger, nullable=False),
    Column("doc", _JSON, nullable=False),  # the non-personal fields
    Column("blind", _JSON, nullable=False),  # blind index of personal fields predicates may name
    Column("sealed", _JSON, nullable=False),  # personal fields, sealed (base64)
    Column("tsv", Text().with_variant(TSVECTOR(), "postgresql"), nullable=True),  # PostgreSQL only
    UniqueConstraint("dataset", "origin", "uid", name="uq_shared_record_key"),
    Index("ix_shared_record_region", "dataset", "region_code"),
    Index("ix_shared_record_time", "dataset", "event_time_us"),
)
SHARED_POSITION: Final = Table(
    "shared_position",
    _TABLES,
    Column("origin", String(64), primary_key=True),
    Column("dataset", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)
SHARED_META: Final = Table(
    "shared_meta",
    _TABLES,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
_FTS_DDL: Final = "CREATE VIRTUAL TABLE IF NOT EXISTS shared_text USING fts5(tokens)"
_PG_DDL: Final = "CREATE INDEX IF NOT EXISTS ix_shared_record_tsv ON shared_record USING gin (tsv)"
_SIMPLE: Final[ColumnElement[Any]] = literal_column("'simple'::regconfig")
_OPS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class QueryError(JgnodeError):
    """A query or export the node cannot run as asked: bad filter, search words or page token."""

    grpc_status = "INVALID_ARGUMENT"


class SealedValueError(JgnodeError):
    """A sealed personal value does not open: wrong key, or altered or moved (rebuild the index)."""

    grpc_status = "DATA_LOSS"


# -- text -------------------------------------------------------------------------------------


def text_tokens(value: str) -> list[str]:
    """Bigrams of each run of CJK characters, lower-cased words of the rest (a lone CJK character: none)."""
    tokens: list[str] = []
    for match in _RUN.finditer(unicodedata.normalize("NFKC", value)):
        run = match.group(0)
        if match.group(1):
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run.lower())
    return tokens


def query_terms(query: str) -> list[list[str]]:
    """The terms of a search (whitespace-separated), each as the phrase of its tokens; QueryError when unusable."""
    if len(query) > _MAX_QUERY_CHARS:
        raise QueryError(f"search text is longer than {_MAX_QUERY_CHARS} characters")
    terms = []
    for word in unicodedata.normalize("NFKC", query).split():
        lone = [m.group(0) for m in _RUN.finditer(word) if m.group(1) and len(m.group(0)) == 1]
        if lone:
            raise QueryError(f"search term {word!r}: a Chinese term needs at least two characters together")
        tokens = text_tokens(word)
        if tokens:
            terms.append(tokens)
    if not terms:
        raise QueryError(f"no words to search for in {query!r}")
    if len(terms) > _MAX_TERMS:
        raise QueryError(f"at most {_MAX_TERMS} search terms")
    return terms


def searchable_fields(entry: CatalogEntry) -> tuple[str, ...]:
    """Text fields of a resource that full-text search covers (a person's name never is)."""
    return tuple(
        f.name
        for f in entry.fields
        if f.name in TEXT_FIELDS and (not f.personal or f.name in FREE_TEXT_FIELDS or f.name == "counterparty_name")
    )


@dataclass(frozen=True, slots=True)
class TextQuery:
    """A search as index tokens: every term must match, each in one of its alternatives (one per field)."""

    terms: tuple[tuple[tuple[str, ...], ...], ...]

    def fts5(self) -> str:
        """The FTS5 MATCH expression."""
        return " AND ".join("(" + " OR ".join('"' + " ".join(alt) + '"' for alt in alts) + ")" for alts in self.terms)

    def tsquery(self) -> ColumnElement[Any]:
        """The PostgreSQL tsquery expression."""
        anded: ColumnElement[Any] | None = None
        for alts in self.terms:
            ored: ColumnElement[Any] | None = None
            for alt in alts:
                phrase = func.phraseto_tsquery(_SIMPLE, literal(" ".join(alt), String))
                ored = phrase if ored is None else ored.op("||")(phrase)
            assert ored is not None  # every term has an alternative per searched field
            anded = ored if anded is None else anded.op("&&")(ored)
        assert anded is not None  # a TextQuery has at least one term
        return anded


# -- what is stored -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Version:
    """One record version as the index stores it."""

    origin: str
    key: str  # the stored uid
    version: int
    seq: int
    deleted: bool
    region_code: str
    event_time_us: int
    doc: dict[str, str]
    blind: dict[str, str]
    sealed: dict[str, str]
    tokens: str


@dataclass(frozen=True, slots=True)
class CurrentRecord:
    """The current version of a record, with the fields a reader asked to be opened."""

    origin: str
    key: str  # the uid as stored (a keyed hash for a personal uid): the order of pages
    uid: str
    version: int
    seq: int
    event_time_us: int
    row: dict[str, str]


class _Codec:
    """Seals, blinds and tokenises record versions for the index, and opens what it sealed."""

    def __init__(self, settings: NodeSettings, entries: Sequence[CatalogEntry]) -> None:
        self._cipher: FieldCipher = field_cipher(settings)
        self._blind_key = node_secret(settings, "blind")
        self._sm3 = settings.sharing.pseudonym_hash == "sm3"
        self._tokens_seen: dict[str, str] = {}
        self.entries = {e.dataset: e for e in entries}
        self._personal = {e.dataset: frozenset(f.name for f in e.fields if f.personal) for e in entries}
        self._blinded = {e.dataset: frozenset(indexed_fields(e)) & self._personal[e.dataset] for e in entries}
        self._personal_uid = {
            e.dataset: bool(set(uid_fields(DATASET_TYPES[e.dataset])) & self._personal[e.dataset]) for e in entries
        }
        fingerprint = hashlib.sha256(b"jgnode-index-fields|" + node_secret(settings, "fields")).hexdigest()[:16]
        self.state = (
            f"format={FORMAT};cipher={self._cipher.name};fields={fingerprint};"
            f"blind={self._mac(b'fingerprint').hex()[:16]};hash={settings.sharing.pseudonym_hash}"
        )

    def _mac(self, data: bytes) -> bytes:
        if not self._sm3:
            return hmac.digest(self._blind_key, data, "sha256")
        mac = crypto_hmac.HMAC(self._blind_key, hashes.SM3())
        mac.update(data)
        return mac.finalize()

    def blind_value(self, name: str, value: str) -> str:
        """The blind-index entry of a personal field's value."""
        return self._mac(f"v|{name}|{value}".encode()).hex()[:32]

    def blind_token(self, token: str) -> str:
        """A keyed hash standing for a token of personal text (bigrams repeat: the hashes are kept)."""
        known = self._tokens_seen.get(token)
        if known is None:
            if len(self._tokens_seen) >= _TOKEN_CACHE:
                self._tokens_seen.clear()
            known = self._tokens_seen[token] = self._mac(f"t|{token}".encode()).hex()[:16]
        return known

    def key_of(self, dataset: str, uid: str) -> str:
        """The uid as stored: itself, or a keyed hash when it is a personal identifier."""
        return "b:" + self._mac(f"u|{dataset}|{uid}".encode()).hex()[:32] if self._personal_uid[dataset] else uid

    def encode(self, dataset: str, raw: RawChange) -> _Version:
        """What the index stores of one record version."""
        key = self.key_of(dataset, raw.uid)
        if raw.row is None:
            return _Version(raw.origin, key, raw.version, raw.seq, True, "", raw.event_time_us, {}, {}, {}, "")
        personal = self._personal[dataset]
        row = raw.row
        sealed = {name: self._seal(dataset, raw.origin, key, name, row[name]) for name in personal if name in row}
        if self._personal_uid[dataset]:
            sealed[UID_FIELD] = self._seal(dataset, raw.origin, key, UID_FIELD, raw.uid)
        return _Version(
            origin=raw.origin,
            key=key,
            version=raw.version,
            seq=raw.seq,
            deleted=False,
            region_code=row.get("region_code", ""),
            event_time_us=raw.event_time_us,
            doc={k: v for k, v in row.items() if k not in personal},
            blind={name: self.blind_value(name, row[name]) for name in self._blinded[dataset] if name in row},
            sealed=sealed,
            tokens=" ".join(self._tokens(dataset, row)),
        )

    def _seal(self, dataset: str, origin: str, key: str, name: str, value: str) -> str:
        sealed = self._cipher.seal(value, f"{dataset}|{origin}|{key}|{name}".encode())
        return base64.b64encode(sealed).decode("ascii")

    def _tokens(self, dataset: str, row: Mapping[str, str]) -> Iterable[str]:
        personal = self._personal[dataset]
        for name, code in TEXT_FIELDS.items():
            value = row.get(name, "")
            if not value:
                continue
            if name not in personal:
                yield from (code + t for t in text_tokens(mask_text(value)))
            elif name in FREE_TEXT_FIELDS or row.get("counterparty_nature", "") not in _CITIZEN:
                yield from (code + self.blind_token(t) for t in text_tokens(mask_text(value)))
            # else: a citizen's name is not searchable

    def open(
        self, dataset: str, origin: str, key: str, sealed: Mapping[str, str], wanted: Iterable[str]
    ) -> dict[str, str]:
        """The sealed fields of ``wanted`` in clear; SealedValueError when one does not open."""
        opened = {}
        for name in wanted:
            if name in sealed:
                try:
                    data = base64.b64decode(sealed[name])
                    opened[name] = self._cipher.open(data, f"{dataset}|{origin}|{key}|{name}".encode())
                except ValueError as exc:
                    raise SealedValueError(
                        f"sealed {name} of {dataset} record {origin}/{key} does not open ({exc}); "
                        "rebuild the index with `jgnode share reindex`"
                    ) from None
        return opened

    def text_query(self, dataset: str, fields: Sequence[str], query: str) -> TextQuery:
        """A search over ``fields`` of ``dataset`` as index tokens."""
        personal = self._personal[dataset]
        terms = []
        for tokens in query_terms(query):
            alts = []
            for name in fields:
                code = TEXT_FIELDS[name]
                blind = name in personal
                alts.append(tuple(code + (self.blind_token(t) if blind else t) for t in tokens))
            terms.append(tuple(alts))
        return TextQuery(tuple(terms))

    def is_blinded(self, dataset: str, name: str) -> bool:
        """Whether predicates on ``name`` are answered by the blind index."""
        return name in self._blinded[dataset]


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scan:
    """What to read of a resource's current records; every predicate is also checked again by the caller."""

    entry: CatalogEntry
    region: str = ""
    predicates: tuple[Predicate, ...] = ()
    text: TextQuery | None = None
    wanted: frozenset[str] = frozenset()  # personal fields to open


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


def _successor(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class _Reader:
    """Builds the SQL of a scan for one backend."""

    def __init__(self, dialect: str, codec: _Codec) -> None:
        self._pg = dialect == "postgresql"
        self._codec = codec

    def statement(self, scan: Scan, after: tuple[str, str] | None, limit: int) -> Select[Any]:
        t = SHARED_RECORD
        stmt = (
            select(t.c.origin, t.c.uid, t.c.version, t.c.seq, t.c.event_time_us, t.c.doc, t.c.sealed)
            .where((t.c.dataset == scan.entry.dataset) & t.c.deleted.is_(False))
            .order_by(t.c.origin, t.c.uid)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(tuple_(t.c.origin, t.c.uid) > tuple_(literal(after[0]), literal(after[1])))
        if scan.region:
            stmt = stmt.where((t.c.region_code >= scan.region) & (t.c.region_code < _successor(scan.region)))
        for predicate in scan.predicates:
            condition = self._predicate(scan.entry, predicate)
            if condition is not None:
                stmt = stmt.where(condition)
        if scan.text is not None:
            stmt = stmt.where(self._text(scan.text))
        return stmt

    def _predicate(self, entry: CatalogEntry, predicate: Predicate) -> ColumnElement[bool] | None:
        """The SQL of a predicate; None when only the caller's check can answer it (a range on personal data)."""
        t = SHARED_RECORD
        name, op, value = predicate.field, predicate.op, predicate.value
        if self._codec.is_blinded(entry.dataset, name):
            if op not in ("=", "!="):
                return None
            return _OPS[op](t.c.blind[name].as_string(), self._codec.blind_value(name, value))  # type: ignore[no-any-return]
        descriptor = entry.field(name)
        if descriptor is not None and descriptor.personal:
            return None
        expr: ColumnElement[Any] = t.c.region_code if name == "region_code" else t.c.doc[name].as_string()
        if op == "^=":
            return func.substr(expr, 1, len(value)) == value
        as_text = expr.collate("C") if self._pg else expr
        compared = _OPS[op](as_text, literal(value, String))
        if not _is_int(value):
            return compared  # type: ignore[no-any-return]
        numeric = _OPS[op](cast(expr, BigInteger), int(value))
        return case((self._int_like(expr), numeric), else_=compared)

    def _int_like(self, expr: ColumnElement[Any]) -> ColumnElement[bool]:
        if self._pg:
            return expr.op("~")("^-?[0-9]{1,18}$")
        digits = func.ltrim(expr, "-")
        return and_(digits != "", digits.op("NOT GLOB")("*[^0-9]*"))

    def _text(self, query: TextQuery) -> ColumnElement[bool]:
        if self._pg:
            return literal_column("shared_record.tsv").op("@@")(query.tsquery())
        matching = text("SELECT rowid FROM shared_text WHERE shared_text MATCH :fts").bindparams(fts=query.fts5())
        return SHARED_RECORD.c.id.in_(matching.columns(literal_column("rowid", Integer)))


# -- writing ------------------------------------------------------------------------------------


class _Writer:
    """Applies record versions to the index tables, for one backend."""

    def __init__(self, dialect: str) -> None:
        self._pg = dialect == "postgresql"

    def create(self, conn: Connection) -> None:
        _TABLES.create_all(conn)
        conn.exec_driver_sql(_PG_DDL if self._pg else _FTS_DDL)

    def clear(self, conn: Connection) -> None:
        conn.execute(delete(SHARED_POSITION))
        conn.execute(delete(SHARED_RECORD))
        if not self._pg:
            conn.exec_driver_sql("DELETE FROM shared_text")

    def apply(self, conn: Connection, dataset: str, versions: Sequence[_Version]) -> None:
        """Keep the newest of ``versions`` and of what is held, per uid."""
        newest: dict[tuple[str, str], _Version] = {}
        for v in versions:
            held = newest.get((v.origin, v.key))
            if held is None or v.version >= held.version:
                newest[(v.origin, v.key)] = v
        held_ids = _held(conn, dataset, list(newest))
        fresh = [v for k, v in newest.items() if k not in held_ids]
        changed = [(held_ids[k][0], v) for k, v in newest.items() if k in held_ids and v.version >= held_ids[k][1]]
        if fresh:
            conn.execute(insert(SHARED_RECORD), [{"dataset": dataset, **_values(v)} for v in fresh])
            new_ids = _held(conn, dataset, [(v.origin, v.key) for v in fresh])
            changed_text = [(new_ids[(v.origin, v.key)][0], v) for v in fresh]
        else:
            changed_text = []
        if changed:
            conn.execute(
                update(SHARED_RECORD).where(SHARED_RECORD.c.id == bindparam("row_id")),
                [{"row_id": row_id, **_values(v)} for row_id, v in changed],
            )
            if not self._pg:
                conn.exec_driver_sql("DELETE FROM shared_text WHERE rowid = ?", [(row_id,) for row_id, _ in changed])
        self._index_text(conn, [*changed_text, *changed])

    def _index_text(self, conn: Connection, rows: Sequence[tuple[int, _Version]]) -> None:
        if self._pg:
            if rows:
                conn.execute(
                    update(SHARED_RECORD)
                    .where(SHARED_RECORD.c.id == bindparam("row_id"))
                    .values(tsv=func.to_tsvector(_SIMPLE, bindparam("tokens", type_=String))),
                    [{"row_id": row_id, "tokens": v.tokens} for row_id, v in rows],
                )
            return
        texts = [(row_id, v.tokens) for row_id, v in rows if v.tokens]
        if texts:
            conn.exec_driver_sql("INSERT INTO shared_text (rowid, tokens) VALUES (?, ?)", texts)


def _values(v: _Version) -> dict[str, Any]:
    return {
        "origin": v.origin,
        "uid": v.key,
        "version": v.version,
        "seq": v.seq,
        "deleted": v.deleted,
        "region_code": v.region_code,
        "event_time_us": v.event_time_us,
        "doc": v.doc,
        "blind": v.blind,
        "sealed": v.sealed,
    }


def _held(conn: Connection, dataset: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(row id, version) of the rows held for ``keys``."""
    t = SHARED_RECORD
    by_origin: dict[str, list[str]] = {}
    for origin, key in keys:
        by_origin.setdefault(origin, []).append(key)
    found = {}
    for origin, uids in by_origin.items():
        for start in range(0, len(uids), _IN_CHUNK):
            query = select(t.c.id, t.c.uid, t.c.version).where(
                (t.c.dataset == dataset) & (t.c.origin == origin) & t.c.uid.in_(uids[start : start + _IN_CHUNK])
            )
            found.update({(origin, uid): (int(i), int(version)) for i, uid, version in conn.execute(query)})
    return found


# -- the worker ---------------------------------------------------------------------------------


class SharingIndex(Worker):
    """Keeps ``shared_record`` current with the record streams, and reads it for queries and exports."""

    def __init__(self, *, store: Store, settings: NodeSettings, chunk: int = 1000, max_defer_s: float = 30.0) -> None:
        """Index the records of ``store`` with the keys and cipher ``settings`` name; nothing runs until started.

        Like the projector, the worker waits while records are flowing in (up
        to ``max_defer_s``, then it takes about a quarter of the time), so the
        exchange keeps the machine; when the node is quiet it catches up.
        """
        self._store = store
        self._chunk = chunk
        self._max_defer_s = max_defer_s
        self._last_activity = 0.0
        self._busy_since = 0.0
        self._codec = _Codec(settings, node_catalog(settings))
        dialect = store.engine.dialect.name
        self._writer = _Writer(dialect)
        self._reader = _Reader(dialect, self._codec)
        self._prepared = False
        super().__init__("sharing-index")

    # -- upkeep ------------------------------------------------------------------------------

    def prepare(self) -> bool:
        """Create the tables if new; clear the index when its format, cipher or keys changed (True then)."""
        with self._store.write() as conn:
            self._writer.create(conn)
            held = conn.execute(select(SHARED_META.c.value).where(SHARED_META.c.key == "state")).scalar()
            if held == self._codec.state:
                self._prepared = True
                return False
            self._writer.clear(conn)
            conn.execute(delete(SHARED_META))
            conn.execute(insert(SHARED_META).values(key="state", value=self._codec.state))
        if held is not None:
            log.warning("sharing index: format, cipher or keys changed; rebuilding it from the record streams")
        self._prepared = True
        return held is not None

    def rebuild(self, progress: Callable[[int], object] | None = None) -> int:
        """Clear the index and index every record version held again, now; returns the versions read."""
        self.prepare()
        with self._store.write() as conn:
            self._writer.clear(conn)
        return self.catch_up(progress)

    def catch_up(self, progress: Callable[[int], object] | None = None) -> int:
        """Index every record version held that is not yet indexed; returns the versions read."""
        total = 0
        while not self._stop.is_set():
            done = self.index_pending()
            if not done:
                return total
            total += done
            if progress is not None:
                progress(done)
        return total

    def backlog(self) -> int:
        """Record versions held but not yet indexed."""
        positions = self._positions()
        return sum(max(applied - positions.get((k.origin, k.dataset), 0), 0) for k, applied in self._store.cursors())

    def current_records(self) -> int:
        """Records the index holds as current (tombstones left out)."""
        self._ensure()
        with self._store.read() as conn:
            return int(conn.execute(select(func.count()).where(SHARED_RECORD.c.deleted.is_(False))).scalar_one())

    def _ensure(self) -> None:
        if not self._prepared:
            self.prepare()

    def _positions(self) -> dict[tuple[str, str], int]:
        self._ensure()
        p = SHARED_POSITION
        with self._store.read() as conn:
            return {(o, d): int(s) for o, d, s in conn.execute(select(p.c.origin, p.c.dataset, p.c.seq))}

    def index_pending(self) -> int:
        """Index one chunk of every dataset behind; returns the record versions read."""
        positions = self._positions()
        behind = sorted(
            {k.dataset for k, applied in self._store.cursors() if applied > positions.get((k.origin, k.dataset), 0)}
        )
        seen = 0
        for dataset in behind:
            if dataset not in self._codec.entries:
                continue
            cursor = {o: s for (o, d), s in positions.items() if d == dataset}
            raws, after = read_raw(self._store, dataset, cursor, limit=self._chunk)
            moved = {o: s for o, s in after.items() if s != cursor.get(o, 0)}
            if moved and self._write(dataset, raws, cursor, moved):
                seen += sum(s - cursor.get(o, 0) for o, s in moved.items())
        return seen

    def _write(
        self, dataset: str, raws: Sequence[RawChange], cursor: Mapping[str, int], moved: Mapping[str, int]
    ) -> bool:
        """Apply ``raws`` and move the positions from ``cursor`` in one transaction; False when they moved meanwhile."""
        versions = [self._codec.encode(dataset, raw) for raw in raws]
        p = SHARED_POSITION
        try:
            with self._store.write() as conn:
                where = (p.c.dataset == dataset) & p.c.origin.in_(list(moved))
                held = {o: int(s) for o, s in conn.execute(select(p.c.origin, p.c.seq).where(where))}
                if any(held.get(o, 0) != cursor.get(o, 0) for o in moved):
                    return False  # another process (jgnode share reindex) indexed them
                self._writer.apply(conn, dataset, versions)
                for origin, seq in moved.items():
                    if origin in held:
                        conn.execute(update(p).where((p.c.dataset == dataset) & (p.c.origin == origin)).values(seq=seq))
                    else:
                        conn.execute(insert(p).values(origin=origin, dataset=dataset, seq=seq))
        except IntegrityError:  # PostgreSQL: another process wrote the same rows first; its positions win
            return False
        return True

    def wake(self) -> None:
        """New records are held: the exchange is busy."""
        now = time.monotonic()
        if now - self._last_activity >= _BUSY_WINDOW_S:
            self._busy_since = now
        self._last_activity = now
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            started = time.monotonic()
            busy = started - self._last_activity < _BUSY_WINDOW_S
            if busy and started - self._busy_since < self._max_defer_s:
                self._stop.wait(_BUSY_WINDOW_S)
                continue
            try:
                done = self.index_pending()
            except Exception as exc:  # the loop must survive; _round_failed logs it
                self._round_failed(log, "sharing index", exc)
                continue
            if not done:
                self._wake.wait(1.0)  # records ingested by another process are seen within a second
            elif busy:
                self._stop.wait(min((time.monotonic() - started) * _YIELD_FACTOR, 2.0))

    # -- reading -----------------------------------------------------------------------------

    def entry(self, dataset: str) -> CatalogEntry:
        """The catalog entry the index holds ``dataset`` under."""
        return self._codec.entries[dataset]

    def text_query(self, entry: CatalogEntry, fields: Sequence[str], query: str) -> TextQuery:
        """A full-text search over ``fields`` of the resource."""
        return self._codec.text_query(entry.dataset, fields, query)

    def is_blinded(self, dataset: str, name: str) -> bool:
        """Whether a personal field has a blind index (answers ``=`` and ``!=``)."""
        return self._codec.is_blinded(dataset, name)

    def scan(self, scan: Scan, *, after: tuple[str, str] | None, limit: int) -> list[CurrentRecord]:
        """Up to ``limit`` current records in (origin, stored uid) order after ``after``.

        The SQL applies the region, the predicates it can answer without
        decrypting and the text search; the caller checks the view again.
        """
        dataset = scan.entry.dataset
        self._ensure()
        with self._store.read() as conn:
            rows = conn.execute(self._reader.statement(scan, after, limit)).all()
        found = []
        for origin, key, version, seq, event_time_us, doc, sealed in rows:
            opened = self._codec.open(dataset, origin, key, sealed, (*scan.wanted, UID_FIELD))
            uid = opened.pop(UID_FIELD, key)
            found.append(
                CurrentRecord(origin, key, uid, int(version), int(seq), int(event_time_us), {**_doc(doc), **opened})
            )
        return found

    def sealed_of(self, dataset: str) -> list[tuple[str, str, dict[str, str]]]:
        """(origin, stored uid, sealed fields) of every current record of ``dataset`` (for checks and tests)."""
        t = SHARED_RECORD
        self._ensure()
        with self._store.read() as conn:
            rows = conn.execute(
                select(t.c.origin, t.c.uid, t.c.sealed)
                .where((t.c.dataset == dataset) & t.c.deleted.is_(False))
                .order_by(t.c.origin, t.c.uid)
            ).all()
        return [(origin, key, dict(sealed)) for origin, key, sealed in rows]

    def open_sealed(self, dataset: str, origin: str, key: str, sealed: Mapping[str, str]) -> dict[str, str]:
        """Every sealed field of a row in clear; SealedValueError when one does not open."""
        return self._codec.open(dataset, origin, key, sealed, list(sealed))


def _doc(doc: Any) -> dict[str, str]:
    return json.loads(doc) if isinstance(doc, str) else dict(doc)
