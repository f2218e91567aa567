"""Sentence boundaries in clinical notes: wrapped lines join, lists, headings and table rows split."""

from __future__ import annotations

import pytest

from extractor.sentences import sentence_starts


def sentences(text: str) -> list[str]:
    starts = sentence_starts(text)
    return [" ".join(text[a:b].split()) for a, b in zip(starts, starts[1:] + [len(text)])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "He underwent wide local excision of the primary with sentinel lymph node biopsy in\n"
            "2024. Now he has in-transit nodules.",
            ["He underwent wide local excision of the primary with sentinel lymph node biopsy in 2024.",
             "Now he has in-transit nodules."],
        ),
        ("Dr. Lee saw him on 3/4. He is well.", ["Dr. Lee saw him on 3/4.", "He is well."]),
        ("Breslow 2.1 mm. Margins clear.", ["Breslow 2.1 mm.", "Margins clear."]),
        ("PLAN:\n- T-VEC to the thigh nodules\n- RTC 2 wk", ["PLAN:", "- T-VEC to the thigh nodules", "- RTC 2 wk"]),
        ("Problem list\nMelanoma of left leg\nHypertension", ["Problem list", "Melanoma of left leg", "Hypertension"]),
        ("Lesion  Baseline  Current\nA  12 mm  6 mm\nB  9 mm  4 mm", ["Lesion Baseline Current", "A 12 mm 6 mm", "B 9 mm 4 mm"]),
        ("First paragraph without a stop\n\nSecond paragraph", ["First paragraph without a stop", "Second paragraph"]),
    ],
)
def test_sentence_starts(text, expected):
    assert sentences(text) == expected


def test_blanked_furniture_does_not_break_a_sentence():
    # The banner and footer were blanked to spaces (same length) with their newlines.
    text = "The lesions on the anterior thigh are not amenable to\n" + " " * 60 + "resection given their number."
    assert sentences(text) == ["The lesions on the anterior thigh are not amenable to resection given their number."]


def test_a_sentence_runs_on_over_a_page_break_but_a_new_sentence_on_the_next_page_starts_afresh():
    # footer, page gap and banner, blanked to spaces, between "does not" and "consider"
    page_break = "\n\n" + " " * 80 + "\n"
    text = "He does not" + page_break + "consider it resectable; he would not offer surgery."
    assert sentences(text) == ["He does not consider it resectable; he would not offer surgery."]
    ended = "He does not consider it resectable." + page_break + "so we discussed T-VEC."
    assert len(sentences(ended)) == 2
    blank = "He does not\n\nconsider it resectable."  # a real blank line, no page furniture: a break as before
    assert len(sentences(blank)) == 2


def test_a_line_ending_in_an_abbreviation_runs_on():
    text = (
        "R thyroid nodule: follicular neoplasm; it needs a diagnostic R hemithyroidectomy, which Dr.\n"
        "Osei (endocrine surgery) has scheduled for 01/14/2027.\nPLAN\nNivolumab every 4 weeks.\n"
    )
    starts = sentence_starts(text)
    assert text.index("Osei") not in starts
    assert text.index("PLAN") in starts


def test_an_ocr_comma_before_a_sentence_opener_ends_the_sentence():
    text = "None of the nodules has regressed, The excision scar itself is flat. Seen with her daughter, who drove."
    starts = sentence_starts(text)
    assert text.index("The excision") in starts
    assert text.index("who drove") not in starts  # an ordinary comma stays inside its sentence
