"""The one place that builds gRPC servers and channels, and maps errors to status codes.

Every server and channel gets the same message limits and keepalive settings
and the same transport security: mutual TLS with the node's certificate,
anchored at the tree's root CA, unless the node runs with the explicit
development flag ``insecure``. Certificate files are re-read when they change,
so a renewed certificate takes effect without a restart (servers: at the next
handshake; channels: at the next connection).
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, cast

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from node.errors import ConfigError, JgnodeError, PeerUnavailableError, VerificationError
from node.pki import dns_name, public_key_der
from node.settings import Limits, NodeSettings

__all__ = [
    "CHAIN_METADATA",
    "NODE_ID_METADATA",
    "Transport",
    "abort_with",
    "caller_certificate",
    "caller_chain",
    "caller_node_id",
    "make_server",
]

NODE_ID_METADATA = "jgnode-node-id"
# The caller's intermediate CA certificates (TLS gives the server only the leaf).
# Untrusted as such: they only help build a chain that must reach an anchor.
CHAIN_METADATA = "jgnode-chain-bin"
log = logging.getLogger("jgnode.transport")
_DER = 2  # _ssl.ENCODING_DER, for the certificates of an unverified chain


def _options(limits: Limits) -> list[tuple[str, Any]]:
    # gRPC's own cap sits above ours, so an oversize batch reaches the node and is refused and recorded
    cap = limits.max_message_bytes + 1024 * 1024
    return [
        ("grpc.max_receive_message_length", cap),
        ("grpc.max_send_message_length", cap),
        # keep idle links between tiers alive through NAT and firewalls, and
        # notice a dead peer within half a minute
        ("grpc.keepalive_time_ms", 20_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
    ]


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror} (see `jgnode pki --help`)") from exc


class Transport:
    """This node's TLS identity and trust anchors, or the insecure development mode."""

    def __init__(self, settings: NodeSettings) -> None:
        """Read nothing yet; files are read when servers and channels are built."""
        self.insecure = settings.tls.insecure
        self.limits = settings.limits
        self.node_id = settings.node_id
        self._files = (settings.tls_key_path, settings.cert_path, settings.ca_path)
        self._chain_cache: tuple[tuple[float, ...], bytes] = ((), b"")

    def metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        """What every call carries: the node id (insecure mode) and the intermediate CA certificates."""
        stamp = self._stamp()
        if stamp != self._chain_cache[0]:
            chain = b""
            if not self.insecure and self._files[1].exists():
                certs = x509.load_pem_x509_certificates(self._files[1].read_bytes())[1:]
                chain = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certs)
            self._chain_cache = (stamp, chain)
        items: list[tuple[str, str | bytes]] = [(NODE_ID_METADATA, self.node_id)]
        if self._chain_cache[1]:
            items.append((CHAIN_METADATA, self._chain_cache[1]))
        return tuple(items)

    def _material(self) -> tuple[bytes, bytes, bytes]:
        key_path, chain_path, ca_path = self._files
        key, chain = _read(key_path, "TLS key"), _read(chain_path, "certificate")
        if not _matches(key, chain):  # e.g. caught between the two files of a renewal
            raise ConfigError(f"{chain_path} was not issued for the key in {key_path}")
        return key, chain, _read(ca_path, "trust anchors")

    def _stamp(self) -> tuple[float, ...]:
        return tuple(os.stat(p).st_mtime if p.exists() else 0.0 for p in self._files)

    def server_credentials(self) -> grpc.ServerCredentials:
        """Mutual-TLS server credentials that pick up renewed certificate files."""
        key, chain, ca = self._material()
        seen = [self._stamp()]

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            stamp = self._stamp()
            if stamp == seen[0]:
                return None
            try:
                key_, chain_, ca_ = self._material()
                fresh = grpc.ssl_server_certificate_configuration([(key_, chain_)], root_certificates=ca_)
            except (ConfigError, ValueError) as exc:
                log.error("renewed certificate files not usable, keeping the old ones: %s", exc)
                return None
            seen[0] = stamp
            log.info("serving with the renewed certificate")
            return fresh

        initial = grpc.ssl_server_certificate_configuration([(key, chain)], root_certificates=ca)
        # the fetcher returns None for "no change", which the type stubs do not allow for
        return grpc.dynamic_ssl_server_credentials(initial, cast(Any, fetch), require_client_authentication=True)

    def channel(self, address: str, *, peer_id: str) -> grpc.Channel:
        """A channel to the node ``peer_id`` at ``address``; TLS checks that the peer really is it."""
        options = _options(self.limits)
        if self.insecure:
            return grpc.insecure_channel(address, options=options)
        key, chain, ca = self._material()
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=chain)
        return grpc.secure_channel(
            address, credentials, options=[*options, ("grpc.ssl_target_name_override", dns_name(peer_id))]
        )

    def probe_certificates(self, address: str, *, peer_id: str, timeout: float = 10.0) -> list[bytes]:
        """The certificates (DER, leaf first) the node at ``address`` presents in a TLS handshake.

        gRPC checks a server's chain and name but has no hook for revocation;
        this separate handshake (same keys, same name check) hands the chain to
        the trust store before a channel is used. Raises PeerUnavailableError
        when the node cannot be reached, VerificationError when its certificate
        does not name ``peer_id`` or does not chain to the anchors.
        """
        key_path, chain_path, _ = self._files
        _key, _chain, ca = self._material()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=ca.decode("ascii", errors="replace"))
        context.load_cert_chain(chain_path, key_path)
        context.set_alpn_protocols(["h2"])
        host, _, port = address.rpartition(":")
        try:
            with (
                socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as raw,
                context.wrap_socket(raw, server_hostname=dns_name(peer_id)) as tls,
            ):
                leaf = tls.getpeercert(binary_form=True)
                chain = _presented_chain(tls)
        except ssl.SSLCertVerificationError as exc:
            raise VerificationError(f"{address} does not present a valid certificate of {peer_id}: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise PeerUnavailableError(f"cannot reach {peer_id} at {address}: {exc}") from exc
        if not leaf:
            raise VerificationError(f"{address} presented no certificate")
        return [leaf, *(der for der in chain if der != leaf)]


def _presented_chain(tls: ssl.SSLSocket) -> list[bytes]:
    """The chain the peer sent (Python 3.13: public API; 3.11-3.12: the same call on the inner object)."""
    inner: Any = getattr(tls, "_sslobj", None)
    getter = getattr(tls, "get_unverified_chain", None) or getattr(inner, "get_unverified_chain", None)
    if getter is None:
        return []
    return [c if isinstance(c, bytes) else c.public_bytes(_DER) for c in getter() or []]


def _matches(key_pem: bytes, chain_pem: bytes) -> bool:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(chain_pem)
    except ValueError:
        return False
    return public_key_der(key) == public_key_der(cert)


def make_server(listen: str, transport: Transport, *, max_workers: int = 16) -> tuple[grpc.Server, int]:
    """A server bound to ``listen``; returns it with the port actually bound."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        options=[*_options(transport.limits), ("grpc.so_reuseport", 0)],
    )
    try:
        if transport.insecure:
            log.warning(
                "INSECURE: serving plain-text gRPC on %s without client certificates (development only)", listen
            )
            port = server.add_insecure_port(listen)
        else:
            port = server.add_secure_port(listen, transport.server_credentials())
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {listen}: {exc}") from exc
    if port == 0:
        raise ConfigError(f"cannot listen on {listen}: address in use or not local")
    return server, port


def abort_with(context: grpc.ServicerContext, exc: JgnodeError) -> NoReturn:
    """End an RPC with the status the error class names and its message as detail."""
    context.abort(grpc.StatusCode[exc.grpc_status], str(exc))
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


def caller_certificate(context: grpc.ServicerContext) -> bytes:
    """The PEM certificate the caller presented over mutual TLS (b"" on an insecure server)."""
    values = list(context.auth_context().get("x509_pem_cert", []))
    return bytes(values[0]) if values else b""


def caller_chain(context: grpc.ServicerContext) -> list[bytes]:
    """The intermediate CA certificates (DER) the caller sent along."""
    for key, value in context.invocation_metadata():
        if key == CHAIN_METADATA and isinstance(value, bytes):
            return [c.public_bytes(serialization.Encoding.DER) for c in _der_certificates(value)]
    return []


def _der_certificates(data: bytes) -> list[x509.Certificate]:
    """Split concatenated DER certificates."""
    certs = []
    while data:
        # DER: 0x30, then the length in short or long form
        if len(data) < 2 or data[0] != 0x30:
            break
        if data[1] < 0x80:
            size, head = data[1], 2
        else:
            width = data[1] & 0x7F
            size, head = int.from_bytes(data[2 : 2 + width], "big"), 2 + width
        try:
            certs.append(x509.load_der_x509_certificate(data[: head + size]))
        except ValueError:
            break
        data = data[head + size :]
    return certs


def caller_node_id(context: grpc.ServicerContext) -> str:
    """The node id the caller states in its metadata (insecure development mode only)."""
    for key, value in context.invocation_metadata():
        if key == NODE_ID_METADATA:
            return value if isinstance(value, str) else value.decode()
    return ""
