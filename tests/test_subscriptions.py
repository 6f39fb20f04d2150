"""Subscriptions: the approval workflow of each sharing class, deny by default, expiry, audit, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from exchange_registry import Application, SubscriptionError, check_application, next_state
from node.catalog import find_resource, node_catalog
from node.errors import ConfigError, NotFoundError
from node.settings import NodeSettings, load_settings
from node.store import Store
from node.subscriptions import act_on, apply_for, effective_state
from tests.harness import jgnode

TODAY = date(2026, 11, 27)
NOW = 1_780_000_000_000_000


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[Path, NodeSettings, Store]]:
    """A county whose catalog shares personnel not at all (the rest: the defaults)."""
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    config = tmp_path / "n" / "node.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write('\n[[catalog.resources]]\ndataset = "personnel"\nsharing_class = "not_shared"\n')
    settings = load_settings(config)
    store = Store.open(settings.db_url, settings.node_id)
    yield config, settings, store
    store.close()


def _apply(settings: NodeSettings, store: Store, resource: str, **changes: str) -> int:
    values = {"subscriber": "西湖区卫健局", "resource_code": resource, "purpose": "食品安全联合监管", **changes}
    return apply_for(store, settings, Application(**values), today=TODAY, now_us=NOW).id  # type: ignore[arg-type]


def test_each_sharing_class_starts_where_it_should(node: tuple[Path, NodeSettings, Store]) -> None:
    _config, settings, store = node
    unconditional = apply_for(
        store, settings, Application("卫健局", "regulated_object", "联合监管"), today=TODAY, now_us=NOW
    )
    assert unconditional.state == "active"
    conditional = apply_for(store, settings, Application("卫健局", "penalty", "联合监管"), today=TODAY, now_us=NOW)
    assert conditional.state == "applied"
    assert "the provider reviews it" in conditional.reason
    refused = apply_for(store, settings, Application("卫健局", "personnel", "联合监管"), today=TODAY, now_us=NOW)
    assert refused.state == "refused"
    assert "is not shared" in refused.reason
    penalty = find_resource(node_catalog(settings), "penalty")
    assert conditional.fields == tuple(f.name for f in penalty.fields)  # none asked for: every field


def test_review_moves_only_from_the_right_state_and_is_audited(node: tuple[Path, NodeSettings, Store]) -> None:
    _config, settings, store = node
    ident = _apply(settings, store, "penalty")
    with pytest.raises(ConfigError, match="only an active subscription can be revoked"):
        act_on(store, ident, "revoke", by="王科长", reason="no", now_us=NOW + 1)
    assert act_on(store, ident, "approve", by="王科长", reason="", now_us=NOW + 2).state == "active"
    with pytest.raises(ConfigError, match="only an applied subscription can be approved"):
        act_on(store, ident, "approve", by="王科长", reason="", now_us=NOW + 3)
    with pytest.raises(ConfigError, match="say why you revoke"):
        act_on(store, ident, "revoke", by="王科长", reason=" ", now_us=NOW + 4)
    revoked = act_on(store, ident, "revoke", by="王科长", reason="purpose fulfilled", now_us=NOW + 5)
    assert (revoked.state, revoked.decided_by, revoked.reason) == ("revoked", "王科长", "purpose fulfilled")
    other = _apply(settings, store, "inspection")
    assert act_on(store, other, "reject", by="李", reason="no legal basis given", now_us=NOW + 6).state == "rejected"
    kinds = [e.kind for e in store.audit_entries() if e.subject in (f"subscription/{ident}", f"subscription/{other}")]
    assert kinds == [
        "subscription_applied",
        "subscription_active",
        "subscription_revoked",
        "subscription_applied",
        "subscription_rejected",
    ]
    assert store.audit_verify()[1] is None
    with pytest.raises(NotFoundError, match="no subscription 999"):
        act_on(store, 999, "approve", by="x", reason="", now_us=NOW)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"purpose": " "}, "no purpose"),
        ({"fields": ("name", "shoe_size")}, "330106JG-0001 has no field shoe_size"),
        ({"valid_until": "2026-11-01"}, "the period ended on 2026-11-01"),
        ({"valid_from": "2027-01-01", "valid_until": "2026-12-01"}, "before valid_from"),
        ({"valid_until": "tomorrow"}, "valid_until 'tomorrow' is not a date"),
        ({"region": "33A"}, "region '33A' is not"),
    ],
)
def test_an_application_breaking_a_rule_is_refused_and_not_recorded(
    node: tuple[Path, NodeSettings, Store], changes: dict[str, object], message: str
) -> None:
    _config, settings, store = node
    with pytest.raises(ConfigError, match=message):
        _apply(settings, store, "regulated_object", **changes)  # type: ignore[arg-type]
    assert store.audit_entries(kind="subscription_applied") == []


def test_an_active_subscription_past_its_period_is_expired(node: tuple[Path, NodeSettings, Store]) -> None:
    _config, settings, store = node
    held = apply_for(
        store,
        settings,
        Application("卫健局", "regulated_object", "联合监管", valid_until="2026-12-31"),
        today=TODAY,
        now_us=NOW,
    )
    assert effective_state(held, today=date(2026, 12, 31)) == "active"
    assert effective_state(held, today=date(2027, 1, 1)) == "expired"


def test_rules_are_pure_functions_of_the_catalog_entry(node: tuple[Path, NodeSettings, Store]) -> None:
    _config, settings, _store = node
    entry = find_resource(node_catalog(settings), "complaint")
    check_application(Application("a", entry.resource_code, "p", fields=("details",)), entry, today=TODAY)
    with pytest.raises(SubscriptionError, match="no subscriber; no purpose"):
        check_application(Application(" ", entry.resource_code, ""), entry, today=TODAY)
    with pytest.raises(SubscriptionError, match="unknown act 'extend'"):
        next_state("active", "extend", ident=1)


def test_cli_apply_review_list_and_show(node: tuple[Path, NodeSettings, Store]) -> None:
    config, _settings, _store = node
    c = ["-c", str(config)]
    done = jgnode("subscription", "apply", "--subscriber", "卫健局", "--resource", "penalty", "--purpose", "联合监管",
                  "--fields", "action_number,decision_date", *c)  # fmt: skip
    assert "subscription 1: applied" in done.stdout
    refused = jgnode("subscription", "apply", "--subscriber", "卫健局", "--resource", "personnel", "--purpose", "x",
                     *c, check=False)  # fmt: skip
    assert refused.returncode == 3
    assert "refused" in refused.stdout
    assert "subscription 1: active" in jgnode("subscription", "approve", "1", "--by", "王科长", *c).stdout
    listing = jgnode("subscription", "list", "--state", "active", *c).stdout
    assert "penalty" not in listing  # the resource code is listed, not the dataset
    assert "330106JG-0003" in listing
    shown = jgnode("subscription", "show", "1", *c).stdout
    assert "fields: action_number, decision_date" in shown
    assert "(by 王科长)" in shown
    bad = jgnode("subscription", "revoke", "2", "--reason", "x", *c, check=False)
    assert "only an active subscription can be revoked" in bad.stderr
