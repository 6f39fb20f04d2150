"""Catalog of datasets, nodes and subscriptions; signed registry snapshots (issue 5)."""

from exchange_registry._catalog import (
    DATASET_NAMES,
    SHARING_CLASSES,
    UPDATE_CYCLES,
    CatalogEntry,
    FieldDescriptor,
    SharingClass,
    UpdateCycle,
    build_catalog,
    field_descriptors,
    resource_sequence,
)

__all__ = [
    "DATASET_NAMES",
    "SHARING_CLASSES",
    "UPDATE_CYCLES",
    "CatalogEntry",
    "FieldDescriptor",
    "SharingClass",
    "UpdateCycle",
    "build_catalog",
    "field_descriptors",
    "resource_sequence",
]
