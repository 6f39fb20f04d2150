"""``jgnode pki``, ``deadletter``, ``audit`` and ``verify-proof``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography import x509
from jgnode.exchange.v1 import admin_pb2

from governance._compiled import day_start_us
from node.cli import require_file
from node.cli_commands import check_bundles, provenance_bundles
from node.cli_intake import issue_source
from node.cli_share import issue_department
from node.enroll import install_certificate, issue_from, publish_crl, write_request
from node.errors import ConfigError, NotFoundError
from node.pki import (
    CaDir,
    department_certificate,
    load_certificates,
    node_certificate,
    request_subject,
    source_certificate,
)
from node.runtime import now_us
from node.settings import NodeSettings, load_settings
from node.signing import KeyRing
from node.store import Store
from node.tables import render_table
from node.trust import TrustStore, load_anchors, load_trust, read_crl_dir
from node.usage import usage_summary

__all__ = ["audit", "deadletter", "pki", "verify_proof"]


def _settings(args: argparse.Namespace) -> NodeSettings:
    return load_settings(require_file(args.config, "config file"))


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "-"


# -- pki ------------------------------------------------------------------------


def pki(args: argparse.Namespace) -> int:  # noqa: PLR0911 - one branch per subcommand
    """Dispatch ``jgnode pki <command>``."""
    command = args.pki_command
    if command == "issue-source":
        return issue_source(args)
    if command == "issue-department":
        return issue_department(args)
    if command == "init-root":
        CaDir.init_root(args.dir, node_id=args.node_id, name=args.name, days=args.days, crl_days=args.crl_days)
        print(f"root CA for {args.node_id} in {args.dir}: certificate {args.dir / 'ca.crt'} (give it to every node),")
        print(
            f"  key {args.dir / 'ca.key'} (keep it offline), CRL {args.dir / 'crl.pem'} valid until "
            f"{_when(x509.load_pem_x509_crl((args.dir / 'crl.pem').read_bytes()).next_update_utc)}"
        )
        return 0
    if command == "init-ca":
        request = CaDir.request_intermediate(args.dir, node_id=args.node_id)
        print(
            f"intermediate CA key in {args.dir}; have the parent CA sign {request}: jgnode pki sign --ca <parent CA> "
            f"{request}, then jgnode pki install-ca --dir {args.dir} <chain>"
        )
        return 0
    if command == "install-ca":
        ca = CaDir.install_intermediate(
            args.dir, require_file(args.chain, "chain").read_bytes(), crl_days=args.crl_days
        )
        print(f"CA {ca.info.node_id} ready in {args.dir}; its CRL is {args.dir / 'crl.pem'}")
        return 0
    if command == "request":
        path = write_request(_settings(args), new_keys=args.new_keys)
        print(f"certificate request written to {path}" + (" (new keys wait in keys/pending/)" if args.new_keys else ""))
        return 0
    if command == "sign":
        request = require_file(args.request, "request")
        chain = issue_from(CaDir(args.ca), request, days=args.days)
        out = args.out or request.with_suffix(".crt")
        out.write_bytes(chain)
        info = node_certificate(load_certificates(chain)[0])
        kind = "intermediate CA" if info.is_ca else "node"
        print(
            f"issued {kind} certificate for {info.node_id} (serial {info.serial:x}, "
            f"valid until {_when(info.not_after)}) -> {out}"
        )
        return 0
    if command == "install":
        anchor = require_file(args.anchor, "anchor").read_bytes() if args.anchor else None
        print(install_certificate(_settings(args), require_file(args.chain, "chain").read_bytes(), anchors_pem=anchor))
        return 0
    if command in {"revoke", "crl"}:
        return _crl_command(args)
    if command == "publish-crl":
        settings = _settings(args)
        publish_crl(settings, require_file(args.crl, "CRL").read_bytes(), args.crl.stem)
        print(
            f"{args.crl} is in {settings.crl_path}; the running node uses and relays it "
            f"within {settings.tls.refresh_s:.0f} s"
        )
        return 0
    return _show(require_file(args.file, "file"))


def _crl_command(args: argparse.Namespace) -> int:
    ca = CaDir(args.ca)
    if args.pki_command == "revoke":
        serials = ca.revoke(args.what, crl_days=args.crl_days)
        print(f"revoked {', '.join(f'{s:x}' for s in serials)}")
    else:
        ca.write_crl(days=args.crl_days)
    crl = x509.load_pem_x509_crl((args.ca / "crl.pem").read_bytes())
    print(
        f"CRL {args.ca / 'crl.pem'}: {len(list(crl))} revoked, valid until {_when(crl.next_update_utc)}; "
        "publish it on the CA's node: jgnode pki publish-crl -c <node.toml> crl.pem"
    )
    return 0


def _show(path: Path) -> int:
    data = path.read_bytes()
    if b"CERTIFICATE REQUEST" in data:
        request = x509.load_pem_x509_csr(data)
        subject = request_subject(request)
        print(
            f"request for {subject.node_id} ({'CA' if subject.is_ca else 'node'}), "
            f"self-signature {'valid' if request.is_signature_valid else 'INVALID'}"
        )
        return 0
    if b"X509 CRL" in data:
        crl = x509.load_pem_x509_crl(data)
        print(
            f"CRL by {crl.issuer.rfc4514_string()}: issued {_when(crl.last_update_utc)}, next update "
            f"{_when(crl.next_update_utc)}, {len(list(crl))} revoked"
        )
        for revoked in crl:
            print(f"  serial {revoked.serial_number:x} revoked {_when(revoked.revocation_date_utc)}")
        return 0
    for cert in load_certificates(data):
        if any(u.startswith("urn:jgnode:source:") for u in _uris(cert)):
            name, role = source_certificate(cert).label, "source, TLS client"
        elif any(u.startswith("urn:jgnode:department:") for u in _uris(cert)):
            name, role = department_certificate(cert).label, "department, TLS client"
        else:
            info = node_certificate(cert)
            name, role = info.node_id, "CA" if info.is_ca else f"node, {info.signing_suite} signing key"
        print(
            f"{name} ({role}) serial {cert.serial_number:x}, issued by {cert.issuer.rfc4514_string()}, "
            f"valid {_when(cert.not_valid_before_utc)} to {_when(cert.not_valid_after_utc)}"
        )
    return 0


def _uris(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return list(san.get_values_for_type(x509.UniformResourceIdentifier))


# -- dead letters --------------------------------------------------------------------


def deadletter(args: argparse.Namespace) -> int:
    """``jgnode deadletter list|show|retry``."""
    settings = _settings(args)
    store = Store.open(settings.db_url, settings.node_id)
    try:
        letters = store.dead_letters()
        if args.dead_command == "list":
            print(
                render_table(
                    ["batch", "origin", "dataset", "seq", "parked since", "reason"],
                    [
                        [
                            d.batch_id,
                            d.stream.origin,
                            d.stream.dataset,
                            f"{d.first_seq}..{d.last_seq}",
                            _when(datetime.fromtimestamp(d.enqueued_at_us / 1e6, UTC)),
                            d.reason[:80],
                        ]
                        for d in letters
                    ],
                )
                if letters
                else "no refused batches"
            )
            return 0
        wanted = {d.batch_id for d in letters} if getattr(args, "all", False) else set(args.batch_ids)
        unknown = wanted - {d.batch_id for d in letters}
        if unknown:
            raise NotFoundError(f"no refused batch {', '.join(map(str, sorted(unknown)))}")
        if not wanted:
            raise ConfigError("name the batches (or --all)")
        if args.dead_command == "show":
            for letter in letters:
                if letter.batch_id in wanted:
                    print(
                        f"batch {letter.batch_id}: {letter.stream.origin}/{letter.stream.dataset} "
                        f"seq {letter.first_seq}..{letter.last_seq}\n  refused: {letter.reason}"
                    )
            return 0
        count = store.retry_dead_letters(sorted(wanted), now_us=now_us())
        print(f"{count} batch(es) will be sent again (their streams resume); watch jgnode status")
        return 0
    finally:
        store.close()


# -- audit -------------------------------------------------------------------------


def audit(args: argparse.Namespace) -> int:
    """``jgnode audit verify|list|usage|proof``."""
    settings = _settings(args)
    if args.audit_command == "proof":
        return _export_proof(settings, args)
    store = Store.open(settings.db_url, settings.node_id)
    try:
        if args.audit_command == "usage":
            return _usage(store, args)
        if args.audit_command == "list":
            entries = store.audit_entries(kind=args.kind)[-args.last :]
            print(
                render_table(
                    ["seq", "at", "kind", "subject", "detail"],
                    [
                        [e.seq, _when(datetime.fromtimestamp(e.at_us / 1e6, UTC)), e.kind, e.subject, e.detail[:60]]
                        for e in entries
                    ],
                )
            )
            return 0
        count, bad, why = store.audit_verify()
        checkpoints = _check_checkpoints(store, settings)
    finally:
        store.close()
    if bad is not None:
        print(
            f"audit log BROKEN at entry {bad.seq} ({bad.kind} {bad.subject}): {why}; "
            f"{count} entries before it are intact"
        )
        return 1
    print(f"audit log intact: {count} entries chain from the first to the last; {checkpoints}")
    return 0


def _usage(store: Store, args: argparse.Namespace) -> int:
    since_us = 0
    if args.since:
        try:
            since_us = day_start_us(date.fromisoformat(args.since))
        except ValueError:
            raise ConfigError(f"--since {args.since!r} is not a date (YYYY-MM-DD)") from None
    lines = usage_summary(store, since_us=since_us, who=args.subscriber)
    if args.json:
        print(json.dumps([dataclasses.asdict(line) for line in lines], ensure_ascii=False, indent=2))
        return 0
    rows = [
        [u.who, u.resource_code, u.channel, u.uses, u.records, _when(datetime.fromtimestamp(u.last_us / 1e6, UTC))]
        for u in lines
    ]
    print(render_table(["subscriber", "resource", "channel", "uses", "records", "last"], rows) if rows else "no usage")
    return 0


def _check_checkpoints(store: Store, settings: NodeSettings) -> str:
    """Check the signed checkpoints the node wrote; a bad one raises."""
    trust, _signer = load_trust(settings)
    checked = 0
    held = {e.seq: e for e in store.audit_entries()}
    for entry in held.values():
        if entry.kind != "checkpoint":
            continue
        detail = json.loads(entry.detail)
        target = held.get(int(detail["seq"]))
        if target is None or target.hash.hex() != detail["hash"]:
            raise ConfigError(f"checkpoint {entry.seq} signs entry {detail['seq']}, which does not match the log")
        statement = f"jgnode-audit-checkpoint:{settings.node_id}:{detail['seq']}:{detail['hash']}".encode()
        key = trust.keyring.get(detail["key_id"])
        if key is None:
            continue  # signed with a key since renewed and not at hand: the chain still covers it
        trust.keyring.verify(
            key_id=key.key_id,
            node_id=settings.node_id,
            suite=key.suite,
            data=statement,
            signature=bytes.fromhex(detail["signature"]),
        )
        checked += 1
    return f"{checked} signed checkpoint(s) verified"


def _export_proof(settings: NodeSettings, args: argparse.Namespace) -> int:
    args.address = None
    bundles = provenance_bundles(settings, args)
    if not bundles:
        raise NotFoundError(f"no signed record with uid {args.uid!r}")
    crls = read_crl_dir(settings.crl_path)
    out = args.out or Path(f"{args.uid}.proof")
    bundle = bundles[-1]
    bundle.crls.extend(crls)
    out.write_bytes(bundle.SerializeToString())
    print(
        f"provenance bundle of {args.uid} ({len(bundle.certificates)} certificates, {len(bundle.hops)} hops, "
        f"{len(crls)} CRLs) -> {out}; check it anywhere with: jgnode verify-proof {out} --anchor <root ca.crt>"
    )
    return 0


def verify_proof(args: argparse.Namespace) -> int:
    """Check an exported provenance bundle with no node: only the file and a root certificate."""
    bundle = admin_pb2.Provenance.FromString(require_file(args.file, "bundle").read_bytes())
    anchors = load_anchors(require_file(args.anchor, "anchor").read_bytes(), str(args.anchor))
    trust = TrustStore(keyring=KeyRing(), anchors=anchors, offline=True)
    trust.add_cas(list(bundle.certificates))
    trust.add_crls(bundle.crls)
    failed = check_bundles([bundle], trust)
    for note in trust.notes:
        print(f"  note {note}")
    return 1 if failed else 0
