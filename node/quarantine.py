"""Operator work on quarantined intake rows: fix the held row, replay it through the ingest path, or dismiss it.

Only ``ingest_row`` entries (rows of files and collectors this node read) are
fixed and replayed: the row held is the input as read, so a replay cleans it
with the default cleaning of file ingest, reads it with the same column rules,
validates it with the same rules, checks the cross-record rule against what
the node holds by then (an action naming an inspection that has arrived since
is stored) and stores it with the same store call as
:func:`node.ingest.ingest_rows` (a sequence number, the outbox, the audit
log). Batches refused from children (kind ``batch``) are signed by their
origin: a change would break the signature, so they are never replayed here;
the child parks the batch in its dead letters and sends it again
(``jgnode deadletter retry``) once the cause is fixed. They, and the records
the projector flags (kind ``projection``), can be listed, shown and dismissed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from adapters.csv_records import DATASET_TYPES, CsvRow, columns
from node.errors import ConfigError, NotFoundError
from node.ingest import read_row, record_encoder, reference_problems, same_content, to_new_record
from node.store import QuarantineEntry, Store

__all__ = ["dismiss_entries", "fix_entry", "held_entries", "raw_row", "recheck", "replay_entries"]

REPLAYABLE = "ingest_row"


def held_entries(store: Store, ids: Sequence[int]) -> list[QuarantineEntry]:
    """The entries ``ids``, in that order; NotFoundError names any that are missing."""
    found = {e.id: e for e in store.quarantined(ids=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFoundError(f"no quarantine entry {', '.join(missing)}")
    return [found[i] for i in ids]


def raw_row(entry: QuarantineEntry) -> dict[str, str]:
    """The row an ``ingest_row`` entry holds, column -> text."""
    if entry.kind != REPLAYABLE:
        raise ConfigError(
            f"quarantine entry {entry.id} is a {entry.kind}, not a row: only ingest rows are fixed and replayed "
            "(a child resends a refused batch itself: jgnode deadletter retry on the child)"
        )
    row = json.loads(entry.raw)
    if not isinstance(row, dict):
        raise ConfigError(f"quarantine entry {entry.id} does not hold a row")
    return {str(k): str(v) for k, v in row.items()}


def recheck(dataset: str, row: Mapping[str, str], store: Store | None = None) -> tuple[CsvRow, list[str]]:
    """Clean, read and validate one held row as file ingest does; returns the row read and every problem.

    With ``store``, the cross-record rule too: an action naming an inspection
    must name one ``store`` holds by now.
    """
    read, problems, _findings = read_row(dataset, 0, row)
    if store is not None and read.record is not None:
        problems += reference_problems(store, dataset, read.record)
    return read, problems


def fix_entry(store: Store, entry: QuarantineEntry, changes: Mapping[str, str], *, now_us: int) -> list[str]:
    """Set columns of a held row; returns what is still wrong with it (empty: ready to replay)."""
    row = raw_row(entry)
    known = {*columns(DATASET_TYPES[entry.dataset]), "op"}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ConfigError(f"{entry.dataset} has no column {', '.join(unknown)}; columns: {', '.join(sorted(known))}")
    audit = {"dataset": entry.dataset, "set": {k: [row.get(k, ""), v] for k, v in changes.items()}}
    fixed = {**row, **changes}
    _read, problems = recheck(entry.dataset, fixed, store)
    raw = json.dumps(fixed, ensure_ascii=False).encode()
    store.amend_quarantined(entry, raw, problems, changes=audit, now_us=now_us)
    return problems


def replay_entries(store: Store, entries: Sequence[QuarantineEntry], *, now_us: int) -> list[tuple[int, bool, str]]:
    """Re-validate and store each entry's row; returns (id, stored or dropped as duplicate, outcome) each."""
    outcomes = []
    for entry in entries:
        read, problems = recheck(entry.dataset, raw_row(entry), store)
        record = None if problems else to_new_record(read.record or (read.uid, None), now_us=now_us)
        encode = record_encoder(store.node_id, entry.dataset)
        outcome = store.replay_quarantined(entry, record, problems, encode=encode, same=same_content, now_us=now_us)
        outcomes.append((entry.id, record is not None, outcome))
    return outcomes


def dismiss_entries(store: Store, entries: Sequence[QuarantineEntry], reason: str, *, now_us: int) -> None:
    """Give up held entries, saying why (kept, with the reason, for the record)."""
    if not reason.strip():
        raise ConfigError("say why (--reason)")
    for entry in entries:
        store.dismiss_quarantined(entry, reason.strip(), now_us=now_us)
