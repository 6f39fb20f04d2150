"""``jgnode catalog list|show``: the resources a node offers and on which terms.

Without ``--address`` the catalog is this node's, built from its settings (no
running node needed); with it, the catalog of the node listening there, asked
over mutual TLS with this node's certificate (``--peer-id`` names the node
whose certificate the answer must come with). ``list --tree`` lists every
resource of the tree, from the registry snapshot this node holds.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from exchange_registry import CatalogEntry
from node.catalog import find_resource, node_catalog
from node.cli import require_file
from node.cli_registry import held_snapshot
from node.client import NodeClient
from node.errors import ConfigError
from node.settings import load_settings
from node.tables import render_table

__all__ = ["catalog"]

_SHARING = {"unconditional": "无条件共享", "conditional": "有条件共享", "not_shared": "不予共享"}


def catalog(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode catalog <command>``."""
    settings = load_settings(require_file(args.config, "config file"))
    if getattr(args, "tree", False):
        if args.address:
            raise ConfigError("--tree lists this node's registry snapshot; leave out --address")
        return _list(list(held_snapshot(settings).snapshot.catalog), as_json=args.json, provider=True)
    if args.address:
        if not args.peer_id:
            raise ConfigError("--address needs --peer-id: the node id the answering node's certificate must name")
        with NodeClient(settings, address=args.address, peer_id=args.peer_id) as client:
            entries = client.catalog()
    else:
        entries = node_catalog(settings)
    if args.catalog_command == "show":
        return _show(find_resource(entries, args.resource), as_json=args.json)
    return _list(entries, as_json=args.json)


def _list(entries: list[CatalogEntry], *, as_json: bool, provider: bool = False) -> int:
    if as_json:
        print(json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=2))
        return 0
    rows = [
        [e.resource_code, e.dataset, e.name, f"{e.sharing_class} {_SHARING[e.sharing_class]}", e.update_cycle,
         sum(f.personal for f in e.fields), e.schema_version]
        for e in entries
    ]  # fmt: skip
    headers = ["resource", "dataset", "name", "sharing", "updated", "personal fields", "schema"]
    if provider:  # the tree's catalog: say whose each resource is
        headers, rows = ["provider", *headers], [[e.provider_node, *row] for e, row in zip(entries, rows, strict=True)]
    print(render_table(headers, rows))
    return 0


def _show(entry: CatalogEntry, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(asdict(entry), ensure_ascii=False, indent=2))
        return 0
    print(f"{entry.resource_code} {entry.name} ({entry.dataset}, schema {entry.schema_version})")
    print(f"  provider {entry.provider_node} {entry.provider_department or '-'}; updated {entry.update_cycle}")
    print(
        f"  sharing {entry.sharing_class} {_SHARING[entry.sharing_class]}"
        + (f": {entry.conditions}" if entry.conditions else "")
    )
    print(
        render_table(
            ["field", "type", "personal"], [[f.name, f.type, "yes" if f.personal else ""] for f in entry.fields]
        )
    )
    return 0
