"""`chartcheck bench` makes its own realistic inputs (timings are printed by the command, never asserted here)."""

from __future__ import annotations

import pdfplumber

from app.bench import SCAN_PAGES, TYPED_PAGES, make_inputs


def test_bench_inputs_are_a_50_page_typed_note_and_a_10_page_scan_of_it(tmp_path):
    typed, scan, one_page = make_inputs(tmp_path)
    with pdfplumber.open(typed) as pdf:
        assert len(pdf.pages) == TYPED_PAGES
        density = sum(len(p.extract_text() or "") for p in pdf.pages[:5]) / 5
        assert 2000 < density < 4500  # characters per page, like a dense clinical note
    with pdfplumber.open(scan) as pdf:
        assert len(pdf.pages) == SCAN_PAGES
        assert all(not (p.extract_text() or "").strip() for p in pdf.pages)  # image only
        assert all(p.images for p in pdf.pages)
    with pdfplumber.open(one_page) as pdf:
        assert len(pdf.pages) == 1
        assert len(pdf.pages[0].extract_text() or "") > 2000


def test_startup_times_a_real_review_in_a_new_process_next_to_stock_medspacy(tmp_path):
    from app.bench import startup

    _, _, one_page = make_inputs(tmp_path)
    figures = startup(one_page)  # each command runs with check=True: a failing review raises here
    assert set(figures) == {"review_one_page_s", "baseline_stock_medspacy_load_s", "ratio_to_baseline", "python_start_s"}
    assert figures["review_one_page_s"] > figures["python_start_s"] > 0
    assert figures["ratio_to_baseline"] == figures["review_one_page_s"] / figures["baseline_stock_medspacy_load_s"]
