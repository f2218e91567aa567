"""Every kind of bad input gets a named error naming the file and the cause; nothing else in the batch is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas

from app.cli import main
from extractor.errors import CorruptPdf, EmptyFile, EncryptedPdf, NotAPdf, TooLarge
from extractor.pdf import MAX_PAGES
from extractor.read import read_path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes"


def a_typed_pdf() -> Path:
    return sorted(SAMPLES.glob("dev/d01/*.pdf"))[0]


def make_pdf(path: Path, pages: int = 1, encrypt: str | None = None) -> Path:
    c = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption(encrypt) if encrypt else None)
    for i in range(pages):
        c.drawString(72, 720, f"Page {i + 1} text of a clinical note.")
        c.showPage()
    c.save()
    return path


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    good = a_typed_pdf().read_bytes()
    files = {
        "empty": tmp_path / "empty.pdf",
        "not_pdf": tmp_path / "photo.pdf",
        "encrypted": make_pdf(tmp_path / "locked.pdf", encrypt="secret"),
        "corrupt": tmp_path / "corrupt.pdf",
        "truncated": tmp_path / "truncated.pdf",
        "too_many_pages": make_pdf(tmp_path / "huge.pdf", pages=MAX_PAGES + 1),
        "word_doc": tmp_path / "letter.docx",
    }
    files["empty"].write_bytes(b"")
    files["not_pdf"].write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    files["corrupt"].write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    files["truncated"].write_bytes(good[: len(good) // 3])
    files["word_doc"].write_bytes(b"PK\x03\x04 not a pdf")
    return files


@pytest.mark.parametrize(
    ("kind", "error", "cause"),
    [
        ("empty", EmptyFile, "empty"),
        ("not_pdf", NotAPdf, "not a PDF"),
        ("encrypted", EncryptedPdf, "encrypted"),
        ("corrupt", CorruptPdf, "damaged"),
        ("truncated", CorruptPdf, ""),
        ("too_many_pages", TooLarge, "pages"),
        ("word_doc", NotAPdf, "not a PDF"),
    ],
)
def test_each_kind_of_bad_input_has_a_named_error(bad_files, kind, error, cause):
    path = bad_files[kind]
    with pytest.raises(error) as raised:
        read_path(path)
    assert raised.value.name == path.name
    assert cause in str(raised.value)


def test_cli_prints_one_line_naming_file_and_cause_without_traceback(bad_files, capsys):
    code = main(["review", str(bad_files["encrypted"]), "--request-type", "initial"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == ["chartcheck: error: locked.pdf: the PDF is encrypted (password-protected)"]


def test_a_missing_file_is_a_clear_error(tmp_path, capsys):
    code = main(["review", str(tmp_path / "nope.pdf"), "--request-type", "initial"])
    assert code == 2
    assert "nope.pdf: cannot open the file" in capsys.readouterr().err


def test_batch_carries_on_past_bad_files_and_writes_every_line(bad_files, tmp_path, capsys):
    good = a_typed_pdf()
    manifest = tmp_path / "cases.jsonl"
    lines = [
        {"case_id": "good", "files": [str(good)], "request_type": "initial", "nonformulary_exception": False},
        {"case_id": "bad", "files": [bad_files["truncated"].name], "request_type": "initial", "nonformulary_exception": False},
        {"case_id": "typo", "files": [str(good)], "request_type": "initial", "nonformulary": True},
        {"case_id": "empty", "files": ["empty.pdf"], "request_type": "initial", "nonformulary_exception": False},
    ]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = tmp_path / "results.jsonl"
    code = main(["batch", str(manifest), "--out", str(out), "--workers", "1", "--quiet"])
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 1
    assert [r["case_id"] for r in results] == ["good", "bad", "line-3", "empty"]
    assert results[0]["determination"]["policy_id"] == "5.01.562"
    assert results[1]["error"].startswith("truncated.pdf: ")
    assert "nonformulary" in results[2]["error"]
    assert results[3]["error"] == "empty.pdf: the file is empty (0 bytes)"
    assert not (tmp_path / "results.jsonl.part").exists()
