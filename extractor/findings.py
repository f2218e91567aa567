"""Findings from a processed Doc: every target mention, explained (rule, words, section, qualifiers with their cues,
sentence, page and boxes). ``process`` computes; nothing is written back onto the Doc."""

from __future__ import annotations

import re
from bisect import bisect_right

from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor.benign import mark_benign_places, mark_doubted_lesions
from extractor.document import TextDocument
from extractor.encounters import (
    mark_addendum_revisions,
    mark_earlier_visits,
    mark_history_denied_now,
    mark_necessity_letter_exams,
    mark_old_dated_statements,
    mark_past_plans,
    mark_quoted_opinions,
    mark_settled_in_assessment,
)
from extractor.first_hand import first_hand_findings
from extractor.forms import mark_request_form
from extractor.nodes import mark_unplaced_nodes
from extractor.retractions import mark_retracted_quotes
from extractor.rules_loader import CATEGORY_QUALIFIER, DeniedList, NotDoneRule, RuleSet, TargetMeta, default_rules
from extractor.sentences import STARTS_KEY, join_wrapped_lines, sentence_starts
from extractor.nearby import denial_ok, sentence_bounds
from extractor.tables import (
    in_visit_table_header,
    lesion_tables,
    mark_denied_table_rows,
    mark_gone_table_lesions,
    mark_pre_treatment_response,
    prose_size_findings,
    sum_findings,
    table_findings,
    visit_table_findings,
    visit_tables,
)
from models import Box, Cue, Finding, Qualifiers

# (start_char, end_char, category, qualifier, title span, the concepts the qualifier is for: all when empty) of one
# section of the doc.
SectionInfo = tuple[int, int, str, str | None, Span | None, frozenset[str]]


def _cues_and_flags(ent: Span) -> Qualifiers:
    """The qualifiers ConText gave the mention, each with its cue."""
    doc = ent.doc
    flags: dict[str, bool] = {}
    cues: list[Cue] = []
    for modifier in ent._.modifiers:
        qualifier = CATEGORY_QUALIFIER.get(modifier.category)
        if qualifier is None:
            continue
        start, end = modifier.modifier_span
        span = doc[start:end]
        flags[qualifier] = True
        rule_id = (modifier.rule.metadata or {}).get("id", modifier.rule.literal)
        cues.append(Cue(qualifier=qualifier, text=span.text, start=span.start_char, end=span.end_char, rule=rule_id))
    return Qualifiers(**flags, cues=cues)


def _section_cue(section: SectionInfo | None, concept: str) -> Cue | None:
    """The cue of the qualifier the section gives mentions of the concept (its heading), if it gives one."""
    if section is None or not section[3] or section[4] is None or (section[5] and concept not in section[5]):
        return None
    _start, _end, category, qualifier, title, _concepts = section
    return Cue(
        qualifier=qualifier, text=title.text.strip(), start=title.start_char, end=title.end_char,
        rule=f"section:{category}",
    )


class _Sections:
    """The doc's sections (in order, not overlapping, as medspaCy makes them) with their starts, for bisecting."""

    def __init__(self, sections: list[SectionInfo]) -> None:
        self.sections = sections
        self.starts = [s[0] for s in sections]

    def start_before(self, offset: int) -> int:
        """Start of the last section starting at or before offset (0 if none)."""
        k = bisect_right(self.starts, offset)
        return self.starts[k - 1] if k else 0

    def at(self, offset: int) -> SectionInfo | None:
        k = bisect_right(self.starts, offset)
        if k and offset < self.sections[k - 1][1]:
            return self.sections[k - 1]
        return None


def _belongs_to_first(ents: list[Span], index: int, owners: list[str], sections: _Sections) -> bool:
    """Is the nearest owner concept named before ents[index], in the same section, the first of ``owners``?
    No owner named before it in the section counts as yes."""
    ent = ents[index]
    section_start = sections.start_before(ent.start_char)
    for earlier in reversed(ents[:index]):
        if earlier.start_char < section_start:
            break
        if earlier.label_ in owners:
            return earlier.label_ == owners[0]
    return True


# the rest of the heading's line ('COPIED FROM 04/21/2026 VISIT (surg onc summary):'), then the opening mark
_QUOTED_BODY = re.compile(r"[^\n\"“”]*(?::[ \t]*|\n[ \t]*)[\"“”]")
_QUOTE_CLOSE = re.compile(r"[\"“”](?=[ \t]*\n[ \t]*\n)")


def _quotation_end(text: str, body_start: int, end: int) -> int:
    """A qualified section (copied forward, a prior plan) whose body is one quotation ends where the quotation does,
    at its closing mark before a blank line: what follows is the note's own words again, even when the heading
    that would have opened them is lost (a faxed 'A:' that OCR dropped)."""
    opening = _QUOTED_BODY.match(text, body_start, end)
    if opening is None:
        return end
    closing = _QUOTE_CLOSE.search(text, opening.end(), end)
    return closing.end() if closing is not None else end


def _section_info(doc: Doc, rules: RuleSet) -> list[SectionInfo]:
    """(start_char, end_char, category, qualifier, title span, qualified concepts) for each section of the doc."""
    qualifier_by_rule = {spec.metadata.id: spec.metadata.qualifier for spec in rules.sections}
    concepts_by_rule = {spec.metadata.id: frozenset(spec.metadata.qualifies) for spec in rules.sections}
    out = []
    for section in doc._.sections:
        rule = section.rule
        rule_id = (rule.metadata or {}).get("id") if rule is not None else None
        qualifier = qualifier_by_rule.get(rule_id)
        title = doc[section.title_start : section.title_end] if section.title_end > section.title_start else None
        start = doc[section.title_start].idx if section.title_start < len(doc) else len(doc.text)
        end = doc[section.body_end - 1].idx + len(doc[section.body_end - 1]) if section.body_end > 0 else start
        if qualifier is not None and title is not None:
            end = _quotation_end(doc.text, title.end_char, end)
        out.append((start, end, section.category, qualifier, title, concepts_by_rule.get(rule_id, frozenset())))
    return out


# A denial states the opposite only when its cue stands right before the words, in their clause ('does not consider
# her disease resectable'), not across a clause ('although she is not keen on surgery, the lesion is resectable').
DENIAL_GAP_WORDS = 5
_CLAUSE_BREAK = re.compile(r"[,;:()]")


def _denied_right_before(finding: Finding, text: str) -> bool:
    q = finding.qualifiers
    if not q.negated or q.family or q.hypothetical or q.uncertain:
        return False
    for cue in q.cues:
        if cue.qualifier == "negated" and cue.end <= finding.start:
            gap = text[cue.end : finding.start]
            if len(gap.split()) <= DENIAL_GAP_WORDS and not _CLAUSE_BREAK.search(gap):
                return True
    return False


def _denied_with_the_list(findings: list[Finding], text: str, lists: list[DeniedList]) -> list[Finding]:
    """The items of a list a denial opens ('never had a wide local excision, sentinel node biopsy or any other
    operation') take the denial's words as their negation cue (``denied_lists`` in rules/targets.json)."""
    out = list(findings)
    order = sorted(range(len(out)), key=lambda k: out[k].start)
    for spec in lists:
        openers = re.compile(r"(?:" + "|".join(map(re.escape, spec.openers)) + r")\b", re.IGNORECASE)
        glue = re.compile(spec.glue, re.IGNORECASE)
        for position, k in enumerate(order):
            denial = out[k]
            if denial.concept != spec.denial or denial.qualifiers.active() or not openers.match(denial.matched_text):
                continue
            end = denial.end
            for j in order[position + 1 :]:
                item = out[j]
                if item.start < end:
                    continue
                if item.concept != spec.items or item.sentence_start != denial.sentence_start:
                    break
                if glue.fullmatch(text, end, item.start) is None:
                    break
                if not item.qualifiers.negated:
                    out[j] = item.qualified(Cue(qualifier="negated", text=denial.matched_text, start=denial.start,
                                                end=denial.end, rule=f"{denial.rule}.list"))
                end = item.end
    return out


def process(doc: Doc, document: TextDocument, rules: RuleSet | None = None) -> list[Finding]:
    """Every target mention in the doc as an explained Finding (furniture is never evidence)."""
    rules = rules or default_rules()
    sections = _section_info(doc, rules)
    by_start = _Sections(sections)
    findings: list[Finding] = []
    text = document.text
    metas: dict[str, TargetMeta] = {}
    boxes_by_sentence: dict[tuple[int, int], list[Box]] = {}
    ents = list(doc.ents)
    for index, ent in enumerate(ents):
        if document.is_furniture(ent.start_char, ent.end_char):
            continue
        raw_meta = ent._.target_rule.metadata
        meta = metas.get(raw_meta["id"]) or metas.setdefault(raw_meta["id"], TargetMeta.model_validate(raw_meta))
        if meta.belongs_to and not _belongs_to_first(ents, index, meta.belongs_to, by_start):
            continue
        section = by_start.at(ent.start_char)
        if meta.in_sections and (section is None or section[2] not in meta.in_sections):
            continue
        if section is not None and section[2] in meta.not_in_sections:
            continue
        s_start, s_end = sentence_bounds(ent, text)
        sentence = text[s_start:s_end]
        page = document.page_at(ent.start_char, ent.end_char)
        if (s_start, s_end) not in boxes_by_sentence:
            boxes_by_sentence[(s_start, s_end)] = document.boxes(s_start, s_end)
        boxes = boxes_by_sentence[(s_start, s_end)]
        qualifiers = _cues_and_flags(ent)
        for concept in [ent.label_, *meta.also]:
            finding = Finding(
                concept=concept,
                rule=meta.id,
                document=document.name,
                start=ent.start_char,
                end=ent.end_char,
                matched_text=ent.text,
                sentence_start=s_start,
                sentence_end=s_end,
                sentence=sentence,
                page=page,
                section=section[2] if section else None,
                qualifiers=qualifiers,
                boxes=boxes,
            )
            cue = _section_cue(section, concept)
            findings.append(finding if cue is None else finding.qualified(cue))
        if meta.negated_means and _denied_right_before(findings[-1], text) and denial_ok(meta, sentence):
            # the denial states the opposite concept; the negation cue stays among the cues to explain it
            denied = findings[-1]
            findings.append(denied.model_copy(update={
                "concept": meta.negated_means, "rule": f"{meta.id}.denied",
                "qualifiers": denied.qualifiers.model_copy(update={"negated": False}),
            }))
    findings = _denied_with_the_list(findings, text, rules.denied_lists)
    said = list(findings)
    for told in prose_size_findings(document, rules.tables):  # a lesion's size change told in a sentence
        section = by_start.at(told.start)
        told = told.model_copy(update={"section": section[2] if section else None})
        cue = _section_cue(section, told.concept)
        told = told if cue is None else told.qualified(cue)
        findings.append(_of_the_time_said(told, said))
    findings.extend(section_findings(document, sections, rules.sections_not_done))
    return findings


def _of_the_time_said(told: Finding, said: list[Finding]) -> Finding:
    """A size change told in a line ('- 03/17/2026 CT: partial response (node 2.4 -> 1.5 cm)') is of the time the
    line's own words of the same concept are: the measured change takes their historical cue, if they have one."""
    if told.qualifiers.historical:
        return told
    for finding in said:
        if (
            finding.concept == told.concept
            and finding.qualifiers.historical
            and told.start <= finding.start < told.end
        ):
            cue = next(c for c in finding.qualifiers.cues if c.qualifier == "historical")
            return told.qualified(cue)
    return told


# A section body shorter than this (non-space characters) is an empty heading, not documentation.
MIN_SECTION_BODY = 20
# A section finding cites its heading and this many non-empty lines of its body.
SECTION_CITE_LINES = 5


def _end_of_lines(text: str, start: int, stop: int, lines: int) -> int:
    """Offset where the first `lines` non-empty lines after `start` end (never past `stop`)."""
    position, seen = start, 0
    while position < stop and seen < lines:
        newline = text.find("\n", position, stop)
        line_end = stop if newline == -1 else newline
        if text[position:line_end].strip():
            seen += 1
        position = line_end + 1
    return min(stop, position - 1 if seen else stop)


def _not_done(text: str, start: int, end: int, rule: NotDoneRule) -> Cue | None:
    """The cue when the section body text[start:end] opens by saying it was not done ('Deferred (telephone visit)')."""
    while start < end and text[start] in " \n:.-":
        start += 1
    lowered = text[start : min(end, start + rule.within)].lower()
    for word in rule.words:
        at = lowered.find(word)
        if at >= 0 and (at == 0 or not lowered[at - 1].isalnum()):
            at += start
            return Cue(qualifier="negated", text=text[at : at + len(word)], start=at, end=at + len(word), rule=rule.id)
    return None


def section_findings(
    document: TextDocument, sections: list[SectionInfo], not_done: NotDoneRule | None = None
) -> list[Finding]:
    """One finding per documented section (concept ``section:<category>``), citing its heading and the first lines
    of its body (where the exam, history or assessment begins); furniture lines are skipped when counting lines.
    Every section counts, not only the first of its kind: a note's "Vitals" heading comes before its "Physical Exam".
    A section whose body opens with 'Deferred' or 'Not performed' is negated, its cue those words."""
    text = document.text
    found: list[Finding] = []
    for _start, end, category, _qualifier, title, _concepts in sections:
        if title is None:
            continue
        body = document.clean_text[title.end_char : end]
        if len(body.replace(" ", "").replace("\n", "")) < MIN_SECTION_BODY:
            continue
        cue = _not_done(document.clean_text, title.end_char, end, not_done) if not_done else None
        qualifiers = Qualifiers(negated=True, cues=[cue]) if cue else Qualifiers()
        full_end = _end_of_lines(document.clean_text, title.end_char, end, SECTION_CITE_LINES)
        for cite_start, cite_end in _around_furniture(document, title.start_char, full_end):
            found.append(
                Finding(
                    concept=f"section:{category}",
                    rule=f"section:{category}",
                    document=document.name,
                    start=title.start_char,
                    end=title.end_char,
                    matched_text=title.text,
                    sentence_start=cite_start,
                    sentence_end=cite_end,
                    sentence=text[cite_start:cite_end],
                    page=document.page_at(cite_start, cite_end),
                    section=category,
                    qualifiers=qualifiers,
                    boxes=document.boxes(cite_start, cite_end),
                )
            )
    return found


def _around_furniture(document: TextDocument, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut into the pieces between page furniture (a footer or banner is never evidence): a section
    that runs on over a page break is cited on both pages."""
    text = document.text
    pieces = []
    for a, b in sorted([(a, b) for a, b in document.furniture if start < b and a < end] + [(end, end)]):
        piece_end = start + len(text[start:min(a, end)].rstrip())
        if text[start:piece_end].strip():
            pieces.append((start + len(text[start:piece_end]) - len(text[start:piece_end].lstrip()), piece_end))
        start = max(start, b)
        if start >= end:
            break
    return pieces


def analyze(nlp: Language, document: TextDocument, rules: RuleSet | None = None) -> list[Finding]:
    """Run the pipeline over the document's furniture-free text and return its findings."""
    rules = rules or default_rules()
    starts = sentence_starts(document.clean_text)
    doc = nlp.make_doc(join_wrapped_lines(document.clean_text, starts))
    doc.user_data[STARTS_KEY] = starts
    for _name, component in nlp.pipeline:
        doc = component(doc)
    findings = process(doc, document, rules)
    tables, visits = lesion_tables(document.clean_text, rules.tables), visit_tables(document.clean_text, rules.tables)
    findings = in_visit_table_header(findings, visits)
    findings += table_findings(document, rules.tables, tables) + sum_findings(document, rules.tables)
    findings += visit_table_findings(document, rules.tables, visits)
    findings = mark_gone_table_lesions(findings, document, rules.tables, tables)
    findings = mark_denied_table_rows(findings, document, rules.tables)
    findings = mark_pre_treatment_response(findings, document, rules.tables)
    findings = mark_earlier_visits(findings, document.clean_text, rules.encounters)
    findings = mark_old_dated_statements(findings, document.clean_text, rules.encounters, printed=document.text)
    findings = mark_quoted_opinions(findings, document.clean_text, rules.encounters, document.text)
    findings = mark_past_plans(findings, document.clean_text, rules.encounters, document.text)
    findings = mark_settled_in_assessment(findings, rules.encounters)
    findings = mark_addendum_revisions(findings, document.clean_text, rules.encounters)
    findings = mark_history_denied_now(findings, document.clean_text, rules.encounters, document.text)
    findings = mark_necessity_letter_exams(findings, document.clean_text, rules.encounters)
    findings = mark_retracted_quotes(findings, document.clean_text, rules.retractions)
    findings = mark_benign_places(findings, document.clean_text, rules.benign_verdicts)
    findings = mark_doubted_lesions(findings, document.clean_text, rules.benign_verdicts)
    findings = mark_unplaced_nodes(findings, rules.unplaced_nodes)
    findings = mark_request_form(findings, document, rules.request_forms)
    return findings + first_hand_findings(findings, rules.first_hand)
