"""Test harness: nodes in this process (:class:`Tree`) and as OS processes (:class:`Processes`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jgnode.exchange.v1 import admin_pb2

from adapters.sample_data import SampleGenerator
from node.client import NodeClient
from node.ingest import ingest_records
from node.runtime import Node
from node.settings import NodeSettings, load_settings
from tests.conftest import PkiFixture, eventually, make_node_dir


class Tree:
    """Nodes started in a test, stopped at its end."""

    def __init__(self, root: Path, pki: PkiFixture | None) -> None:
        self.root = root
        self.pki = pki
        self.nodes: dict[str, Node] = {}

    def start(self, node_id: str, tier: str, *, parent: str | None = None, ca: str = "", **overrides: Any) -> Node:
        settings = make_node_dir(
            self.root,
            node_id,
            tier,
            pki=self.pki,
            ca=self.pki.intermediate(ca) if self.pki and ca else None,
            parent=self.nodes[parent].address if parent else None,
            **overrides,
        )
        return self.start_settings(settings)

    def start_settings(self, settings: NodeSettings) -> Node:
        node = Node(settings)
        node.start()
        self.nodes[settings.node_id] = node
        return node

    def stop(self, node_id: str) -> NodeSettings:
        node = self.nodes.pop(node_id)
        node.stop(grace_s=1)
        return node.settings

    def stop_all(self) -> None:
        for node_id in list(self.nodes)[::-1]:
            self.stop(node_id)


@pytest.fixture
def tree(tmp_path: Path, pki: PkiFixture) -> Iterator[Tree]:
    t = Tree(tmp_path, pki)
    yield t
    t.stop_all()


def ingest(node: Node, seed: int, count: int) -> int:
    generator = SampleGenerator(seed, node.settings.node_id[:6])
    objects = generator.enterprises(40)
    inspections = list(generator.inspections(count, objects=objects))
    stored = ingest_records(node.store, "regulated_object", objects)[0]
    stored += ingest_records(node.store, "inspection", inspections)[0]
    node.sealer.wake()
    return stored


def status(node: Node) -> admin_pb2.NodeStatus:
    with NodeClient(node.settings, address=node.address) as client:
        return client.status()


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


def init_node(root: Path, node_id: str, tier: str, *extra: str) -> Path:
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


def status_json(config: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(jgnode("status", "--json", "-c", str(config)).stdout)
    return data


def held(config: Path) -> int:
    return int(str(status_json(config).get("records_held", 0)))


def held_at(config: Path) -> int:
    """Records held, asked over gRPC directly (a `jgnode status` process takes a second to start)."""
    with NodeClient(load_settings(config)) as client:
        return client.status().records_held


def digest_at(config: Path, origin: str) -> tuple[int, bytes]:
    with NodeClient(load_settings(config)) as client:
        return client.digest(origin=origin)
