"""Catalog of datasets, nodes and subscriptions; signed registry snapshots (issue 5)."""

from exchange_registry._catalog import (
    DATASET_NAMES,
    CatalogEntry,
    FieldDescriptor,
    SharingClass,
    UpdateCycle,
    build_catalog,
    field_descriptors,
    resource_sequence,
)
from exchange_registry._subscriptions import (
    Application,
    SubscriptionError,
    SubscriptionState,
    check_application,
    effective_state,
    fields_granted,
    first_state,
    next_state,
)

__all__ = [
    "DATASET_NAMES",
    "Application",
    "CatalogEntry",
    "FieldDescriptor",
    "SharingClass",
    "SubscriptionError",
    "SubscriptionState",
    "UpdateCycle",
    "build_catalog",
    "check_application",
    "effective_state",
    "field_descriptors",
    "fields_granted",
    "first_state",
    "next_state",
    "resource_sequence",
]
