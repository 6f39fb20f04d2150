"""Entity resolution on a node's records: which object each record is about, which objects are one.

:func:`resolve_records` reads the record versions that arrived since its last
run (own and received, of every dataset that names a regulated object), asks
:func:`governance.er.objects.resolve_parties` about the object each names, and
records a decision for every record whose own code could not be taken as it is
(see ``node.store._decisions`` for the states). :func:`merge_objects`
de-duplicates the regulated objects held and records merge decisions for the
duplicates. Neither changes a record; operators accept, reject or revert
decisions with ``jgnode resolve``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from governance.codes import check_uscc
from governance.er import ERConfig, dedup
from governance.er.objects import OBJECT_COMPARISONS, KnownObject, Party, Resolution, normalise_code, resolve_parties
from node.errors import BatchRejectedError
from node.serde import OP_DELETE, decode_record, payload_from_record
from node.store import DecisionBook, NewDecision, Store

__all__ = ["PARTY_DATASETS", "ResolveReport", "merge_objects", "parties_of", "resolve_records"]

log = logging.getLogger("jgnode.resolve")
REGULATED_OBJECT: Final = "regulated_object"
PARTY_DATASETS: Final = ("inspection", "penalty", "enforcement", "other_action", "complaint", "public_opinion")
_CONTEXT: Final = 5_000  # parties that estimate the model when a run has fewer of its own
_STATE: Final = {"confirmed": "superseded", "linked": "linked", "flagged": "flagged", "unmatched": "unmatched"}


@dataclass(frozen=True, slots=True)
class ResolveReport:
    """What one run looked at and concluded."""

    records: int  # record versions read
    parties: int  # objects named in them
    outcomes: dict[str, int]  # resolution status -> parties
    written: dict[str, int]  # decision state -> decisions inserted or updated
    objects: int  # regulated objects known


def parties_of(record: Any) -> list[tuple[str, str, str, str]]:
    """(name, code, region code, address) of each object a record names (none for other datasets)."""
    header = getattr(record, "header", None)
    if header is not None:
        party = header.counterparty
        return [
            (party.name, party.cert_number, header.region_code, party.operating_address or party.registered_address)
        ]
    if hasattr(record, "object_credit_code"):  # complaint
        return [(record.object_name, record.object_credit_code, record.region_code, "")]
    if hasattr(record, "linked_names"):  # public opinion: names and codes side by side when they pair up
        names, codes = record.linked_names, record.linked_credit_codes
        if len(names) == len(codes):
            return [(name, code, record.region_code, "") for name, code in zip(names, codes, strict=True)]
        # lists of different lengths cannot be paired safely: each name and each code on its own
        return [(name, "", record.region_code, "") for name in names] + [
            ("", code, record.region_code, "") for code in codes
        ]
    return []


@dataclass(frozen=True, slots=True)
class _Named:
    origin: str
    dataset: str
    uid: str
    version: int


def _read_new(
    book: DecisionBook, store: Store, limit: int
) -> tuple[dict[tuple[str, str, str], tuple[int, list[tuple[str, str, str, str]]]], dict[int, int], int, bool]:
    """Latest new version's parties per record, new positions, versions read, whether objects changed."""
    latest: dict[tuple[str, str, str], tuple[int, list[tuple[str, str, str, str]]]] = {}
    positions: dict[int, int] = {}
    read = 0
    objects_changed = False
    for sid, origin, dataset, mark, projected in book.streams((*PARTY_DATASETS, REGULATED_OBJECT)):
        if dataset == REGULATED_OBJECT:
            if projected > mark:  # objects that records named in vain before may be known now
                objects_changed, positions[sid] = True, projected
            continue
        for seq, body in store.records_after(sid, mark, max(limit - read, 0)) if read < limit else ():
            positions[sid] = seq
            read += 1
            named = _parties_in(body)
            if named is not None:
                uid, version, found = named
                latest[(origin, dataset, uid)] = (version, found)
    return latest, positions, read, objects_changed


def _named_parties(
    latest: dict[tuple[str, str, str], tuple[int, list[tuple[str, str, str, str]]]],
) -> list[tuple[_Named, Party]]:
    out = []
    for (origin, dataset, uid), (version, found) in latest.items():
        for n, (name, code, region, address) in enumerate(found):
            key = uid if len(found) == 1 else f"{uid}#{n + 1}"
            out.append((_Named(origin, dataset, key, version), Party(key, name, code, region, address)))
    return out


def _reopened(book: DecisionBook, fresh: set[tuple[str, str, str]]) -> list[tuple[_Named, Party]]:
    """The engine's open decisions (flagged, unmatched) not among ``fresh`` records, to decide again."""
    out = []
    for decision in book.find(kind="link", states=["flagged", "unmatched"]):
        if (decision.origin, decision.dataset, decision.uid.split("#")[0]) in fresh or len(decision.party) != 4:
            continue
        name, code, region, address = decision.party
        named = _Named(decision.origin, decision.dataset, decision.uid, decision.version)
        out.append((named, Party(decision.uid, name, code, region, address)))
    return out


def _parties_in(body: bytes) -> tuple[str, int, list[tuple[str, str, str, str]]] | None:
    """(uid, version, parties) of record bytes; None for deletes and bytes that do not decode."""
    try:
        record = decode_record(body)
        if record.op == OP_DELETE:
            return None
        payload = payload_from_record(record)
    except BatchRejectedError:
        return None  # the projector quarantines records that do not decode
    return record.uid, record.version, parties_of(payload)


def resolve_records(
    store: Store, *, strong: float = 0.95, weak: float = 0.5, limit: int = 100_000, now_us: int
) -> ResolveReport:
    """Resolve the objects named by up to ``limit`` new record versions; call again until ``records`` is 0.

    When regulated objects arrived since the last run, the engine's open
    decisions (flagged, unmatched) are decided again with them.
    """
    book = DecisionBook(store)
    objects = [KnownObject(code, name, region, address) for _o, _u, code, name, region, address in book.known_objects()]
    if not objects:
        return ResolveReport(0, 0, {}, {}, 0)  # nothing to link against: positions stay, a later run reads these
    latest, positions, read, objects_changed = _read_new(book, store, limit)
    named = _named_parties(latest)
    if objects_changed:
        named += _reopened(book, set(latest))
    parties = [party for _named, party in named]
    context = _context(book, len(parties))
    resolutions = resolve_parties(parties, objects, strong=strong, weak=weak, context=context) if parties else []
    decisions = [_link_decision(n, p, r) for (n, p), r in zip(named, resolutions, strict=True)]
    outcomes: dict[str, int] = dict(Counter(str(r.status) for r in resolutions))
    summary = {"records": read, "parties": len(parties), "outcomes": outcomes}
    written = book.record_run(decisions, positions, summary=summary, now_us=now_us)
    return ResolveReport(read, len(parties), outcomes, written, len(objects))


def _context(book: DecisionBook, have: int) -> list[Party]:
    if have >= _CONTEXT:
        return []
    return [Party("", name, code, region) for name, code, region in book.sample_counterparties(_CONTEXT - have)]


def _link_decision(named: _Named, party: Party, resolution: Resolution) -> NewDecision:
    return NewDecision(
        kind="link",
        origin=named.origin,
        dataset=named.dataset,
        uid=named.uid,
        version=named.version,
        claimed_code=resolution.claimed_code,
        object_code=resolution.object_code,
        state=_STATE[resolution.status],
        probability=resolution.probability,
        reason=resolution.reason,
        candidates=tuple((c.code, c.name, c.probability) for c in resolution.candidates),
        party=(party.name, party.code, party.region_code, party.address),
    )


def merge_objects(store: Store, *, strong: float = 0.95, weak: float = 0.8, now_us: int) -> ResolveReport:
    """De-duplicate the regulated objects held; record a merge decision for each duplicate.

    In a cluster of objects found to be one, the survivor is the object whose
    code is a valid unified social credit code (the first such, by origin and
    uid); the others are merged into it when the evidence reaches ``strong``,
    flagged when it only reaches ``weak``.
    """
    book = DecisionBook(store)
    held = book.known_objects()
    rows = [
        {"id": str(n), "name": name, "code": normalise_code(code), "address": address, "region": region}
        for n, (_o, _u, code, name, region, address) in enumerate(held)
    ]
    result = dedup(rows, ERConfig(id_column="id", compare=OBJECT_COMPARISONS, threshold=weak))
    best: dict[str, float] = {}
    for match in result.matches:
        for side in (match.left_id, match.right_id):
            best[side] = max(best.get(side, 0.0), match.probability)
    decisions = list(_merges(held, result.clusters, best, strong=strong))
    outcomes = dict(Counter(d.state for d in decisions))
    summary = {"objects": len(held), "duplicates": len(decisions), "outcomes": outcomes}
    written = book.record_run(decisions, {}, summary=summary, now_us=now_us)
    return ResolveReport(len(held), len(held), outcomes, written, len(held))


def _merges(
    held: Sequence[tuple[str, str, str, str, str, str]],
    clusters: Iterable[tuple[str, str]],
    best: dict[str, float],
    *,
    strong: float,
) -> Iterable[NewDecision]:
    members: dict[str, list[int]] = {}
    for record_id, cluster in clusters:
        members.setdefault(cluster, []).append(int(record_id))
    for group in members.values():
        if len(group) < 2:
            continue
        survivor = min(group, key=lambda n: (not check_uscc(normalise_code(held[n][2])).ok, held[n][0], held[n][1]))
        _origin, _uid, shown_code, into_name, _region, _address = held[survivor]
        into = normalise_code(shown_code)
        for n in group:
            origin, uid, code, _name, _region, _address = held[n]
            claimed = normalise_code(code)
            if claimed == into:
                continue  # the survivor itself, or the same object held from another origin
            probability = best.get(str(n), 0.0)
            yield NewDecision(
                kind="merge",
                origin=origin,
                dataset=REGULATED_OBJECT,
                uid=uid,
                version=0,
                claimed_code=claimed,
                object_code=into,
                state="merged" if probability >= strong else "flagged",
                probability=probability,
                reason=f"same object as {into_name} ({shown_code})",
                candidates=((into, into_name, probability),),
            )
