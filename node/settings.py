"""Typed, frozen node settings, read from a TOML file and ``JGNODE_`` variables.

Built once in the entry point (:func:`load_settings`) and passed down; library
code never reads the environment. Environment variables win over the file;
nested fields use ``__`` (``JGNODE_LIMITS__MAX_INFLIGHT_BATCHES=16``). Relative
paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from adapters.csv_records import DATASET_TYPES
from exchange_registry import CipherName, PersonalMode, PseudonymHash, SharingClass, UpdateCycle
from node.collect_settings import CollectorSettings, IntakeSource
from node.errors import ConfigError

__all__ = [
    "CatalogResource",
    "CatalogSettings",
    "CollectorSettings",
    "IntakeSource",
    "Limits",
    "NodeSettings",
    "RegistrySettings",
    "ResolveSettings",
    "RetrySettings",
    "SharingSettings",
    "SharingSink",
    "Tier",
    "TlsSettings",
    "load_settings",
    "region_tier",
]

Tier = Literal["county", "city", "province", "national"]
NODE_ID = re.compile(r"^(?P<region>\d{6})(-[0-9A-Za-z]{1,20})?$")
_PATH_FIELDS = ("data_dir", "signing_key", "trust_dir")
_TLS_PATH_FIELDS = ("cert", "key", "ca", "crl_dir")
_COLLECT_PATH_FIELDS = ("folder", "done_folder", "failed_folder")


def _resolve_paths(data: dict[str, Any], names: tuple[str, ...], base: Path) -> None:
    for name in names:
        if isinstance(data.get(name), str) and not Path(data[name]).is_absolute():
            data[name] = str(base / data[name])


class RetrySettings(BaseModel):
    """Reconnect policy of the uplink: exponential backoff with full jitter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    initial_s: float = Field(0.2, gt=0)
    """First wait before reconnecting, in seconds."""
    multiplier: float = Field(2.0, ge=1)
    """Factor applied to the wait after each failed attempt."""
    max_interval_s: float = Field(10.0, gt=0)
    """Longest wait between two attempts."""


class ResolveSettings(BaseModel):
    """Background linking of records to regulated objects (``jgnode resolve`` runs the same on demand)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Link new records while the node runs."""
    interval_s: float = Field(60.0, gt=0)
    """Seconds between two runs (each reads everything new since the last)."""
    strong: float = Field(0.95, gt=0, lt=1)
    """Match probability that links a record to an object outright (and uniquely)."""
    weak: float = Field(0.5, gt=0, lt=1)
    """Match probability that flags a record for an operator, with its candidates."""

    @model_validator(mode="after")
    def _ordered(self) -> ResolveSettings:
        if self.weak > self.strong:
            raise ValueError(f"resolve.weak ({self.weak}) must not exceed resolve.strong ({self.strong})")
        return self


class TlsSettings(BaseModel):
    """Transport security and the PKI files of a node (defaults under the data folder)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    insecure: bool = False
    """Plain-text gRPC and no certificate checks on connections: development only, logged loudly."""
    cert: Path | None = None
    """This node's certificate chain (PEM, leaf first); default ``<data_dir>/certs/node.crt``."""
    key: Path | None = None
    """The TLS private key the certificate was issued for; default ``<data_dir>/keys/tls.key``."""
    ca: Path | None = None
    """Trust anchors: the root CA certificate(s); default ``<data_dir>/certs/ca.crt``."""
    crl_dir: Path | None = None
    """Folder of CRLs (PEM); default ``<data_dir>/certs/crl``. CRLs from the parent are saved here."""
    crl_alarm_s: float = Field(2 * 86400, gt=0)
    """Raise the alarm when a CRL goes stale within this many seconds."""
    cert_alarm_s: float = Field(30 * 86400, gt=0)
    """Raise the alarm when this node's certificate expires within this many seconds (renew it)."""
    refresh_s: float = Field(30.0, gt=0)
    """How often certificates, keys and CRLs are re-read, and fetched from the parent."""


class CatalogResource(BaseModel):
    """How the node describes one dataset in its resource catalog (unset keys keep the defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str
    """The dataset described."""
    name: str = ""
    """Catalog name; default the dataset's usual Chinese name."""
    department: str = ""
    """Providing department; default ``catalog.department``."""
    sharing_class: SharingClass | None = None
    """unconditional, conditional or not_shared; default: public data unconditional, the rest conditional."""
    conditions: str = ""
    """For conditional sharing: what an applicant must meet."""
    update_cycle: UpdateCycle | None = None
    """realtime | daily | weekly | monthly | quarterly | yearly | irregular; default daily."""

    @field_validator("dataset")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in DATASET_TYPES:
            raise ValueError(f"unknown dataset {value!r}; known: {', '.join(sorted(DATASET_TYPES))}")
        return value


class CatalogSettings(BaseModel):
    """The node's resource catalog: every dataset it holds, with its sharing class (``jgnode catalog``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    classification: str = Field("", pattern=r"^[0-9A-Za-z.]{0,32}$")
    """Classification code the resource codes start with (``<classification>-<sequence>``); default ``<region>JG``."""
    department: str = ""
    """Providing department of every resource unless a resource names its own."""
    resources: tuple[CatalogResource, ...] = ()
    """Per-dataset descriptions (``[[catalog.resources]]``)."""


class SharingSink(BaseModel):
    """Where the node writes one subscription's records for a department (``[[sharing.sinks]]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    """Unique name (it keys the sink's position)."""
    subscription: int = Field(ge=1)
    """The id of the subscription delivered (it must be active)."""
    kind: Literal["table", "file"]
    """``table``: rows upserted into a table of any SQLAlchemy URL; ``file``: CSV or JSONL files dropped in a folder."""
    url: str = ""
    """table sinks: the department database's SQLAlchemy URL."""
    table: str = Field("", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$|^$")
    """table sinks: the table written; default ``jg_<dataset>``."""
    folder: Path | None = None
    """file sinks: the drop folder."""
    format: Literal["csv", "jsonl"] = "jsonl"
    """file sinks: CSV (UTF-8 with BOM, as spreadsheet users expect) or JSON lines."""
    interval_s: float = Field(10.0, gt=0)
    """How often the sink looks for new records."""

    @model_validator(mode="after")
    def _target_named(self) -> SharingSink:
        if self.kind == "table" and not self.url:
            raise ValueError(f"sink {self.name}: a table sink needs url")
        if self.kind == "file" and self.folder is None:
            raise ValueError(f"sink {self.name}: a file sink needs folder")
        return self


class SharingSettings(BaseModel):
    """How the node shares data with subscribers: personal data, encryption at rest, delivery bounds, sinks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    personal_mode: PersonalMode = "mask"
    """How ID and phone numbers reach subscribers not entitled to them: ``mask`` or ``pseudonymise`` (keyed HMAC)."""
    pseudonym_hash: PseudonymHash = "sha256"
    """The HMAC hash of pseudonyms: ``sha256`` or ``sm3``."""
    cipher: CipherName = "aes-gcm"
    """How designated personal fields are encrypted at rest: ``aes-gcm`` (AES-256-GCM) or ``sm4-gcm``."""
    window: int = Field(5000, ge=1)
    """Records a subscribe stream sends past the subscriber's last ack before it waits for an ack."""
    max_streams: int = Field(256, ge=1)
    """Subscribe streams served at once (relayed ones included); more are refused with RESOURCE_EXHAUSTED."""
    page_max: int = Field(1000, ge=1)
    """Largest page a query returns."""
    sinks: tuple[SharingSink, ...] = ()
    """Table and file sinks (``[[sharing.sinks]]``)."""

    @model_validator(mode="after")
    def _sink_names_unique(self) -> SharingSettings:
        names = [s.name for s in self.sinks]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"sink names must be unique: {', '.join(doubled)}")
        return self


class RegistrySettings(BaseModel):
    """The registry snapshot: how long the root's snapshots last, how often they and reports go out, when to alarm."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    validity_s: float = Field(24 * 3600.0, gt=0)
    """At the root: how long a published snapshot is valid; a node holding an older one refuses new subscriptions."""
    refresh_s: float = Field(3600.0, gt=0)
    """At the root: publish a new version (new expiry, no changed parts) at least this often."""
    alarm_before_s: float = Field(8 * 3600.0, gt=0)
    """Raise the alarm when the snapshot held expires within this many seconds (or has, or none arrived)."""
    report_s: float = Field(60.0, gt=0)
    """How often a node reports its subtree (entry, endpoint, fingerprints, catalog) to its parent."""
    root_id: str | None = None
    """Node id whose signature snapshots must carry; default the trust anchor's node (no PKI: the province)."""
    advertise: str | None = None
    """host:port the registry tells other nodes to reach this node at; default the address it listens on."""

    @model_validator(mode="after")
    def _shorter_than_validity(self) -> RegistrySettings:
        for name in ("alarm_before_s", "refresh_s"):
            if getattr(self, name) >= self.validity_s:
                raise ValueError(f"registry.{name} must be shorter than registry.validity_s ({self.validity_s})")
        return self


class Limits(BaseModel):
    """Bounds that keep a node's memory and queues finite."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_message_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024)
    """Largest gRPC message sent or accepted."""
    max_batch_records: int = Field(10_000, ge=1)
    """Largest batch accepted from a child."""
    max_inflight_batches: int = Field(8, ge=1)
    """Batches sent to the parent and not yet acked."""
    outbox_max_records: int = Field(5_000_000, ge=1)
    """Records owed to the parent (unsealed or unacked) before ingest and children are refused."""
    outbox_max_bytes: int = Field(4 * 1024**3, ge=1024 * 1024)
    """Bytes of those records before ingest and children are refused."""
    db_busy_timeout_s: float = Field(30.0, gt=0)
    """How long a write waits for a locked database before it fails (and is retried later)."""


class NodeSettings(BaseSettings):
    """Everything a node process needs to know about itself."""

    model_config = SettingsConfigDict(frozen=True, env_prefix="JGNODE_", env_nested_delimiter="__", extra="forbid")

    node_id: str
    """GB/T 2260 region code plus an optional suffix, e.g. ``330106`` or ``330100-scjg``."""
    tier: Tier
    """Level of the node in the tree; must match the region code's level."""
    listen: str = "127.0.0.1:7400"
    """host:port the gRPC server binds; port 0 picks a free port (written to ``node.addr``)."""
    parent: str | None = None
    """host:port of the parent node; None at the root."""
    parent_id: str | None = None
    """Node id the parent's certificate must name; default: the region code one level up."""
    data_dir: Path = Path("jgnode-data")
    """Folder of the database, keys and runtime files."""
    database_url: str | None = None
    """SQLAlchemy URL; default SQLite (WAL) at ``<data_dir>/node.db``."""
    signing_key: Path | None = None
    """Private key that signs this node's batches; default ``<data_dir>/keys/signing.key``."""
    trust_dir: Path | None = None
    """Folder of trusted public keys, ``<node_id>.pub``; default ``<data_dir>/trust``."""
    suite: str = "ed25519"
    """Signature suite of this node's signing key."""
    batch_size: int = Field(1000, ge=1)
    """Records per signed batch."""
    batch_linger_ms: int = Field(200, ge=0)
    """Longest wait for a batch to fill before it is sealed anyway."""
    children: tuple[str, ...] = ()
    """Child node ids allowed to push; empty allows any trusted node in the subtree."""
    limits: Limits = Limits()
    """Queue and message bounds."""
    retry: RetrySettings = RetrySettings()
    """Reconnect policy towards the parent."""
    tls: TlsSettings = TlsSettings()
    """Transport security and PKI files."""
    collect: tuple[CollectorSettings, ...] = ()
    """Collection adapters (``[[collect]]`` tables), run on their schedules while the node runs."""
    intake: tuple[IntakeSource, ...] = ()
    """Department systems that may push rows over the ``Intake`` service (``[[intake]]`` tables)."""
    resolve: ResolveSettings = ResolveSettings()
    """Linking records to regulated objects in the background."""
    catalog: CatalogSettings = CatalogSettings()
    """The resource catalog this node offers."""
    registry: RegistrySettings = RegistrySettings()
    """The signed registry snapshot the root publishes and every node follows."""
    sharing: SharingSettings = SharingSettings()
    """Sharing with subscribers: personal data, encryption at rest, sinks."""

    @field_validator("node_id")
    @classmethod
    def _node_id_shape(cls, value: str) -> str:
        if not NODE_ID.match(value):
            raise ValueError("node id must be a 6-digit GB/T 2260 region code plus optional '-suffix'")
        return value

    @model_validator(mode="after")
    def _tier_matches_region(self) -> NodeSettings:
        if self.tier != "national" and region_tier(self.region_code) != self.tier:
            raise ValueError(f"node {self.node_id} is a {region_tier(self.region_code)} code, not a {self.tier}")
        return self

    @model_validator(mode="after")
    def _collector_names_unique(self) -> NodeSettings:
        for what, names in (
            ("collector", [c.name for c in self.collect]),
            ("intake source", [s.name for s in self.intake]),
        ):
            doubled = sorted({n for n in names if names.count(n) > 1})
            if doubled:
                raise ValueError(f"{what} names must be unique: {', '.join(doubled)}")
        return self

    @property
    def region_code(self) -> str:
        """The GB/T 2260 part of the node id."""
        return self.node_id[:6]

    @property
    def db_url(self) -> str:
        """The database URL in effect."""
        return self.database_url or f"sqlite:///{self.data_dir / 'node.db'}"

    @property
    def signing_key_path(self) -> Path:
        """The signing key path in effect."""
        return self.signing_key or self.data_dir / "keys" / "signing.key"

    @property
    def trust_path(self) -> Path:
        """The trust directory in effect (development setups without a PKI)."""
        return self.trust_dir or self.data_dir / "trust"

    @property
    def cert_path(self) -> Path:
        """This node's certificate chain file."""
        return self.tls.cert or self.data_dir / "certs" / "node.crt"

    @property
    def tls_key_path(self) -> Path:
        """This node's TLS private key file."""
        return self.tls.key or self.data_dir / "keys" / "tls.key"

    @property
    def ca_path(self) -> Path:
        """The trust-anchor file."""
        return self.tls.ca or self.data_dir / "certs" / "ca.crt"

    @property
    def crl_path(self) -> Path:
        """The CRL folder."""
        return self.tls.crl_dir or self.data_dir / "certs" / "crl"

    @property
    def expected_parent_id(self) -> str:
        """The node id the parent must prove it is."""
        if self.parent_id:
            return self.parent_id
        region = self.region_code
        return region[:2] + "0000" if region_tier(region) == "city" else region[:4] + "00"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit arguments first, then the environment, then the TOML file."""
        return (init_settings, env_settings, _TomlFileSource(settings_cls))


def region_tier(region: str) -> Tier:
    """Tier implied by a region code's zero pattern."""
    if region.endswith("0000"):
        return "province"
    if region.endswith("00"):
        return "city"
    return "county"


class _TomlFileSource(PydanticBaseSettingsSource):
    """The TOML file named by :func:`load_settings`, paths made relative to it."""

    path: Path | None = None

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ provides the whole mapping

    def __call__(self) -> dict[str, Any]:
        path = type(self).path
        if path is None:
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        _resolve_paths(data, _PATH_FIELDS, path.parent)
        if isinstance(data.get("tls"), dict):
            _resolve_paths(data["tls"], _TLS_PATH_FIELDS, path.parent)
        for collector in data.get("collect", []) if isinstance(data.get("collect"), list) else []:
            if isinstance(collector, dict):
                _resolve_paths(collector, _COLLECT_PATH_FIELDS, path.parent)
        sharing = data.get("sharing")
        for sink in (
            sharing.get("sinks", []) if isinstance(sharing, dict) and isinstance(sharing.get("sinks"), list) else []
        ):
            if isinstance(sink, dict):
                _resolve_paths(sink, ("folder",), path.parent)
        return data


def load_settings(config: Path | None = None, **overrides: Any) -> NodeSettings:
    """Build the settings from ``config`` (TOML), the environment and ``overrides``."""
    _TomlFileSource.path = config
    try:
        return NodeSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        where = f" in {config}" if config else ""
        raise ConfigError(f"invalid settings{where}: {problems}") from None
    finally:
        _TomlFileSource.path = None
