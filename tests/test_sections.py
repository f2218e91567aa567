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


def test_a_section_running_over_a_page_break_is_cited_on_both_pages_without_the_banner(tmp_path, reviewer):
    from app.render import layout, parse_note, write_pdf
    from extractor.read import read_path

    source = (
        "@banner DOE, JANE  DOB 01/02/1950  MRN 123456\n@footer Page {page} of {pages}\n"
        "HISTORY OF PRESENT ILLNESS\nShe returns with new nodules on the left calf near the scar.\n\n"
        "PHYSICAL EXAM\nVS: BP 120/80, HR 70.\n@pagebreak\nGen: Well-appearing woman in no distress.\n"
        "Skin: four firm subcutaneous nodules of the left calf.\n\n"
        "ASSESSMENT AND PLAN\nIn-transit melanoma of the left calf.\n"
    )
    path = tmp_path / "visit.pdf"
    write_pdf(layout(parse_note(source, name="visit.note")), path)
    exam = [f for f in reviewer.findings(read_path(path)) if f.concept == "section:physical_exam"]
    assert [f.page for f in exam] == [1, 2]
    assert "BP 120/80" in exam[0].sentence and exam[1].sentence.startswith("Gen: Well-appearing")
    assert not any("Page" in f.sentence or "MRN" in f.sentence for f in exam)


@pytest.mark.parametrize("text, category", [
    ("EXAM: MRI RIGHT THIGH WITH AND WITHOUT CONTRAST\nRecurrent melanoma of the right thigh.\n", "imaging"),
    ("EXAM: PET/CT SKULL BASE TO MID-THIGH\nMelanoma of the left buttock, restaging.\n", "imaging"),
    ("EXAM: Gen NAD. Melanoma scar of the left calf, well healed.\n", "physical_exam"),
    ("Examination. Vitals: BP 118/64. Left cheek: a 2 cm nodule in the melanoma scar.\n", "physical_exam"),
])
def test_a_radiology_exam_line_names_the_study_not_a_physical_exam(reviewer, text, category):
    found = reviewer.findings(plain_text_document("report.txt", "0", text))
    assert {f.section for f in found if not f.concept.startswith("section:")} == {category}


def test_a_heading_alone_on_its_line_opens_its_section_whatever_blank_lines_follow(reviewer):
    text = "INTERVAL HISTORY\n\nShe feels well; melanoma of the thigh.\n\nPHYSICAL EXAM\n\n\nThigh: fourteen nodules.\n"
    found = reviewer.findings(plain_text_document("note.txt", "0", text))
    assert {f.concept for f in found if f.concept.startswith("section:")} == {
        "section:history_of_present_illness", "section:physical_exam"}
    assert [f.section for f in found if f.concept == "melanoma"] == ["history_of_present_illness"]


def test_an_exam_deferred_is_no_exam(reviewer):
    text = (
        "HPI: Recurrent melanoma of the right thigh after WLE.\n"
        "Physical exam: Deferred (telephone visit).\n\n"
        "Assessment: in-transit melanoma, not a surgical candidate.\n"
    )
    exam = [f for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept == "section:physical_exam"]
    assert exam and all(f.qualifiers.negated for f in exam)
    cue = exam[0].qualifiers.cues[0]
    assert text[cue.start : cue.end] == cue.text == "Deferred"
    full = text.replace("Deferred (telephone visit).", "Gen: NAD. R thigh: four subcutaneous nodules, 4-11 mm.")
    exam = [f for f in reviewer.findings(plain_text_document("note.txt", "0", full)) if f.concept == "section:physical_exam"]
    assert exam and not any(f.qualifiers.active() for f in exam)


def test_a_heading_saying_its_text_was_copied_from_an_old_visit_is_history(reviewer):
    text = "Interval history (copied from 05/21/2026 visit):\nThe in-transit disease is not amenable to resection.\n"
    found = [f for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept == "unresectable"]
    assert found and all(f.section == "prior_plan" and f.qualifiers.historical for f in found)


def test_soap_letters_alone_on_their_lines_are_headings(reviewer):
    text = "S\nPt and wife say the calf nodules are smaller and flatter.\n\nO\nRLE: healed WLE scar, three SQ nodules 4-9 mm.\n\nA/P\nITM melanoma RLE, responding.\n"
    sections = {f.concept for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept.startswith("section:")}
    assert {"section:history_of_present_illness", "section:physical_exam", "section:assessment_and_plan"} <= sections


def test_a_soap_letter_running_on_into_its_text_is_a_heading_in_capitals_only(reviewer):
    text = "S: Pt here for tx #13, tolerating well.\nO: BP 138/86  HR 82  T 98.4  ECOG 1\nGen: NAD.\nR axilla: 5 cm fixed matted mass.\n"
    sections = {f.concept for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept.startswith("section:")}
    assert {"section:history_of_present_illness", "section:physical_exam"} <= sections
    lowercase = "Hx of melanoma.\no: the lesion was noted by his wife, about 5 mm across, with no bleeding at all.\n"
    assert not any(f.concept == "section:physical_exam" for f in reviewer.findings(plain_text_document("n.txt", "0", lowercase)))
