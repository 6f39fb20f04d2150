"""What tools see of a running node: reflection, health, status with a parent down, retry policy."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from jgnode.exchange.v1 import admin_pb2

from node.client import NodeClient
from node.grpc_util import Transport
from node.retry import is_recoverable
from node.runtime import Node
from tests.conftest import PkiFixture, eventually, make_node_dir


def _free_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def orphan(tmp_path: Path, pki: PkiFixture) -> Iterator[Node]:
    """A county whose parent is not there (nothing listens on its address)."""
    settings = make_node_dir(tmp_path, "330106", "county", pki=pki, parent=_free_address())
    node = Node(settings.model_copy(update={"retry": settings.retry.model_copy(update={"max_interval_s": 0.5})}))
    node.start()
    yield node
    node.stop(grace_s=1)


def test_reflection_lists_every_service(orphan: Node) -> None:
    with Transport(orphan.settings).channel(orphan.address, peer_id="330106") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (reply,) = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
        names = {s.name for s in reply.list_services_response.service}
        assert {
            "jgnode.exchange.v1.Exchange",
            "jgnode.exchange.v1.Trust",
            "jgnode.exchange.v1.NodeAdmin",
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        } <= names
        health = health_pb2_grpc.HealthStub(channel)
        answer = health.Check(health_pb2.HealthCheckRequest(service="jgnode.exchange.v1.Exchange"), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_status_says_why_the_parent_link_is_down(orphan: Node) -> None:
    def status() -> admin_pb2.NodeStatus:
        with NodeClient(orphan.settings, address=orphan.address) as client:
            return client.status()

    eventually(lambda: status().parent_error, what="a parent error in status")
    reply = status()
    assert not reply.parent_connected
    assert "UNAVAILABLE" in reply.parent_error


def test_only_transient_failures_are_retried() -> None:
    class Failed(grpc.RpcError, grpc.Call):  # type: ignore[misc]
        def __init__(self, code: grpc.StatusCode) -> None:
            self._code = code

        def code(self) -> grpc.StatusCode:
            return self._code

    assert is_recoverable(Failed(grpc.StatusCode.UNAVAILABLE))
    assert is_recoverable(Failed(grpc.StatusCode.RESOURCE_EXHAUSTED))
    assert not is_recoverable(Failed(grpc.StatusCode.PERMISSION_DENIED))
    assert not is_recoverable(Failed(grpc.StatusCode.INVALID_ARGUMENT))
    assert not is_recoverable(ValueError("bug"))
