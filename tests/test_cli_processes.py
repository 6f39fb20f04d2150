"""End to end through the ``jgnode`` command: separate OS processes on loopback."""

from __future__ import annotations

import csv
import signal
from pathlib import Path

import pytest

from tests.conftest import eventually
from tests.harness import Processes, digest_at, held, held_at, init_node, jgnode, status_json

pytestmark = pytest.mark.slow


def test_cli_three_tiers_ingest_status_verify(tmp_path: Path, procs: Processes) -> None:
    province_cfg = init_node(tmp_path, "330000", "province")
    city_cfg = init_node(tmp_path, "330100", "city")
    # the county the long way: request, the CA signs, install
    county_dir = tmp_path / "330106"
    jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(county_dir), "--listen", "127.0.0.1:0")
    county_cfg = county_dir / "node.toml"
    signed = jgnode("pki", "sign", "--ca", str(tmp_path / "ca"), str(county_dir / "certs" / "request.csr"))
    assert "issued node certificate for 330106" in signed.stdout
    jgnode(
        "pki",
        "install",
        "-c",
        str(county_cfg),
        str(county_dir / "certs" / "request.crt"),
        "--anchor",
        str(tmp_path / "ca" / "ca.crt"),
    )
    jgnode("pki", "publish-crl", "-c", str(county_cfg), str(tmp_path / "ca" / "crl.pem"))
    province = procs.run("province", province_cfg)
    city = procs.run("city", city_cfg, env={"JGNODE_PARENT": province})
    procs.run("county", county_cfg, env={"JGNODE_PARENT": city})

    out = jgnode("sample", "--region", "330106", "--out", str(tmp_path / "in"), "--inspections", "3000")
    assert "inspection.csv: 3000 inspection records" in out.stdout
    total = 0
    for dataset in ("regulated_object", "inspection", "penalty", "complaint"):
        done = jgnode("ingest", "-c", str(county_cfg), "--dataset", dataset, str(tmp_path / "in" / f"{dataset}.csv"))
        stored = int(done.stdout.split(" stored")[0].rsplit(" ", 1)[-1])
        assert "0 quarantined" in done.stdout
        total += stored
    assert total > 3000
    eventually(lambda: held(province_cfg) == total, timeout=120, what="province to hold every record")
    assert digest_at(province_cfg, "330106") == digest_at(city_cfg, "330106")

    text = jgnode("status", "-c", str(city_cfg)).stdout
    assert "node 330100 (city)" in text
    assert "330106" in text
    assert "connected" in text
    county_status = status_json(county_cfg)
    assert county_status["records_forwarded"] == str(total)  # JSON carries uint64 as a string

    with (tmp_path / "in" / "inspection.csv").open(encoding="utf-8", newline="") as handle:
        uid = [row["action_number"] for row in csv.DictReader(handle)][5]
    verified = jgnode("verify", uid, "-c", str(province_cfg))
    assert "inclusion proof OK" in verified.stdout
    assert "signed by origin 330106" in verified.stdout
    assert "forwarded by 330100 from 330106" in verified.stdout

    audit = jgnode("audit", "verify", "-c", str(province_cfg))
    assert "audit log intact" in audit.stdout
    proof = tmp_path / "record.proof"
    jgnode("audit", "proof", uid, "-c", str(province_cfg), "--out", str(proof))
    for name in ("county", "city", "province"):
        assert procs.stop(name) == 0  # SIGTERM stops cleanly
    # offline, with nothing running: the bundle and the root certificate are enough
    offline = jgnode("verify-proof", str(proof), "--anchor", str(tmp_path / "ca" / "ca.crt"))
    assert "forwarded by 330100 from 330106" in offline.stdout
    assert "FAIL" not in offline.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    missing = jgnode("status", "-c", str(tmp_path / "nope.toml"), check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"jgnode: error: config file {tmp_path / 'nope.toml'} not found"
    config = init_node(tmp_path, "330106", "county")
    not_running = jgnode("status", "-c", str(config), check=False)
    assert not_running.returncode == 1
    assert "is not running" in not_running.stderr
    assert len(not_running.stderr.strip().splitlines()) == 1
    bad_id = jgnode("init", "--node-id", "33x", "--tier", "county", "--dir", str(tmp_path / "x"), check=False)
    assert bad_id.returncode == 1
    assert "node id must be" in bad_id.stderr
    again = jgnode("init", "--node-id", "330106", "--tier", "county", "--dir", str(tmp_path / "330106"), check=False)
    assert again.returncode == 1
    assert "already holds a node" in again.stderr
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\xff\xfe\x00junk")
    bad_file = jgnode("ingest", "-c", str(config), str(garbage), check=False)
    assert bad_file.returncode == 1
    assert bad_file.stderr.startswith("jgnode: error:")
    unknown = jgnode("verify", "NO-SUCH-UID", "-c", str(config), check=False)
    assert unknown.returncode == 1
    assert "no signed record" in unknown.stderr


def test_sigkill_city_mid_stream_loses_and_doubles_nothing(tmp_path: Path, procs: Processes) -> None:
    province_cfg = init_node(tmp_path, "330000", "province")
    city_cfg = init_node(tmp_path, "330100", "city")
    county_cfg = init_node(tmp_path, "330106", "county")
    slow = {"JGNODE_BATCH_SIZE": "20", "JGNODE_LIMITS__MAX_INFLIGHT_BATCHES": "1"}
    province = procs.run("province", province_cfg)
    city = procs.run("city", city_cfg, env={"JGNODE_PARENT": province, **slow})
    procs.run("county", county_cfg, env={"JGNODE_PARENT": city, **slow})
    jgnode("sample", "--region", "330106", "--out", str(tmp_path / "in"), "--inspections", "24000")
    done = jgnode("ingest", "-c", str(county_cfg), "--no-progress", str(tmp_path / "in" / "inspection.csv"))
    assert "24000 stored" in done.stdout
    expected = digest_at(county_cfg, "330106")

    kills = 0
    for fraction in (0.15, 0.5):
        eventually(lambda f=fraction: held_at(province_cfg) >= expected[0] * f, timeout=120, interval=0.01)  # type: ignore[misc]
        procs.stop("city", signal.SIGKILL)
        kills += 1
        held = held_at(province_cfg)
        assert held < expected[0], "the transfer finished before the kill: make the test data larger"
        procs.run("city", city_cfg, env={"JGNODE_PARENT": province, "JGNODE_LISTEN": city, **slow})
    eventually(lambda: held_at(province_cfg) >= expected[0], timeout=180, what="province to catch up")
    assert kills == 2
    assert digest_at(province_cfg, "330106") == expected  # same count, same set: nothing lost, nothing doubled
    assert digest_at(city_cfg, "330106") == expected
