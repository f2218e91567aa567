"""Tests for app.render: parsing, layout, typed and scanned PDFs, page lookup, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest
import pytesseract

from app.render import (
    layout,
    main,
    page_of,
    pages_of,
    parse_note,
    render_note,
    synthetic_note,
)

WRAP_SENTENCE = (
    "The patient has five in-transit subcutaneous nodules along the medial left calf that appeared about three "
    "months after wide local excision and sentinel lymph node biopsy, and surgical oncology judged them unresectable."
)
OCR_SENTENCE = "Five subcutaneous nodules are present on the left calf and the largest measures two centimeters."


def _filler(n: int) -> str:
    return "\n".join(f"Line {i} of the interval history: the patient feels well and reports no new symptoms today."
                     for i in range(n))


def _multipage_source() -> str:
    return "\n".join([
        "@banner Riverside Oncology | Jane Doe | MRN 0042",
        "@footer Printed by HIM - Page {page} of {pages}",
        "",
        "# Office Visit",
        WRAP_SENTENCE,
        "",
        _filler(80),
        "Page two marker sentence sits after the filler.",
        _filler(40),
    ]) + "\n"


def _pdf_texts(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


# --- parse errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "line", "words"), [
    ("@banner B\n\nSome text\n@bogus thing\n", 4, "unknown directive @bogus"),
    ("Text\n@endcolumns\n", 2, "@endcolumns without @columns"),
    ("@table\nA | B\n@table\n", 3, "nested @table"),
    ("Text\n@banner late\n", 2, "top of the file"),
    ("@font Wingdings\n", 1, "unknown font"),
    ("@table\nA | B\n1 | 2 | 3\n@endtable\n", 3, "3 cells"),
    ("x\n\n@columns\nleft\n", 3, "never closed"),
    ("Score \u2265 2\n", 1, "cannot be printed"),
])
def test_parse_errors_name_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_note(text, name="case/visit.note")
    assert f"case/visit.note:{line}:" in str(info.value)
    assert words in str(info.value)


def test_parse_blocks_and_directives() -> None:
    src = parse_note("@banner B {page}\n@scan\n@font Courier\n\n# Head\ntext\n\n@pagebreak\n@table\nA | B\n1\n@endtable\n")
    assert src.banner == "B {page}" and src.scan and src.font == "courier"
    kinds = [type(b).__name__ for b in src.blocks]
    assert kinds == ["Para", "Para", "Gap", "PageBreak", "Table"]
    assert src.blocks[0].heading and src.blocks[-1].rows == (("A", "B"), ("1", ""))


# --- typed PDFs ----------------------------------------------------------------------------------


def test_multipage_banner_footer_and_page_numbers(tmp_path: Path) -> None:
    out = tmp_path / "visit.pdf"
    result = render_note(_multipage_source(), out, name="case/visit.note")
    assert result.pages >= 2 and not result.scan
    texts = _pdf_texts(out)
    assert len(texts) == result.pages
    for number, text in enumerate(texts, start=1):
        assert "Riverside Oncology | Jane Doe | MRN 0042" in text
        assert f"Page {number} of {result.pages}" in text
    with pdfplumber.open(out) as pdf:
        assert (pdf.pages[0].width, pdf.pages[0].height) == (612, 792)
        words = pdf.pages[0].extract_words()
        assert min(w["x0"] for w in words) >= 0.75 * 72 - 1
        assert max(w["x1"] for w in words) <= 612 - 0.75 * 72 + 1


def test_heading_is_bold(tmp_path: Path) -> None:
    out = tmp_path / "h.pdf"
    render_note("# Physical Exam\nSkin: warm and dry.\n", out, name="h.note")
    with pdfplumber.open(out) as pdf:
        fonts = {c["text"]: c["fontname"] for c in pdf.pages[0].chars}
    assert fonts["P"].endswith("Bold") and not fonts["S"].endswith("Bold")


def test_two_columns_left_then_right(tmp_path: Path) -> None:
    left = " ".join(f"alpha{i}" for i in range(60))
    right = " ".join(f"omega{i}" for i in range(60))
    source = f"# Pathology\n@columns\n{left}\n\n{right}\n@endcolumns\nAfter the columns.\n"
    out = tmp_path / "path.pdf"
    assert render_note(source, out, name="path.note").pages == 1
    with pdfplumber.open(out) as pdf:
        words = pdf.pages[0].extract_words()
    alpha = [w for w in words if w["text"].startswith("alpha")]
    omega = [w for w in words if w["text"].startswith("omega")]
    assert len(alpha) == 60 and len(omega) == 60
    assert max(w["x1"] for w in alpha) < min(w["x0"] for w in omega)
    assert min(w["top"] for w in omega) < max(w["top"] for w in alpha)  # right column starts beside the left
    after = next(w for w in words if w["text"] == "After")
    assert after["top"] > max(w["bottom"] for w in alpha + omega)


def test_table_row_on_one_line_with_grid(tmp_path: Path) -> None:
    source = "# Labs\n@table\nDate | Test | Result | Flag\n2026-10-01 | LDH | 245 U/L | H\n@endtable\n"
    out = tmp_path / "labs.pdf"
    render_note(source, out, name="labs.note")
    with pdfplumber.open(out) as pdf:
        page = pdf.pages[0]
        lines = (page.extract_text() or "").splitlines()
        assert "2026-10-01 LDH 245 U/L H" in lines
        assert "Date Test Result Flag" in lines
        assert len(page.lines) >= 3 + 5  # 3 horizontal rules and 5 vertical ones
        bold = {c["text"] for c in page.chars if c["fontname"].endswith("Bold")}
        assert "D" in bold


def test_long_words_and_hard_newlines(tmp_path: Path) -> None:
    token = "X" * 300
    pages = layout(parse_note(f"first line\nsecond line\n{token}\n"))
    runs = [r for r in pages[0].runs if r.role == "body"]
    assert [r.text for r in runs[:2]] == ["first line", "second line"]
    assert "".join(r.text for r in runs[2:]) == token
    assert page_of(pages, token) == 1


def test_typed_output_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    render_note(_multipage_source(), a, name="case/visit.note")
    render_note(_multipage_source(), b, name="case/visit.note")
    assert a.read_bytes() == b.read_bytes()


# --- scans ---------------------------------------------------------------------------------------


def _scan_source() -> str:
    return "\n".join([
        "@scan",
        "@fax OCT-03-2026 14:32 FROM: RIVERSIDE ONCOLOGY TO: PRIOR AUTH P.{page}/{pages}",
        "@banner Riverside Oncology | Jane Doe",
        "@footer Page {page} of {pages}",
        "",
        "# Physical Exam",
        OCR_SENTENCE,
        "@pagebreak",
        "Second page text.",
    ]) + "\n"


@pytest.fixture(scope="module")
def scan_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scan") / "fax.pdf"
    result = render_note(_scan_source(), out, name="case/fax.note")
    assert result.scan and result.pages == 2
    return out


def test_scan_has_no_text_layer(scan_pdf: Path) -> None:
    with pdfplumber.open(scan_pdf) as pdf:
        assert len(pdf.pages) == 2
        for page in pdf.pages:
            assert (page.width, page.height) == (612, 792)
            assert not (page.extract_text() or "").strip()
            assert not page.chars and len(page.images) == 1
    assert scan_pdf.stat().st_size < 2 * 150_000


def test_scan_is_ocr_readable(scan_pdf: Path) -> None:
    pdf = pdfium.PdfDocument(str(scan_pdf))
    try:
        image = pdf[0].render(scale=200 / 72).to_pil()
    finally:
        pdf.close()
    ocr_words = set(pytesseract.image_to_string(image).lower().replace(".", " ").replace(",", " ").split())
    wanted = OCR_SENTENCE.lower().replace(".", "").split()
    hits = sum(word in ocr_words for word in wanted)
    assert hits >= 0.8 * len(wanted), (hits, ocr_words)


def test_scan_is_byte_identical_and_seeded_by_name(tmp_path: Path, scan_pdf: Path) -> None:
    again = tmp_path / "again.pdf"
    render_note(_scan_source(), again, name="case/fax.note")
    assert again.read_bytes() == scan_pdf.read_bytes()
    other = tmp_path / "other.pdf"
    render_note(_scan_source(), other, name="case/other.note")
    assert other.read_bytes() != scan_pdf.read_bytes()


# --- page_of -------------------------------------------------------------------------------------


def test_page_of_wrapped_and_second_page() -> None:
    source = parse_note(_multipage_source(), name="visit.note")
    pages = layout(source)
    wrapped = [r for r in pages[0].runs if r.role == "body" and r.text and r.text in WRAP_SENTENCE]
    assert len(wrapped) >= 2  # the sentence really wraps
    assert page_of(source, WRAP_SENTENCE) == 1
    assert page_of(pages, "  The patient has five\n in-transit   subcutaneous nodules ") == 1
    assert page_of(pages, "Page two marker sentence sits after the filler.") == 2
    assert page_of(pages, "This sentence is not in the note.") is None
    assert page_of(pages, "Riverside Oncology") is None  # banners are not part of the body text
    assert pages_of(pages, "the patient feels well") == list(range(1, len(pages) + 1))


def test_page_of_sentence_across_pages_and_source_lines() -> None:
    text = _filler(45) + "\nThe lesion on the calf\nis unresectable per surgical oncology.\n" + _filler(45)
    pages = layout(parse_note(text))
    assert page_of(pages, "The lesion on the calf is unresectable per surgical oncology.") in (1, 2)


def test_page_of_table_row_either_separator() -> None:
    source = parse_note("@table\nDate | Test | Result\n2026-10-01 | LDH | 245 U/L (high)\n@endtable\n")
    assert page_of(source, "2026-10-01 | LDH | 245 U/L (high)") == 1
    assert page_of(source, "2026-10-01 LDH 245 U/L (high)") == 1
    assert page_of(source, "LDH") == 1


def test_page_of_after_pagebreak_and_in_columns() -> None:
    source = parse_note("first\n@pagebreak\n@columns\nleft side\n\nright side text\n@endcolumns\n")
    assert page_of(source, "right side text") == 2


# --- synthetic charts ----------------------------------------------------------------------------


def test_synthetic_note_is_deterministic_and_valid() -> None:
    a = synthetic_note(3, seed=11)
    assert a == synthetic_note(3, seed=11)
    assert a != synthetic_note(3, seed=12)
    source = parse_note(a)
    assert source.banner and source.footer and any(type(b).__name__ == "Table" for b in source.blocks)


def test_synthetic_note_50_pages(tmp_path: Path) -> None:
    text = synthetic_note(50, seed=5)
    out = tmp_path / "chart.pdf"
    result = render_note(text, out, name="bench/chart.note")
    assert 45 <= result.pages <= 55
    assert 2500 <= len(text) / result.pages <= 3500
    pdf = pdfium.PdfDocument(str(out))
    try:
        assert len(pdf) == result.pages
    finally:
        pdf.close()


# --- command line --------------------------------------------------------------------------------


def _case(tmp_path: Path) -> Path:
    case = tmp_path / "notes" / "dev" / "d01"
    case.mkdir(parents=True)
    (case / "visit.note").write_text(_multipage_source(), encoding="utf-8")
    (case / "fax.note").write_text(_scan_source(), encoding="utf-8")
    gold = {
        "case_id": "d01",
        "criteria": {
            "unresectable": {"status": "met", "evidence": [
                {"document": "visit.pdf", "text": WRAP_SENTENCE},
                {"document": "visit.pdf", "page": 1, "text": "Page two marker sentence sits after the filler."},
            ]},
            "injectable_lesions": {"status": "met", "evidence": [
                {"document": "fax.pdf", "page": 1, "text": OCR_SENTENCE}]},
            "clinical_response": {"status": "not_applicable", "evidence": []},
        },
        "flags": ["pregnancy \u2013 none"],
    }
    (case / "gold.json").write_text(json.dumps(gold, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return tmp_path / "notes"


def test_cli_build_fill_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _case(tmp_path)
    case = root / "dev" / "d01"
    assert main([str(root)]) == 0
    assert (case / "visit.pdf").exists() and (case / "fax.pdf").exists()
    stamp = (case / "visit.pdf").stat().st_mtime_ns
    assert main([str(root)]) == 0  # up to date: nothing rebuilt
    assert (case / "visit.pdf").stat().st_mtime_ns == stamp

    assert main(["--check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "gold page 1, sentence is on page 2" in out and "gold page None" in out

    assert main(["--fill-pages", str(root)]) == 0
    text = (case / "gold.json").read_text(encoding="utf-8")
    gold = json.loads(text)
    assert text == json.dumps(gold, indent=2, ensure_ascii=False) + "\n" and "\u2013" in text
    evidence = gold["criteria"]["unresectable"]["evidence"]
    assert [list(e) for e in evidence] == [["document", "page", "text"]] * 2
    assert [e["page"] for e in evidence] == [1, 2]
    assert main(["--check", str(root)]) == 0


def test_cli_reports_bad_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.note").write_text("text\n@endtable\n", encoding="utf-8")
    assert main([str(tmp_path)]) == 1
    assert "bad.note:2:" in capsys.readouterr().err
