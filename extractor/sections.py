"""Sections: medspaCy's Sectionizer, writing only ``doc._.sections``.

The headers are found as medspaCy finds them (its matcher and pruning, headers at the start of a line, parent
sections), with the token patterns served by a RuleMatcher (extractor/token_matcher.py). medspaCy then also writes
the section onto every token of the doc (``token._.section``) and section-based assertion flags onto the entities;
nothing here reads those, and the per-token writes cost as much as the matching. The section of a mention is looked
up in ``doc._.sections`` (extractor/findings.py).
"""

from medspacy.section_detection import Section, Sectionizer, SectionRule
from spacy.language import Language
from spacy.tokens import Doc

from extractor.token_matcher import use_rule_matcher


class Sections(Sectionizer):
    def __init__(self, nlp: Language, name: str, require_start_line: bool) -> None:
        super().__init__(nlp, name=name, rules=None, require_start_line=require_start_line, span_attrs=None)
        use_rule_matcher(self._Sectionizer__matcher)  # medspaCy 1.3.1 (pinned) keeps its matcher private

    def __call__(self, doc: Doc) -> Doc:
        matcher = self._Sectionizer__matcher
        matches = matcher(doc)
        if self.require_start_line:
            matches = self.filter_start_lines(doc, matches)
        if self.require_end_line:
            matches = self.filter_end_lines(doc, matches)
        if self._parent_sections:
            matches = self.set_parent_sections(matches)
        doc._.sections = sections_from_headers(doc, matches, matcher.rule_map, self.max_section_length)
        return doc


def sections_from_headers(
    doc: Doc, matches: list[tuple], rule_map: dict[str, SectionRule], max_section_length: int | None
) -> list[Section]:
    """medspaCy's sections for the header matches ``(match_id, start, end[, parent index])``: text before the first
    header is a section without category; each header's body runs to the next header (or its scope limit)."""
    if not matches:
        return [Section(None, 0, 0, 0, len(doc))]
    sections: list[Section] = []
    if matches[0][1] != 0:
        sections.append(Section(None, 0, 0, 0, matches[0][1]))
    for i, match in enumerate(matches):
        match_id, start, end = match[:3]
        parent = sections[match[3]] if len(match) == 4 and match[3] is not None else None
        rule = rule_map[doc.vocab.strings[match_id]]
        stop = matches[i + 1][1] if i + 1 < len(matches) else len(doc)
        scope = rule.max_scope if rule.max_scope is not None else max_section_length
        body_end = stop if scope is None else min(end + scope, stop)
        sections.append(Section(rule.category, start, end, end, body_end, parent, rule))
    return sections


@Language.factory("chartcheck_sections", default_config={"require_start_line": True})
def make_sections(nlp: Language, name: str, require_start_line: bool) -> Sections:
    return Sections(nlp, name, require_start_line)
