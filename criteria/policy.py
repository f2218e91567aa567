"""Policies as YAML, parsed by one strict schema (unknown keys or bad values stop with the file and the key)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from extractor.errors import RuleFileError
from extractor.rules_loader import Qualifier
from models.determination import RequestType, Status, SuggestedOutcome

POLICIES_DIR = Path(__file__).parent / "policies"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Strict):
    any_of: list[str] = Field(min_length=1, description="concepts, any one of which satisfies the requirement")
    accept: list[Qualifier] = Field(default_factory=list, description="qualifiers that still let a mention count")
    label: str
    inferred_by: list[str] = Field(
        default_factory=list,
        description="target rules that infer the concept rather than state it ('new nodules' near a scar for a "
        "recurrence): their mentions count only while no note calls the concept itself uncertain",
    )
    gives_way_to: list[str] = Field(
        default_factory=list,
        description="concepts that, stated for the patient, also outweigh the inferring mentions: an excision scar on "
        "exam infers a melanoma surgery only until a note says the melanoma was never operated on",
    )
    outweighed_by: list[str] = Field(
        default_factory=list,
        description="concepts that, affirmed for the patient (the past counts), outweigh every mention of this "
        "requirement: a note's 'never excised' gives way to the operating surgeon's own account of the excision",
    )

    @model_validator(mode="after")
    def _only_historical(self) -> Requirement:
        forbidden = set(self.accept) - {"historical"}
        if forbidden:
            raise ValueError(f"negated, family, hypothetical and uncertain mentions never count: {sorted(forbidden)}")
        if self.gives_way_to and not self.inferred_by:
            raise ValueError("gives_way_to needs the inferred_by rules that give way")
        return self


class Reasons(_Strict):
    met: str
    not_met: str | None = None
    insufficient: str
    conflict: str | None = None
    neutral: str | None = None
    doubt: str | None = None
    doubted_and_contradicted: str | None = None
    not_applicable: str = "This criterion does not apply to this request type."


class Criterion(_Strict):
    id: str
    question: str
    source: str
    applies_to: list[RequestType]
    scope: Literal["anywhere", "same_document"] = "anywhere"
    requires: list[Requirement] = Field(min_length=1)
    contradicted_by: list[Requirement] = Field(default_factory=list)
    neutral: list[Requirement] = Field(default_factory=list)
    doubted_by: list[Requirement] = Field(
        default_factory=list,
        description="mentions that do not contradict the criterion alone but put its support in doubt: with support, "
        "the criterion is insufficient (reasons.doubt) and both sides are shown",
    )
    when_both: Status = "insufficient"
    when_doubted_and_contradicted: Status | None = Field(
        default=None,
        description="the status when the support is both doubted and contradicted (a new primary, never excised): "
        "the doubt says which side a reviewer believes",
    )
    reasons: Reasons

    @model_validator(mode="after")
    def _reasons_cover_statuses(self) -> Criterion:
        if self.contradicted_by and self.reasons.not_met is None:
            raise ValueError(f"criterion {self.id}: contradicted_by needs reasons.not_met")
        if self.contradicted_by and self.when_both == "insufficient" and self.reasons.conflict is None:
            raise ValueError(f"criterion {self.id}: when_both: insufficient needs reasons.conflict")
        if self.neutral and self.reasons.neutral is None:
            raise ValueError(f"criterion {self.id}: neutral needs reasons.neutral")
        if self.doubted_by and self.reasons.doubt is None:
            raise ValueError(f"criterion {self.id}: doubted_by needs reasons.doubt")
        if self.when_doubted_and_contradicted and self.reasons.doubted_and_contradicted is None:
            raise ValueError(f"criterion {self.id}: when_doubted_and_contradicted needs reasons.doubted_and_contradicted")
        return self


class Outcomes(_Strict):
    all_met: SuggestedOutcome
    any_not_met: SuggestedOutcome
    otherwise: SuggestedOutcome


class ApprovalRule(_Strict):
    request_type: RequestType
    nonformulary_exception: bool
    months: int = Field(gt=0)


class FlagRule(_Strict):
    id: str
    label: str
    source: str
    any_of: list[str] = Field(min_length=1)
    accept: list[Qualifier] = Field(default_factory=list)
    reason: str


class Policy(_Strict):
    id: str
    title: str
    source: str
    criteria: list[Criterion]
    outcomes: Outcomes
    approval_months: list[ApprovalRule]
    safety_flags: list[FlagRule] = Field(default_factory=list)
    evidence_section_rank: dict[str, int] = Field(
        default_factory=dict, description="which sections' sentences are cited first (lower first; unlisted last)"
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> Policy:
        ids = [c.id for c in self.criteria]
        if len(ids) != len(set(ids)):
            raise ValueError("criterion ids must be unique")
        return self


class UnknownPolicy(RuleFileError):
    pass


def load_policy_file(path: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RuleFileError(f"{path}: cannot read policy file: {error}") from None
    try:
        return Policy.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RuleFileError(f"{path}: {where}: {first['msg']}") from None


def load_policy(policy_id: str = "5.01.562") -> Policy:
    path = POLICIES_DIR / f"{policy_id}.yaml"
    if not path.is_file():
        raise UnknownPolicy(f"no policy file for {policy_id!r} in {POLICIES_DIR}")
    return load_policy_file(path)
