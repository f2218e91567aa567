"""The determination contract (../shared/spec/determination.md) as pydantic models.

The CLI's ``--json`` output, the API's result body, stored results and the reviewer page all use these models.
"""

from models.determination import (
    Box,
    CriterionId,
    CriterionResult,
    Cue,
    Determination,
    DocumentInfo,
    Evidence,
    PageInfo,
    Qualifiers,
    RequestType,
    ReviewRequest,
    SafetyFlag,
    Stance,
    Status,
    SuggestedOutcome,
)
from models.findings import Finding

__all__ = [
    "Box",
    "CriterionId",
    "CriterionResult",
    "Cue",
    "Determination",
    "DocumentInfo",
    "Evidence",
    "Finding",
    "PageInfo",
    "Qualifiers",
    "RequestType",
    "ReviewRequest",
    "SafetyFlag",
    "Stance",
    "Status",
    "SuggestedOutcome",
]
