"""Entity resolution: ER.toml validation, name and address normalisation, dedup and link quality, the CLI."""
# ruff: noqa: RUF001 - full-width characters are the point of these tests

from __future__ import annotations

import csv
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from governance.er import (
    CLUSTER_HEADER,
    PAIR_HEADER,
    ERConfig,
    ERConfigError,
    dedup,
    link,
    load_config,
    normalise_address,
    normalise_name,
    parse_config,
    parse_enterprise_name,
    read_records,
)
from governance.er.cluster import label_clusters
from governance.er.model import fit
from governance.er.normalise import parse_date
from governance.er.synthetic import COLUMNS, ER_TOML, cluster_pairs, generate_enterprises, pair_scores, true_pairs

ROOT = Path(__file__).resolve().parent.parent


def _config(**extra: object) -> ERConfig:
    return parse_config({**tomllib.loads(ER_TOML), **extra})


def _write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


# -- ER.toml ---------------------------------------------------------------------


def test_config_reads_the_documented_example(tmp_path: Path) -> None:
    path = tmp_path / "ER.toml"
    path.write_text(
        'id_column = "rec_id"\n[[compare]]\ncolumn = "surname"\nkind = "name"\n'
        '[[compare]]\ncolumn = "date_of_birth"\nkind = "date"\n[[block]]\ncolumns = ["postcode"]\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.id_column == "rec_id"
    assert [(c.column, c.kind) for c in config.compare] == [("surname", "name"), ("date_of_birth", "date")]
    assert [rule.columns for rule in config.block] == [("postcode",)]
    assert config.threshold == 0.9
    assert config.required_columns() == ["rec_id", "surname", "date_of_birth", "postcode"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"compare": [{"column": "a", "kind": "name"}]}, "id_column must be a non-empty string"),
        ({"id_column": "id"}, "at least one [[compare]]"),
        ({"id_column": "id", "compare": [{"column": "a", "kind": "fuzzy"}]}, "unknown kind 'fuzzy'"),
        ({"id_column": "id", "compare": [{"column": "a"}]}, "unknown kind None"),
        ({"id_column": "id", "compare": [{"column": "", "kind": "name"}]}, "column must be a non-empty string"),
        ({"id_column": "id", "compare": [{"column": "a", "kind": "name", "weight": 2}]}, "unknown key 'weight'"),
        ({"id_column": "id", "compare": [{"column": "id", "kind": "code"}]}, "the id column 'id' cannot be compared"),
        (
            {"id_column": "id", "compare": [{"column": "a", "kind": "name"}, {"column": "a", "kind": "text"}]},
            "compared twice",
        ),
        ({"id_column": "id", "compare": [{"column": "a", "kind": "name"}], "block": [{"columns": []}]}, "non-empty"),
        ({"id_column": "id", "compare": [{"column": "a", "kind": "name"}], "threshold": 1.5}, "between 0 and 1"),
        ({"id_column": "id", "compare": [{"column": "a", "kind": "name"}], "max_pairs": 0}, "max_pairs must be"),
        ({"id_column": "id", "compare": [{"column": "a", "kind": "name"}], "blocking": []}, "unknown key 'blocking'"),
    ],
)
def test_config_errors_are_one_clear_line(data: dict[str, object], message: str) -> None:
    with pytest.raises(ERConfigError) as caught:
        parse_config(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_column_and_duplicate_ids_are_reported(tmp_path: Path) -> None:
    config = _config()
    no_address = _write_csv(tmp_path / "a.csv", [{"rec_id": "1"}], ("rec_id", "name", "credit_code"))
    with pytest.raises(ERConfigError, match=r"a\.csv: no column 'address'"):
        read_records(no_address, config)
    twice = _write_csv(tmp_path / "b.csv", [{"rec_id": "1", "name": "x"}, {"rec_id": "1", "name": "y"}])
    with pytest.raises(ERConfigError, match="row 3: duplicate rec_id '1'"):
        read_records(twice, config)


def test_gb18030_input_with_spaces_after_commas(tmp_path: Path) -> None:
    config = parse_config({"id_column": "id", "compare": [{"column": "name", "kind": "name"}]})
    path = tmp_path / "gbk.csv"
    path.write_bytes("id, name\n1, 杭州某某科技有限公司\n".encode("gb18030"))
    assert read_records(path, config) == [{"id": "1", "name": "杭州某某科技有限公司"}]


# -- normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "core"),
    [
        ("杭州西湖某某科技有限公司", "某某科技"),
        ("某某科技（杭州）有限公司", "某某科技"),
        ("某某科技(杭州)有限公司", "某某科技"),
        ("浙江省杭州市西湖区某某科技有限责任公司", "某某科技"),
        ("某某科技股份有限公司", "某某科技"),
        ("某某科技集团有限公司", "某某科技"),
        ("某 某　科技 有限公司", "某某科技"),
        ("ＸＸ科技有限公司西湖分公司", "xx科技"),
        ("XX科技有限公司", "xx科技"),
        ("某某科技杭州有限公司", "某某科技"),
        ("鑫达建材（西湖店）", "鑫达建材"),
        ("张三五金店个体工商户", "张三五金店"),
        ("华安科技有限公司", "华安科技"),  # 华安 is a county elsewhere, but not after another region word
        ("Acme Trading Co., Ltd.", "acme trading co ltd"),
    ],
)
def test_enterprise_name_core(raw: str, core: str) -> None:
    assert normalise_name(raw) == core


def test_enterprise_name_parts() -> None:
    branch = parse_enterprise_name("ＸＸ科技有限公司西湖分公司")
    assert (branch.full, branch.legal_form, branch.branch) == ("xx科技有限公司西湖分公司", "有限公司", "西湖分公司")
    prefixed = parse_enterprise_name("杭州西湖某某科技有限公司")
    assert prefixed.regions == ("杭州", "西湖")
    bracketed = parse_enterprise_name("某某科技（杭州）有限公司")
    assert bracketed.regions == ("杭州",)
    assert bracketed.branch == ""


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("浙江省杭州市西湖区文三路 十二号 ３幢 一百零五室", "文三路12号3栋105室"),
        ("杭州市西湖区文三路12号3幢105室", "文三路12号3栋105室"),
        ("文三路１２号３栋１０５室", "文三路12号3栋105室"),
        ("西湖区文三路第十二号", "文三路12号"),
        ("宁波市海曙区中山西路一二八弄5号", "中山西路128弄5号"),
        ("12 Main St.", "12 main st"),
    ],
)
def test_address_normalisation(raw: str, normalised: str) -> None:
    assert normalise_address(raw) == normalised


@pytest.mark.parametrize("raw", ["2023-01-05", "2023/1/5", "20230105", "2023年1月5日", "２０２３-０１-０５ 10:00"])
def test_dates_in_the_forms_seen(raw: str) -> None:
    assert str(parse_date(raw)) == "2023-01-05"


# -- model and clustering ------------------------------------------------------------


def test_em_separates_matches_from_non_matches() -> None:
    # two columns with levels (null, agree, disagree): 100 agreeing pairs, 900 disagreeing, a few mixed
    patterns: dict[tuple[int, ...], int] = {(1, 1): 100, (2, 2): 900, (1, 2): 20, (2, 1): 20}
    model = fit(patterns, [3, 3])
    assert model.converged
    assert 0.08 < model.prior < 0.14
    assert model.probability((1, 1)) > 0.99
    assert model.probability((2, 2)) < 0.01
    assert model.probability((0, 1)) > model.probability((0, 0)) > model.probability((0, 2))


def test_clusters_are_connected_components_named_by_their_first_record() -> None:
    ids = ["a", "b", "c", "d", "e"]
    assert label_clusters(ids, [(3, 1), (1, 4)]) == [("a", "a"), ("b", "b"), ("c", "c"), ("d", "b"), ("e", "b")]


# -- quality on generated data ---------------------------------------------------------


def test_dedup_finds_generated_duplicates() -> None:
    data = generate_enterprises(300, duplicate_share=0.5, seed=7)
    truth = true_pairs(data.entity_of)
    assert len(data.rows) > 400
    assert len(truth) > 150
    result = dedup(data.rows, _config())
    assert [record_id for record_id, _ in result.clusters] == [row["rec_id"] for row in data.rows]
    precision, recall, f1 = pair_scores(cluster_pairs(result.clusters), truth)
    assert f1 >= 0.95, (precision, recall, f1)
    assert result.model.converged
    assert not result.blocking.truncated


def test_dedup_is_deterministic() -> None:
    data = generate_enterprises(100, seed=3)
    assert dedup(data.rows, _config()).clusters == dedup(list(data.rows), _config()).clusters


def test_user_blocking_rules_limit_the_candidates() -> None:
    data = generate_enterprises(200, seed=5)
    blocked = dedup(data.rows, _config(block=[{"columns": ["established"]}]))
    assert [p.name for p in blocked.blocking.passes] == ["established"]
    automatic = dedup(data.rows, _config())
    assert blocked.blocking.total_pairs < automatic.blocking.total_pairs


def test_candidate_pairs_are_capped_and_reported() -> None:
    data = generate_enterprises(200, seed=5)
    result = dedup(data.rows, _config(max_pairs=50))
    assert result.blocking.truncated
    assert result.blocking.total_pairs == 50
    assert "truncated" in result.blocking.lines()[-1]


def test_link_two_files() -> None:
    data = generate_enterprises(200, duplicate_share=0.6, seed=11)
    left_ids = {row["rec_id"] for row in data.rows[::2]}
    left = [row for row in data.rows if row["rec_id"] in left_ids]
    right = [row for row in data.rows if row["rec_id"] not in left_ids]
    truth = {
        (a, b)
        for a, b in (pair if pair[0] in left_ids else (pair[1], pair[0]) for pair in true_pairs(data.entity_of))
        if a in left_ids and b not in left_ids
    }
    result = link(left, right, _config())
    predicted = {(m.left_id, m.right_id) for m in result.matches}
    assert all(m.left_id in left_ids and m.right_id not in left_ids for m in result.matches)
    assert all(0.9 <= m.probability <= 1 for m in result.matches)
    precision = len(predicted & truth) / len(predicted)
    recall = len(predicted & truth) / len(truth)
    assert precision >= 0.95
    assert recall >= 0.9


# -- the CLI ------------------------------------------------------------------------------


def _jgnode(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_dedup_and_link(tmp_path: Path) -> None:
    data = generate_enterprises(120, seed=2)
    (tmp_path / "ER.toml").write_text(ER_TOML, encoding="utf-8")
    records = _write_csv(tmp_path / "records.csv", data.rows)
    done = _jgnode("dedup", str(records), "--config", str(tmp_path / "ER.toml"), "--out", str(tmp_path / "c.csv"))
    assert done.returncode == 0, done.stderr
    with (tmp_path / "c.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == CLUSTER_HEADER == ("record_id", "cluster_id")
    assert [row[0] for row in rows[1:]] == [row["rec_id"] for row in data.rows]
    assert pair_scores(cluster_pairs([(a, b) for a, b in rows[1:]]), true_pairs(data.entity_of))[2] >= 0.9

    left = _write_csv(tmp_path / "left.csv", data.rows[:80])
    right = _write_csv(tmp_path / "right.csv", data.rows[80:])
    done = _jgnode(
        "link", str(left), str(right), "--config", str(tmp_path / "ER.toml"), "--out", str(tmp_path / "p.csv")
    )
    assert done.returncode == 0, done.stderr
    with (tmp_path / "p.csv").open(encoding="utf-8", newline="") as file:
        pairs = list(csv.reader(file))
    assert tuple(pairs[0]) == PAIR_HEADER == ("left_id", "right_id", "probability")
    assert len(pairs) > 1
    assert all(float(row[2]) >= 0.9 for row in pairs[1:])


def test_cli_reports_config_errors_in_one_line(tmp_path: Path) -> None:
    records = _write_csv(tmp_path / "records.csv", generate_enterprises(5).rows)
    bad = tmp_path / "ER.toml"
    bad.write_text('id_column = "rec_id"\n[[compare]]\ncolumn = "name"\nkind = "fuzzy"\n', encoding="utf-8")
    done = _jgnode("dedup", str(records), "--config", str(bad), "--out", str(tmp_path / "c.csv"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"jgnode: error: {bad}: [[compare]] #1 (name): unknown kind 'fuzzy' "
        "(expected exact | name | text | address | date | number | code)"
    ]
    bad.write_text('id_column = "rec_id"\n[[compare]]\ncolumn = "phone"\nkind = "exact"\n', encoding="utf-8")
    done = _jgnode("dedup", str(records), "--config", str(bad), "--out", str(tmp_path / "c.csv"))
    assert done.stderr.strip() == f"jgnode: error: {records}: no column 'phone' (named in the ER config)"
    assert not (tmp_path / "c.csv").exists()
