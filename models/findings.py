"""What the NLP hands the criteria engine: one explained mention of a concept."""

from __future__ import annotations

from pydantic import Field

from models.determination import Box, Cue, Qualifiers, _Model


class Finding(_Model):
    """A concept found in a document, with everything needed to explain it and draw it."""

    concept: str = Field(description="the target rule's category, e.g. 'recurrence'")
    rule: str = Field(description="the target rule's id")
    document: str
    start: int = Field(description="offset of the matched words in the document's text")
    end: int
    matched_text: str
    sentence_start: int = Field(description="offsets of the sentence the reviewer would cite")
    sentence_end: int
    sentence: str
    page: int = Field(ge=1)
    section: str | None = None
    qualifiers: Qualifiers = Field(default_factory=Qualifiers)
    boxes: list[Box] = Field(default_factory=list)

    def qualified(self, cue: Cue) -> Finding:
        """A copy also carrying the cue's qualifier, the cue added to those that explain it."""
        qualifiers = self.qualifiers.model_copy(update={cue.qualifier: True, "cues": [*self.qualifiers.cues, cue]})
        return self.model_copy(update={"qualifiers": qualifiers})
