"""The PKI of the node tree: CAs, node certificates, chain validation and revocation.

A root CA (province or national) and optional intermediate CAs (a city that
certifies its counties) issue **node certificates**. A node certificate binds a
node id (SAN URI ``urn:jgnode:node:<id>`` and DNS ``<id>.node.jgnode``) to two
separate keys: its TLS key (the certificate's own ECDSA P-256 key) and its data
signing key (Ed25519 or SM2, carried in a jgnode extension, because X.509
libraries do not encode SM2 keys). A CA may only certify nodes inside its own
region subtree; validation enforces that on every link of a chain.

A CA also issues **client certificates**: TLS client certificates with no
data signing key, naming one client of one node. A **source certificate**
(``jgnode pki issue-source``, SAN URI ``urn:jgnode:source:<node id>/<name>``)
identifies a department system that pushes rows to the node; a **department
certificate** (``jgnode pki issue-department``, SAN URI
``urn:jgnode:department:<node id>/<name>``) identifies a department that
subscribes to shared data through the node. Each kind is refused where another
(or a node certificate) is expected. They chain like a node certificate, the
node they name must lie in every issuer's subtree, and they are revoked by
``jgnode pki revoke <node id>/<name>``.

Each CA publishes a certificate revocation list with a ``nextUpdate``; a node
treats a CRL past it as stale (see :class:`CrlSet`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from governance.codes import is_within
from node.errors import ConfigError, VerificationError
from node.settings import NODE_ID

__all__ = [
    "SIGNING_KEY_OID",
    "SOURCE_NAME",
    "CaDir",
    "CertificateTimeError",
    "ClientCertificate",
    "CrlSet",
    "DepartmentCertificate",
    "NodeCertificate",
    "SourceCertificate",
    "department_certificate",
    "dns_name",
    "fingerprint",
    "generate_tls_key",
    "load_certificates",
    "make_request",
    "node_certificate",
    "public_key_der",
    "request_subject",
    "source_certificate",
    "validate_chain",
    "validate_client_chain",
    "write_private",
]

# a private arc (2.25 = UUID-based OID, ITU-T X.667): the node's data signing key
SIGNING_KEY_OID = x509.ObjectIdentifier("2.25.196341658410383785498411212003624311897")
_URI_PREFIX = "urn:jgnode:node:"
_SOURCE_PREFIX = "urn:jgnode:source:"
_CLIENT_PREFIX = "urn:jgnode:"  # + "<kind>:<node id>/<name>" for client certificates
SOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What a source or department name may look like (letters, digits, ``_``, ``-``)."""
_HASH = hashes.SHA256()


def dns_name(node_id: str) -> str:
    """The DNS SAN a node's certificate carries (TLS hostname checks use it)."""
    return f"{node_id.lower()}.node.jgnode"


def fingerprint(cert: x509.Certificate) -> bytes:
    """SHA-256 of the DER certificate."""
    return cert.fingerprint(_HASH)


def generate_tls_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key (TLS and CA keys; every TLS stack supports it)."""
    return ec.generate_private_key(ec.SECP256R1())


def public_key_der(holder: PrivateKeyTypes | x509.Certificate) -> bytes:
    """The SubjectPublicKeyInfo (DER) of a private key or certificate, to check that the two belong together."""
    return holder.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_private(path: Path, pem: bytes) -> None:
    """Write a private key file with mode 0600, refusing to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists: refusing to overwrite a private key") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM of an EC key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_ec_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Load an EC private key; ConfigError when missing or of another kind."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path} is not a PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{path} is not an EC private key")
    return key


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (or one DER certificate), names and extensions parsed."""
    try:
        pem = b"-----BEGIN" in data
        certs = x509.load_pem_x509_certificates(data) if pem else [x509.load_der_x509_certificate(data)]
        for cert in certs:  # cryptography parses these lazily: fail here, not deep inside a check
            _ = (cert.subject, cert.issuer, cert.extensions)
    except (ValueError, x509.InvalidVersion, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise ConfigError(f"not a certificate: {exc}") from exc
    return certs


def _pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@dataclass(frozen=True, slots=True)
class NodeCertificate:
    """What a certificate says about the node it names."""

    cert: x509.Certificate
    node_id: str
    is_ca: bool
    signing_suite: str  # "" for CA certificates
    signing_key: bytes

    @property
    def serial(self) -> int:
        """Serial number."""
        return self.cert.serial_number

    @property
    def not_after(self) -> dt.datetime:
        """End of validity (UTC)."""
        return self.cert.not_valid_after_utc


def node_certificate(cert: x509.Certificate) -> NodeCertificate:
    """Read node id, CA flag and signing key from a certificate; VerificationError if it has none."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise VerificationError("certificate names no node (no subjectAltName)") from None
    uris = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith(_URI_PREFIX)]
    if len(uris) != 1 or not NODE_ID.match(uris[0][len(_URI_PREFIX) :]):
        raise VerificationError("certificate must name exactly one node (urn:jgnode:node:<id>)")
    node_id = uris[0][len(_URI_PREFIX) :]
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    suite, key = "", b""
    try:
        raw = cert.extensions.get_extension_for_oid(SIGNING_KEY_OID).value
        data = json.loads(raw.value) if isinstance(raw, x509.UnrecognizedExtension) else {}
        suite, key = str(data["suite"]), bytes.fromhex(str(data["key"]))
    except x509.ExtensionNotFound:
        if not is_ca:
            raise VerificationError(f"certificate of {node_id} carries no data signing key") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise VerificationError(f"certificate of {node_id} has a damaged signing-key extension: {exc}") from exc
    return NodeCertificate(cert, node_id, is_ca, suite, key)


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """What a client certificate says: which client (of the subclass's ``kind``) of which node it identifies."""

    kind: ClassVar[str] = ""
    cert: x509.Certificate
    node_id: str
    name: str

    @property
    def label(self) -> str:
        """``<node id>/<name>``: how issued.json, ``jgnode pki revoke`` and messages name the client."""
        return f"{self.node_id}/{self.name}"

    @classmethod
    def uri(cls, node_id: str, name: str) -> str:
        """The SAN URI naming this client."""
        return f"{_CLIENT_PREFIX}{cls.kind}:{node_id}/{name}"


@dataclass(frozen=True, slots=True)
class SourceCertificate(ClientCertificate):
    """A department system that pushes rows to a node (``jgnode pki issue-source``)."""

    kind: ClassVar[str] = "source"


@dataclass(frozen=True, slots=True)
class DepartmentCertificate(ClientCertificate):
    """A department that subscribes to shared data through a node (``jgnode pki issue-department``)."""

    kind: ClassVar[str] = "department"


_Client = TypeVar("_Client", bound=ClientCertificate)


def client_certificate(cert: x509.Certificate, kind: type[_Client]) -> _Client:
    """Read the client of ``kind`` a certificate names; VerificationError when it is not exactly that."""
    prefix = f"{_CLIENT_PREFIX}{kind.kind}:"
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise VerificationError(f"certificate names no {kind.kind} (no subjectAltName)") from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    named = [u[len(prefix) :] for u in uris if u.startswith(prefix)]
    # a certificate naming anything else of jgnode's as well (a node, another kind of client) is refused
    if len(named) != 1 or any(u.startswith(_CLIENT_PREFIX) and not u.startswith(prefix) for u in uris):
        raise VerificationError(f"certificate must name exactly one {kind.kind} ({prefix}<node id>/<name>)")
    node_id, _, name = named[0].partition("/")
    if not NODE_ID.match(node_id) or not SOURCE_NAME.match(name):
        raise VerificationError(f"certificate names {named[0]!r}, not <node id>/<{kind.kind} name>")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if is_ca:
        raise VerificationError(f"a CA certificate cannot identify {kind.kind} {named[0]}")
    return kind(cert, node_id, name)


def source_certificate(cert: x509.Certificate) -> SourceCertificate:
    """Read the source a certificate names; VerificationError when it is not a source certificate."""
    return client_certificate(cert, SourceCertificate)


def department_certificate(cert: x509.Certificate) -> DepartmentCertificate:
    """Read the department a certificate names; VerificationError when it is not a department certificate."""
    return client_certificate(cert, DepartmentCertificate)


def make_request(
    *, node_id: str, tls_key: ec.EllipticCurvePrivateKey, suite: str = "", signing_key: bytes = b"", ca: bool = False
) -> x509.CertificateSigningRequest:
    """A certificate request: node certificate (with a signing key) or intermediate CA."""
    builder = (
        x509.CertificateSigningRequestBuilder()
        # a CA and the node that runs it must not share a name: issuers are found by name
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{node_id} CA" if ca else node_id)]))
        .add_extension(_names(node_id), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )
    if not ca:
        value = json.dumps({"suite": suite, "key": signing_key.hex()}).encode()
        builder = builder.add_extension(x509.UnrecognizedExtension(SIGNING_KEY_OID, value), critical=False)
    return builder.sign(tls_key, _HASH)


def _subtree_ok(issuer_id: str, subject_id: str) -> bool:
    return is_within(subject_id[:6], issuer_id[:6])


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    now: dt.datetime,
    crls: CrlSet | None = None,
) -> list[NodeCertificate]:
    """Check ``leaf`` back to a trust anchor; returns the path, leaf first.

    Every certificate must be in its validity period and signed by the next;
    every issuer must be a CA whose node subtree contains the subject; with
    ``crls``, no certificate may be revoked and every issuer's CRL must be
    current. Raises VerificationError naming the first failure.
    """
    first = node_certificate(leaf)
    return [first, *_issuer_path(leaf, first.node_id, first.node_id, intermediates, anchors, now=now, crls=crls)]


def validate_client_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    kind: type[_Client],
    now: dt.datetime,
    crls: CrlSet | None = None,
) -> tuple[_Client, list[NodeCertificate]]:
    """Check a client certificate of ``kind`` back to a trust anchor, by the rules of :func:`validate_chain`.

    The client's node must lie in every issuer's subtree. Returns the client
    and its issuers, nearest first.
    """
    client = client_certificate(leaf, kind)
    label = f"{kind.kind} {client.label}"
    return client, _issuer_path(leaf, client.node_id, label, intermediates, anchors, now=now, crls=crls)


def _issuer_path(
    leaf: x509.Certificate,
    node_id: str,
    label: str,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    now: dt.datetime,
    crls: CrlSet | None,
) -> list[NodeCertificate]:
    """The CAs from ``leaf``'s issuer up to an anchor (empty when ``leaf`` is one); ``node_id`` is what leaf names."""
    path: list[NodeCertificate] = []
    pool = list(intermediates)
    anchor_fps = {fingerprint(a) for a in anchors}
    current = leaf
    for _depth in range(8):
        _check_time(current, now)
        if fingerprint(current) in anchor_fps:
            return path
        issuer = _find_issuer(current, [*pool, *anchors])
        if issuer is None or fingerprint(issuer) == fingerprint(current):  # unknown issuer, or a foreign root
            raise VerificationError(f"certificate of {label} does not chain to a trusted root")
        issuer_info = node_certificate(issuer)
        if not issuer_info.is_ca:
            raise VerificationError(f"{issuer_info.node_id} is not a CA but issued {label}'s certificate")
        if not _subtree_ok(issuer_info.node_id, node_id):
            raise VerificationError(f"CA {issuer_info.node_id} may not certify {label}: outside its subtree")
        if crls is not None:
            crls.check(current, issuer, now=now)
        path.append(issuer_info)
        current, node_id, label = issuer, issuer_info.node_id, issuer_info.node_id
    raise VerificationError("certificate chain too long")


class CertificateTimeError(VerificationError):
    """A certificate is outside its validity period at the time asked about."""


def _check_time(cert: x509.Certificate, now: dt.datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise CertificateTimeError(
            f"certificate {cert.subject.rfc4514_string()} is valid {cert.not_valid_before_utc:%Y-%m-%d %H:%M} "
            f"to {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not now"
        )


def _find_issuer(cert: x509.Certificate, candidates: Iterable[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


@dataclass(frozen=True, slots=True)
class _Crl:
    crl: x509.CertificateRevocationList
    issuer_fp: bytes
    revoked: frozenset[int]
    issuer: x509.Certificate


def _crl_order(crl: x509.CertificateRevocationList) -> tuple[int, dt.datetime]:
    """CRLs of one issuer, oldest first: by CRL number, then by issue time."""
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = -1
    return number, crl.last_update_utc


class CrlSet:
    """The newest verified CRL of each CA, and the revocation and freshness checks."""

    def __init__(self) -> None:
        """An empty set: every check fails closed until CRLs are added."""
        self._by_issuer: dict[bytes, _Crl] = {}

    def add(self, crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
        """Keep ``crl`` if ``issuer`` signed it and it is newer than the one held; True if kept."""
        if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            raise VerificationError(f"CRL is not signed by {issuer.subject.rfc4514_string()}")
        key = fingerprint(issuer)
        held = self._by_issuer.get(key)
        if held is not None and _crl_order(held.crl) >= _crl_order(crl):
            return False
        self._by_issuer[key] = _Crl(crl, key, frozenset(r.serial_number for r in crl), issuer)
        return True

    def add_any(self, crls: Iterable[x509.CertificateRevocationList], issuers: Iterable[x509.Certificate]) -> int:
        """Add every CRL whose issuer is among ``issuers``; returns how many were new."""
        pool = list(issuers)
        added = 0
        for crl in crls:
            issuer = next((c for c in pool if c.subject == crl.issuer and crl.is_signature_valid(c.public_key())), None)  # type: ignore[arg-type]
            if issuer is not None and self.add(crl, issuer):
                added += 1
        return added

    def check(self, cert: x509.Certificate, issuer: x509.Certificate, *, now: dt.datetime) -> None:
        """Fail unless ``issuer`` has a current CRL that does not list ``cert``."""
        held = self._by_issuer.get(fingerprint(issuer))
        name = issuer.subject.rfc4514_string()
        if held is None:
            raise VerificationError(f"no CRL from {name}: cannot rule out revocation")
        next_update = held.crl.next_update_utc
        if next_update is None or next_update < now:
            raise VerificationError(
                f"the CRL of {name} is stale (next update was due {next_update:%Y-%m-%d %H:%M} UTC)"
            )
        if cert.serial_number in held.revoked:
            raise VerificationError(f"certificate serial {cert.serial_number:x} was revoked by {name}")

    def has_crl_from(self, issuer: x509.Certificate) -> bool:
        """Whether a CRL of ``issuer`` is held (fresh or not)."""
        return fingerprint(issuer) in self._by_issuer

    def is_revoked(self, cert: x509.Certificate) -> bool:
        """True if a held CRL of the CA that signed ``cert`` lists it (regardless of freshness).

        The CA is matched by its key, not only its name: a look-alike CA with the
        same name (anyone can relay CA certificates and CRLs) must not revoke others.
        """
        return any(
            held.crl.issuer == cert.issuer
            and cert.serial_number in held.revoked
            and _find_issuer(cert, [held.issuer]) is not None
            for held in self._by_issuer.values()
        )

    def earliest_next_update(self) -> dt.datetime | None:
        """When the first held CRL goes stale."""
        dates = [h.crl.next_update_utc for h in self._by_issuer.values() if h.crl.next_update_utc is not None]
        return min(dates) if dates else None

    def pem(self) -> list[bytes]:
        """Every held CRL as PEM (what a node relays to its children)."""
        return [h.crl.public_bytes(serialization.Encoding.PEM) for h in self._by_issuer.values()]

    def __len__(self) -> int:
        return len(self._by_issuer)


class CaDir:
    """A CA's folder: ``ca.key`` (0600), ``ca.crt`` (its chain), ``issued.json``, ``crl.pem``."""

    def __init__(self, folder: Path) -> None:
        """Open an existing CA folder."""
        self.folder = folder
        if not (folder / "ca.crt").exists():
            raise ConfigError(f"{folder} is not a CA folder (no ca.crt); create one with jgnode pki init-root")
        self.chain = load_certificates((folder / "ca.crt").read_bytes())
        self.cert = self.chain[0]
        self.info = node_certificate(self.cert)

    @classmethod
    def init_root(cls, folder: Path, *, node_id: str, name: str, days: int, crl_days: int) -> CaDir:
        """Create a self-signed root CA for ``node_id`` and an empty CRL."""
        if (folder / "ca.key").exists():
            raise ConfigError(f"{folder} already holds a CA key")
        key = generate_tls_key()
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name or f"jgnode root {node_id}")])
        cert = (
            _ca_builder(
                subject,
                subject,
                public_key=key.public_key(),
                node_id=node_id,
                now=now,
                not_after=now + dt.timedelta(days=days),
                path_length=None,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, _HASH)
        )
        write_private(folder / "ca.key", private_pem(key))
        (folder / "ca.crt").write_bytes(_pem([cert]))
        ca = cls(folder)
        ca._save_issued({})
        ca.write_crl(days=crl_days)
        return ca

    @staticmethod
    def request_intermediate(folder: Path, *, node_id: str) -> Path:
        """Create an intermediate CA key and its request (``ca.csr``) for the parent CA to sign."""
        if (folder / "ca.key").exists():
            raise ConfigError(f"{folder} already holds a CA key")
        key = generate_tls_key()
        write_private(folder / "ca.key", private_pem(key))
        request = make_request(node_id=node_id, tls_key=key, ca=True)
        (folder / "ca.csr").write_bytes(request.public_bytes(serialization.Encoding.PEM))
        return folder / "ca.csr"

    @classmethod
    def install_intermediate(cls, folder: Path, chain_pem: bytes, *, crl_days: int) -> CaDir:
        """Install the chain the parent CA issued for this folder's key; issues the first CRL."""
        chain = load_certificates(chain_pem)
        key = load_ec_key(folder / "ca.key")
        if public_key_der(chain[0]) != public_key_der(key):
            raise ConfigError(f"the certificate was not issued for {folder / 'ca.key'}")
        if not node_certificate(chain[0]).is_ca:
            raise ConfigError("that is not a CA certificate")
        (folder / "ca.crt").write_bytes(chain_pem)
        ca = cls(folder)
        if not (folder / "issued.json").exists():
            ca._save_issued({})
        ca.write_crl(days=crl_days)
        return ca

    def _key(self) -> ec.EllipticCurvePrivateKey:
        return load_ec_key(self.folder / "ca.key")

    def _issued(self) -> dict[str, dict[str, str]]:
        path = self.folder / "issued.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def _save_issued(self, issued: dict[str, dict[str, str]]) -> None:
        tmp = self.folder / "issued.json.tmp"
        tmp.write_text(json.dumps(issued, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.folder / "issued.json")

    def issue(self, request: x509.CertificateSigningRequest, *, days: int) -> list[x509.Certificate]:
        """Certify a request (node or intermediate CA) in this CA's subtree; returns the chain, leaf first."""
        if not request.is_signature_valid:
            raise VerificationError("the request's signature is invalid")
        subject = request_subject(request)
        if not _subtree_ok(self.info.node_id, subject.node_id):
            raise VerificationError(f"CA {self.info.node_id} may not certify {subject.node_id}: outside its subtree")
        now = dt.datetime.now(dt.UTC)
        not_after = min(now + dt.timedelta(days=days), self.cert.not_valid_after_utc)
        if subject.is_ca:
            builder = _ca_builder(
                request.subject,
                self.cert.subject,
                public_key=request.public_key(),
                node_id=subject.node_id,
                now=now,
                not_after=not_after,
                path_length=0,
            )
        else:
            builder = _leaf_builder(request, self.cert.subject, subject.node_id, now).not_valid_after(not_after)
        key = self._key()
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        cert = builder.sign(key, _HASH)
        issued = self._issued()
        issued[f"{cert.serial_number:x}"] = {
            "node_id": subject.node_id,
            "not_after": not_after.isoformat(),
            "ca": str(subject.is_ca),
        }
        self._save_issued(issued)
        return [cert, *self.chain]

    def issue_source(
        self, public_key: ec.EllipticCurvePublicKey, *, node_id: str, name: str, days: int
    ) -> list[x509.Certificate]:
        """Certify ``public_key`` as source ``name`` of node ``node_id`` (a TLS client); returns the chain."""
        return self.issue_client(public_key, kind=SourceCertificate, node_id=node_id, name=name, days=days)

    def issue_department(
        self, public_key: ec.EllipticCurvePublicKey, *, node_id: str, name: str, days: int
    ) -> list[x509.Certificate]:
        """Certify ``public_key`` as department ``name`` of node ``node_id`` (a TLS client); returns the chain."""
        return self.issue_client(public_key, kind=DepartmentCertificate, node_id=node_id, name=name, days=days)

    def issue_client(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        kind: type[ClientCertificate],
        node_id: str,
        name: str,
        days: int,
    ) -> list[x509.Certificate]:
        """Certify ``public_key`` as client ``name`` of ``kind`` of node ``node_id``; returns the chain."""
        if not SOURCE_NAME.match(name):
            raise ConfigError(f"{kind.kind} name {name!r} may only use letters, digits, '_' and '-'")
        if not NODE_ID.match(node_id):
            raise ConfigError(f"{node_id!r} is not a node id")
        if not _subtree_ok(self.info.node_id, node_id):
            raise VerificationError(
                f"CA {self.info.node_id} may not certify {kind.kind}s of {node_id}: outside its subtree"
            )
        now = dt.datetime.now(dt.UTC)
        not_after = min(now + dt.timedelta(days=days), self.cert.not_valid_after_utc)
        key = self._key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{node_id}/{name} {kind.kind}")]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(kind.uri(node_id, name))]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, _HASH)
        )
        issued = self._issued()
        issued[f"{cert.serial_number:x}"] = {
            "node_id": f"{node_id}/{name}",
            "not_after": not_after.isoformat(),
            "ca": "False",
            "kind": kind.kind,
        }
        self._save_issued(issued)
        return [cert, *self.chain]

    def revoke(self, what: str, *, crl_days: int) -> list[int]:
        """Revoke by serial (hex), node id or client label (every certificate issued to it); returns the serials.

        A source and a department may share a label (``330100/market``): then
        ``source:<label>`` or ``department:<label>`` says which.
        """
        issued = self._issued()
        kind, _, label = what.rpartition(":") if what.startswith(("source:", "department:")) else ("", "", what)
        serials = [
            s
            for s, entry in issued.items()
            if s == what.lower() or (entry["node_id"] == label and kind in ("", entry.get("kind", "")))
        ]
        if not serials:
            raise ConfigError(f"this CA issued nothing to {what!r}")
        kinds = sorted({issued[s].get("kind", "node") for s in serials})
        if len(kinds) > 1:
            raise ConfigError(
                f"{what!r} names a {' and a '.join(kinds)}: say which ({kinds[0]}:{what}) or give a serial"
            )
        for serial in serials:
            issued[serial]["revoked_at"] = dt.datetime.now(dt.UTC).isoformat()
        self._save_issued(issued)
        self.write_crl(days=crl_days)
        return [int(s, 16) for s in serials]

    def write_crl(self, *, days: int) -> x509.CertificateRevocationList:
        """Issue a fresh CRL (next update in ``days``) listing every revoked certificate."""
        now = dt.datetime.now(dt.UTC)
        number_file = self.folder / "crl_number"
        number = int(number_file.read_text()) + 1 if number_file.exists() else 1
        number_file.write_text(str(number))
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now)
            .next_update(now + dt.timedelta(days=days))
            .add_extension(x509.CRLNumber(number), critical=False)
        )
        for serial, entry in sorted(self._issued().items()):
            if "revoked_at" in entry:
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder()
                    .serial_number(int(serial, 16))
                    .revocation_date(dt.datetime.fromisoformat(entry["revoked_at"]))
                    .build()
                )
        crl = builder.sign(self._key(), _HASH)
        (self.folder / "crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        return crl


def request_subject(request: x509.CertificateSigningRequest) -> NodeCertificate:
    """Read a request as if it were a certificate (same extensions)."""
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith(_URI_PREFIX)]
        node_id = uris[0][len(_URI_PREFIX) :]
        is_ca = request.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (x509.ExtensionNotFound, IndexError) as exc:
        raise VerificationError("the request does not name a node (urn:jgnode:node:<id>)") from exc
    if not NODE_ID.match(node_id):
        raise VerificationError(f"the request names {node_id!r}, not a node id")
    return NodeCertificate(request, node_id, is_ca, "", b"")  # type: ignore[arg-type]


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """CAs sign certificates and CRLs; nodes sign (TLS) and agree keys."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _names(node_id: str) -> x509.SubjectAlternativeName:
    """The node id as a SAN URI (what jgnode reads) and a DNS name (what TLS checks)."""
    return x509.SubjectAlternativeName(
        [x509.UniformResourceIdentifier(_URI_PREFIX + node_id), x509.DNSName(dns_name(node_id))]
    )


def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    *,
    public_key: object,
    node_id: str,
    now: dt.datetime,
    not_after: dt.datetime,
    path_length: int | None,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(_names(node_id), critical=False)
    )


def _leaf_builder(
    request: x509.CertificateSigningRequest, issuer: x509.Name, node_id: str, now: dt.datetime
) -> x509.CertificateBuilder:
    signing = request.extensions.get_extension_for_oid(SIGNING_KEY_OID).value
    return (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(issuer)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(_names(node_id), critical=False)
        .add_extension(signing, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(request.public_key()), critical=False)
    )
