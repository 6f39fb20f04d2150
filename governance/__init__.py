"""Data standards and governance: dataset records, code rules and validation."""

from governance._records import (
    COMPLAINT,
    DATASETS,
    INSPECTION,
    PENALTY,
    REGULATED_OBJECT,
    ActionHeader,
    CheckItem,
    Complaint,
    Counterparty,
    DatasetRecord,
    Inspection,
    Inspector,
    Penalty,
    RegulatedObject,
)
from governance._validate import cross_field_problems, validate

__all__ = [
    "COMPLAINT",
    "DATASETS",
    "INSPECTION",
    "PENALTY",
    "REGULATED_OBJECT",
    "ActionHeader",
    "CheckItem",
    "Complaint",
    "Counterparty",
    "DatasetRecord",
    "Inspection",
    "Inspector",
    "Penalty",
    "RegulatedObject",
    "cross_field_problems",
    "validate",
]
