"""ConText per sentence (extractor/context.py) gives the qualifiers medspaCy's whole-document ConText gives, and its
token patterns (extractor/token_matcher.py) match what spaCy's Matcher matches."""

from __future__ import annotations

from pathlib import Path

import pytest
import medspacy.context.context as medspacy_context_module
from medspacy.context import ConText
from medspacy.context.context_graph import ConTextGraph
from spacy.matcher import Matcher

from extractor.context import _cut_at_terminators
from extractor.nlp import build_pipeline, context_rule
from extractor.rules_loader import default_rules
from extractor.sentences import STARTS_KEY, join_wrapped_lines, sentence_starts
from extractor.token_matcher import RuleMatcher

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes"


@pytest.mark.parametrize("note", sorted(SAMPLES.glob("dev/d0[1-6]/*.note"))[:6], ids=lambda p: p.parent.name + "/" + p.name)
def test_sentence_scoped_context_matches_whole_document_context(note, monkeypatch):
    # the whole-document ConText runs the same algorithm, medspaCy's terminator overlap fix included
    class TerminatedGraph(ConTextGraph):
        def update_scopes(self):
            super().update_scopes()
            _cut_at_terminators(self.modifiers)

    monkeypatch.setattr(medspacy_context_module, "ConTextGraph", TerminatedGraph)
    rules = default_rules()
    nlp = build_pipeline(rules)
    whole = ConText(nlp, name="whole_doc_context", rules=None)
    whole.add([context_rule(spec) for spec in rules.context])
    text = "\n".join(line for line in note.read_text().splitlines() if not line.startswith("@"))
    starts = sentence_starts(text)

    def qualifiers(final) -> list[tuple[int, int, str, tuple[str, ...]]]:
        doc = nlp.make_doc(join_wrapped_lines(text, starts))
        doc.user_data[STARTS_KEY] = starts
        for name, component in nlp.pipeline:
            doc = component(doc) if name != "medspacy_context" else final(doc)
        return [(e.start, e.end, e.label_, tuple(sorted(m.category for m in e._.modifiers))) for e in doc.ents]

    ours = qualifiers(nlp.get_pipe("medspacy_context"))
    stock = qualifiers(whole)
    assert ours and ours == stock


def test_a_terminator_ends_a_scope_an_earlier_modifier_already_narrowed():
    """'Not' narrows the backward scope of 'unlikely' to after itself; medspaCy 1.3.1 then misses the ';' (its
    overlap test fails when the terminator's scope holds the other's whole) and 'unlikely' negates the candidacy."""
    nlp = build_pipeline(default_rules())
    doc = nlp("Not a candidate for surgery; margins unlikely to be clear.")
    (target,) = [e for e in doc.ents if e.label_ == "unresectable"]
    assert [m.category for m in target._.modifiers] == []
    doc = nlp("Margins unlikely to be clear; she is not a candidate for surgery.")
    (target,) = [e for e in doc.ents if e.label_ == "unresectable"]
    assert [m.category for m in target._.modifiers] == []


PATTERNS = [
    [{"LOWER": {"IN": ["no", "without"]}}, {"LOWER": "prior", "OP": "?"}, {"LOWER": {"IN": ["surgery", "excision"]}}],
    [{"LOWER": {"IN": ["may", "might"]}, "OP": "?"}, {"LOWER": "be"}, {"LOWER": "ruled"}, {"LOWER": "out"}],
    [{"LOWER": "not"}, {"LOWER": "amenable"}, {"IS_ALPHA": True, "OP": "{0,3}"}, {"LOWER": "resection"}],
    [{"LOWER": {"IN": ["axillary", "inguinal"]}, "OP": "+"}, {"LOWER": "lymph", "OP": "?"}, {"LOWER": "nodes"}],
    [{"LIKE_NUM": False, "TEXT": {"NOT_IN": ["x", "by"]}}, {"TEXT": "MM"}],
    [{"TEXT": {"REGEX": "^C43(\\.[0-9A-Z]{1,3})?$"}}],
    [{"LOWER": "history"}, {"IS_SENT_START": False, "OP": "*"}, {"LOWER": "melanoma"}],
    [{"IS_SENT_START": True}, {"LOWER": "plan"}],
]
TEXT = (
    "No prior surgery. Without excision the lesion may be ruled out. It is not amenable to simple wide resection.\n"
    "Plan: axillary inguinal lymph nodes and axillary nodes. Nodular MM of the back, 3 x MM; C43.5 and C43 and C44.\n"
    "History of in-transit melanoma. Be ruled out. no surgery"
)


def test_rule_matcher_gives_spacys_matches():
    """extractor/token_matcher.py: the same matches as spaCy's Matcher, over a doc and one sentence at a time."""
    nlp = build_pipeline(default_rules())
    ours, stock = RuleMatcher(nlp.vocab), Matcher(nlp.vocab)
    for i, pattern in enumerate(PATTERNS):
        ours.add(f"p{i}", [pattern])
        stock.add(f"p{i}", [pattern])
    doc = nlp(TEXT)
    assert sorted(ours(doc)) == sorted(stock(doc)) and len(stock(doc)) >= 12
    sentences = [(s.start, s.end) for s in doc.sents]
    per_sentence = [sorted((k, s.start + a, s.start + b) for k, a, b in stock(s)) for s in doc.sents]
    assert [sorted(m) for m in ours.match_segments(doc, sentences)] == per_sentence
    span = doc[3:30]
    assert sorted(ours(span)) == sorted(stock(span))
