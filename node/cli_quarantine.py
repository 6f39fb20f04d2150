"""``jgnode quarantine list|show|fix|replay|dismiss|counters``: refused input, on the node's database directly.

Safe while the node runs (SQLite in WAL mode; every change is one short write
transaction that re-checks the entry it acts on). The intake invariant these
commands keep is documented in ``node.store._quarantine``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from node.cli import require_file
from node.errors import ConfigError
from node.quarantine import REPLAYABLE, dismiss_entries, fix_entry, held_entries, raw_row, replay_entries
from node.runtime import now_us
from node.settings import load_settings
from node.store import IntakeCounters, QuarantineEntry, Store
from node.tables import render_table, when

__all__ = ["quarantine", "summarise_intake"]

_STILL_WRONG = 3  # exit status when rows stay quarantined, as for jgnode ingest


def quarantine(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode quarantine <command>``."""
    settings = load_settings(require_file(args.config, "config file"))
    store = Store.open(settings.db_url, settings.node_id)
    try:
        return _COMMANDS[args.quarantine_command](store, args)
    finally:
        store.close()


def _list(store: Store, args: argparse.Namespace) -> int:
    found = store.quarantined(dataset=args.dataset, kind=args.kind, state=args.state, last=args.last)
    if not found:
        print("no quarantine entries" + (" match" if args.dataset or args.kind or args.state else ""))
        return 0
    rows = [[e.id, e.kind, e.state, e.dataset, e.source, when(e.created_at_us), _summary(e)[:70]] for e in found]
    print(render_table(["id", "kind", "state", "dataset", "source", "since", "reason / outcome"], rows))
    return 0


def _summary(entry: QuarantineEntry) -> str:
    if entry.state == "fixed":
        return "fixed: passes validation, replay it"
    return entry.reason if entry.state == "open" else entry.outcome


def _show(store: Store, args: argparse.Namespace) -> int:
    for entry in held_entries(store, args.ids):
        print(f"quarantine entry {entry.id}: {entry.kind} of {entry.dataset or '-'} from {entry.source}")
        print(f"  state {entry.state}; since {when(entry.created_at_us)}; changed {when(entry.updated_at_us)}")
        if entry.outcome:
            print(f"  outcome: {entry.outcome}")
        print("  findings:" if entry.findings else "  findings: none")
        for finding in entry.findings:
            print(f"    - {finding}")
        print("  raw:")
        print(_pretty_raw(entry))
    return 0


def _pretty_raw(entry: QuarantineEntry) -> str:
    if entry.kind == REPLAYABLE:
        text = json.dumps(raw_row(entry), ensure_ascii=False, indent=2)
    else:
        shown = entry.raw[:64]
        text = f"{len(entry.raw)} bytes: {shown.hex()}{'...' if len(entry.raw) > len(shown) else ''}"
    return "\n".join("    " + line for line in text.splitlines())


def _parse_sets(pairs: Sequence[str]) -> dict[str, str]:
    changes = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise ConfigError(f"--set takes field=value, not {pair!r}")
        changes[field.strip()] = value
    return changes


def _fix(store: Store, args: argparse.Namespace) -> int:
    (entry,) = held_entries(store, [args.id])
    problems = fix_entry(store, entry, _parse_sets(args.set), now_us=now_us())
    if problems:
        print(f"quarantine entry {entry.id} changed; still wrong:")
        for problem in problems:
            print(f"  - {problem}")
        return _STILL_WRONG
    print(f"quarantine entry {entry.id} passes validation now: jgnode quarantine replay {entry.id}")
    return 0


def _replay(store: Store, args: argparse.Namespace) -> int:
    if args.all == bool(args.ids):
        raise ConfigError("name the entries to replay, or --all (not both)")
    if args.all:
        entries = [e for e in store.quarantined(kind=REPLAYABLE, dataset=args.dataset) if e.state in ("open", "fixed")]
    else:
        entries = held_entries(store, args.ids)
    outcomes = replay_entries(store, entries, now_us=now_us())
    for entry_id, _taken, outcome in outcomes:
        print(f"{entry_id}: {outcome}")
    left = sum(1 for _id, taken, _outcome in outcomes if not taken)
    print(f"{len(outcomes)} replayed: {len(outcomes) - left} left quarantine, {left} still quarantined")
    return _STILL_WRONG if left else 0


def _dismiss(store: Store, args: argparse.Namespace) -> int:
    entries = held_entries(store, args.ids)
    dismiss_entries(store, entries, args.reason, now_us=now_us())
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} dismissed")
    return 0


def _check(store: Store, args: argparse.Namespace) -> int:
    del args
    problems = store.intake_check()
    for line in summarise_intake(store.intake_counters(), problems, per_source=True):
        print(line)
    return 1 if problems else 0


def summarise_intake(counters: Sequence[IntakeCounters], problems: Sequence[str], *, per_source: bool) -> list[str]:
    """The intake counters as a table and whether the invariant holds."""
    terms = ["received", "accepted", "duplicates", "quarantined", "dismissed"]
    rows = [[c.dataset, *([c.source] if per_source else []), *(getattr(c, term) for term in terms)] for c in counters]
    head = ["dataset", *(["source"] if per_source else []), *terms]
    lines = [render_table(head, rows)] if rows else ["nothing received yet"]
    holds = "holds" if not problems else "BROKEN: " + "; ".join(problems)
    lines.append(f"received = accepted + duplicates + quarantined + dismissed: {holds}")
    return lines


_COMMANDS = {
    "list": _list,
    "show": _show,
    "fix": _fix,
    "replay": _replay,
    "dismiss": _dismiss,
    "counters": _check,
}
