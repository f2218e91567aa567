"""OCR word repair (extractor/ocr.py): a speck read as a full stop between two joined words."""

from __future__ import annotations

from extractor.ocr import lines_from_tesseract


def _line(*words: str) -> str:
    n = len(words)
    data = {"text": list(words), "conf": [90.0] * n, "block_num": [1] * n, "par_num": [1] * n, "line_num": [1] * n,
            "left": [10 * i for i in range(n)], "top": [0] * n, "width": [9] * n, "height": [10] * n}
    (line,) = lines_from_tesseract(data, 1.0)
    return " ".join(word.text for word in line.words)


def test_a_speck_between_two_lowercase_words_is_the_space_it_was():
    assert _line("remains", "not.a", "candidate") == "remains not a candidate"


def test_abbreviations_and_web_addresses_keep_their_stops():
    assert _line("e.g", "premera.com", "a.m.") == "e.g premera.com a.m."
