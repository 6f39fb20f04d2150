"""The one place that builds gRPC servers and channels, and maps errors to status codes.

Every server and channel of a node gets the same message limits and keepalive
settings from here; transport security (issue 3) is added here and nowhere else.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

import grpc

from node.errors import ConfigError, JgnodeError
from node.settings import Limits

__all__ = ["NODE_ID_METADATA", "abort_with", "caller_node_id", "make_channel", "make_server"]

NODE_ID_METADATA = "jgnode-node-id"


def _options(limits: Limits) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", limits.max_message_bytes),
        ("grpc.max_send_message_length", limits.max_message_bytes),
        # keep idle links between tiers alive through NAT and firewalls, and
        # notice a dead peer within half a minute
        ("grpc.keepalive_time_ms", 20_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
    ]


def make_server(listen: str, limits: Limits, *, max_workers: int = 16) -> tuple[grpc.Server, int]:
    """A server bound to ``listen``; returns it with the port actually bound."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        options=[*_options(limits), ("grpc.so_reuseport", 0)],
    )
    try:
        port = server.add_insecure_port(listen)
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {listen}: {exc}") from exc
    if port == 0:
        raise ConfigError(f"cannot listen on {listen}: address in use or not local")
    return server, port


def make_channel(address: str, limits: Limits) -> grpc.Channel:
    """A channel to another node."""
    return grpc.insecure_channel(address, options=_options(limits))


def abort_with(context: grpc.ServicerContext, exc: JgnodeError) -> NoReturn:
    """End an RPC with the status the error class names and its message as detail."""
    context.abort(grpc.StatusCode[exc.grpc_status], str(exc))
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


def caller_node_id(context: grpc.ServicerContext) -> str:
    """The node id the caller states in its metadata ("" when absent)."""
    for key, value in context.invocation_metadata():
        if key == NODE_ID_METADATA:
            return value if isinstance(value, str) else value.decode()
    return ""
