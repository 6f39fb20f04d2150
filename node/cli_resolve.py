"""``jgnode resolve run|objects|list|show|accept|reject|revert``: which object each record is about.

Safe while the node runs: every change is one short write transaction that
re-checks the decision it acts on (a decision the engine or another operator
changed meanwhile is left alone, with a message). Citizen ID numbers are
printed with their birth date masked.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from datetime import UTC, datetime

from governance.codes import check_id_number
from node.cli import require_file
from node.errors import ConfigError, NotFoundError
from node.resolve import merge_objects, resolve_records
from node.runtime import now_us
from node.settings import load_settings
from node.store import Decision, DecisionBook, Store
from node.tables import render_table

__all__ = ["resolve"]

_OPEN_STATES = ("flagged", "unmatched")


def _shown(code: str) -> str:
    """A code for printing: a citizen ID number is personal data, its birth date is masked."""
    if len(code) == 18 and check_id_number(code).ok:
        return code[:6] + "********" + code[14:]
    return code or "-"


def resolve(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode resolve <command>``."""
    settings = load_settings(require_file(args.config, "config file"))
    store = Store.open(settings.db_url, settings.node_id)
    try:
        return _COMMANDS[args.resolve_command](store, args)
    finally:
        store.close()


def _run(store: Store, args: argparse.Namespace) -> int:
    total: dict[str, int] = {}
    records = 0
    while True:
        report = resolve_records(store, strong=args.strong, weak=args.weak, now_us=now_us())
        if not report.objects:
            print("no regulated objects held: nothing to link records to (ingest or receive regulated_object first)")
            return 0
        records += report.records
        for status, count in report.outcomes.items():
            total[status] = total.get(status, 0) + count
        if not report.records:
            break
    print(f"{records} record versions read against {report.objects} regulated objects")
    _print_counts(total)
    return 0


def _objects(store: Store, args: argparse.Namespace) -> int:
    report = merge_objects(store, strong=args.strong, weak=args.weak, now_us=now_us())
    print(f"{report.objects} regulated objects compared")
    _print_counts(report.outcomes)
    return 0


def _print_counts(counts: dict[str, int]) -> None:
    if not counts:
        print("nothing new")
        return
    print(render_table(["outcome", "count"], [[k, v] for k, v in sorted(counts.items())]))


def _masked(text: str, code: str) -> str:
    return text.replace(code, _shown(code)) if code else text


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _list(store: Store, args: argparse.Namespace) -> int:
    states = [args.state] if args.state else list(_OPEN_STATES) if not args.all else []
    found = DecisionBook(store).find(kind=args.kind, states=states, object_code=args.object)
    if args.last:
        found = found[-args.last :]
    if not found:
        print("no decisions match")
        return 0
    rows = [
        [d.id, d.kind, d.state, f"{d.dataset}/{d.uid}", _shown(d.claimed_code), _shown(d.object_code),
         f"{d.probability:.3f}", _masked(d.reason, d.claimed_code)[:50]]
        for d in found
    ]  # fmt: skip
    print(render_table(["id", "kind", "state", "record", "claimed", "object", "p", "why"], rows))
    return 0


def _show(store: Store, args: argparse.Namespace) -> int:
    for decision in _decisions(store, args.ids):
        print(f"decision {decision.id}: {decision.kind} of {decision.origin}/{decision.dataset}/{decision.uid}")
        print(f"  state {decision.state} by {decision.decided_by} at {_when(decision.updated_at_us)}")
        reason = _masked(decision.reason, decision.claimed_code)
        print(f"  record names code {_shown(decision.claimed_code)}: {reason or 'confirmed'}")
        print(f"  object {_shown(decision.object_code)} (p = {decision.probability:.3f})")
        if decision.note:
            print(f"  note: {decision.note}")
        for code, name, probability in decision.candidates:
            print(f"  candidate {_shown(code)} {name} p = {probability:.3f}")
    return 0


def _decisions(store: Store, ids: list[int]) -> list[Decision]:
    found = DecisionBook(store).find(ids=ids)
    missing = sorted(set(ids) - {d.id for d in found})
    if missing:
        raise NotFoundError(f"no decision {', '.join(map(str, missing))}")
    return found


def _act(state: str) -> Callable[[Store, argparse.Namespace], int]:
    def act(store: Store, args: argparse.Namespace) -> int:
        (decision,) = _decisions(store, [args.id])
        object_code = _target(decision, state, getattr(args, "object", ""))
        by = args.by or getpass.getuser()
        if not DecisionBook(store).act(
            decision, state=state, object_code=object_code, by=by, note=args.note, now_us=now_us()
        ):
            print(f"decision {decision.id} changed meanwhile; look at it again (jgnode resolve show {decision.id})")
            return 1
        print(f"decision {decision.id}: {decision.state} -> {state}" + (f" ({object_code})" if object_code else ""))
        return 0

    return act


def _target(decision: Decision, state: str, chosen: str) -> str:
    """The object a decision points at after an operator's act."""
    if state == "accepted":
        code = chosen or decision.object_code
        if not code:
            raise ConfigError(f"decision {decision.id} has no candidate: name the object with --object CODE")
        return code
    if decision.state in ("rejected", "reverted"):
        raise ConfigError(f"decision {decision.id} is already {decision.state}")
    return decision.object_code if state == "reverted" else ""


_COMMANDS: dict[str, Callable[[Store, argparse.Namespace], int]] = {
    "run": _run,
    "objects": _objects,
    "list": _list,
    "show": _show,
    "accept": _act("accepted"),
    "reject": _act("rejected"),
    "revert": _act("reverted"),
}
