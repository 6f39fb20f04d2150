"""Clustering of matched pairs into entities: connected components by union-find."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["connected_components", "label_clusters"]


def connected_components(size: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """For each of ``size`` records, the smallest record index in its component."""
    parent = list(range(size))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving keeps the trees flat
            node = parent[node]
        return node

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [root(node) for node in range(size)]


def label_clusters(ids: Sequence[str], pairs: Iterable[tuple[int, int]]) -> list[tuple[str, str]]:
    """``(record_id, cluster_id)`` per record in input order.

    A cluster's id is the id of its member that comes first in the input, so
    singletons keep their own id and ids do not change when records are appended.
    """
    roots = connected_components(len(ids), pairs)
    return [(record_id, ids[roots[n]]) for n, record_id in enumerate(ids)]
