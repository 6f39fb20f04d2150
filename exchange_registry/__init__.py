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
from exchange_registry._subscriptions import (
    SUBSCRIPTION_STATES,
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
    "SHARING_CLASSES",
    "SUBSCRIPTION_STATES",
    "UPDATE_CYCLES",
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
