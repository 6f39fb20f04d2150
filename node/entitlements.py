"""What a subscriber is entitled to on this node: its active subscription, seen through one View.

Deny by default: a subscriber reads a resource only through a subscription
that is ``active`` today and is its own; everything it receives (stream,
sink, query, export) goes through :func:`view_for`, so fields, region,
predicates and personal-data protection are the same on every path.

The node's personal-data keys live in ``<data_dir>/keys/`` (mode 0600, made
on first use, never leave the node): ``pseudonym.key`` keys the HMAC of
pseudonyms, ``fields.key`` encrypts designated personal fields at rest.
Losing ``fields.key`` loses those values in the sharing index (the signed
records still hold them: rebuild the index); changing ``pseudonym.key``
changes every pseudonym subscribers hold.
"""

from __future__ import annotations

import contextlib
import os
from datetime import date
from pathlib import Path

from exchange_registry import CatalogEntry, FieldCipher, Protector, View, parse_predicates
from node.errors import ConfigError, NotEntitledError, NotFoundError
from node.pki import write_private
from node.settings import NodeSettings
from node.store import Store, Subscription, SubscriptionBook
from node.subscriptions import effective_state

__all__ = ["entitled", "field_cipher", "node_secret", "protector", "view_for"]

_KEY_BYTES = 32


def node_secret(settings: NodeSettings, name: str) -> bytes:
    """The node's secret ``<data_dir>/keys/<name>.key`` (32 random bytes), made on first use."""
    path = settings.data_dir / "keys" / f"{name}.key"
    if not path.exists():
        with contextlib.suppress(ConfigError):  # another process made it first: read theirs
            write_private(path, os.urandom(_KEY_BYTES).hex().encode())
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the key {path}: {exc}") from exc
    if len(key) < _KEY_BYTES:
        raise ConfigError(f"the key {path} is too short ({len(key)} bytes; {_KEY_BYTES} needed)")
    return key


def protector(settings: NodeSettings) -> Protector:
    """How this node protects personal data for subscribers not entitled to it."""
    sharing = settings.sharing
    return Protector(sharing.personal_mode, node_secret(settings, "pseudonym"), sharing.pseudonym_hash)


def field_cipher(settings: NodeSettings) -> FieldCipher:
    """The cipher of designated personal fields at rest."""
    return FieldCipher(settings.sharing.cipher, node_secret(settings, "fields"))


def view_for(subscription: Subscription, entry: CatalogEntry, shield: Protector) -> View:
    """The view a subscription grants of its resource."""
    granted = set(subscription.fields)
    return View(
        entry=entry,
        fields=tuple(f.name for f in entry.fields if f.name in granted),
        region=subscription.region,
        predicates=parse_predicates(subscription.filters, entry),
        personal=subscription.personal,
        protector=shield,
    )


def entitled(store: Store, ident: int, subscriber: str, *, today: date) -> Subscription:
    """Subscription ``ident`` if it is ``subscriber``'s and active today; NotEntitledError saying why otherwise."""
    found = SubscriptionBook(store).find(ids=[ident])
    if not found:
        raise NotFoundError(f"no subscription {ident} on this node")
    held = found[0]
    if held.subscriber != subscriber:
        raise NotEntitledError(f"subscription {ident} is not {subscriber}'s")
    state = effective_state(held, today=today)
    if state != "active":
        raise NotEntitledError(f"subscription {ident} is {state}: {held.reason}")
    if held.valid_from and date.fromisoformat(held.valid_from) > today:
        raise NotEntitledError(f"subscription {ident} starts on {held.valid_from}")
    return held
