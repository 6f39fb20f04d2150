"""The resource catalog: defaults, the node's own descriptions, the gRPC Catalog service and ``jgnode catalog``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exchange_registry import DATASET_NAMES, CatalogEntry, build_catalog
from governance import DATASETS
from node.catalog import find_resource, node_catalog
from node.client import NodeClient
from node.errors import ConfigError, NotFoundError
from node.serde import SCHEMA_VERSIONS, catalog_entry_from_proto, catalog_entry_to_proto
from node.settings import load_settings
from tests.harness import Tree, jgnode

CATALOG_TOML = """
[catalog]
classification = "330106SCJG"
department = "杭州市西湖区市场监督管理局"

[[catalog.resources]]
dataset = "penalty"
sharing_class = "unconditional"
update_cycle = "realtime"

[[catalog.resources]]
dataset = "personnel"
sharing_class = "not_shared"
name = "执法人员库"
"""


def _default(node_id: str = "330106") -> list[CatalogEntry]:
    return build_catalog(node_id=node_id, classification="330106JG", department="", schema_versions=SCHEMA_VERSIONS)


def test_every_dataset_is_a_resource_with_a_stable_code_fields_and_a_sharing_class() -> None:
    entries = _default()
    assert [e.dataset for e in entries][:4] == ["regulated_object", "inspection", "penalty", "complaint"]
    assert sorted(e.dataset for e in entries) == sorted(DATASETS)
    assert [e.resource_code for e in entries[:3]] == ["330106JG-0001", "330106JG-0002", "330106JG-0003"]
    penalty = find_resource(entries, "penalty")
    assert penalty.schema_version == 2  # the schema its records travel with
    assert penalty.sharing_class == "conditional"
    assert penalty.conditions  # a conditional resource says on which terms
    assert find_resource(entries, "330106JG-0001").sharing_class == "unconditional"
    person = find_resource(entries, "personnel")
    assert {f.name for f in person.fields if f.personal} == {"id_number", "name", "sex", "birth_date"}
    fine = penalty.field("fine_fen")
    assert fine is not None
    assert fine.type == "money_fen"
    submitted = penalty.field("submitted_at")
    assert submitted is not None
    assert submitted.type == "instant"
    assert all(e.name == DATASET_NAMES[e.dataset] for e in entries)


def test_a_resource_not_in_the_catalog_is_named_with_the_codes_there_are() -> None:
    with pytest.raises(
        NotFoundError, match=r"no resource '330106JG-0099' in the catalog of 330106; it has 330106JG-0001"
    ):
        find_resource(_default(), "330106JG-0099")


def test_entries_round_trip_through_protobuf() -> None:
    for entry in _default():
        assert catalog_entry_from_proto(catalog_entry_to_proto(entry)) == entry


def _node_dir(tmp_path: Path, extra: str = CATALOG_TOML) -> Path:
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "n"), "--insecure")
    config = tmp_path / "n" / "node.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write(extra)
    return config


def test_the_node_describes_its_resources_in_node_toml(tmp_path: Path) -> None:
    entries = node_catalog(load_settings(_node_dir(tmp_path)))
    penalty = find_resource(entries, "penalty")
    assert penalty.resource_code == "330106SCJG-0003"
    assert (penalty.sharing_class, penalty.conditions, penalty.update_cycle) == ("unconditional", "", "realtime")
    assert penalty.provider_department == "杭州市西湖区市场监督管理局"
    person = find_resource(entries, "personnel")
    assert (person.name, person.sharing_class) == ("执法人员库", "not_shared")
    assert find_resource(entries, "inspection").sharing_class == "conditional"  # not described: the default


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[catalog.resources]]\ndataset = "weather"\n', "unknown dataset 'weather'"),
        ('[[catalog.resources]]\ndataset = "penalty"\nsharing_class = "sometimes"\n', "sharing_class"),
        ('[catalog]\nclassification = "a b"\n', "classification"),
    ],
)
def test_bad_catalog_settings_are_one_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(_node_dir(tmp_path, toml))


def test_cli_lists_and_shows_the_catalog(tmp_path: Path) -> None:
    config = _node_dir(tmp_path)
    listing = jgnode("catalog", "list", "-c", str(config)).stdout
    assert "330106SCJG-0010" in listing
    assert "not_shared 不予共享" in listing
    shown = jgnode("catalog", "show", "330106SCJG-0002", "-c", str(config)).stdout
    assert "sharing conditional 有条件共享" in shown
    assert "counterparty_cert_number" in shown
    data = json.loads(jgnode("catalog", "list", "--json", "-c", str(config)).stdout)
    assert len(data) == len(DATASETS)
    missing = jgnode("catalog", "show", "nothing", "-c", str(config), check=False)
    assert "no resource 'nothing'" in missing.stderr
    lone = jgnode("catalog", "list", "--address", "127.0.0.1:1", "-c", str(config), check=False)
    assert "--address needs --peer-id" in lone.stderr


def test_any_node_of_the_tree_reads_a_node_catalog_over_mutual_tls(tree: Tree) -> None:
    city = tree.start("330100", "city")
    county = tree.start("330106", "county", parent="330100", catalog={"department": "西湖区市场监管局"})
    with NodeClient(city.settings, address=county.address, peer_id="330106") as client:
        entries = client.catalog()
    assert entries == node_catalog(county.settings)
    assert entries[0].provider_department == "西湖区市场监管局"
