"""Which regulated object an action record, complaint or opinion item is about.

A record names its object (its counterparty) by a code and a name. When the
code is that of a known object and the names agree, the record is *confirmed*.
Otherwise — no code, a code that fails its check, a code no known object has, or
a code whose object has another name — the record is a *suspect*, and the
Fellegi-Sunter engine (:func:`governance.er.link`) scores it against the known
objects on name, code, address and region:

- ``linked``: the best candidate reaches ``strong`` and no other candidate
  reaches ``weak`` (the evidence points at one object);
- ``flagged``: some candidate reaches ``weak`` but the evidence is not strong
  or not unique; the candidates go to an operator;
- ``unmatched``: no candidate reaches ``weak`` (a record whose well-formed
  code is just not among the objects held, and that resembles none of them,
  is confirmed instead: its own code stands).

The model's m and u probabilities are estimated on every party given (the
confirmed ones too, plus ``context`` parties that are only there to estimate
them), so a handful of new suspects is scored with weights learnt from many;
with fewer than a few hundred parties in all, EM has too little to go on and
the fixed :func:`prior_model` scores them instead.
A code that belongs to another object stays in the comparison: the name and
address outweigh it (tested with codes swapped between objects).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from rapidfuzz.distance import JaroWinkler

from governance.codes import check_id_number, check_uscc
from governance.er.config import CompareSpec, ERConfig
from governance.er.engine import Match, link
from governance.er.model import FellegiSunter
from governance.er.normalise import parse_enterprise_name, to_half_width

__all__ = [
    "OBJECT_COMPARISONS",
    "Candidate",
    "KnownObject",
    "Party",
    "Resolution",
    "ResolutionStatus",
    "normalise_code",
    "prior_model",
    "resolve_parties",
]

ResolutionStatus = Literal["confirmed", "linked", "flagged", "unmatched"]
_NAME_AGREES: Final = 0.85  # Jaro-Winkler of the name cores above which a known code's name "agrees"
_MAX_CANDIDATES: Final = 3
_MIN_FIT: Final = 300  # fewer parties than this (context included) are scored with the prior model, not EM


@dataclass(frozen=True, slots=True)
class KnownObject:
    """A regulated object as the linker sees it."""

    code: str
    name: str
    region_code: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Party:
    """Who a record names: ``key`` identifies the record (e.g. ``inspection/JC-1``)."""

    key: str
    name: str
    code: str = ""
    region_code: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A known object a suspect may be about, with the match probability."""

    code: str
    name: str
    probability: float


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the linker concluded about one party.

    Attributes:
        key: the party's key.
        claimed_code: the code the record carries (normalised), or ``""``.
        status: confirmed, linked, flagged or unmatched.
        object_code: the object the record is about (confirmed, linked) or the
            best candidate (flagged); ``""`` when there is none.
        probability: match probability of ``object_code`` (1.0 when confirmed).
        reason: why the record's own code was not taken as it is.
        candidates: the candidates reaching the weak threshold, best first.
    """

    key: str
    claimed_code: str
    status: ResolutionStatus
    object_code: str
    probability: float
    reason: str = ""
    candidates: tuple[Candidate, ...] = ()


def normalise_code(code: str) -> str:
    """A code as written in any width and case, upper case without spaces or dashes."""
    return "".join(ch for ch in to_half_width(code).upper() if ch.isalnum())


def _core(name: str) -> str:
    return parse_enterprise_name(name).core


def _names_agree(left: str, right: str) -> bool:
    a, b = parse_enterprise_name(left), parse_enterprise_name(right)
    return a.full == b.full or a.core == b.core or JaroWinkler.similarity(a.core, b.core) >= _NAME_AGREES


def _suspicion(party: Party, code: str, known: dict[str, KnownObject], by_core: dict[str, set[str]]) -> str:
    """Why a party's own code cannot be taken as it is ("" when it can)."""
    if not code:
        return "no code"
    held = known.get(code)
    if held is None:
        valid = check_uscc(code).ok or (len(code) == 18 and check_id_number(code).ok)
        return f"code {code} names no known object" if valid else f"code {code} fails its check"
    if not party.name:
        return ""
    others = by_core.get(_core(party.name), set()) - {code}
    if not _names_agree(party.name, held.name) or (others and _core(party.name) != _core(held.name)):
        return f"code {code} is {held.name}'s, but the record names {party.name}"
    return ""


OBJECT_COMPARISONS: Final = (  # how a record's object and a known object (or two objects) are compared
    CompareSpec(column="name", kind="name"),
    CompareSpec(column="code", kind="code"),
    CompareSpec(column="address", kind="address"),
    CompareSpec(column="region", kind="exact"),
)


def prior_model() -> FellegiSunter:
    """Parameters for inputs too small for EM, per level of :data:`OBJECT_COMPARISONS` (level 0, null, is no evidence).

    Set by hand from what EM estimates on the generated enterprise data and on
    a node's inspections: a true pair mostly agrees exactly or up to legal form
    and region words on the name, exactly on a code it has; a false pair almost
    never agrees on either; one candidate in ten is the true object.
    """
    return FellegiSunter(
        m=[
            [1.0, 0.60, 0.25, 0.10, 0.04, 0.01],  # name: exact, core exact, JW >= 0.92, JW >= 0.8, else
            [1.0, 0.90, 0.07, 0.03],  # code: exact, one edit, else
            [1.0, 0.55, 0.20, 0.15, 0.06, 0.04],  # address: exact, up to house number, >= 0.9, >= 0.75, else
            [1.0, 0.95, 0.05],  # region: exact, else
        ],
        u=[
            [1.0, 1e-4, 3e-4, 2e-3, 1e-2, 0.9877],
            [1.0, 1e-4, 1e-3, 0.9989],
            [1.0, 1e-4, 1e-3, 5e-3, 2e-2, 0.9739],
            [1.0, 0.10, 0.90],
        ],
        prior=0.1,
    )


def resolve_parties(
    parties: Sequence[Party],
    objects: Sequence[KnownObject],
    *,
    strong: float = 0.95,
    weak: float = 0.5,
    context: Sequence[Party] = (),
    seed: int = 0,
) -> list[Resolution]:
    """One resolution per party, in order (see the module docstring for the rules)."""
    if not 0 < weak <= strong < 1:
        raise ValueError(f"thresholds must satisfy 0 < weak <= strong < 1 (weak={weak}, strong={strong})")
    known = {normalise_code(obj.code): obj for obj in objects if obj.code}
    by_core: dict[str, set[str]] = defaultdict(set)
    for code, obj in known.items():
        by_core[_core(obj.name)].add(code)
    codes = [normalise_code(party.code) for party in parties]
    reasons = [_suspicion(party, code, known, by_core) for party, code in zip(parties, codes, strict=True)]
    suspects = {party.key for party, reason in zip(parties, reasons, strict=True) if reason}
    matches = _score(parties, codes, reasons, objects, context, weak=weak, seed=seed) if suspects else {}
    out = []
    for party, code, reason in zip(parties, codes, reasons, strict=True):
        if not reason:
            out.append(Resolution(party.key, code, "confirmed", code, 1.0))
        else:
            out.append(_verdict(party.key, code, reason, matches.get(party.key, []), known, strong=strong, weak=weak))
    return out


def _score(
    parties: Sequence[Party],
    codes: Sequence[str],
    reasons: Sequence[str],
    objects: Sequence[KnownObject],
    context: Sequence[Party],
    *,
    weak: float,
    seed: int,
) -> dict[str, list[Match]]:
    """Matches of every party reaching ``weak``, grouped by party key."""
    left = [_row(party.key, party, code) for party, code, reason in zip(parties, codes, reasons, strict=True)]
    left += [_row(f"\0context:{n}", party, normalise_code(party.code)) for n, party in enumerate(context)]
    right = [
        {"id": code, "name": obj.name, "code": code, "address": obj.address, "region": obj.region_code}
        for obj in objects
        if (code := normalise_code(obj.code))
    ]
    config = ERConfig(id_column="id", compare=OBJECT_COMPARISONS, threshold=weak)
    model = prior_model() if len(left) < _MIN_FIT else None
    grouped: dict[str, list[Match]] = defaultdict(list)
    for match in link(left, right, config, seed=seed, model=model).matches:
        grouped[match.left_id].append(match)
    return grouped


def _row(key: str, party: Party, code: str) -> dict[str, str]:
    return {"id": key, "name": party.name, "code": code, "address": party.address, "region": party.region_code}


def _verdict(
    key: str,
    code: str,
    reason: str,
    matches: Iterable[Match],
    known: dict[str, KnownObject],
    *,
    strong: float,
    weak: float,
) -> Resolution:
    ranked = sorted(matches, key=lambda m: (-m.probability, m.right_id))
    candidates = tuple(Candidate(m.right_id, known[m.right_id].name, m.probability) for m in ranked[:_MAX_CANDIDATES])
    if not candidates:
        if reason.endswith("names no known object"):
            # a well-formed code of an object this node does not hold (another region's, a person's), and
            # nothing held resembles the record: its own code stands
            return Resolution(key, code, "confirmed", code, 1.0, reason)
        return Resolution(key, code, "unmatched", "", 0.0, reason)
    best = candidates[0]
    # candidates all reach ``weak``: a second one means the evidence does not point at one object
    status: ResolutionStatus = "linked" if best.probability >= strong and len(candidates) == 1 else "flagged"
    return Resolution(key, code, status, best.code, best.probability, reason, candidates)
