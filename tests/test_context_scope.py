"""ConText per sentence (extractor/context.py) gives the qualifiers medspaCy's whole-document ConText gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from medspacy.context import ConText

from extractor.nlp import build_pipeline, context_rule
from extractor.rules_loader import default_rules
from extractor.sentences import STARTS_KEY, join_wrapped_lines, sentence_starts

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes"


@pytest.mark.parametrize("note", sorted(SAMPLES.glob("dev/d0[1-6]/*.note"))[:6], ids=lambda p: p.parent.name + "/" + p.name)
def test_sentence_scoped_context_matches_whole_document_context(note):
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
