"""``jgnode quality report``: data quality figures of the node's database, as tables and JSON.

Opens the store directly (read-only queries; safe while the node runs). What
each figure means and where it comes from: :mod:`governance.quality` and
:mod:`node.quality`.
"""

from __future__ import annotations

import argparse
import json
from datetime import date

from node.cli import require_file
from node.errors import ConfigError
from node.quality import DayRange, build_report, report_json, report_text
from node.settings import load_settings
from node.store import Store

__all__ = ["quality"]


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option} takes a date YYYY-MM-DD, not {text!r}") from exc


def quality(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode quality report``: print the tables, write the JSON file when asked."""
    scope = DayRange(_day(args.since, "--since"), _day(args.until, "--until"), args.dataset)
    if scope.since and scope.until and scope.since > scope.until:
        raise ConfigError("--since is after --until")
    settings = load_settings(require_file(args.config, "config file"))
    store = Store.open(settings.db_url, settings.node_id)
    try:
        report = build_report(store, scope)
    finally:
        store.close()
    print(report_text(report))
    if args.json:
        args.json.write_text(json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0
