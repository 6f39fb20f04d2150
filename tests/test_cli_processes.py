"""End to end through the ``jgnode`` command: separate OS processes on loopback."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.client import NodeClient
from node.settings import load_settings
from tests.conftest import eventually

pytestmark = pytest.mark.slow


def jgnode(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "node.cli", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if check and done.returncode != 0:
        pytest.fail(f"jgnode {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done


class Processes:
    """Node processes started by a test; killed at its end if still running."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def run(self, name: str, config: Path, env: dict[str, str] | None = None) -> str:
        """Start ``jgnode run`` and wait for its address file."""
        (config.parent / "node.addr").unlink(missing_ok=True)
        with (config.parent / "node.log").open("ab") as log:  # the child keeps its own copy of the handle
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "node.cli", "run", "-c", str(config)],
                stdout=log,
                stderr=log,
                env={**os.environ, **(env or {})},
            )
        return eventually(lambda: _address(config.parent, self.running[name]), what=f"{name} to listen")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> int:
        process = self.running.pop(name)
        process.send_signal(sig)
        return process.wait(timeout=60)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name, signal.SIGKILL)


def _address(folder: Path, process: subprocess.Popen[bytes]) -> str:
    if process.poll() is not None:
        pytest.fail(f"node in {folder} exited with {process.returncode}: {(folder / 'node.log').read_text()[-2000:]}")
    path = folder / "node.addr"
    return path.read_text().strip() if path.exists() else ""


@pytest.fixture
def procs() -> Iterator[Processes]:
    p = Processes()
    yield p
    p.stop_all()


def _init(root: Path, node_id: str, tier: str, *extra: str) -> Path:
    """A node certified by the root CA in ``root/ca`` (created on first use)."""
    ca = root / "ca"
    if not (ca / "ca.crt").exists():
        jgnode("pki", "init-root", "--dir", str(ca), "--node-id", "330000")
    folder = root / node_id
    out = jgnode(
        "init",
        "--node-id",
        node_id,
        "--tier",
        tier,
        "--dir",
        str(folder),
        "--listen",
        "127.0.0.1:0",
        "--ca",
        str(ca),
        *extra,
    )
    assert "signing key" in out.stdout
    assert "installed certificate of" in out.stdout
    return folder / "node.toml"


def _status(config: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(jgnode("status", "--json", "-c", str(config)).stdout)
    return data


def _held(config: Path) -> int:
    return int(str(_status(config).get("records_held", 0)))


def _held_at(config: Path) -> int:
    """Records held, asked over gRPC directly (a `jgnode status` process takes a second to start)."""
    with NodeClient(load_settings(config)) as client:
        return client.status().records_held


def _digest(config: Path, origin: str) -> tuple[int, bytes]:
    with NodeClient(load_settings(config)) as client:
        return client.digest(origin=origin)


def test_cli_three_tiers_ingest_status_verify(tmp_path: Path, procs: Processes) -> None:
    province_cfg = _init(tmp_path, "330000", "province")
    city_cfg = _init(tmp_path, "330100", "city")
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
    eventually(lambda: _held(province_cfg) == total, timeout=120, what="province to hold every record")
    assert _digest(province_cfg, "330106") == _digest(city_cfg, "330106")

    text = jgnode("status", "-c", str(city_cfg)).stdout
    assert "node 330100 (city)" in text
    assert "330106" in text
    assert "connected" in text
    county_status = _status(county_cfg)
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
    config = _init(tmp_path, "330106", "county")
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
    province_cfg = _init(tmp_path, "330000", "province")
    city_cfg = _init(tmp_path, "330100", "city")
    county_cfg = _init(tmp_path, "330106", "county")
    slow = {"JGNODE_BATCH_SIZE": "20", "JGNODE_LIMITS__MAX_INFLIGHT_BATCHES": "1"}
    province = procs.run("province", province_cfg)
    city = procs.run("city", city_cfg, env={"JGNODE_PARENT": province, **slow})
    procs.run("county", county_cfg, env={"JGNODE_PARENT": city, **slow})
    jgnode("sample", "--region", "330106", "--out", str(tmp_path / "in"), "--inspections", "24000")
    done = jgnode("ingest", "-c", str(county_cfg), "--no-progress", str(tmp_path / "in" / "inspection.csv"))
    assert "24000 stored" in done.stdout
    expected = _digest(county_cfg, "330106")

    kills = 0
    for fraction in (0.15, 0.5):
        eventually(lambda f=fraction: _held_at(province_cfg) >= expected[0] * f, timeout=120, interval=0.01)  # type: ignore[misc]
        procs.stop("city", signal.SIGKILL)
        kills += 1
        held = _held_at(province_cfg)
        assert held < expected[0], "the transfer finished before the kill: make the test data larger"
        procs.run("city", city_cfg, env={"JGNODE_PARENT": province, "JGNODE_LISTEN": city, **slow})
    eventually(lambda: _held_at(province_cfg) >= expected[0], timeout=180, what="province to catch up")
    assert kills == 2
    assert _digest(province_cfg, "330106") == expected  # same count, same set: nothing lost, nothing doubled
    assert _digest(city_cfg, "330106") == expected
