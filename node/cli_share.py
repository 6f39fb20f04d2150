"""``jgnode share apply|list|subscribe`` and ``jgnode pki issue-department``: a department's side of sharing.

``share subscribe`` writes each record it receives as one JSON line (to
standard output or appended to ``--out``), then keeps its position in
``--cursor`` and acknowledges it. The cursor file also holds the size of the
output file after the last write, so a subscriber killed between the two is
trimmed back to it on restart: the records are written once, none missing and
none twice. ``share query|export|reindex`` are ``node.cli_query``'s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from jgnode.exchange.v1 import exchange_pb2, sharing_pb2

from node.cli import print_json, require_file
from node.errors import ConfigError, JgnodeError
from node.pki import CaDir
from node.share_client import SharingClient, issue_department_identity, load_client_settings
from node.tables import render_table

__all__ = ["issue_department", "record_json", "share"]


def issue_department(args: argparse.Namespace) -> int:
    """``jgnode pki issue-department NODE_ID/NAME``: key, certificate and client file for a department."""
    client = issue_department_identity(CaDir(args.ca), args.out, label=args.label, days=args.days, address=args.address)
    print(
        f"issued department certificate {args.label} -> {args.out / 'department.crt'}, key "
        f"{args.out / 'department.key'} (keep it private), root {args.out / 'ca.crt'}, client file {client}"
    )
    if not args.address:
        print(f"set the address of the department's node in {client}")
    print(f"then: jgnode share apply --client {client} --resource CODE --purpose TEXT")
    return 0


def share(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode share apply|list|subscribe``."""
    commands = {"apply": _apply, "list": _list, "subscribe": _subscribe}
    with SharingClient(load_client_settings(require_file(args.client, "client file"))) as client:
        return commands[args.share_command](client, args)


def _apply(client: SharingClient, args: argparse.Namespace) -> int:
    info = client.apply(
        args.resource,
        purpose=args.purpose,
        provider=args.provider,
        fields=[f.strip() for f in args.fields.split(",") if f.strip()],
        region=args.region,
        filters=args.filter,
        valid_from=args.valid_from,
        valid_until=args.valid_until,
        personal=args.personal,
    )
    print(f"subscription {info.id} at {info.provider} to {info.resource_code} ({info.dataset}): {info.state}")
    print(f"  {info.reason}")
    if info.state == "active":
        print(f"then: jgnode share subscribe {info.id} --client {args.client} --provider {info.provider}")
    return 3 if info.state == "refused" else 0


def _list(client: SharingClient, args: argparse.Namespace) -> int:
    held = client.list(provider=args.provider)
    if args.json:
        print_json([_info_json(i) for i in held])
        return 0
    rows = [[i.id, i.provider, i.resource_code, i.dataset, i.state, i.valid_until or "-", i.reason[:50]] for i in held]
    headers = ["id", "provider", "resource", "dataset", "state", "until", "reason"]
    print(render_table(headers, rows) if rows else "no subscriptions")
    return 0


def _info_json(info: sharing_pb2.SubscriptionInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "provider": info.provider,
        "subscriber": info.subscriber,
        "resource_code": info.resource_code,
        "dataset": info.dataset,
        "state": info.state,
        "reason": info.reason,
        "fields": list(info.fields),
        "region": info.region,
        "filters": list(info.filters),
        "personal": info.personal,
        "valid_from": info.valid_from,
        "valid_until": info.valid_until,
    }


def record_json(record: sharing_pb2.SharedRecord) -> str:
    """A shared record as one JSON line (no newline)."""
    return json.dumps(
        {
            "origin": record.origin,
            "seq": record.seq,
            "uid": record.uid,
            "version": record.version,
            "op": "delete" if record.op == exchange_pb2.OPERATION_DELETE else "upsert",
            "event_time_us": record.event_time_us,
            "fields": dict(record.fields),
        },
        ensure_ascii=False,
    )


def _read_cursor(path: Path | None, subscription_id: int) -> tuple[dict[str, int] | None, int]:
    """The cursor and output size a previous run kept (None, -1 when there is none)."""
    if path is None or not path.exists():
        return None, -1
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if int(data["subscription"]) != subscription_id:
            raise ConfigError(f"{path} is the cursor of subscription {data['subscription']}, not {subscription_id}")
        return {str(o): int(s) for o, s in data["cursor"].items()}, int(data.get("out_bytes", -1))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot read the cursor file {path}: {exc}") from exc


def _write_cursor(path: Path, subscription_id: int, cursor: dict[str, int], out_bytes: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"subscription": subscription_id, "cursor": cursor, "out_bytes": out_bytes}) + "\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def _output(path: Path | None, out_bytes: int) -> Iterator[IO[str]]:
    """Standard output, or ``path`` to append to, first cut back to what the cursor covers."""
    if path is None:
        yield sys.stdout
        return
    if out_bytes >= 0 and path.exists() and path.stat().st_size > out_bytes:
        with path.open("r+b") as raw:
            raw.truncate(out_bytes)  # lines written after the cursor was kept: they come again
    with path.open("a", encoding="utf-8") as out:
        yield out


def _subscribe(client: SharingClient, args: argparse.Namespace) -> int:
    cursor, out_bytes = _read_cursor(args.cursor, args.id)
    kept = dict(cursor or {})
    written = 0
    stream = client.subscribe(args.id, provider=args.provider, cursor=cursor)
    with _output(args.out, out_bytes) as out:
        try:
            for delivery in stream:
                records = list(delivery.records)[: args.max - written] if args.max else list(delivery.records)
                for record in records:
                    out.write(record_json(record) + "\n")
                written += len(records)
                kept = _position_after(kept, delivery, records)
                _keep(client, args, out, kept)
                if args.max and written >= args.max:
                    break
        finally:
            stream.cancel()
    print(f"{written} records of subscription {args.id}", file=sys.stderr)
    return 0


def _position_after(
    kept: dict[str, int], delivery: sharing_pb2.Delivery, written: list[sharing_pb2.SharedRecord]
) -> dict[str, int]:
    """The cursor after what was written of ``delivery`` (all of it, or its first records with ``--max``)."""
    cut = {r.origin for r in delivery.records[len(written) :]}
    position = dict(kept)
    for record in written:
        position[record.origin] = record.seq
    for moved in delivery.cursor:
        if moved.origin not in cut:
            position[moved.origin] = moved.applied_seq
    return position


def _keep(client: SharingClient, args: argparse.Namespace, out: IO[str], cursor: dict[str, int]) -> None:
    out.flush()
    if args.cursor is not None:
        out_bytes = out.tell() if args.out is not None else -1
        if args.out is not None:
            os.fsync(out.fileno())
        _write_cursor(args.cursor, args.id, cursor, out_bytes)
    try:
        client.ack(args.id, cursor, provider=args.provider)
    except JgnodeError as exc:  # the position is kept here; the next ack covers this one
        print(f"jgnode: warning: ack not taken: {exc}", file=sys.stderr)
