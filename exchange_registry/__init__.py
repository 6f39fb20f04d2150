"""Catalog of datasets, nodes and subscriptions; signed registry snapshots (issue 5)."""
