"""Setting up a node's keys and certificates: create, request, install, renew.

Files under a node's data folder: ``keys/signing.key`` (data signing, 0600),
``keys/tls.key`` (TLS, 0600), ``certs/request.csr`` (what to give the CA),
``certs/node.crt`` (the chain the CA returned, leaf first), ``certs/ca.crt``
(trust anchors), ``certs/crl/`` (CRLs). A renewal prepares new keys in
``keys/pending/`` and swaps them in only when the matching certificate is
installed, so the node keeps running on the old ones until then.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from node.errors import ConfigError
from node.pki import (
    CaDir,
    generate_tls_key,
    load_certificates,
    load_ec_key,
    make_request,
    node_certificate,
    private_pem,
    public_key_der,
    write_private,
)
from node.settings import NodeSettings, load_settings
from node.signing import generate_signing_key, load_signer

__all__ = ["create_node", "install_certificate", "issue_from", "publish_crl", "write_request"]


def _pending(settings: NodeSettings) -> Path:
    return settings.signing_key_path.parent / "pending"


def create_node(
    folder: Path,
    *,
    node_id: str,
    tier: str,
    listen: str,
    parent: str | None = None,
    parent_id: str | None = None,
    suite: str = "ed25519",
    database_url: str | None = None,
    insecure: bool = False,
    extra: dict[str, object] | None = None,
) -> NodeSettings:
    """Write ``node.toml``, a signing key, a TLS key and a certificate request into ``folder``."""
    config = folder / "node.toml"
    if config.exists():
        raise ConfigError(f"{config} exists: this folder already holds a node")
    values: dict[str, object] = {"node_id": node_id, "tier": tier, "listen": listen, "suite": suite}
    if parent:
        values["parent"] = parent
    if parent_id:
        values["parent_id"] = parent_id
    if database_url:
        values["database_url"] = database_url
    values.update(extra or {})
    settings = load_settings(None, **values, data_dir=folder, tls={"insecure": insecure})  # validates first
    generate_signing_key(settings.signing_key_path, settings.signing_key_path.with_suffix(".pub"), suite)
    write_private(settings.tls_key_path, private_pem(generate_tls_key()))
    settings.crl_path.mkdir(parents=True, exist_ok=True)
    settings.trust_path.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in values.items()]
    lines += ['data_dir = "."']
    if insecure:
        lines += ["", "[tls]", "insecure = true  # development only: plain-text gRPC"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load_settings(config)
    write_request(settings)
    return settings


def write_request(settings: NodeSettings, *, new_keys: bool = False) -> Path:
    """Write ``certs/request.csr`` for the current keys, or for new ones (a renewal) prepared aside."""
    signing_path, tls_path = settings.signing_key_path, settings.tls_key_path
    if new_keys:
        pending = _pending(settings)
        if pending.exists():
            shutil.rmtree(pending)
        signing_path, tls_path = pending / signing_path.name, pending / tls_path.name
        generate_signing_key(signing_path, signing_path.with_suffix(".pub"), settings.suite)
        write_private(tls_path, private_pem(generate_tls_key()))
    signer = load_signer(settings.node_id, signing_path, settings.suite)
    request = make_request(
        node_id=settings.node_id, tls_key=load_ec_key(tls_path), suite=signer.suite, signing_key=signer.public_raw
    )
    path = settings.cert_path.parent / "request.csr"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(request.public_bytes(serialization.Encoding.PEM))
    return path


def issue_from(ca: CaDir, request_path: Path, *, days: int) -> bytes:
    """The certificate chain (PEM) a CA issues for a request file."""
    try:
        request = x509.load_pem_x509_csr(request_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{request_path} is not a certificate request: {exc}") from exc
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in ca.issue(request, days=days))


def install_certificate(settings: NodeSettings, chain_pem: bytes, *, anchors_pem: bytes | None = None) -> str:
    """Install a certificate chain from the CA (with pending renewal keys, if it was issued for them).

    The running node notices the new files within ``tls.refresh_s`` and starts
    using them; batches signed with the old key stay verifiable. Returns a
    one-line description.
    """
    chain = load_certificates(chain_pem)
    info = node_certificate(chain[0])
    if info.node_id != settings.node_id:
        raise ConfigError(f"the certificate is for {info.node_id}, this node is {settings.node_id}")
    pending = _pending(settings)
    candidates = [(pending / settings.signing_key_path.name, pending / settings.tls_key_path.name)]
    candidates.append((settings.signing_key_path, settings.tls_key_path))
    for signing_path, tls_path in candidates:
        if not signing_path.exists() or not tls_path.exists():
            continue
        signer = load_signer(settings.node_id, signing_path, info.signing_suite)
        if signer.public_raw == info.signing_key and public_key_der(load_ec_key(tls_path)) == public_key_der(chain[0]):
            break
    else:
        raise ConfigError("the certificate was issued for other keys than this node's (current or pending)")
    if anchors_pem is not None:
        _atomic(settings.ca_path, anchors_pem)
    if signing_path.parent == pending:
        # move the pending keys in; the old ones stay beside them for the record
        for current, new in ((settings.signing_key_path, signing_path), (settings.tls_key_path, tls_path)):
            if current.exists():
                os.replace(current, current.with_suffix(current.suffix + ".old"))
            os.replace(new, current)
        public = signing_path.with_suffix(".pub")
        if public.exists():
            os.replace(public, settings.signing_key_path.with_suffix(".pub"))
        shutil.rmtree(pending, ignore_errors=True)
    _atomic(settings.cert_path, chain_pem)
    return (
        f"installed certificate of {info.node_id} (serial {info.serial:x}, {info.signing_suite} signing key, "
        f"valid until {info.not_after:%Y-%m-%d})"
    )


def publish_crl(settings: NodeSettings, crl_pem: bytes, name: str) -> None:
    """Put a CRL into the node's CRL folder (a running node picks it up and relays it)."""
    try:
        x509.load_pem_x509_crl(crl_pem)
    except ValueError as exc:
        raise ConfigError(f"not a PEM CRL: {exc}") from exc
    _atomic(settings.crl_path / f"{name}.crl", crl_pem)


def _atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def anchor_of(ca: CaDir) -> bytes:
    """The root certificate (PEM) at the top of a CA's chain."""
    root = ca.chain[-1]
    if root.issuer != root.subject:
        raise ConfigError(f"{ca.folder}/ca.crt does not end with its root certificate")
    return root.public_bytes(serialization.Encoding.PEM)
