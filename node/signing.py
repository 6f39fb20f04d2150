"""A node's signing key, and the keyring of other nodes' keys it verifies with.

A node signs with one private key of its configured suite (see
``node.suites``). It verifies others with public keys bound to node ids: with
a PKI, every key comes from a validated certificate (``node.trust``); in a
development setup without one, from a folder of ``<node_id>.pub`` files. A
valid signature by the wrong node, or by a revoked key, is refused.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from node.errors import ConfigError, VerificationError
from node.suites import DEFAULT_SUITE, SUITES, suite

__all__ = [
    "DEFAULT_SUITE",
    "SUITES",
    "KeyRing",
    "Signer",
    "TrustedKey",
    "generate_signing_key",
    "key_id_for",
    "load_signer",
]


def key_id_for(suite_name: str, public_raw: bytes) -> str:
    """Short, stable id of a public key: suite-prefixed SHA-256 fingerprint."""
    return f"{suite_name}:{hashlib.sha256(public_raw).hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class Signer:
    """A node's signing key, with the certificate chain that vouches for it (DER, leaf first)."""

    node_id: str
    suite: str
    key_id: str
    _private_pem: bytes
    public_pem: bytes
    public_raw: bytes
    chain: tuple[bytes, ...] = ()

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with this node's key."""
        return SUITES[self.suite].sign(self._private_pem, data)


def generate_signing_key(private_path: Path, public_path: Path, suite_name: str = DEFAULT_SUITE) -> None:
    """Write a new private key (mode 0600) and its public key; refuse to overwrite."""
    impl = suite(suite_name)
    if private_path.exists():
        raise ConfigError(f"{private_path} exists: refusing to overwrite a signing key")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    pem = impl.generate_private_pem()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(impl.public_pem(pem))


def load_signer(
    node_id: str, private_path: Path, suite_name: str = DEFAULT_SUITE, chain: tuple[bytes, ...] = ()
) -> Signer:
    """Load a node's signing key from its file."""
    impl = suite(suite_name)
    try:
        pem = private_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read signing key {private_path}: {exc.strerror}") from exc
    try:
        raw = impl.public_raw(pem)
    except ValueError as exc:
        raise ConfigError(f"{private_path} is not a usable {suite_name} private key: {exc}") from exc
    return Signer(node_id, suite_name, key_id_for(suite_name, raw), pem, impl.public_pem(pem), raw, chain)


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key, the node it speaks for, and the certificate chain that says so (DER, leaf first)."""

    node_id: str
    suite: str
    key_id: str
    public_raw: bytes
    chain: tuple[bytes, ...] = ()


class KeyRing:
    """Public keys this node trusts, looked up by key id."""

    def __init__(self, keys: list[TrustedKey] | None = None) -> None:
        self._by_id: dict[str, TrustedKey] = {}
        self._revoked: dict[str, str] = {}
        for key in keys or []:
            self.add(key)

    def add(self, key: TrustedKey) -> None:
        """Trust ``key``; a key id already bound to another node is a configuration error."""
        known = self._by_id.get(key.key_id)
        if known is not None and known.node_id != key.node_id:
            raise ConfigError(f"key {key.key_id} is claimed by both {known.node_id} and {key.node_id}")
        if key.key_id in self._revoked:
            raise VerificationError(self._revoked[key.key_id])
        self._by_id[key.key_id] = key

    def add_pem(self, node_id: str, public_pem: bytes, suite_name: str = DEFAULT_SUITE) -> TrustedKey:
        """Trust a PEM public key for ``node_id``."""
        raw = suite(suite_name).load_public(public_pem)
        key = TrustedKey(node_id, suite_name, key_id_for(suite_name, raw), raw)
        self.add(key)
        return key

    def revoke(self, key_id: str, reason: str) -> None:
        """Stop trusting a key for good (its certificate was revoked)."""
        self._revoked[key_id] = reason
        self._by_id.pop(key_id, None)

    @classmethod
    def from_directory(cls, directory: Path) -> KeyRing:
        """Load ``<node_id>.pub`` files (Ed25519 PEM or jgnode SM2) from ``directory``."""
        ring = cls()
        if directory.is_dir():
            for path in sorted(directory.glob("*.pub")):
                pem = path.read_bytes()
                ring.add_pem(path.stem, pem, "sm2" if b"JGNODE SM2" in pem else DEFAULT_SUITE)
        return ring

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, key_id: str) -> TrustedKey | None:
        """The trusted key with this id, if any."""
        return self._by_id.get(key_id)

    def node_ids(self) -> set[str]:
        """Node ids with at least one trusted key."""
        return {key.node_id for key in self._by_id.values()}

    def verify(self, *, key_id: str, node_id: str, suite: str, data: bytes, signature: bytes) -> None:
        """Raise VerificationError unless ``node_id``'s key ``key_id`` signed ``data``."""
        impl = _suite(suite)
        key = self._by_id.get(key_id)
        if key is None:
            reason = self._revoked.get(key_id)
            raise VerificationError(reason or f"unknown signing key {key_id} (claimed by {node_id})")
        if key.node_id != node_id:
            raise VerificationError(f"key {key_id} belongs to {key.node_id}, not {node_id}")
        if key.suite != suite:
            raise VerificationError(f"key {key_id} is a {key.suite} key, header says {suite}")
        if not impl.verify(key.public_raw, data, signature):
            raise VerificationError(f"bad signature by {node_id} (key {key_id})")


_suite = suite
