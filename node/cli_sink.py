"""``jgnode sink run NAME`` and ``jgnode sink list``: the table and file sinks of ``[[sharing.sinks]]``.

``run`` runs one round of a sink now, in the foreground, exactly as the
running node would (same entitlement check, position, lock and audit): it
exits 1 when the round stopped (target down, bad configuration, another run
under way) and 3 when the subscription does not allow delivery now (awaiting
approval, revoked, expired). ``list`` shows every configured sink with its
position, records written, last round and what stopped it, as the node's
database holds them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.csv_records import CHINA_TZ
from node.cli import require_file
from node.errors import ConfigError
from node.settings import NodeSettings, SharingSink, load_settings
from node.sinks import SinkState, run_sink, sink_states
from node.store import Store
from node.tables import render_table

__all__ = ["sink"]


def sink(args: argparse.Namespace) -> int:
    """Run ``jgnode sink``."""
    settings = load_settings(require_file(args.config, "config file"))
    store = Store.open(settings.db_url, settings.node_id, busy_timeout_s=settings.limits.db_busy_timeout_s)
    try:
        if args.sink_command == "run":
            return _run(store, settings, _configured(settings, args.name))
        return _list(store, settings)
    finally:
        store.close()


def _configured(settings: NodeSettings, name: str) -> SharingSink:
    found = next((s for s in settings.sharing.sinks if s.name == name), None)
    if found is None:
        known = ", ".join(s.name for s in settings.sharing.sinks) or "none"
        raise ConfigError(f"no sink {name!r} in the config ([[sharing.sinks]]); configured: {known}")
    return found


def _run(store: Store, settings: NodeSettings, configured: SharingSink) -> int:
    report = run_sink(store, settings, configured)
    print(f"sink {configured.name}: {report.summary()}")
    for name in report.files:
        print(f"  wrote {configured.folder}/{name}")
    if report.paused:
        print(f"jgnode: nothing delivered: {report.paused}", file=sys.stderr)
        return 3
    if report.failed:
        print(f"jgnode: error: {report.failed}; the records after the position are taken next round", file=sys.stderr)
        return 1
    return 0


def _list(store: Store, settings: NodeSettings) -> int:
    if not settings.sharing.sinks:
        print("no sinks configured ([[sharing.sinks]] in the node's config)")
        return 0
    states = sink_states(store)
    rows = []
    for s in settings.sharing.sinks:
        state = states.get(s.name)
        target = f"{_safe(s.url)} {s.table or 'jg_<dataset>'}" if s.kind == "table" else f"{s.folder} ({s.format})"
        rows.append([s.name, s.kind, s.subscription, target, *_progress(state)])
    print(
        render_table(
            ["name", "kind", "subscription", "target", "position", "records", "last run", "last written", "problem"],
            rows,
        )
    )
    return 0


def _progress(state: SinkState | None) -> list[object]:
    if state is None:
        return ["-", 0, "never", "never", ""]
    position = ", ".join(f"{o} {seq}" for o, seq in sorted(state.position.items())) or "start"
    return [position, state.records, _when(state.last_run_us), _when(state.last_written_us), state.last_error]


def _safe(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def _when(at_us: int) -> str:
    if not at_us:
        return "never"
    return datetime.fromtimestamp(at_us / 1e6, CHINA_TZ).isoformat(timespec="seconds")
