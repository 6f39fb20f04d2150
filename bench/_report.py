"""The benchmark's report: medians, ratios to the plain-text runs, peak RSS, and the targets.

A set-up and shape with any failed run (records lost, doubled or refused) has
no median: its figures and the targets that use them read FAILED.
"""

from __future__ import annotations

import statistics

from bench._tree import SETUPS, SHAPES, Run, Setup

TARGETS = {
    "one_hop": 100_000,  # issue 2, plain text
    "vs_naive": 50.0,
    "vs_raw": 0.25,
    "three_tier": 50_000,  # issue 2 in plain text; issue 3 with mutual TLS and Ed25519
    "sm2_vs_ed25519": 0.9,  # issue 3: SM2 within 10% of Ed25519, both with mutual TLS
    "rss_mb": 300,
}
Results = dict[tuple[str, int], list[Run]]  # (set-up name, nodes in the chain) -> runs


def report(results: Results, setups: list[Setup], *, naive: tuple[float, int] | None, raws: list[float]) -> None:
    """Print everything: rates and ratios, every run, peak RSS, then the targets."""
    _rates(results, setups)
    peak = _rss(results)
    if naive is not None and ("plain", 2) in results:
        _plain_targets(results, naive, raws)
    _tls_targets(results, peak)


def median(runs: list[Run]) -> float | None:
    """Median records/s, or None when any run failed its checks (a lossy run proves nothing)."""
    if not runs or any(r.problems for r in runs):
        return None
    return statistics.median(r.rate for r in runs)


def _rate(value: float | None) -> str:
    return "FAILED" if value is None else f"{value:,.0f}"


def _quotient(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else value / base


def _times(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}x"


def _rates(results: Results, setups: list[Setup]) -> None:
    runs = max(len(r) for r in results.values())
    print(f"\nrecords/s landed at the last node, median of {runs} runs (x: ratio to plain text, same shape)")
    print(f"  {'set-up':<38}{'one hop':>22}{'three tiers':>22}")
    for setup in setups:
        cells = []
        for size in SHAPES:
            if (setup.name, size) not in results:
                cells.append("-")
                continue
            value = median(results[setup.name, size])
            base = median(results.get(("plain", size), []))
            cells.append(f"{_rate(value)} ({_times(_quotient(value, base))})")
        print(f"  {setup.label:<38}{cells[0]:>22}{cells[1]:>22}")
    print("every run, in order:")
    for (name, size), shape_runs in results.items():
        listed = ", ".join("FAILED" if r.problems else f"{r.rate:,.0f}" for r in shape_runs)
        print(f"  {SETUPS[name].label:<38} {SHAPES[size]:<12} {listed}")


def _rss(results: Results) -> float:
    """Peak RSS per node (max over runs) for every set-up and shape; returns the overall max."""
    print("peak RSS per node, MB (max over runs):")
    overall = 0.0
    for (name, size), runs in results.items():
        peaks: dict[str, float] = {}
        for run in runs:
            for tier, mb in run.rss_mb.items():
                peaks[tier] = max(mb, peaks.get(tier, 0.0))
        overall = max([overall, *peaks.values()])
        listed = ", ".join(f"{tier} {mb:.0f}" for tier, mb in peaks.items())
        print(f"  {SETUPS[name].label:<38} {SHAPES[size]:<12} {listed}")
    return overall


def _verdict(value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return "FAILED (a run lost, doubled or refused records; see above)"
    met = value <= target if at_most else value >= target
    return "meets target" if met else "MISSES TARGET"


def _target(label: str, shown: str, value: float | None, target: float, goal: str) -> None:
    """One target line; ``goal`` shows ``target`` as ">= ..." or "<= ..."."""
    at_most = goal.startswith("<=")
    print(f"  {label:<48} {shown:>10}   target {goal:<10} {_verdict(value, target, at_most=at_most)}")


def _paired(results: Results, name: str, base: str, size: int) -> str:
    """Ratios run by run (the same round of the same invocation): less exposed to drift than medians."""
    pairs = zip(results[name, size], results[base, size], strict=False)
    return ", ".join("-" if a.problems or b.problems else f"{a.rate / b.rate:.2f}" for a, b in pairs)


def _plain_targets(results: Results, naive: tuple[float, int], raws: list[float]) -> None:
    """Issue 2's targets, on the plain-text runs, with the naive baseline and the raw limit."""
    hop, three = median(results["plain", 2]), median(results.get(("plain", 3), []))
    naive_rate, naive_records = naive
    raw = statistics.median(raws)
    print(
        f"\nnaive baseline {naive_rate:,.0f} records/s ({naive_records:,} records: unary RPC, signature and ORM "
        f"insert per record); raw sqlite3 executemany {raw:,.0f} records/s (median; runs "
        + ", ".join(f"{v:,.0f}" for v in raws)
        + ")"
    )
    print("issue 2 targets (plain text, Ed25519):")
    _target("one hop county->city, records/s", _rate(hop), hop, TARGETS["one_hop"], f">= {TARGETS['one_hop']:,}")
    vs_naive = _quotient(hop, naive_rate)
    _target(
        "one hop / naive baseline", _times(vs_naive, 0), vs_naive, TARGETS["vs_naive"], f">= {TARGETS['vs_naive']:.0f}x"
    )
    vs_raw = _quotient(hop, raw)
    shown = "n/a" if vs_raw is None else f"{vs_raw:.0%}"
    _target("one hop / raw sqlite3", shown, vs_raw, TARGETS["vs_raw"], f">= {TARGETS['vs_raw']:.0%}")
    _target(
        "three tiers, at the province, records/s",
        _rate(three),
        three,
        TARGETS["three_tier"],
        f">= {TARGETS['three_tier']:,}",
    )


def _tls_targets(results: Results, peak_mb: float) -> None:
    """Issue 3's targets: three tiers with mutual TLS and Ed25519, SM2 within 10% of Ed25519; and RSS."""
    print("issue 3 targets (mutual TLS, every batch fully verified at each tier):")
    if ("tls", 3) in results:
        tls = median(results["tls", 3])
        _target(
            "three tiers, Ed25519, at the province, records/s",
            _rate(tls),
            tls,
            TARGETS["three_tier"],
            f">= {TARGETS['three_tier']:,}",
        )
    for size in SHAPES:
        if ("tls", size) not in results or ("sm2", size) not in results:
            continue
        ed, sm = median(results["tls", size]), median(results["sm2", size])
        ratio = _quotient(sm, ed)
        label = f"{SHAPES[size]}, SM2 / Ed25519 ({_rate(sm)} / {_rate(ed)})"
        if size == 3:
            _target(label, _times(ratio), ratio, TARGETS["sm2_vs_ed25519"], f">= {TARGETS['sm2_vs_ed25519']:.2f}x")
        else:
            print(f"  {label:<48} {_times(ratio):>10}   (no target)")
        print(f"    run by run: {_paired(results, 'sm2', 'tls', size)}")
    _target("peak RSS of any node, MB", f"{peak_mb:.0f}", peak_mb, TARGETS["rss_mb"], f"<= {TARGETS['rss_mb']}")
