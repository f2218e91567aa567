"""Pydantic models of the public determination contract.

Field names and status words are fixed by ``shared/spec/determination.md``; fields may be added beside them.
Coordinates are PDF points with the origin at the top-left of the page (pdfplumber's convention):
``x0``/``x1`` from the left edge, ``top``/``bottom`` from the top edge.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RequestType = Literal["initial", "reauthorization"]
Status = Literal["met", "not_met", "insufficient", "not_applicable"]
SuggestedOutcome = Literal["meets_criteria", "does_not_meet_criteria", "insufficient_documentation"]
Stance = Literal["supports", "contradicts"]
CriterionId = str
PageSource = Literal["text", "ocr", "plain"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReviewRequest(_Model):
    """Given by the caller, never guessed from the notes."""

    request_type: RequestType
    nonformulary_exception: bool = False


class Box(_Model):
    """A highlight rectangle on one page, in PDF points from the page's top-left corner."""

    page: int = Field(ge=1, description="1-based page number")
    x0: float
    top: float
    x1: float
    bottom: float


class Cue(_Model):
    """The words that set a qualifier, e.g. 'no evidence of' for negated."""

    qualifier: str
    text: str
    start: int = Field(description="offset of the cue in the document's text")
    end: int
    rule: str = Field(description="the ConText or section rule that matched")
    document: str | None = Field(
        default=None, description="the document the cue is in, when it is not the mention's own (offsets are into it)"
    )


class Qualifiers(_Model):
    negated: bool = False
    family: bool = False
    historical: bool = False
    hypothetical: bool = False
    uncertain: bool = False
    cues: list[Cue] = Field(default_factory=list)

    def active(self) -> list[str]:
        return [
            name
            for name in ("negated", "family", "historical", "hypothetical", "uncertain")
            if getattr(self, name)
        ]


class Evidence(_Model):
    """One cited span of one document."""

    document: str = Field(description="the submitted file's name")
    page: int = Field(ge=1)
    start: int = Field(ge=0, description="offset into the document's extracted text")
    end: int = Field(ge=0)
    text: str = Field(description="exactly document_text[start:end]")
    section: str | None = None
    qualifiers: Qualifiers = Field(default_factory=Qualifiers)
    stance: Stance
    concept: str = Field(description="what was found, e.g. 'recurrence'")
    rule: str = Field(description="id of the target rule that found it")
    matched_text: str = Field(description="the words the rule matched, inside text")
    requirement: str | None = Field(default=None, description="which requirement of the criterion it satisfies")
    boxes: list[Box] = Field(default_factory=list)


class CriterionResult(_Model):
    id: CriterionId
    question: str
    status: Status
    reason: str = Field(description="one sentence saying why")
    conflict: bool = Field(default=False, description="supporting and contradicting evidence both present")
    evidence: list[Evidence] = Field(default_factory=list)


class SafetyFlag(_Model):
    id: str
    label: str
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)


class PageInfo(_Model):
    number: int = Field(ge=1)
    width: float
    height: float
    source: PageSource = Field(description="where the page's text came from: its text layer, OCR, or a plain-text file")


class DocumentInfo(_Model):
    name: str
    sha256: str
    pages: list[PageInfo]
    characters: int


class Determination(_Model):
    policy_id: str
    policy_title: str
    request: ReviewRequest
    criteria: list[CriterionResult]
    suggested_outcome: SuggestedOutcome
    approval_months: int | None
    safety_flags: list[SafetyFlag] = Field(default_factory=list)
    documents: list[DocumentInfo] = Field(default_factory=list)

    def criterion(self, criterion_id: str) -> CriterionResult:
        for result in self.criteria:
            if result.id == criterion_id:
                return result
        raise KeyError(criterion_id)
