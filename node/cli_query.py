"""``jgnode share query|export`` (a department reading its subscription) and ``jgnode share reindex`` (an operator).

``query`` and ``export`` use the department's client file (see
:mod:`node.share_client`); ``reindex`` uses the node's config and may run
while the node runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

from node.cli import require_file
from node.query_client import QueryClient
from node.settings import load_settings
from node.share_client import load_client_settings, open_channel
from node.shared_reader import Change
from node.sharing_index import SharingIndex
from node.store import Store
from node.tables import render_table

__all__ = ["COMMANDS", "share_query"]

COMMANDS = ("query", "export", "reindex")
"""The ``jgnode share`` commands this module runs (the others are ``node.cli_share``'s)."""


def share_query(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode share query|export|reindex``."""
    if args.share_command == "reindex":
        return _reindex(args)
    settings = load_client_settings(require_file(args.client, "client file"))
    channel, metadata = open_channel(settings)
    try:
        client = QueryClient(channel, metadata, provider=args.provider)
        return _query(client, args) if args.share_command == "query" else _export(client, args)
    finally:
        channel.close()


def _query(client: QueryClient, args: argparse.Namespace) -> int:
    filters, text = args.where, args.text
    if args.all:
        records: Iterable[Change] = client.records(
            args.subscription, filters=filters, text=text, page_size=args.page_size
        )
        token = ""
    else:
        page = client.page(
            args.subscription, filters=filters, text=text, page_size=args.page_size, page_token=args.page_token
        )
        records, token = page.records, page.next_page_token
    if args.json:
        for change in records:
            print(json.dumps(_as_json(change), ensure_ascii=False))
    else:
        rows = list(records)
        fields = list(rows[0].fields) if rows else []
        table = [[c.origin, c.uid, c.version, *(c.fields.get(f, "") for f in fields)] for c in rows]
        print(render_table(["origin", "uid", "version", *fields], table) if rows else "no records")
    if token:
        print(f"more: --page-token {token}", file=sys.stderr)
    return 0


def _as_json(change: Change) -> dict[str, object]:
    return {
        "origin": change.origin,
        "seq": change.seq,
        "uid": change.uid,
        "version": change.version,
        "event_time_us": change.event_time_us,
        "fields": change.fields,
    }


def _export(client: QueryClient, args: argparse.Namespace) -> int:
    from tqdm import tqdm  # noqa: PLC0415 - only this command draws a progress bar

    with tqdm(unit="records", desc=args.out.name, disable=True if args.no_progress else None) as bar:
        written = client.export(
            args.subscription, args.out, fmt=args.format, filters=args.where, text=args.text, progress=bar.update
        )
    print(f"wrote {written:,} records to {args.out}")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # noqa: PLC0415

    settings = load_settings(require_file(args.config, "config file"))
    store = Store.open(settings.db_url, settings.node_id)
    try:
        index = SharingIndex(store=store, settings=settings)
        with tqdm(unit="records", desc="sharing index", disable=True if args.no_progress else None) as bar:
            read = index.rebuild(progress=bar.update)
        print(f"sharing index rebuilt: {read:,} record versions read; {index.current_records():,} current records")
    finally:
        store.close()
    return 0
