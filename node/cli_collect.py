"""``jgnode collect run NAME`` and ``jgnode collect list``: the collectors of ``[[collect]]``.

``run`` runs a collector now, in the foreground, with a progress line,
exactly as the scheduled job would (same lock, watermark or export position,
same rules); it exits 3 when rows went to quarantine, files to the failed
folder or records could not be exported, 1 when the run stopped early (outbox
full, database unavailable, source or target unreachable). ``list`` shows
every collector with its schedule and the next run time the node's job store
holds.
"""

from __future__ import annotations

import argparse
import sys

from node.cli import require_file
from node.collect import run_collector
from node.collect_settings import CollectorSettings, ExportSink
from node.errors import ConfigError
from node.scheduler import next_run_times
from node.settings import NodeSettings, load_settings
from node.store import Store
from node.tables import render_table

__all__ = ["collect"]


def collect(args: argparse.Namespace) -> int:
    """Run ``jgnode collect``."""
    settings = load_settings(require_file(args.config, "config file"))
    if args.collect_command == "run":
        return _run(settings, _collector(settings, args.name), progress=not args.no_progress)
    return _list(settings)


def _collector(settings: NodeSettings, name: str) -> CollectorSettings:
    found = next((c for c in settings.collect if c.name == name), None)
    if found is None:
        known = ", ".join(c.name for c in settings.collect) or "none"
        raise ConfigError(f"no collector {name!r} in the config; configured: {known}")
    return found


def _run(settings: NodeSettings, collector: CollectorSettings, *, progress: bool) -> int:
    from tqdm import tqdm  # noqa: PLC0415 - only this command draws a progress line

    store = Store.open(settings.db_url, settings.node_id, busy_timeout_s=settings.limits.db_busy_timeout_s)
    try:
        with tqdm(unit="rows", desc=collector.name, disable=True if not progress else None) as bar:
            report = run_collector(store, collector, guard=store.backlog_guard(settings.limits), progress=bar.update)
    finally:
        store.close()
    print(f"collector {collector.name}: {report.summary()}")
    for failure in report.failures:
        print(f"  failed: {failure}")
    if report.stopped:
        if isinstance(collector, ExportSink):
            left = "the records after the position"
        elif report.batches:
            left = "the rows after the watermark"
        else:
            left = f"the files left in {collector.where()}"
        print(f"jgnode: error: {report.stopped}; {left} are taken next run", file=sys.stderr)
        return 1
    return 3 if report.quarantined or report.failed else 0


def _list(settings: NodeSettings) -> int:
    if not settings.collect:
        print("no collectors configured ([[collect]] in the node's config)")
        return 0
    next_runs = next_run_times(settings)
    rows = []
    for c in settings.collect:
        when = next_runs.get(c.name)
        shown = when.isoformat(timespec="seconds") if when else "not scheduled yet (the node has not run it)"
        rows.append((c.name, c.kind, c.dataset, c.schedule.describe(), shown, c.where()))
    print(render_table(["name", "kind", "dataset", "schedule", "next run", "source"], rows))
    return 0
