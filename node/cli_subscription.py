"""``jgnode subscription apply|list|show|approve|reject|revoke``: departments' subscriptions to this node's resources.

Safe while the node runs (each change is one short write transaction that
re-checks the subscription it acts on). Every change is in the audit log.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import date

from exchange_registry import Application
from node.cli import require_file
from node.runtime import now_us
from node.settings import load_settings
from node.store import Store, Subscription, SubscriptionBook
from node.subscriptions import act_on, apply_for, effective_state
from node.tables import render_table

__all__ = ["subscription"]


def subscription(args: argparse.Namespace) -> int:
    """Dispatch ``jgnode subscription <command>``."""
    settings = load_settings(require_file(args.config, "config file"))
    store = Store.open(settings.db_url, settings.node_id)
    today = date.today()
    try:
        if args.subscription_command == "apply":
            application = Application(
                subscriber=args.subscriber,
                resource_code=args.resource,
                purpose=args.purpose,
                fields=tuple(f.strip() for f in args.fields.split(",") if f.strip()) if args.fields else (),
                region=args.region,
                valid_from=args.valid_from,
                valid_until=args.valid_until,
                filters=tuple(args.filter),
                personal=args.personal,
            )
            held = apply_for(store, settings, application, today=today, now_us=now_us())
            print(f"subscription {held.id}: {held.state} ({held.reason})")
            return 0 if held.state != "refused" else 3
        if args.subscription_command in ("approve", "reject", "revoke"):
            by = args.by or getpass.getuser()
            held = act_on(store, args.id, args.subscription_command, by=by, reason=args.reason, now_us=now_us())
            print(f"subscription {held.id}: {held.state}")
            return 0
        found = SubscriptionBook(store).find(ids=args.ids if args.subscription_command == "show" else ())
        return _show(found, today) if args.subscription_command == "show" else _list(found, today, args.state)
    finally:
        store.close()


def _list(found: list[Subscription], today: date, state: str) -> int:
    rows = [
        [s.id, s.subscriber, s.resource_code, effective_state(s, today=today), s.valid_until or "-", s.purpose[:40]]
        for s in found
        if not state or effective_state(s, today=today) == state
    ]
    print(render_table(["id", "subscriber", "resource", "state", "until", "purpose"], rows) if rows else "none")
    return 0


def _show(found: list[Subscription], today: date) -> int:
    for s in found:
        print(
            f"subscription {s.id}: {s.subscriber} to {s.resource_code} ({s.dataset}): {effective_state(s, today=today)}"
        )
        print(f"  purpose: {s.purpose}")
        print(f"  fields: {', '.join(s.fields)}")
        print(f"  region: {s.region or 'all'}; period {s.valid_from or 'approval'} .. {s.valid_until or 'open'}")
        print(f"  filters: {' and '.join(s.filters) or 'none'}")
        print(f"  personal data: {'shown' if s.personal else 'masked or pseudonymised'}")
        print(f"  {s.reason}" + (f" (by {s.decided_by})" if s.decided_by else ""))
    return 0
