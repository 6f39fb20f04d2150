"""``jgnode push`` and ``jgnode pki issue-source``: a department system's side of the push intake.

``push`` streams a file's rows to a node's ``Intake`` service as a configured
source and prints what became of them, with the line and findings of every
quarantined row; it exits 3 when rows were quarantined and 1 when the push
stopped early (the node's outbox is full: acked rows are held, push the file
again later and they count as duplicates). ``pki issue-source`` gives a
department system its key and certificate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from node.cli import require_file
from node.errors import ConfigError
from node.intake import intake_source
from node.intake_client import IntakeClient, PushReport, SourceIdentity, issue_source_identity, push_file
from node.pki import CaDir

__all__ = ["issue_source", "push"]

_SHOWN_ERRORS: Final = 20


def issue_source(args: argparse.Namespace) -> int:
    """``jgnode pki issue-source NAME``: a key and certificate for a department system."""
    ca = CaDir(args.ca)
    args.out.mkdir(parents=True, exist_ok=True)
    identity = issue_source_identity(ca, args.out, node_id=args.node_id, name=args.name, days=args.days)
    info = identity.source()
    print(
        f"issued source certificate {info.label} (serial {info.cert.serial_number:x}, valid until "
        f"{info.cert.not_valid_after_utc:%Y-%m-%d}) -> {identity.cert}, key {identity.key} (keep it private), "
        f"root {identity.ca}"
    )
    print(f'on node {args.node_id}, allow it: [[intake]] name = "{args.name}", datasets = [...]')
    print(f"then: jgnode push FILE.csv --dataset D --node HOST:PORT --identity {args.out}")
    return 0


def _identity(args: argparse.Namespace) -> SourceIdentity | None:
    if args.insecure:
        return None
    if args.identity is None and not (args.cert and args.key and args.ca):
        raise ConfigError("give --identity DIR (from jgnode pki issue-source), or --cert, --key and --ca")
    folder = SourceIdentity.in_folder(args.identity or Path())
    return SourceIdentity(args.cert or folder.cert, args.key or folder.key, args.ca or folder.ca)


def push(args: argparse.Namespace) -> int:
    """``jgnode push FILE``: stream a file's rows to a node and report what became of each."""
    from tqdm import tqdm  # noqa: PLC0415 - only this command draws a progress bar

    path = require_file(args.file, "file")
    batch = args.batch if args.batch is not None else path.name
    with (
        IntakeClient(
            args.node, identity=_identity(args), node_id=args.node_id or "", source=args.source or ""
        ) as client,
        tqdm(unit="rows", desc=path.name, disable=True if args.no_progress else None) as bar,
    ):
        report = push_file(
            client, path, dataset=args.dataset, batch=batch, rows_per_request=args.rows_per_request, progress=bar.update
        )
    print(f"pushed {path} to {client.node_id or client.address} as {intake_source(client.source, batch)}")
    return _print_report(report)


def _print_report(report: PushReport) -> int:
    print(report.summary())
    for error in report.errors[:_SHOWN_ERRORS]:
        print(f"  line {error.line} (quarantine {error.quarantine_id}): {'; '.join(error.reasons)}")
    if len(report.errors) > _SHOWN_ERRORS:
        print(f"  ... and {len(report.errors) - _SHOWN_ERRORS} more (jgnode quarantine list on the node)")
    if report.stopped:
        print(
            f"jgnode: error: {report.stopped}; push the file again later (acked rows count as duplicates)",
            file=sys.stderr,
        )
        return 1
    return 3 if report.quarantined else 0
