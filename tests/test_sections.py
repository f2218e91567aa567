"""Sections (extractor/sections.py) are medspaCy's Sectionizer's, header for header, without its per-token writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from medspacy.section_detection import Sectionizer

from extractor.document import plain_text_document
from extractor.nlp import build_pipeline
from extractor.rules_loader import default_rules
from extractor.sentences import STARTS_KEY, join_wrapped_lines, sentence_starts

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes"


def note_text(note: Path) -> str:
    return "\n".join(line for line in note.read_text().splitlines() if not line.startswith("@"))


@pytest.fixture(scope="module")
def pipelines():
    nlp = build_pipeline(default_rules())
    stock = Sectionizer(nlp, name="stock_sectionizer", rules=None, require_start_line=True)
    stock.add(nlp.get_pipe("chartcheck_sections").rules)
    return nlp, stock


@pytest.mark.parametrize("note", sorted(SAMPLES.glob("dev/d*/*.note"))[::3], ids=lambda p: p.parent.name + "/" + p.name)
def test_sections_are_medspacys(pipelines, note):
    nlp, stock = pipelines
    text = note_text(note)
    starts = sentence_starts(text)

    def sections(sectionizer) -> list[tuple]:
        doc = nlp.make_doc(join_wrapped_lines(text, starts))
        doc.user_data[STARTS_KEY] = starts
        for name, component in nlp.pipeline:
            if name == "chartcheck_sections":
                break
            doc = component(doc)
        doc = sectionizer(doc)
        return [
            (s.category, s.title_start, s.title_end, s.body_end, s.rule.metadata["id"] if s.rule else None)
            for s in doc._.sections
        ]

    assert sections(nlp.get_pipe("chartcheck_sections")) == sections(stock)


def test_a_note_without_headers_is_one_section(reviewer):
    findings = reviewer.findings(plain_text_document("note.txt", "0", "Melanoma of the left calf, excised in 2024.\n"))
    assert [f.section for f in findings if f.concept == "melanoma"] == [None]


def test_a_section_qualifier_cites_its_heading(reviewer):
    text = "HPI\nNew nodules on the left calf.\n\nPlan from prior visit:\nWide local excision of the melanoma.\n"
    finding = next(f for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept == "melanoma")
    assert finding.section == "prior_plan"
    assert finding.qualifiers.historical
    cue = next(cue for cue in finding.qualifiers.cues if cue.rule.startswith("section:"))
    assert cue.rule == "section:prior_plan"
    assert text[cue.start : cue.end].strip() == cue.text == "Plan from prior visit:"
