"""What each ``jgnode`` subcommand does (argument parsing is in ``node.cli``)."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from jgnode.exchange.v1 import admin_pb2, exchange_pb2

from node.cli import print_json, require_file
from node.cli_quarantine import summarise_intake
from node.client import NodeClient
from node.enroll import anchor_of, create_node, install_certificate, issue_from, publish_crl
from node.errors import ConfigError, JgnodeError, NotFoundError
from node.exchange import build_provenance, verify_provenance
from node.pki import CaDir
from node.runtime import run_until_signalled
from node.serde import record_key, record_summary
from node.settings import NodeSettings, load_settings
from node.signing import KeyRing
from node.store import IntakeCounters, Store
from node.tables import render_table, when
from node.trust import TrustStore, load_trust

__all__ = ["check_bundles", "demo", "ingest", "init", "run", "sample", "status", "trust", "verify"]


def _settings(args: argparse.Namespace) -> NodeSettings:
    return load_settings(require_file(args.config, "config file"))


def init(args: argparse.Namespace) -> int:
    """Write node.toml, keys and a certificate request for a new node (and install a certificate with --ca)."""
    settings = create_node(
        args.dir,
        node_id=args.node_id,
        tier=args.tier,
        listen=args.listen,
        parent=args.parent,
        parent_id=args.parent_id,
        suite=args.suite,
        database_url=args.database_url,
        insecure=args.insecure,
    )
    config = args.dir / "node.toml"
    request = settings.cert_path.parent / "request.csr"
    print(f"initialised {settings.tier} node {settings.node_id} in {args.dir}")
    print(f"  config:          {config}")
    print(f"  signing key:     {settings.signing_key_path} ({settings.suite}; keep it private)")
    print(f"  TLS key:         {settings.tls_key_path} (keep it private)")
    print(f"  request for CA:  {request}")
    if args.ca:
        ca = CaDir(args.ca)
        chain = issue_from(ca, request, days=args.days)
        print("  " + install_certificate(settings, chain, anchors_pem=anchor_of(ca)))
        crl = args.ca / "crl.pem"
        if crl.exists():
            publish_crl(settings, crl.read_bytes(), f"ca-{ca.info.node_id}")
        print(f"next: jgnode run -c {config}")
    elif args.insecure:
        public = settings.signing_key_path.with_suffix(".pub")
        print(f"next (insecure development mode): on every node above: jgnode trust {settings.node_id} {public}")
        print(f"      then: jgnode run -c {config}")
    else:
        print(f"next: have the parent's CA issue it: jgnode pki sign --ca <CA folder> {request}")
        print(f"      then: jgnode pki install -c {config} <chain> --anchor <root ca.crt>; jgnode run -c {config}")
    return 0


def trust(args: argparse.Namespace) -> int:
    """Add a node's public key to this node's trust directory (development setups without a PKI)."""
    settings = _settings(args)
    pem = require_file(args.public_key, "public key").read_bytes()
    key = KeyRing().add_pem(args.node_id, pem, "sm2" if b"JGNODE SM2" in pem else "ed25519")
    target = settings.trust_path / f"{args.node_id}.pub"
    if target.exists() and target.read_bytes() != pem:
        raise ConfigError(f"{target} holds a different key for {args.node_id}; remove it first to replace it")
    settings.trust_path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.public_key, target)
    print(f"trusting {args.node_id} (key {key.key_id}); restart the node to load it")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the node in the foreground."""
    overrides = {"tls": {"insecure": True}} if args.insecure else {}
    run_until_signalled(load_settings(require_file(args.config, "config file"), **overrides))
    return 0


def _client(args: argparse.Namespace) -> NodeClient:
    return NodeClient(_settings(args), address=args.address, peer_id=args.node_id)


def _print_registry(reply: admin_pb2.NodeStatus) -> None:
    """The registry snapshot lines of ``jgnode status``."""
    if reply.registry_version:
        print(
            f"registry: snapshot {reply.registry_version} signed by {reply.registry_root}, "
            f"expires {when(reply.registry_expires_at_us)} (jgnode registry show)"
        )
    if reply.registry_alarm:
        print(f"REGISTRY ALARM: {reply.registry_alarm}")
    if reply.registry_error:
        print(f"registry stream from the parent down: {reply.registry_error}")


def status(args: argparse.Namespace) -> int:
    """Print a running node's status."""
    with _client(args) as client:
        reply = client.status()
    address = client.address
    if args.json:
        print_json(MessageToDict(reply, preserving_proto_field_name=True))
        return 0
    transport = "INSECURE plain text" if reply.insecure else "mutual TLS"
    print(f"node {reply.node_id} ({reply.tier}) at {address}, {transport}")
    if reply.pki:
        print(f"trust: CRLs current until {when(reply.crl_next_update_us)}")
    if reply.trust_alarm:
        print(f"TRUST ALARM: {reply.trust_alarm}")
    _print_registry(reply)
    if reply.parent_address:
        link = "connected" if reply.parent_connected else f"NOT connected ({reply.parent_error or 'connecting'})"
        print(f"parent {reply.parent_address}: {link}; last ack {when(reply.last_ack_at_us)}")
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
        f"batches refused from children {reply.batches_rejected}; callers refused {reply.callers_refused}; "
        f"unusable trust material from children {reply.trust_refused}"
    )
    if reply.intake or not reply.intake_balanced:
        print("\nintake (jgnode quarantine):")
        problems = [reply.intake_problem] if not reply.intake_balanced else []
        print("\n".join(summarise_intake([_intake(i) for i in reply.intake], problems, per_source=False)))
    if reply.reference_tables:
        print("\ncode tables:")
        for name, edition in sorted(reply.reference_tables.items()):
            print(f"  {name}: {edition}")
    if reply.decisions:
        waiting = sum(reply.decisions.get(state, 0) for state in ("flagged", "unmatched"))
        states = ", ".join(f"{count} {state}" for state, count in sorted(reply.decisions.items()))
        print(f"\nrecords linked to objects (jgnode resolve): {states}; {waiting} waiting for an operator")
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
                        when(c.last_batch_at_us),
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


def _intake(item: admin_pb2.IntakeStatus) -> IntakeCounters:
    return IntakeCounters(
        item.dataset, "", item.received, item.accepted, item.duplicates, item.quarantined, item.dismissed
    )


def ingest(args: argparse.Namespace) -> int:
    """Load CSV files in order; exit 3 when some rows went to quarantine."""
    settings = _settings(args)
    paths = [require_file(path, "input file") for path in args.files]
    store = Store.open(settings.db_url, settings.node_id)
    quarantined = False
    try:
        for path in paths:
            quarantined |= _ingest_one(store, settings, path, args)
    finally:
        store.close()
    return 3 if quarantined else 0


def _dataset_of(path: Path, given: str | None) -> str:
    """The ``--dataset`` given, else the dataset the file is named after, else inspection."""
    from governance import DATASETS  # noqa: PLC0415

    return given or (path.stem if path.stem in DATASETS else "inspection")


def _ingest_one(store: Store, settings: NodeSettings, path: Path, args: argparse.Namespace) -> bool:
    """Load one file with a progress bar and print what became of its rows; True when some were quarantined."""
    from tqdm import tqdm  # noqa: PLC0415

    from node.ingest import ingest_file  # noqa: PLC0415

    total = _count_lines(path) - 1
    with tqdm(total=max(total, 0), unit="rows", disable=True if args.no_progress else None, desc=path.name) as bar:
        report = ingest_file(
            store,
            path,
            dataset=_dataset_of(path, args.dataset),
            progress=bar.update,
            guard=store.backlog_guard(settings.limits),
            clean=not args.no_clean,
        )
    print(
        f"{path}: {report.rows} rows: {report.stored} stored (seq {report.first_seq}..{report.last_seq}), "
        f"{report.duplicates} unchanged duplicates, {report.quarantined} quarantined"
    )
    if report.findings:
        print(f"cleaning corrected {sum(report.findings.values())} values (kept per row with the record):")
        print(render_table(["rule", "values corrected"], sorted(report.findings.items())))
    return report.quarantined > 0


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def provenance_bundles(settings: NodeSettings, args: argparse.Namespace) -> list[admin_pb2.Provenance]:
    """Provenance bundles of ``args.uid``, from a running node (``--address``) or the local database."""
    request = admin_pb2.GetProvenanceRequest(
        uid=args.uid, dataset=args.dataset, origin=args.origin, version=args.version
    )
    if args.address:
        with NodeClient(settings, address=args.address, peer_id=args.node_id) as client:
            return client.provenance(request)
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
            certificates=p.certificates,
        )
        for p in found
    ]


def check_bundles(bundles: list[admin_pb2.Provenance], trust: TrustStore) -> int:
    """Print each bundle's checks; returns how many failed."""
    failed = 0
    for bundle in bundles:
        summary = record_summary(exchange_pb2.Record.FromString(bundle.record))
        print(
            f"{summary['origin']}/{summary['dataset']}/{summary['uid']} version {summary['version']} "
            f"(seq {summary['seq']}, {summary['op']})"
        )
        try:
            for line in verify_provenance(bundle, trust.keyring, admit=_admitter(trust)):
                print(f"  ok   {line}")
        except JgnodeError as exc:
            failed += 1
            print(f"  FAIL {exc}")
    return failed


def _admitter(trust: TrustStore) -> Callable[[Sequence[bytes], int], object]:
    def admit(certificates: Sequence[bytes], at_us: int) -> object:
        return trust.admit(certificates, at_us=at_us)

    return admit


def verify(args: argparse.Namespace) -> int:
    """Print and check the provenance of a record; exit 1 if any check fails."""
    settings = _settings(args)
    bundles = provenance_bundles(settings, args)
    if not bundles:
        raise NotFoundError(f"no signed record with uid {args.uid!r} (unsealed records have no provenance yet)")
    trust, _signer = load_trust(settings)
    return 1 if check_bundles(bundles, trust) else 0


def demo(args: argparse.Namespace) -> int:
    """Run the local multi-tier demo."""
    from node.demo import run_demo  # noqa: PLC0415

    return run_demo(args.dir, records=args.records, seed=args.seed, timeout_s=args.timeout, insecure=args.insecure)


def sample(args: argparse.Namespace) -> int:
    """Write sample CSV files for a region."""
    from node.demo import write_sample_files  # noqa: PLC0415

    for dataset, path, count in write_sample_files(
        args.out, region=args.region, seed=args.seed, inspections=args.inspections
    ):
        print(f"{path}: {count} {dataset} records")
    return 0
