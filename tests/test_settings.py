"""Settings: TOML file, JGNODE_ environment, validation, frozen."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from node.errors import ConfigError
from node.settings import load_settings


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "node.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_file_environment_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _toml(
        tmp_path,
        'node_id = "330106"\ntier = "county"\ndata_dir = "data"\nparent = "10.0.0.1:7400"\n'
        "[limits]\nmax_inflight_batches = 3\n",
    )
    settings = load_settings(path)
    assert settings.data_dir == tmp_path / "conf" / "data"  # relative to the file
    assert settings.db_url == f"sqlite:///{tmp_path / 'conf' / 'data' / 'node.db'}"
    assert settings.signing_key_path == tmp_path / "conf" / "data" / "keys" / "signing.key"
    assert settings.limits.max_inflight_batches == 3
    assert settings.batch_size == 1000
    monkeypatch.setenv("JGNODE_PARENT", "10.0.0.2:7400")
    monkeypatch.setenv("JGNODE_LIMITS__MAX_INFLIGHT_BATCHES", "5")
    monkeypatch.setenv("JGNODE_BATCH_SIZE", "250")
    overridden = load_settings(path)
    assert (overridden.parent, overridden.limits.max_inflight_batches, overridden.batch_size) == (
        "10.0.0.2:7400",
        5,
        250,
    )
    with pytest.raises(ValidationError):
        overridden.batch_size = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('node_id = "33010"\ntier = "county"\n', "node id must be a 6-digit"),
        ('node_id = "330100"\ntier = "county"\n', "is a city code, not a county"),
        ('node_id = "330106"\ntier = "county"\nbatch_size = 0\n', "batch_size"),
        ('node_id = "330106"\ntier = "county"\nbatch_sise = 10\n', "batch_sise"),
        ('node_id = "330106"\ntier = "town"\n', "tier"),
        ("node_id = 330106\ntier =\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(_toml(tmp_path, text))


def test_node_ids_with_suffix_and_national_tier() -> None:
    assert load_settings(None, node_id="330100-scjg", tier="city").region_code == "330100"
    assert load_settings(None, node_id="100000", tier="national").tier == "national"
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(Path("/nonexistent/node.toml"))


def test_the_example_configuration_is_valid_and_complete() -> None:
    example = Path(__file__).resolve().parent.parent / "deploy" / "node.example.toml"
    settings = load_settings(example)
    assert settings.tls.crl_alarm_s == 172800
    assert settings.limits.outbox_max_records == 5_000_000
    sections = {"limits": settings.limits, "retry": settings.retry, "tls": settings.tls}
    text = example.read_text(encoding="utf-8")
    for name, section in sections.items():  # every setting is at least mentioned, so operators can find it
        for field in type(section).model_fields:
            assert f"{field} =" in text, f"deploy/node.example.toml does not mention [{name}] {field}"
