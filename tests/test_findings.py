"""Findings explain themselves, and a recurrence belongs to the cancer it is told of."""

from __future__ import annotations

from extractor.document import plain_text_document


def concepts(reviewer, text: str) -> list[tuple[str, str]]:
    return [(f.concept, f.matched_text) for f in reviewer.findings(plain_text_document("note.txt", "0", text))]


def test_a_recurrence_told_after_another_cancer_is_not_the_melanomas(reviewer):
    text = (
        "ONCOLOGIC HISTORY\n"
        "2013 - Melanoma, left upper back, treated with wide local excision.\n"
        "03/2023 - Invasive SCC of the scalp, cleared with Mohs.\n"
        "06/2026 - new nodules in and around the graft.\n"
        "Recurrent cutaneous squamous cell carcinoma of the scalp.\n"
    )
    assert not [c for c in concepts(reviewer, text) if c[0] == "recurrence"]


def test_a_recurrence_after_the_melanoma_counts(reviewer):
    text = (
        "ONCOLOGIC HISTORY\n"
        "2024 - Melanoma of the left calf, treated with wide local excision.\n"
        "09/2026 - new nodules along the excision scar; biopsy showed in-transit recurrence.\n"
    )
    recurrences = [words for concept, words in concepts(reviewer, text) if concept == "recurrence"]
    assert "new nodules" in recurrences
    assert len(recurrences) >= 2


def test_every_finding_carries_its_rule_sentence_section_and_cues(reviewer):
    document = plain_text_document("note.txt", "0", "FAMILY HISTORY\nHer mother had melanoma at 50.\n")
    finding = next(f for f in reviewer.findings(document) if f.concept == "melanoma")
    assert finding.rule.startswith("melanoma.")
    assert finding.section == "family_history"
    assert finding.sentence == "Her mother had melanoma at 50."
    assert document.text[finding.sentence_start : finding.sentence_end] == finding.sentence
    assert finding.qualifiers.family
    assert {cue.qualifier for cue in finding.qualifiers.cues} == {"family"}
    assert any(cue.text.lower() == "mother" for cue in finding.qualifiers.cues)
