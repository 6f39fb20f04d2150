"""Signature suites: a signature algorithm and the digest used with it.

A batch header names its suite; the suite's digest builds the batch's Merkle
tree and the suite's signature signs the header. Ed25519 with SHA-256 is the
default; SM2 with SM3 (GB/T 32918, GB/T 32905, via the gmssl-pyx wheel) is what
Chinese government deployments at protection level 3 expect (GB/T 39786).
Suites are stateless apart from key caches; :data:`SUITES` is the registry.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any, Final, Protocol

import gmssl_pyx  # type: ignore[import-untyped]  # the wheel ships no type hints
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from node.errors import ConfigError, VerificationError
from node.merkle import _sha256 as _merkle_sha256

__all__ = ["DEFAULT_SUITE", "SUITES", "Digest", "Ed25519Suite", "SignatureSuite", "Sm2Suite", "sha256", "suite"]

DEFAULT_SUITE: Final = "ed25519"
Digest = Callable[[bytes], bytes]


sha256: Digest = _merkle_sha256  # SHA-256 of bytes; the same function object merkle.py fast-paths


class SignatureSuite(Protocol):
    """Key handling, signing and digest of one algorithm family."""

    name: str

    def digest(self, data: bytes) -> bytes:
        """32-byte digest for Merkle trees, batch ids and hop chains."""
        ...

    def generate_private_pem(self) -> bytes:
        """A new private key, PEM-armoured."""
        ...

    def public_raw(self, private_pem: bytes) -> bytes:
        """Raw public key bytes of a private key."""
        ...

    def public_pem(self, private_pem: bytes) -> bytes:
        """The public key, PEM-armoured."""
        ...

    def load_public(self, public_pem: bytes) -> bytes:
        """Raw public key bytes from its PEM; ConfigError when it is not one."""
        ...

    def sign(self, private_pem: bytes, data: bytes) -> bytes:
        """Sign ``data``."""
        ...

    def verify(self, public_raw: bytes, data: bytes, signature: bytes) -> bool:
        """True when ``signature`` is valid for ``data``."""
        ...


class Ed25519Suite:
    """Ed25519 (RFC 8032) signatures, SHA-256 digests."""

    name = "ed25519"
    digest = staticmethod(sha256)

    def __init__(self) -> None:
        self._private_cache: dict[bytes, Ed25519PrivateKey] = {}
        self._public_cache: dict[bytes, Ed25519PublicKey] = {}

    def _private(self, private_pem: bytes) -> Ed25519PrivateKey:
        key = self._private_cache.get(private_pem)
        if key is None:
            try:
                loaded = serialization.load_pem_private_key(private_pem, password=None)
            except ValueError as exc:
                raise ConfigError(f"not a PEM private key: {exc}") from exc
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ConfigError("the signing key is not an Ed25519 private key")
            key = self._private_cache[private_pem] = loaded
        return key

    def generate_private_pem(self) -> bytes:  # noqa: D102
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_raw(self, private_pem: bytes) -> bytes:  # noqa: D102
        return self._private(private_pem).public_key().public_bytes_raw()

    def public_pem(self, private_pem: bytes) -> bytes:  # noqa: D102
        return (
            self._private(private_pem)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def load_public(self, public_pem: bytes) -> bytes:  # noqa: D102
        try:
            key = serialization.load_pem_public_key(public_pem)
        except ValueError as exc:
            raise ConfigError(f"not a PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError("the public key is not an Ed25519 key")
        return key.public_bytes_raw()

    def sign(self, private_pem: bytes, data: bytes) -> bytes:  # noqa: D102
        return self._private(private_pem).sign(data)

    def verify(self, public_raw: bytes, data: bytes, signature: bytes) -> bool:  # noqa: D102
        key = self._public_cache.get(public_raw)
        if key is None:
            try:
                key = self._public_cache[public_raw] = Ed25519PublicKey.from_public_bytes(public_raw)
            except ValueError:
                return False
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


_SM2_PRIVATE = "JGNODE SM2 PRIVATE KEY"
_SM2_PUBLIC = "JGNODE SM2 PUBLIC KEY"


def _armour(label: str, data: bytes) -> bytes:
    body = base64.encodebytes(data).decode().strip()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode()


def _unarmour(label: str, pem: bytes) -> bytes:
    text = pem.decode("ascii", errors="replace").strip()
    head, tail = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if not (text.startswith(head) and text.endswith(tail)):
        raise ConfigError(f"not a {label} file")
    try:
        return base64.b64decode(text[len(head) : -len(tail)], validate=False)
    except ValueError as exc:
        raise ConfigError(f"damaged {label}: {exc}") from exc


# GB/T 32918.5 curve parameters a, b, Gx, Gy, for the Z value (GB/T 32918.2, 5.5)
_SM2_CURVE = bytes.fromhex(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
)


@functools.lru_cache(maxsize=256)
def _z_value(public: bytes) -> bytes:
    """Z = SM3(ENTL || ID || a || b || Gx || Gy || public key), with the default signer id."""
    signer_id = gmssl_pyx.SM2_DEFAULT_SIGNER_ID
    entl = (len(signer_id) * 8).to_bytes(2, "big")
    result: bytes = gmssl_pyx.sm3_hash(entl + signer_id + _SM2_CURVE + public)
    return result


class Sm2Suite:
    """SM2 signatures (default signer id) with SM3 digests, through gmssl-pyx.

    pyca/cryptography has no SM2, so keys are kept in jgnode's own armour:
    private = 32-byte scalar + 64-byte public point, public = the 64-byte point.
    """

    name = "sm2"
    digest = staticmethod(gmssl_pyx.sm3_hash)  # Merkle trees call it per record: no Python wrapper

    def _lib(self) -> Any:
        return gmssl_pyx

    def _keypair(self, private_pem: bytes) -> tuple[bytes, bytes]:
        raw = _unarmour(_SM2_PRIVATE, private_pem)
        if len(raw) != 96:
            raise ConfigError("an SM2 private key file holds 96 bytes (scalar + public point)")
        return raw[:32], raw[32:]

    def generate_private_pem(self) -> bytes:  # noqa: D102
        public, private = self._lib().sm2_key_generate()
        return _armour(_SM2_PRIVATE, bytes(private) + bytes(public))

    def public_raw(self, private_pem: bytes) -> bytes:  # noqa: D102
        return self._keypair(private_pem)[1]

    def public_pem(self, private_pem: bytes) -> bytes:  # noqa: D102
        return _armour(_SM2_PUBLIC, self.public_raw(private_pem))

    def load_public(self, public_pem: bytes) -> bytes:  # noqa: D102
        raw = _unarmour(_SM2_PUBLIC, public_pem)
        if len(raw) != 64:
            raise ConfigError("an SM2 public key is 64 bytes")
        return raw

    def sign(self, private_pem: bytes, data: bytes) -> bytes:
        """SM2 signature of ``data`` (GB/T 32918.2, default signer id).

        The same signature ``sm2_sign`` makes, but the key's Z value is
        computed once: signing the SM3 digest of Z || data directly is about
        ten times faster than gmssl's all-in-one call, which recomputes Z.
        """
        private, public = self._keypair(private_pem)
        digest = self._lib().sm3_hash(_z_value(public) + data)
        signature: bytes = self._lib().sm2_sign_sm3_digest(private, digest)
        return signature

    def verify(self, public_raw: bytes, data: bytes, signature: bytes) -> bool:  # noqa: D102
        try:
            return bool(self._lib().sm2_verify(public_raw, data, signature))
        except Exception:  # gmssl raises on malformed signatures and keys: that is "invalid"
            return False


SUITES: dict[str, SignatureSuite] = {"ed25519": Ed25519Suite(), "sm2": Sm2Suite()}


def suite(name: str) -> SignatureSuite:
    """The suite called ``name``; VerificationError for an unknown one."""
    try:
        return SUITES[name]
    except KeyError:
        raise VerificationError(f"unknown signature suite {name!r} (known: {', '.join(sorted(SUITES))})") from None
