"""The ``jgnode`` command: set up, run, inspect and feed a node, and run its PKI.

Every failure is printed as one line (``jgnode: error: ...``) with a non-zero
exit status; ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc

from node.errors import ConfigError, JgnodeError, PeerUnavailableError
from node.retry import describe_error

__all__ = ["main"]

log = logging.getLogger("jgnode")
Handler = Callable[[argparse.Namespace], int]
DATASETS = [
    "inspection", "regulated_object", "penalty", "complaint", "credit_grade", "list_entry", "enforcement",
    "other_action", "public_opinion", "personnel", "matter", "matter_sub", "impl_list", "matter_mapping",
]  # fmt: skip


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("node.toml"), help="node config file (default: ./node.toml)"
    )


def _peer_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", help="host:port of a node to ask (default: this node, from its data folder)")
    parser.add_argument("--node-id", help="node id the node at --address must prove (default: this node's)")


def _node_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = sub.add_parser("init", help="write a config, signing and TLS keys and a certificate request")
    init.add_argument("--node-id", required=True, help="GB/T 2260 region code plus optional -suffix")
    init.add_argument("--tier", required=True, choices=["county", "city", "province", "national"])
    init.add_argument("--dir", type=Path, default=Path(), help="folder for node.toml, keys and data (default: .)")
    init.add_argument("--listen", default="127.0.0.1:7400", help="host:port to serve on (port 0: any free port)")
    init.add_argument("--parent", help="host:port of the parent node")
    init.add_argument("--parent-id", help="node id of the parent (default: the region code one level up)")
    init.add_argument("--suite", default="ed25519", choices=["ed25519", "sm2"], help="data signature suite")
    init.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in the data folder)")
    init.add_argument("--ca", type=Path, help="a CA folder at hand: issue and install the certificate at once")
    init.add_argument("--days", type=int, default=365, help="certificate validity with --ca")
    init.add_argument("--insecure", action="store_true", help="development: plain-text gRPC, trust folder")

    trust = sub.add_parser("trust", help="(insecure development mode) trust another node's public signing key")
    _config_arg(trust)
    trust.add_argument("node_id", help="the node the key belongs to")
    trust.add_argument("public_key", type=Path, help="its signing.pub file")

    run = sub.add_parser("run", help="run a node until SIGTERM/SIGINT")
    _config_arg(run)
    run.add_argument("--insecure", action="store_true", help="development only: plain-text gRPC (logged loudly)")

    status = sub.add_parser("status", help="ask a running node for its status")
    _config_arg(status)
    _peer_args(status)
    status.add_argument("--json", action="store_true", help="print JSON")

    ingest = sub.add_parser("ingest", help="load CSV files of records into the node's store and outbox")
    _config_arg(ingest)
    ingest.add_argument("files", type=Path, nargs="+", metavar="FILE", help="one or more, loaded in order")
    ingest.add_argument(
        "--dataset",
        choices=DATASETS,
        help="dataset of every file (default: the file's name if a dataset's, e.g. penalty.csv; else inspection)",
    )
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar")
    ingest.add_argument(
        "--no-clean",
        action="store_true",
        help="store values as written: no default cleaning (width, whitespace, dates, amounts, enumeration codes)",
    )

    verify = sub.add_parser("verify", help="print and check a record's provenance chain")
    _config_arg(verify)
    verify.add_argument("uid", metavar="RECORD_UID")
    verify.add_argument("--dataset", default="")
    verify.add_argument("--origin", default="")
    verify.add_argument("--version", type=int, default=0, help="a specific version (default: latest)")
    _peer_args(verify)

    demo = sub.add_parser("demo", help="run a local province, 2 cities and 4 counties and check the exchange")
    demo.add_argument("--dir", type=Path, default=Path("demo-data"))
    demo.add_argument("--records", type=int, default=60_000, help="records ingested in all counties (>= 1,000)")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the province")
    demo.add_argument("--insecure", action="store_true", help="plain-text gRPC and a trust folder, no PKI")

    sample = sub.add_parser("sample", help="write deterministic sample CSV files for a region")
    sample.add_argument("--region", required=True, help="region code of the node the data is for")
    sample.add_argument("--out", type=Path, required=True, help="output folder")
    sample.add_argument("--seed", type=int, default=1)
    sample.add_argument("--inspections", type=int, default=10_000)


def _pki_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pki = sub.add_parser("pki", help="certificate authority and node certificates").add_subparsers(
        dest="pki_command", required=True, metavar="PKI_COMMAND"
    )
    root = pki.add_parser("init-root", help="create a root CA (province or national)")
    root.add_argument("--dir", type=Path, required=True, help="CA folder (keep it offline; never in git)")
    root.add_argument("--node-id", required=True, help="node id whose subtree the CA covers, e.g. 330000")
    root.add_argument("--name", default="", help="CA name (default: jgnode root <node id>)")
    root.add_argument("--days", type=int, default=3650)
    root.add_argument("--crl-days", type=int, default=7, help="CRL validity: re-issue it before then")

    ca = pki.add_parser("init-ca", help="create an intermediate CA key and request (e.g. a city for its counties)")
    ca.add_argument("--dir", type=Path, required=True)
    ca.add_argument("--node-id", required=True)
    install_ca = pki.add_parser("install-ca", help="install the chain the parent CA issued for an intermediate CA")
    install_ca.add_argument("--dir", type=Path, required=True)
    install_ca.add_argument("chain", type=Path)
    install_ca.add_argument("--crl-days", type=int, default=7)

    request = pki.add_parser("request", help="write a certificate request for this node (renewal: --new-keys)")
    _config_arg(request)
    request.add_argument("--new-keys", action="store_true", help="prepare new keys (swapped in on install)")

    sign = pki.add_parser("sign", help="issue a certificate for a request (node or intermediate CA)")
    sign.add_argument("--ca", type=Path, required=True, help="CA folder")
    sign.add_argument("request", type=Path)
    sign.add_argument("--out", type=Path, help="chain file to write (default: next to the request, .crt)")
    sign.add_argument("--days", type=int, default=365)

    install = pki.add_parser("install", help="install a certificate chain from the CA (renewal: no downtime)")
    _config_arg(install)
    install.add_argument("chain", type=Path)
    install.add_argument("--anchor", type=Path, help="root CA certificate to trust (first install)")

    revoke = pki.add_parser("revoke", help="revoke certificates by serial (hex) or node id; re-issues the CRL")
    revoke.add_argument("--ca", type=Path, required=True)
    revoke.add_argument("what", help="serial number (hex) or node id")
    revoke.add_argument("--crl-days", type=int, default=7)

    crl = pki.add_parser("crl", help="re-issue the CA's CRL with a fresh next-update time")
    crl.add_argument("--ca", type=Path, required=True)
    crl.add_argument("--crl-days", type=int, default=7)

    publish = pki.add_parser("publish-crl", help="give a node a CRL to use and relay down and up the tree")
    _config_arg(publish)
    publish.add_argument("crl", type=Path)

    show = pki.add_parser("show", help="print what a certificate, chain or CRL file says")
    show.add_argument("file", type=Path)

    source = pki.add_parser("issue-source", help="a key and certificate for a department system that pushes rows")
    source.add_argument("name", metavar="NAME", help="source name, as the node's [[intake]] names it")
    source.add_argument("--ca", type=Path, required=True, help="CA folder")
    source.add_argument("--node-id", required=True, help="the node it pushes to")
    source.add_argument("--out", type=Path, required=True, help="folder for source.key, source.crt and ca.crt")
    source.add_argument("--days", type=int, default=365)

    department = pki.add_parser("issue-department", help="a key, certificate and client file for a department")
    department.add_argument("label", metavar="NODE_ID/NAME", help="the department's node and name: 330100/market")
    department.add_argument("--ca", type=Path, required=True, help="CA folder")
    department.add_argument("--out", type=Path, required=True, help="folder for its key, certificate, client.toml")
    department.add_argument("--address", default="", metavar="HOST:PORT", help="the department's node, for client.toml")
    department.add_argument("--days", type=int, default=365)


def _ops_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dead = sub.add_parser("deadletter", help="batches the parent refused").add_subparsers(
        dest="dead_command", required=True, metavar="DEADLETTER_COMMAND"
    )
    for name, text in (("list", "list refused batches"), ("show", "show one"), ("retry", "send them again")):
        command = dead.add_parser(name, help=text)
        _config_arg(command)
        if name != "list":
            command.add_argument("batch_ids", type=int, nargs="*", metavar="BATCH_ID")
        if name == "retry":
            command.add_argument("--all", action="store_true", help="every refused batch")

    audit = sub.add_parser("audit", help="the hash-chained audit log").add_subparsers(
        dest="audit_command", required=True, metavar="AUDIT_COMMAND"
    )
    verify = audit.add_parser("verify", help="check the whole chain; names the first bad entry")
    _config_arg(verify)
    tail = audit.add_parser("list", help="show the latest entries")
    _config_arg(tail)
    tail.add_argument("--kind", default="")
    tail.add_argument("--last", type=int, default=20)
    usage = audit.add_parser("usage", help="who received how many shared records, per resource and channel")
    _config_arg(usage)
    usage.add_argument("--since", default="", metavar="DATE", help="only uses on or after this day (YYYY-MM-DD)")
    usage.add_argument("--subscriber", default="", help="only this subscriber (<node id>/<department>)")
    usage.add_argument("--json", action="store_true", help="machine-readable output")
    proof = audit.add_parser("proof", help="export a record's provenance bundle for offline checking")
    _config_arg(proof)
    proof.add_argument("uid", metavar="RECORD_UID")
    proof.add_argument("--dataset", default="")
    proof.add_argument("--origin", default="")
    proof.add_argument("--version", type=int, default=0)
    proof.add_argument("--out", type=Path, help="bundle file (default: <uid>.proof)")

    check = sub.add_parser("verify-proof", help="check a provenance bundle offline, against a root certificate")
    check.add_argument("file", type=Path)
    check.add_argument("--anchor", type=Path, required=True, help="root CA certificate (PEM) to trust")


def _quarantine_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    quarantine = sub.add_parser("quarantine", help="input refused on validation: fix and replay it").add_subparsers(
        dest="quarantine_command", required=True, metavar="QUARANTINE_COMMAND"
    )
    listing = quarantine.add_parser("list", help="entries, oldest first")
    listing.add_argument("--dataset", default="", choices=["", *DATASETS])
    listing.add_argument("--kind", default="", choices=["", "ingest_row", "batch", "projection"])
    listing.add_argument("--state", default="", choices=["", "open", "fixed", "replayed", "dismissed"])
    listing.add_argument("--last", type=int, default=0, help="only the newest N")
    show = quarantine.add_parser("show", help="an entry's raw input and every finding")
    show.add_argument("ids", type=int, nargs="+", metavar="ID")
    fix = quarantine.add_parser("fix", help="edit a held row and say what is still wrong")
    fix.add_argument("id", type=int, metavar="ID")
    fix.add_argument("--set", action="append", required=True, metavar="FIELD=VALUE", help="repeatable")
    replay = quarantine.add_parser("replay", help="validate held rows again and store those that pass")
    replay.add_argument("ids", type=int, nargs="*", metavar="ID")
    replay.add_argument("--all", action="store_true", help="every open or fixed ingest row")
    replay.add_argument("--dataset", default="", choices=["", *DATASETS], help="with --all: only this dataset")
    dismiss = quarantine.add_parser("dismiss", help="give entries up, saying why")
    dismiss.add_argument("ids", type=int, nargs="+", metavar="ID")
    dismiss.add_argument("--reason", required=True)
    counters = quarantine.add_parser("counters", help="records received per dataset and source; the invariant")
    for command in (listing, show, fix, replay, dismiss, counters):
        _config_arg(command)


def _er_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dedup = sub.add_parser("dedup", help="cluster the records of a CSV file that describe the same entity")
    dedup.add_argument("file", type=Path, metavar="FILE.csv")
    link = sub.add_parser("link", help="pair the records of two CSV files that describe the same entity")
    link.add_argument("left", type=Path, metavar="LEFT.csv")
    link.add_argument("right", type=Path, metavar="RIGHT.csv")
    for command, out in ((dedup, "CLUSTERS.csv"), (link, "PAIRS.csv")):
        command.add_argument("--config", type=Path, required=True, metavar="ER.toml", help="what to compare and how")
        command.add_argument("--out", type=Path, required=True, metavar=out, help="file to write")


def _collect_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    collect = sub.add_parser("collect", help="the collectors configured in [[collect]]").add_subparsers(
        dest="collect_command", required=True, metavar="COLLECT_COMMAND"
    )
    run = collect.add_parser("run", help="run one collector now, in the foreground")
    _config_arg(run)
    run.add_argument("name", metavar="NAME")
    run.add_argument("--no-progress", action="store_true", help="no progress line")
    listing = collect.add_parser("list", help="configured collectors, their schedule and next run")
    _config_arg(listing)


def _intake_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    push = sub.add_parser("push", help="stream a file's rows to a node's Intake service, as a department system")
    push.add_argument("file", type=Path, metavar="FILE", help="CSV, TSV, XLSX or JSON Lines in the dataset's columns")
    push.add_argument("--dataset", required=True, choices=DATASETS)
    push.add_argument("--node", required=True, metavar="HOST:PORT", help="address of the node")
    push.add_argument("--identity", type=Path, metavar="DIR", help="folder written by jgnode pki issue-source")
    push.add_argument("--cert", type=Path, help="source certificate chain (default: DIR/source.crt)")
    push.add_argument("--key", type=Path, help="its key (default: DIR/source.key)")
    push.add_argument("--ca", type=Path, help="root certificate (default: DIR/ca.crt)")
    push.add_argument("--node-id", help="node id the node's certificate must name (default: the one the source's does)")
    push.add_argument("--batch", help="batch label the node counts the rows under (default: the file name)")
    push.add_argument("--rows-per-request", type=int, default=1000, help="rows per request (default: 1000)")
    push.add_argument("--insecure", action="store_true", help="development nodes only: plain text, no certificate")
    push.add_argument("--source", help="with --insecure: the source name to push as")
    push.add_argument("--no-progress", action="store_true", help="no progress bar")


def _catalog_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = sub.add_parser("catalog", help="the resources a node offers and on which terms").add_subparsers(
        dest="catalog_command", required=True, metavar="CATALOG_COMMAND"
    )
    listing = catalog.add_parser("list", help="every resource: code, name, sharing class, update cycle")
    show = catalog.add_parser("show", help="one resource with its fields and conditions")
    show.add_argument("resource", metavar="CODE", help="resource code or dataset name")
    for command in (listing, show):
        _config_arg(command)
        command.add_argument("--address", metavar="HOST:PORT", help="ask the node listening there instead")
        command.add_argument("--peer-id", help="with --address: the node id its certificate must name")
        command.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--tree", action="store_true", help="every resource of the tree, from the registry snapshot")


def _registry_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    registry = sub.add_parser("registry", help="the signed registry snapshot of the tree").add_subparsers(
        dest="registry_command", required=True, metavar="REGISTRY_COMMAND"
    )
    show = registry.add_parser("show", help="version, expiry, nodes, catalog and CRLs of the snapshot held")
    _config_arg(show)
    show.add_argument("--json", action="store_true", help="print JSON")


def _share_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    share = sub.add_parser("share", help="a department's side of sharing: apply, list, subscribe").add_subparsers(
        dest="share_command", required=True, metavar="SHARE_COMMAND"
    )
    apply = share.add_parser("apply", help="apply for a subscription to a provider's resource")
    apply.add_argument("--resource", required=True, metavar="CODE", help="resource code or dataset name")
    apply.add_argument("--purpose", required=True, help="what the data is for")
    apply.add_argument("--fields", default="", help="comma-separated fields (default: every field)")
    apply.add_argument("--region", default="", help="only records of this region subtree (2, 4 or 6 digits)")
    apply.add_argument("--filter", action="append", default=[], metavar="PREDICATE", help="e.g. status=1 (repeatable)")
    apply.add_argument("--valid-from", default="", metavar="DATE")
    apply.add_argument("--valid-until", default="", metavar="DATE")
    apply.add_argument("--personal", action="store_true", help="ask to see personal data unprotected")
    listing = share.add_parser("list", help="the department's subscriptions held by the provider")
    listing.add_argument("--json", action="store_true", help="print JSON")
    subscribe = share.add_parser("subscribe", help="receive a subscription's records as JSON lines, resumably")
    subscribe.add_argument("id", type=int, metavar="ID", help="subscription id (jgnode share list)")
    subscribe.add_argument("--out", type=Path, help="append the records to this file (default: standard output)")
    subscribe.add_argument("--cursor", type=Path, help="keep the position here; a restart resumes from it")
    subscribe.add_argument("--max", type=int, default=0, metavar="N", help="stop after N records")
    for command in (apply, listing, subscribe):
        command.add_argument("--client", type=Path, required=True, metavar="FILE", help="the department's client file")
        command.add_argument("--provider", default="", help="node id of the provider (default: the department's node)")
    _share_query_commands(share)


def _share_query_commands(share: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``jgnode share query|export`` (a department) and ``jgnode share reindex`` (the node's operator)."""
    query = share.add_parser("query", help="a page (or --all) of a subscription's current records")
    query.add_argument("--page-size", type=int, default=0, metavar="N", help="records per page (default: the node's)")
    query.add_argument("--page-token", default="", help="the next page, as the previous one said")
    query.add_argument("--all", action="store_true", help="every page")
    query.add_argument("--json", action="store_true", help="print one JSON object per record")
    export = share.add_parser("export", help="a subscription's current records into a CSV or JSONL file")
    export.add_argument("--format", default="csv", choices=["csv", "jsonl"])
    export.add_argument("--out", type=Path, required=True, metavar="FILE")
    export.add_argument("--no-progress", action="store_true", help="no progress bar")
    for command in (query, export):
        command.add_argument("--client", type=Path, required=True, metavar="FILE", help="the department's client file")
        command.add_argument("--provider", default="", help="node id of the provider (default: the department's node)")
        command.add_argument("--subscription", type=int, required=True, metavar="ID", help="subscription id")
        command.add_argument(
            "--where", action="append", default=[], metavar="PREDICATE", help="e.g. action_date>=2024-01-01; repeatable"
        )
        command.add_argument("--text", default="", metavar="WORDS", help="full-text search of the text fields")
    reindex = share.add_parser("reindex", help="rebuild the node's sharing index from the records held")
    reindex.add_argument("--no-progress", action="store_true", help="no progress bar")
    _config_arg(reindex)


def _operator_acts(
    parent: argparse._SubParsersAction[argparse.ArgumentParser], acts: dict[str, str], *, why: str, optional: str
) -> list[argparse.ArgumentParser]:
    """Subcommands ``<act> ID --by WHO`` with a reason flag ``why``, required for every act but ``optional``."""
    made = []
    for name, text in acts.items():
        act = parent.add_parser(name, help=text)
        act.add_argument("id", type=int, metavar="ID")
        act.add_argument(why, required=name != optional, default="", help="why (kept and audited)")
        act.add_argument("--by", default="", help="who decides (default: the login name)")
        made.append(act)
    return made


def _subscription_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    subs = sub.add_parser("subscription", help="departments' subscriptions to this node's resources").add_subparsers(
        dest="subscription_command", required=True, metavar="SUBSCRIPTION_COMMAND"
    )
    apply = subs.add_parser("apply", help="record a department's application (deny by default)")
    apply.add_argument("--subscriber", required=True, help="the applying department")
    apply.add_argument("--resource", required=True, metavar="CODE", help="resource code or dataset name")
    apply.add_argument("--purpose", required=True, help="what the data is for")
    apply.add_argument("--fields", default="", help="comma-separated fields (default: every field)")
    apply.add_argument("--region", default="", help="only records of this region subtree (2, 4 or 6 digits)")
    apply.add_argument("--valid-from", default="", metavar="DATE")
    apply.add_argument("--valid-until", default="", metavar="DATE")
    apply.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="PREDICATE",
        help="only records where this holds, e.g. decision_date>=2026-01-01 (indexed fields; repeatable)",
    )
    apply.add_argument(
        "--personal", action="store_true", help="ask to see personal data unprotected (needs the provider's review)"
    )
    listing = subs.add_parser("list", help="subscriptions, with their state today")
    listing.add_argument("--state", default="", help="only this state (applied, active, expired, ...)")
    show = subs.add_parser("show", help="subscriptions in full")
    show.add_argument("ids", type=int, nargs="+", metavar="ID")
    acts = _operator_acts(
        subs,
        {
            "approve": "approve an application to a conditional resource",
            "reject": "reject an application, saying why",
            "revoke": "end an active subscription, saying why",
        },
        why="--reason",
        optional="approve",
    )
    for command in (apply, listing, show, *acts):
        _config_arg(command)


def _sink_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sinks = sub.add_parser("sink", help="the table and file sinks of [[sharing.sinks]]").add_subparsers(
        dest="sink_command", required=True, metavar="SINK_COMMAND"
    )
    run = sinks.add_parser("run", help="run one round of a sink now, in the foreground")
    run.add_argument("name", metavar="NAME")
    listing = sinks.add_parser("list", help="configured sinks: position, records written, last run, last problem")
    for command in (run, listing):
        _config_arg(command)


def _resolve_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resolve = sub.add_parser("resolve", help="which regulated object each record is about").add_subparsers(
        dest="resolve_command", required=True, metavar="RESOLVE_COMMAND"
    )
    run = resolve.add_parser("run", help="link the records that arrived since the last run to regulated objects")
    objects = resolve.add_parser("objects", help="find regulated objects held twice and record merge decisions")
    for command, weak in ((run, 0.5), (objects, 0.8)):
        command.add_argument("--strong", type=float, default=0.95, help="probability that links or merges outright")
        command.add_argument("--weak", type=float, default=weak, help="probability that flags for an operator")
    listing = resolve.add_parser("list", help="decisions waiting for an operator (flagged, unmatched)")
    listing.add_argument("--state", default="", help="only this state (linked, merged, accepted, rejected, ...)")
    listing.add_argument("--all", action="store_true", help="every state")
    listing.add_argument("--kind", default="", choices=["", "link", "merge"])
    listing.add_argument("--object", default="", metavar="CODE", help="only decisions pointing at this object")
    listing.add_argument("--last", type=int, default=0, help="only the newest N")
    show = resolve.add_parser("show", help="a decision, its evidence and candidates")
    show.add_argument("ids", type=int, nargs="+", metavar="ID")
    acts = _operator_acts(
        resolve,
        {
            "accept": "confirm a decision, or choose its object with --object",
            "reject": "the record is about none of the candidates",
            "revert": "undo a link or merge: the record's own code stands again",
        },
        why="--note",
        optional="accept",
    )
    acts[0].add_argument("--object", default="", metavar="CODE", help="the object the record is about")
    for command in (run, objects, listing, show, *acts):
        _config_arg(command)


def _quality_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    quality = sub.add_parser("quality", help="data quality per source, dataset and day").add_subparsers(
        dest="quality_command", required=True, metavar="QUALITY_COMMAND"
    )
    report = quality.add_parser("report", help="completeness, validity, uniqueness, timeliness, consistency")
    _config_arg(report)
    report.add_argument("--since", metavar="DATE", help="first day (YYYY-MM-DD, China Standard Time)")
    report.add_argument("--until", metavar="DATE", help="last day, inclusive")
    report.add_argument("--dataset", default="", choices=["", *DATASETS])
    report.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jgnode", description="Gateway node of the Internet + Regulation exchange.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _node_commands(sub)
    _pki_commands(sub)
    _ops_commands(sub)
    _er_commands(sub)
    _quarantine_commands(sub)
    _collect_commands(sub)
    _intake_commands(sub)
    _quality_commands(sub)
    _resolve_commands(sub)
    _catalog_commands(sub)
    _registry_commands(sub)
    _subscription_commands(sub)
    _share_commands(sub)
    _sink_commands(sub)
    return parser


def _handlers() -> dict[str, Handler]:
    from node import (  # noqa: PLC0415 - keep `jgnode --help` fast
        cli_catalog,
        cli_collect,
        cli_commands,
        cli_er,
        cli_intake,
        cli_quality,
        cli_quarantine,
        cli_query,
        cli_registry,
        cli_resolve,
        cli_share,
        cli_sink,
        cli_subscription,
        cli_trust,
    )

    return {
        "init": cli_commands.init,
        "trust": cli_commands.trust,
        "run": cli_commands.run,
        "status": cli_commands.status,
        "ingest": cli_commands.ingest,
        "verify": cli_commands.verify,
        "demo": cli_commands.demo,
        "sample": cli_commands.sample,
        "pki": cli_trust.pki,
        "deadletter": cli_trust.deadletter,
        "audit": cli_trust.audit,
        "verify-proof": cli_trust.verify_proof,
        "dedup": cli_er.dedup_command,
        "link": cli_er.link_command,
        "quarantine": cli_quarantine.quarantine,
        "collect": cli_collect.collect,
        "push": cli_intake.push,
        "quality": cli_quality.quality,
        "resolve": cli_resolve.resolve,
        "catalog": cli_catalog.catalog,
        "registry": cli_registry.registry,
        "subscription": cli_subscription.subscription,
        "share": lambda args: (cli_query.share_query if args.share_command in cli_query.COMMANDS else cli_share.share)(
            args
        ),
        "sink": cli_sink.sink,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jgnode`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return _handlers()[args.command](args)
    except KeyboardInterrupt:
        return 130
    except JgnodeError as exc:
        return _fail(args, str(exc))
    except grpc.RpcError as exc:
        return _fail(args, str(PeerUnavailableError(describe_error(exc))))
    except OSError as exc:
        return _fail(args, f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    except Exception as exc:  # one line, not a traceback, even for our own bugs
        return _fail(args, f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")


def _fail(args: argparse.Namespace, message: str) -> int:
    if args.debug:
        log.exception("failed")
    print(f"jgnode: error: {message}", file=sys.stderr)
    return 1


def print_json(data: object) -> None:
    """Print ``data`` as indented JSON."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


def require_file(path: Path, what: str) -> Path:
    """``path`` if it exists, else a ConfigError naming ``what``."""
    if not path.exists():
        raise ConfigError(f"{what} {path} not found")
    return path


if __name__ == "__main__":
    sys.exit(main())
