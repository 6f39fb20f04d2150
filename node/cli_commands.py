"""What each ``jgnode`` subcommand does (argument parsing is in ``node.cli``)."""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict
from jgnode.exchange.v1 import admin_pb2, admin_pb2_grpc, exchange_pb2

from node.cli import print_json, require_file
from node.errors import ConfigError, JgnodeError, NotFoundError, PeerUnavailableError
from node.exchange import build_provenance, verify_provenance
from node.grpc_util import make_channel
from node.runtime import ADDRESS_FILE, run_until_signalled
from node.serde import record_key, record_summary
from node.settings import NodeSettings, load_settings
from node.signing import KeyRing, generate_signing_key, load_signer
from node.store import Store
from node.tables import render_table

__all__ = ["demo", "ingest", "init", "run", "sample", "status", "trust", "verify"]


def _settings(args: argparse.Namespace) -> NodeSettings:
    return load_settings(require_file(args.config, "config file"))


def _toml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def init(args: argparse.Namespace) -> int:
    """Write node.toml and a signing key pair for a new node."""
    directory: Path = args.dir
    config = directory / "node.toml"
    if config.exists():
        raise ConfigError(f"{config} exists: this folder already holds a node")
    values: dict[str, object] = {"node_id": args.node_id, "tier": args.tier, "listen": args.listen}
    if args.parent:
        values["parent"] = args.parent
    if args.database_url:
        values["database_url"] = args.database_url
    settings = load_settings(None, **values, data_dir=directory)  # validates before anything is written
    generate_signing_key(settings.signing_key_path, settings.signing_key_path.with_suffix(".pub"), settings.suite)
    settings.trust_path.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    lines += ['data_dir = "."', "batch_size = 1000", "batch_linger_ms = 200"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    signer = load_signer(settings.node_id, settings.signing_key_path, settings.suite)
    print(f"initialised {settings.tier} node {settings.node_id} in {directory}")
    print(f"  config:      {config}")
    print(f"  signing key: {settings.signing_key_path} (key id {signer.key_id}; keep it private)")
    print(f"  public key:  {settings.signing_key_path.with_suffix('.pub')}")
    public = settings.signing_key_path.with_suffix(".pub")
    print(f"next: on the parent and every node above it: jgnode trust -c <its node.toml> {settings.node_id} {public}")
    print(f"      then here: jgnode run -c {config}")
    return 0


def trust(args: argparse.Namespace) -> int:
    """Add a node's public key to this node's trust directory."""
    settings = _settings(args)
    pem = require_file(args.public_key, "public key").read_bytes()
    key = KeyRing().add_pem(args.node_id, pem, settings.suite)
    target = settings.trust_path / f"{args.node_id}.pub"
    if target.exists() and target.read_bytes() != pem:
        raise ConfigError(f"{target} holds a different key for {args.node_id}; remove it first to replace it")
    settings.trust_path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.public_key, target)
    print(f"trusting {args.node_id} (key {key.key_id}); restart the node to load it")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the node in the foreground."""
    run_until_signalled(_settings(args))
    return 0


def node_address(settings: NodeSettings, explicit: str | None) -> str:
    """Where a running node listens: ``explicit``, or what it wrote into its data folder."""
    if explicit:
        return explicit
    path = settings.data_dir / ADDRESS_FILE
    if not path.exists():
        raise PeerUnavailableError(
            f"node {settings.node_id} is not running ({path} not found); start it with jgnode run"
        )
    return path.read_text(encoding="utf-8").strip()


def fetch_status(address: str, settings: NodeSettings | None = None) -> admin_pb2.NodeStatus:
    """GetStatus of the node at ``address``."""
    limits = settings.limits if settings else NodeSettings.model_fields["limits"].default
    with make_channel(address, limits) as channel:
        try:
            return admin_pb2_grpc.NodeAdminStub(channel).GetStatus(admin_pb2.GetStatusRequest(), timeout=10)
        except grpc.RpcError as exc:
            raise PeerUnavailableError(f"cannot reach node at {address}: {exc.details()}") from exc


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S") if us else "-"


def status(args: argparse.Namespace) -> int:
    """Print a running node's status."""
    settings = _settings(args) if not args.address else None
    address = node_address(settings, None) if settings else args.address
    reply = fetch_status(address, settings)
    if args.json:
        print_json(MessageToDict(reply, preserving_proto_field_name=True))
        return 0
    print(f"node {reply.node_id} ({reply.tier}) at {address}")
    if reply.parent_address:
        link = "connected" if reply.parent_connected else f"NOT connected ({reply.parent_error or 'connecting'})"
        print(f"parent {reply.parent_address}: {link}; last ack {_when(reply.last_ack_at_us)}")
    print(
        render_table(
            ["records", "count"],
            [
                ["held", reply.records_held],
                ["  own (collected here)", reply.records_own],
                ["  received from children", reply.records_received],
                ["forwarded (acked by parent)", reply.records_forwarded],
                ["unsealed (not yet in a signed batch)", reply.unsealed_records],
                ["outbox (sent or to send, not acked)", reply.outbox_records],
                ["quarantined", reply.records_quarantined],
                ["not yet in thematic tables", reply.projection_backlog],
            ],
        )
    )
    print(
        f"outbox batches {reply.outbox_batches}; refused by parent {reply.outbox_refused_batches}; "
        f"batches refused from children {reply.batches_rejected}"
    )
    if reply.children:
        print("\nchildren:")
        print(
            render_table(
                ["child", "connected", "records received", "last batch", "reported backlog", "lag s"],
                [
                    [
                        c.node_id,
                        "yes" if c.connected else "no",
                        c.records_received,
                        _when(c.last_batch_at_us),
                        c.reported_pending_records,
                        round(c.lag_seconds, 1),
                    ]
                    for c in reply.children
                ],
            )
        )
    if reply.streams:
        print("\nstreams:")
        print(
            render_table(
                ["origin", "dataset", "records", "applied seq", "parent acked", "via"],
                [
                    [s.origin, s.dataset, s.records, s.applied_seq, s.parent_acked_seq, s.received_from or "(own)"]
                    for s in reply.streams
                ],
            )
        )
    return 0


def ingest(args: argparse.Namespace) -> int:
    """Load a CSV file; exit 3 when some rows went to quarantine."""
    from tqdm import tqdm  # noqa: PLC0415

    from node.ingest import ingest_file  # noqa: PLC0415

    settings = _settings(args)
    path = require_file(args.file, "input file")
    total = _count_lines(path) - 1
    store = Store.open(settings.db_url, settings.node_id)
    try:
        with tqdm(total=max(total, 0), unit="rows", disable=True if args.no_progress else None, desc=path.name) as bar:
            report = ingest_file(store, path, dataset=args.dataset, progress=bar.update)
    finally:
        store.close()
    print(
        f"{path}: {report.rows} rows: {report.stored} stored (seq {report.first_seq}..{report.last_seq}), "
        f"{report.duplicates} unchanged duplicates, {report.quarantined} quarantined"
    )
    return 3 if report.quarantined else 0


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _keyring(settings: NodeSettings) -> KeyRing:
    keyring = KeyRing.from_directory(settings.trust_path)
    keyring.add_pem(settings.node_id, load_signer(settings.node_id, settings.signing_key_path).public_pem)
    return keyring


def provenance_bundles(settings: NodeSettings, args: argparse.Namespace) -> list[admin_pb2.Provenance]:
    """Provenance bundles of ``args.uid``, from a running node or the local database."""
    request = admin_pb2.GetProvenanceRequest(
        uid=args.uid, dataset=args.dataset, origin=args.origin, version=args.version
    )
    if args.address:
        with make_channel(args.address, settings.limits) as channel:
            try:
                reply = admin_pb2_grpc.NodeAdminStub(channel).GetProvenance(request, timeout=30)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    raise NotFoundError(exc.details()) from exc
                raise
        return list(reply.provenances)
    store = Store.open(settings.db_url, settings.node_id)
    try:
        found = store.provenance(
            args.uid, key_of=record_key, dataset=args.dataset, origin=args.origin, version=args.version
        )
    finally:
        store.close()
    return [
        build_provenance(
            header=p.header,
            signature=p.signature,
            batch_records=p.batch_records,
            first_seq=p.first_seq,
            seq=p.seq,
            hops=p.hops,
        )
        for p in found
    ]


def verify(args: argparse.Namespace) -> int:
    """Print and check the provenance of a record; exit 1 if any check fails."""
    settings = _settings(args)
    bundles = provenance_bundles(settings, args)
    if not bundles:
        raise NotFoundError(f"no signed record with uid {args.uid!r} (unsealed records have no provenance yet)")
    keyring = _keyring(settings)
    failed = 0
    for bundle in bundles:
        summary = record_summary(exchange_pb2.Record.FromString(bundle.record))
        print(
            f"{summary['origin']}/{summary['dataset']}/{summary['uid']} version {summary['version']} "
            f"(seq {summary['seq']}, {summary['op']})"
        )
        try:
            for line in verify_provenance(bundle, keyring):
                print(f"  ok   {line}")
        except JgnodeError as exc:
            failed += 1
            print(f"  FAIL {exc}")
    return 1 if failed else 0


def demo(args: argparse.Namespace) -> int:
    """Run the local multi-tier demo."""
    from node.demo import run_demo  # noqa: PLC0415

    return run_demo(args.dir, records=args.records, seed=args.seed, timeout_s=args.timeout)


def sample(args: argparse.Namespace) -> int:
    """Write sample CSV files for a region."""
    from node.demo import write_sample_files  # noqa: PLC0415

    for dataset, path, count in write_sample_files(
        args.out, region=args.region, seed=args.seed, inspections=args.inspections
    ):
        print(f"{path}: {count} {dataset} records")
    return 0
