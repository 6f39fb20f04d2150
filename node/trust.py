"""What a running node trusts: anchors, CA chains, CRLs, and the signing keys they vouch for.

With a PKI (a trust-anchor file is configured), a signing key enters the
keyring only through a certificate that chains to an anchor, names a node
inside its issuer's subtree, and is not revoked. Batches carry the
certificates of their origin and forwarders, so a province needs nothing
distributed in advance. Without a PKI (development), keys come from the trust
folder and certificates are ignored.

Revocation fails closed: a certificate is accepted only while every issuer in
its chain has a current CRL. When a CRL goes stale, peers and keys accepted
before keep working (so an outage of the CRL feed does not stop the tree), new
ones are refused, and an alarm is raised well before that moment.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from node.errors import ConfigError, VerificationError
from node.pki import (
    CertificateTimeError,
    ClientCertificate,
    CrlSet,
    DepartmentCertificate,
    SourceCertificate,
    fingerprint,
    load_certificates,
    node_certificate,
    validate_chain,
    validate_client_chain,
)
from node.settings import NodeSettings
from node.signing import KeyRing, Signer, TrustedKey, key_id_for, load_signer

__all__ = ["TrustStatus", "TrustStore", "load_anchors", "load_identity", "load_trust", "read_crl_dir"]

log = logging.getLogger("jgnode.trust")
_Client = TypeVar("_Client", bound=ClientCertificate)


@dataclass(frozen=True, slots=True)
class TrustStatus:
    """For `jgnode status`: how long until revocation data goes stale."""

    pki: bool
    crls: int
    crl_next_update_us: int  # 0 without a PKI or CRL
    alarm: str  # "" when all is well


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _parsed(ders: Iterable[bytes]) -> list[x509.Certificate]:
    """Certificates a peer sent: one that does not even parse fails verification (it is not our config)."""
    try:
        return [cert for der in ders for cert in load_certificates(der)]
    except ConfigError as exc:
        raise VerificationError(str(exc)) from exc


class TrustStore:
    """Validates certificates and CRLs and keeps the keyring in step with them."""

    def __init__(
        self,
        *,
        keyring: KeyRing,
        anchors: Sequence[x509.Certificate] = (),
        crl_alarm_s: float = 2 * 86400,
        cert_alarm_s: float = 30 * 86400,
        clock: Callable[[], dt.datetime] = _now,
        offline: bool = False,
        crl_dir: Path | None = None,
    ) -> None:
        """A store over ``keyring``; without ``anchors`` it is the no-PKI development mode.

        ``offline`` (checking an exported proof later): a stale or missing CRL is
        noted in :attr:`notes` instead of failing, since revocation can only be
        judged by the CRLs the bundle carries.
        """
        self.keyring = keyring
        self.anchors = list(anchors)
        self.crls = CrlSet()
        self._crl_alarm = dt.timedelta(seconds=crl_alarm_s)
        self._cert_alarm = dt.timedelta(seconds=cert_alarm_s)
        self._own_cert: x509.Certificate | None = None
        self._clock = clock
        self._lock = threading.RLock()
        self._pool: dict[bytes, x509.Certificate] = {fingerprint(a): a for a in self.anchors}
        self._anchor_fps = frozenset(self._pool)
        self._admitted: dict[bytes, tuple[str, str]] = {}  # leaf fingerprint -> (node id, key id)
        self._accepted_peers: dict[bytes, str] = {}  # TLS peers accepted while CRLs were current
        self._seen_sets: set[frozenset[bytes]] = set()
        self._offline = offline
        self._crl_dir = crl_dir
        self._orphans: list[x509.CertificateRevocationList] = []  # CRLs whose CA is not known yet
        self._crl_listeners: list[Callable[[], None]] = []
        self._waiting_cas: dict[bytes, x509.Certificate] = {}  # CA certificates whose issuer is not known yet
        self.notes: list[str] = []

    @property
    def pki(self) -> bool:
        """True when certificates (not a trust folder) decide what is trusted."""
        return bool(self.anchors)

    # -- certificates ----------------------------------------------------------

    def admit(self, ders: Iterable[bytes], *, at_us: int = 0) -> list[TrustedKey]:
        """Validate the node certificates among ``ders`` and trust their signing keys.

        CA certificates in ``ders`` serve as intermediates. Chains are checked
        at ``at_us`` (when the batch they came with was signed, never later
        than now) and against the current CRLs. Raises VerificationError for
        the first certificate that fails.
        """
        if not self.pki:
            return []
        ders = list(ders)
        seen = frozenset(ders)
        if seen in self._seen_sets:  # the same certificates come with every batch of a stream
            return []
        certs = _parsed(ders)
        with self._lock:
            leaves = []
            for cert in certs:
                if node_certificate(cert).is_ca:
                    self._learn_ca(cert)
                else:
                    self._pool.setdefault(fingerprint(cert), cert)
                    leaves.append(cert)
            admitted = [self._admit_leaf(c, at_us) for c in leaves]
            if len(self._seen_sets) >= 4096:  # a child sending ever new sets must not grow memory without end
                self._seen_sets.clear()
            self._seen_sets.add(seen)
        return [key for key in admitted if key is not None]

    def _admit_leaf(self, leaf: x509.Certificate, at_us: int) -> TrustedKey | None:
        fp = fingerprint(leaf)
        if fp in self._admitted:
            return None
        now = self._clock()
        try:
            path = validate_chain(leaf, list(self._pool.values()), self.anchors, now=now)
        except CertificateTimeError:
            if not at_us:
                raise
            # expired since: what counts is that it was valid when the batch was signed
            at = min(dt.datetime.fromtimestamp(at_us / 1e6, dt.UTC), now)
            path = validate_chain(leaf, list(self._pool.values()), self.anchors, now=at)
        self._check_revocation(fp, [p.cert for p in path], now=now, known=False)
        info = path[0]
        key = TrustedKey(
            info.node_id,
            info.signing_suite,
            key_id_for(info.signing_suite, info.signing_key),
            info.signing_key,
            tuple(_der(p.cert) for p in path if fingerprint(p.cert) not in self._anchor_fps),
        )
        self.keyring.add(key)
        self._admitted[fp] = (info.node_id, key.key_id)
        return key

    def _check_revocation(
        self, leaf_fp: bytes, path: Sequence[x509.Certificate], *, now: dt.datetime, known: bool
    ) -> None:
        """Every link checked against its issuer's CRL; a stale CRL is tolerated only for ``known`` certificates."""
        for cert, issuer in itertools.pairwise(path):
            try:
                self.crls.check(cert, issuer, now=now)
            except VerificationError as exc:
                if self._offline and not self.crls.is_revoked(cert):
                    self.notes.append(f"revocation of {cert.subject.rfc4514_string()} not fully checked: {exc}")
                    continue
                if known and "stale" in str(exc) and not self.crls.is_revoked(cert):
                    log.warning("accepting known certificate %s: %s", leaf_fp.hex()[:16], exc)
                    continue
                raise

    def _learn_presented(self, pem: bytes, intermediates: Sequence[bytes]) -> x509.Certificate:
        """The leaf of a presented chain; its CA certificates are learnt (call with the lock held)."""
        certs = _parsed([pem])
        for cert in [*certs[1:], *_parsed(intermediates)]:
            if node_certificate(cert).is_ca:
                self._learn_ca(cert)
        return certs[0]

    def peer(self, pem: bytes, *, intermediates: Sequence[bytes] = ()) -> str:
        """The node id of a TLS peer certificate, after chain and revocation checks."""
        with self._lock:
            leaf = self._learn_presented(pem, intermediates)
            fp = fingerprint(leaf)
            path = validate_chain(leaf, list(self._pool.values()), self.anchors, now=self._clock())
            self._check_revocation(fp, [p.cert for p in path], now=self._clock(), known=fp in self._accepted_peers)
            self._accepted_peers[fp] = path[0].node_id
        return path[0].node_id

    def source(self, pem: bytes, *, intermediates: Sequence[bytes] = ()) -> SourceCertificate:
        """The source (department system) a TLS peer certificate names, after the same checks as :meth:`peer`."""
        return self._client(pem, intermediates, SourceCertificate)

    def department(self, pem: bytes, *, intermediates: Sequence[bytes] = ()) -> DepartmentCertificate:
        """The department (a subscriber) a TLS peer certificate names, after the same checks as :meth:`peer`."""
        return self._client(pem, intermediates, DepartmentCertificate)

    def _client(self, pem: bytes, intermediates: Sequence[bytes], kind: type[_Client]) -> _Client:
        with self._lock:
            leaf = self._learn_presented(pem, intermediates)
            fp = fingerprint(leaf)
            now = self._clock()
            client, issuers = validate_client_chain(leaf, list(self._pool.values()), self.anchors, kind=kind, now=now)
            path = [leaf, *(p.cert for p in issuers)]
            self._check_revocation(fp, path, now=now, known=fp in self._accepted_peers)
            self._accepted_peers[fp] = client.label
        return client

    def trust_own(self, signer: Signer, cert: x509.Certificate) -> None:
        """Trust this node's own signing key (its certificate is checked, but a problem only warns)."""
        try:
            self.admit(signer.chain)
        except VerificationError as exc:
            log.warning("this node's own certificate does not validate here: %s", exc)
            self.keyring.add(TrustedKey(signer.node_id, signer.suite, signer.key_id, signer.public_raw, signer.chain))
        with self._lock:
            self._pool.setdefault(fingerprint(cert), cert)
            self._own_cert = cert

    def chain_for(self, key_id: str) -> tuple[bytes, ...]:
        """Certificates (DER) that vouch for a trusted key, to send along with what it signed."""
        key = self.keyring.get(key_id)
        return key.chain if key is not None else ()

    # -- revocation lists ------------------------------------------------------

    def add_crls(self, pems: Iterable[bytes]) -> int:
        """Verify and keep newer CRLs; revoked keys leave the keyring at once. Returns how many were new."""
        crls = []
        for pem in pems:
            try:
                crls.append(x509.load_pem_x509_crl(pem) if b"-----BEGIN" in pem else x509.load_der_x509_crl(pem))
            except ValueError as exc:
                raise VerificationError(f"not a CRL: {exc}") from exc
        with self._lock:
            return self._take_crls([*self._orphans, *crls])

    def _take_crls(self, crls: list[x509.CertificateRevocationList]) -> int:
        """Add what can be verified now; keep the rest until their CA turns up."""
        pool = [c for c in self._pool.values() if node_certificate(c).is_ca]
        known = {c.subject for c in pool}
        self._orphans = [c for c in crls if c.issuer not in known][-64:]
        added = self.crls.add_any([c for c in crls if c.issuer in known], pool)
        if added:
            self._drop_revoked()
            self._save_crls()
            for listener in self._crl_listeners:
                listener()
        return added

    def on_new_crls(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (quickly, without blocking) whenever newer CRLs are taken."""
        self._crl_listeners.append(listener)

    def _learn_ca(self, cert: x509.Certificate) -> None:
        """Add a CA certificate that chains to a trust anchor; CRLs waiting for it are verified now.

        Anyone can relay CA certificates (in batches, session reports, call
        metadata), so one is kept only once it chains to an anchor: until its
        issuer turns up it waits (at most 64), and one that fails otherwise
        (not a CA, outside its issuer's subtree) is dropped with a warning.
        Validity dates are checked where the CA is used, not here.
        """
        fp = fingerprint(cert)
        if fp in self._pool:
            return
        cas = [c for c in self._pool.values() if node_certificate(c).is_ca]
        try:
            validate_chain(cert, cas, self.anchors, now=self._clock())
        except CertificateTimeError:
            pass
        except VerificationError as exc:
            if "does not chain" in str(exc):
                self._waiting_cas[fp] = cert
                while len(self._waiting_cas) > 64:
                    del self._waiting_cas[next(iter(self._waiting_cas))]
            else:
                log.warning("ignoring CA certificate %s: %s", cert.subject.rfc4514_string(), exc)
            return
        self._pool[fp] = cert
        self._waiting_cas.pop(fp, None)
        if any(o.issuer == cert.subject for o in self._orphans):
            self._take_crls(list(self._orphans))
        for waiting in [c for c in self._waiting_cas.values() if c.issuer == cert.subject]:
            self._learn_ca(waiting)

    def _save_crls(self) -> None:
        """Keep the newest CRL of each CA in the CRL folder: it survives restarts and local tools see it."""
        if self._crl_dir is None:
            return
        self._crl_dir.mkdir(parents=True, exist_ok=True)
        for pem in self.crls.pem():
            crl = x509.load_pem_x509_crl(pem)
            target = self._crl_dir / f"held-{crl.issuer.rfc4514_string().encode().hex()[:40]}.crl"
            if not target.exists() or target.read_bytes() != pem:
                tmp = target.with_suffix(".tmp")
                tmp.write_bytes(pem)
                tmp.replace(target)

    def _drop_revoked(self) -> None:
        for fp, (node_id, key_id) in list(self._admitted.items()):
            cert = self._pool.get(fp)
            if cert is not None and self.crls.is_revoked(cert):
                reason = f"the certificate of {node_id} (serial {cert.serial_number:x}) was revoked"
                log.warning("%s: no longer trusting its signing key %s", reason, key_id)
                self.keyring.revoke(key_id, reason)
                del self._admitted[fp]
        for fp in [fp for fp in self._accepted_peers if (c := self._pool.get(fp)) and self.crls.is_revoked(c)]:
            del self._accepted_peers[fp]
        self._seen_sets.clear()

    def status(self) -> TrustStatus:
        """CRL freshness, with an alarm when a CRL goes stale within the alarm window (or already has)."""
        if not self.pki:
            return TrustStatus(False, 0, 0, "no PKI: trusting the keys in the trust folder (development only)")
        with self._lock:
            next_update = self.crls.earliest_next_update()
            missing = [a.subject.rfc4514_string() for a in self.anchors if not self.crls.has_crl_from(a)]
        now = self._clock()
        alarm = ""
        if missing:
            alarm = f"no CRL from {', '.join(missing)}: new peers are refused"
        elif next_update is not None and next_update < now:
            alarm = f"CRL went stale at {next_update:%Y-%m-%d %H:%M} UTC: new peers are refused"
        elif next_update is not None and next_update - now < self._crl_alarm:
            alarm = f"CRL goes stale at {next_update:%Y-%m-%d %H:%M} UTC: publish a fresh one"
        own = self._own_cert
        if own is not None and own.not_valid_after_utc - now < self._cert_alarm:
            expiry = f"this node's certificate expires at {own.not_valid_after_utc:%Y-%m-%d %H:%M} UTC: renew it"
            alarm = f"{alarm}; {expiry}" if alarm else expiry
        next_us = int(next_update.timestamp() * 1_000_000) if next_update else 0
        return TrustStatus(True, len(self.crls), next_us, alarm)

    def bundle(self) -> tuple[list[bytes], list[bytes]]:
        """(CA certificates, CRLs) as PEM: what a parent hands its children."""
        with self._lock:
            cas = [c.public_bytes(serialization.Encoding.PEM) for c in self._pool.values() if node_certificate(c).is_ca]
            return cas, self.crls.pem()

    def add_cas(self, pems: Iterable[bytes]) -> None:
        """Learn intermediate CA certificates (validated when they are used)."""
        with self._lock:
            for pem in pems:
                for cert in load_certificates(pem):
                    if node_certificate(cert).is_ca:
                        self._learn_ca(cert)


def load_anchors(data: bytes, source: str) -> list[x509.Certificate]:
    """Trust anchors from a PEM bundle; each must be a self-signed CA."""
    anchors = load_certificates(data)
    for anchor in anchors:
        if anchor.issuer != anchor.subject or not node_certificate(anchor).is_ca:
            raise ConfigError(f"{source}: {anchor.subject.rfc4514_string()} is not a root CA certificate")
    return anchors


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {what} {path}: {exc.strerror}; "
            "see `jgnode pki --help` (or run with --insecure for development)"
        ) from exc


def read_crl_dir(folder: Path) -> list[bytes]:
    """Every CRL file (``*.crl``, ``*.pem``) in a folder."""
    if not folder.is_dir():
        return []
    return [p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in {".crl", ".pem"} and p.is_file()]


def load_trust(settings: NodeSettings) -> tuple[TrustStore, Signer]:
    """This node's trust store and signing key, as its settings describe them.

    With a trust-anchor file: certificates decide; the node's own certificate
    must name it and carry its signing key. Without one: only with the insecure
    development flag, trusting the keys in the trust folder.
    """
    if not settings.ca_path.exists():
        if not settings.tls.insecure:
            raise ConfigError(
                f"no trust anchors at {settings.ca_path}: set up the PKI (jgnode pki ...) "
                "or run with --insecure for development"
            )
        log.warning("no PKI: trusting the public keys in %s (development only)", settings.trust_path)
        keyring = KeyRing.from_directory(settings.trust_path)
        signer = load_signer(settings.node_id, settings.signing_key_path, settings.suite)
        keyring.add_pem(settings.node_id, signer.public_pem, settings.suite)
        return TrustStore(keyring=keyring), signer
    anchors = load_anchors(_read(settings.ca_path, "trust anchors"), str(settings.ca_path))
    signer, chain = load_identity(settings, anchors)
    trust = TrustStore(
        keyring=KeyRing(),
        anchors=anchors,
        crl_alarm_s=settings.tls.crl_alarm_s,
        cert_alarm_s=settings.tls.cert_alarm_s,
        crl_dir=settings.crl_path,
    )
    trust.add_cas([c.public_bytes(serialization.Encoding.PEM) for c in chain[1:]])
    trust.add_crls(read_crl_dir(settings.crl_path))
    trust.trust_own(signer, chain[0])
    return trust, signer


def load_identity(settings: NodeSettings, anchors: Sequence[x509.Certificate]) -> tuple[Signer, list[x509.Certificate]]:
    """This node's signing key and certificate chain; ConfigError when they do not belong together."""
    chain = load_certificates(_read(settings.cert_path, "node certificate"))
    own = node_certificate(chain[0])
    if own.node_id != settings.node_id:
        raise ConfigError(f"{settings.cert_path} certifies {own.node_id}, this node is {settings.node_id}")
    anchor_fps = {fingerprint(a) for a in anchors}
    ders = tuple(_der(c) for c in chain if fingerprint(c) not in anchor_fps)
    signer = load_signer(settings.node_id, settings.signing_key_path, own.signing_suite, chain=ders)
    if signer.public_raw != own.signing_key:
        raise ConfigError(f"{settings.cert_path} was issued for another signing key than {settings.signing_key_path}")
    return signer, chain
