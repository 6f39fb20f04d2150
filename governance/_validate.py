"""Record-level validation of the standard datasets (the rules of STANDARDS.md).

Returns problems as data; callers decide to quarantine. The rules of each
dataset family live in ``_validate_actions``, ``_validate_catalog``,
``_validate_objects`` and ``_validate_personnel``; this module only dispatches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from governance._records import (
    Complaint,
    CreditGrade,
    DatasetRecord,
    Enforcement,
    Inspection,
    ListEntry,
    OtherAction,
    Penalty,
    Personnel,
    PublicOpinion,
    RegulatedObject,
)
from governance._records_catalog import ImplList, Matter, MatterMapping, MatterSub
from governance._validate_actions import (
    enforcement_cross_field,
    enforcement_problems,
    inspection_cross_field,
    inspection_problems,
    other_action_cross_field,
    other_action_problems,
    penalty_cross_field,
    penalty_problems,
)
from governance._validate_catalog import (
    impl_list_cross_field,
    impl_list_problems,
    matter_mapping_problems,
    matter_problems,
    matter_sub_cross_field,
    matter_sub_problems,
)
from governance._validate_objects import (
    complaint_problems,
    credit_grade_problems,
    list_entry_cross_field,
    list_entry_problems,
    public_opinion_problems,
    regulated_object_problems,
)
from governance._validate_personnel import personnel_cross_field, personnel_problems

__all__ = ["cross_field_problems", "validate"]

_Rule = Callable[[Any, list[str]], None]

_RULES: Final[dict[type, _Rule]] = {
    RegulatedObject: regulated_object_problems,
    CreditGrade: credit_grade_problems,
    ListEntry: list_entry_problems,
    Inspection: inspection_problems,
    Penalty: penalty_problems,
    Enforcement: enforcement_problems,
    OtherAction: other_action_problems,
    Complaint: complaint_problems,
    PublicOpinion: public_opinion_problems,
    Personnel: personnel_problems,
    Matter: matter_problems,
    MatterSub: matter_sub_problems,
    ImplList: impl_list_problems,
    MatterMapping: matter_mapping_problems,
}
_CROSS_FIELD_RULES: Final[dict[type, _Rule]] = {
    Inspection: inspection_cross_field,
    Penalty: penalty_cross_field,
    Enforcement: enforcement_cross_field,
    OtherAction: other_action_cross_field,
    ListEntry: list_entry_cross_field,
    Personnel: personnel_cross_field,
    MatterSub: matter_sub_cross_field,
    ImplList: impl_list_cross_field,
}


def cross_field_problems(record: DatasetRecord) -> list[str]:
    """Only the cross-field rules of :func:`validate`, re-runnable on stored records.

    Actions: submission not before the action date (the decision date of a
    penalty, the start of an enforcement or other action); at least two
    inspectors with certificate numbers (inspections); decision not before
    filing and closing after filing (penalties); end and extension not before
    the start, extension not after the end (enforcement, other actions).
    Others: a list entry removed after it was entered; an officer's birth date
    and sex as in the ID number and a certificate ending after it starts; a
    sub-item cancelled after it takes effect; an implementation list's level
    and agency as in its code. A date that does not parse is a field problem,
    not a cross-field one: the rules that need it are skipped.
    """
    return _run(_CROSS_FIELD_RULES, record)


def validate(record: DatasetRecord) -> list[str]:
    """Problems that keep a record out of the store (empty when it is acceptable)."""
    return _run(_RULES, record)


def _run(rules: dict[type, _Rule], record: DatasetRecord) -> list[str]:
    problems: list[str] = []
    rule = rules.get(type(record))
    if rule is not None:
        rule(record, problems)
    return problems
