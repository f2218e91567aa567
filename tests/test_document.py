"""One text and one offset-to-box map per document, checked on real PDFs from sample_notes/."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pdfplumber
import pytest

from extractor.read import read_path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes"


def typed_pdfs() -> list[Path]:
    return [p for p in sorted(SAMPLES.glob("dev/*/*.pdf")) if "@scan" not in p.with_suffix(".note").read_text()][:6]


def scanned_pdfs() -> list[Path]:
    return [p for p in sorted(SAMPLES.glob("dev/*/*.pdf")) if "@scan" in p.with_suffix(".note").read_text()][:2]


@pytest.mark.parametrize("path", typed_pdfs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_characters_inside_the_boxes_are_the_characters_at_the_offsets(path):
    document = read_path(path)
    assert all(p.source == "text" for p in document.pages)
    rng = random.Random(path.name)
    words = [m for m in re.finditer(r"\S+", document.text) if not document.is_furniture(m.start(), m.end())]
    with pdfplumber.open(path) as pdf:
        for match in rng.sample(words, min(40, len(words))):
            boxes = document.boxes(match.start(), match.end())
            assert boxes, match.group()
            got = ""
            for box in boxes:
                page = pdf.pages[box.page - 1]
                inside = [
                    c for c in page.chars
                    if c["x0"] >= box.x0 - 0.5 and c["x1"] <= box.x1 + 0.5
                    and c["top"] >= box.top - 0.5 and c["bottom"] <= box.bottom + 0.5
                ]
                got += "".join(c["text"] for c in sorted(inside, key=lambda c: c["x0"]))
            assert got.replace(" ", "") == match.group(), (match.group(), boxes)


@pytest.mark.parametrize("path", typed_pdfs()[:3], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_furniture_is_recognised_and_blanked_for_the_nlp(path):
    document = read_path(path)
    if len(document.pages) < 2:
        pytest.skip("one-page document")
    furniture_text = [document.text[a:b] for a, b in document.furniture]
    assert any(re.search(r"Page \d+ of \d+", t) for t in furniture_text)
    assert len(document.clean_text) == len(document.text)
    assert not re.search(r"Page \d+ of \d+", document.clean_text)


@pytest.mark.parametrize("path", scanned_pdfs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_scan_is_ocred_and_its_words_carry_boxes_on_their_page(path):
    document = read_path(path)
    assert all(p.source == "ocr" for p in document.pages)
    source_words = set(re.findall(r"[a-z]{5,}", path.with_suffix(".note").read_text().lower()))
    ocr_words = set(re.findall(r"[a-z]{5,}", document.text.lower()))
    assert len(source_words & ocr_words) / len(source_words) > 0.8
    for match in list(re.finditer(r"[A-Za-z]{6,}", document.text))[:50]:
        boxes = document.boxes(match.start(), match.end())
        assert len(boxes) == 1
        page = document.pages[boxes[0].page - 1]
        assert 0 <= boxes[0].x0 < boxes[0].x1 <= page.width and 0 <= boxes[0].top < boxes[0].bottom <= page.height


def test_separators_map_to_no_box_and_spans_over_lines_give_one_box_per_line():
    path = typed_pdfs()[0]
    document = read_path(path)
    newline = document.text.index("\n")
    assert document.boxes(newline, newline + 1) == []
    two_lines = next(
        m for m in re.finditer(r"[^\n]{20,}\n[^\n]{20,}", document.text) if not document.is_furniture(m.start(), m.end())
    )
    boxes = document.boxes(two_lines.start(), two_lines.end())
    assert len({b.top for b in boxes}) == 2 and boxes[0].top < boxes[-1].top
