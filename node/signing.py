"""Signature suites, signing keys and the trust store of known node keys.

A suite names an algorithm pair (signature + digest). Ed25519 is the default;
the registry in :data:`SUITES` is where an SM2/SM3 suite plugs in. A node signs
with one private key; it verifies others with public keys from its trust store,
each bound to the node id it belongs to, so that a valid signature by the wrong
node is still refused.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from node.errors import ConfigError, VerificationError

__all__ = [
    "DEFAULT_SUITE",
    "SUITES",
    "KeyRing",
    "SignatureSuite",
    "Signer",
    "TrustedKey",
    "generate_signing_key",
    "key_id_for",
    "load_signer",
]

DEFAULT_SUITE = "ed25519"


class SignatureSuite(Protocol):
    """An algorithm for signing headers; implementations are stateless."""

    name: str

    def generate_private_pem(self) -> bytes:
        """A new private key as unencrypted PKCS#8 PEM."""
        ...

    def public_raw(self, private_pem: bytes) -> bytes:
        """The raw public key bytes of a private key."""
        ...

    def public_pem(self, private_pem: bytes) -> bytes:
        """The SubjectPublicKeyInfo PEM of a private key."""
        ...

    def load_public(self, public_pem: bytes) -> bytes:
        """Raw public key bytes from a PEM public key; ConfigError when it is not one."""
        ...

    def sign(self, private_pem: bytes, data: bytes) -> bytes:
        """Sign ``data``."""
        ...

    def verify(self, public_raw: bytes, data: bytes, signature: bytes) -> bool:
        """True when ``signature`` is valid for ``data`` under the public key."""
        ...


class Ed25519Suite:
    """Ed25519 (RFC 8032) over the exact bytes given."""

    name = "ed25519"

    def __init__(self) -> None:
        self._private_cache: dict[bytes, Ed25519PrivateKey] = {}
        self._public_cache: dict[bytes, Ed25519PublicKey] = {}

    def _private(self, private_pem: bytes) -> Ed25519PrivateKey:
        key = self._private_cache.get(private_pem)
        if key is None:
            loaded = serialization.load_pem_private_key(private_pem, password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ConfigError("the signing key is not an Ed25519 private key")
            key = self._private_cache[private_pem] = loaded
        return key

    def generate_private_pem(self) -> bytes:
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_raw(self, private_pem: bytes) -> bytes:
        return self._private(private_pem).public_key().public_bytes_raw()

    def public_pem(self, private_pem: bytes) -> bytes:
        return (
            self._private(private_pem)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def load_public(self, public_pem: bytes) -> bytes:
        try:
            key = serialization.load_pem_public_key(public_pem)
        except ValueError as exc:
            raise ConfigError(f"not a PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError("the public key is not an Ed25519 key")
        return key.public_bytes_raw()

    def sign(self, private_pem: bytes, data: bytes) -> bytes:
        return self._private(private_pem).sign(data)

    def verify(self, public_raw: bytes, data: bytes, signature: bytes) -> bool:
        key = self._public_cache.get(public_raw)
        if key is None:
            key = self._public_cache[public_raw] = Ed25519PublicKey.from_public_bytes(public_raw)
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


SUITES: dict[str, SignatureSuite] = {DEFAULT_SUITE: Ed25519Suite()}


def _suite(name: str) -> SignatureSuite:
    try:
        return SUITES[name]
    except KeyError:
        raise VerificationError(f"unknown signature suite {name!r} (known: {', '.join(sorted(SUITES))})") from None


def key_id_for(suite: str, public_raw: bytes) -> str:
    """Short, stable id of a public key: suite-prefixed SHA-256 fingerprint."""
    return f"{suite}:{hashlib.sha256(public_raw).hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class Signer:
    """A node's signing key."""

    node_id: str
    suite: str
    key_id: str
    _private_pem: bytes
    public_pem: bytes

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with this node's key."""
        return SUITES[self.suite].sign(self._private_pem, data)


def generate_signing_key(private_path: Path, public_path: Path, suite: str = DEFAULT_SUITE) -> None:
    """Write a new private key (mode 0600) and its public key; refuse to overwrite."""
    impl = _suite(suite)
    if private_path.exists():
        raise ConfigError(f"{private_path} exists: refusing to overwrite a signing key")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    pem = impl.generate_private_pem()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(impl.public_pem(pem))


def load_signer(node_id: str, private_path: Path, suite: str = DEFAULT_SUITE) -> Signer:
    """Load a node's signing key from its PEM file."""
    impl = _suite(suite)
    try:
        pem = private_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read signing key {private_path}: {exc.strerror}") from exc
    try:
        raw = impl.public_raw(pem)
    except ValueError as exc:
        raise ConfigError(f"{private_path} is not a usable {suite} private key: {exc}") from exc
    return Signer(node_id, suite, key_id_for(suite, raw), pem, impl.public_pem(pem))


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key and the node it speaks for."""

    node_id: str
    suite: str
    key_id: str
    public_raw: bytes


class KeyRing:
    """Public keys this node trusts, looked up by key id.

    Issue 3 replaces the directory of PEM files with certificates chained to a
    CA; the lookup contract (key id -> node id + key) stays.
    """

    def __init__(self, keys: list[TrustedKey] | None = None) -> None:
        self._by_id: dict[str, TrustedKey] = {}
        for key in keys or []:
            self.add(key)

    def add(self, key: TrustedKey) -> None:
        """Trust ``key``; a key id already bound to another node is a configuration error."""
        known = self._by_id.get(key.key_id)
        if known is not None and known.node_id != key.node_id:
            raise ConfigError(f"key {key.key_id} is claimed by both {known.node_id} and {key.node_id}")
        self._by_id[key.key_id] = key

    def add_pem(self, node_id: str, public_pem: bytes, suite: str = DEFAULT_SUITE) -> TrustedKey:
        """Trust a PEM public key for ``node_id``."""
        raw = _suite(suite).load_public(public_pem)
        key = TrustedKey(node_id, suite, key_id_for(suite, raw), raw)
        self.add(key)
        return key

    @classmethod
    def from_directory(cls, directory: Path) -> KeyRing:
        """Load ``<node_id>.pub`` files (PEM) from ``directory``; a missing directory is empty."""
        ring = cls()
        if directory.is_dir():
            for path in sorted(directory.glob("*.pub")):
                ring.add_pem(path.stem, path.read_bytes())
        return ring

    def __len__(self) -> int:
        return len(self._by_id)

    def node_ids(self) -> set[str]:
        """Node ids with at least one trusted key."""
        return {key.node_id for key in self._by_id.values()}

    def verify(self, *, key_id: str, node_id: str, suite: str, data: bytes, signature: bytes) -> None:
        """Raise VerificationError unless ``node_id``'s key ``key_id`` signed ``data``."""
        impl = _suite(suite)
        key = self._by_id.get(key_id)
        if key is None:
            raise VerificationError(f"unknown signing key {key_id} (claimed by {node_id})")
        if key.node_id != node_id:
            raise VerificationError(f"key {key_id} belongs to {key.node_id}, not {node_id}")
        if key.suite != suite:
            raise VerificationError(f"key {key_id} is a {key.suite} key, header says {suite}")
        if not impl.verify(key.public_raw, data, signature):
            raise VerificationError(f"bad signature by {node_id} (key {key_id})")
