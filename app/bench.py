"""``chartcheck bench``: how fast each stage runs, next to baselines measured on the same files in the same run.

Machines are noisy, so the ratios to the baselines are what to compare between runs, not absolute seconds.
By default it makes its own inputs: a 50-page typed note and a 10-page faxed scan built from the same source.
``--file`` / ``--manifest`` benchmark the user's own documents instead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

TYPED_PAGES = 50
SCAN_PAGES = 10
SEED = 7


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def make_inputs(folder: Path) -> tuple[Path, Path, Path]:
    """A realistic 50-page typed note, a 10-page faxed scan of its first pages, and its first page alone."""
    from app.render import layout, parse_note, synthetic_note, write_pdf, write_scan

    pages = layout(parse_note(synthetic_note(TYPED_PAGES, SEED), name="bench.note"))
    typed, scan, one_page = folder / "bench_typed.pdf", folder / "bench_scan.pdf", folder / "bench_one_page.pdf"
    write_pdf(pages, typed)
    write_scan(pages[:SCAN_PAGES], scan, seed=SEED)
    write_pdf(pages[:1], one_page)
    return typed, scan, one_page


STARTUP_RUNS = 3
STOCK_MEDSPACY_LOAD = "import medspacy; medspacy.load()"


def _wall(command: list[str]) -> float:
    """Median wall time of a fresh process running the command (it must succeed)."""
    times = []
    for _ in range(STARTUP_RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup(one_page: Path) -> dict[str, Any]:
    """Wall time of `chartcheck review` on a one-page note in a new process, pipeline load included, next to a new
    process that only loads stock medspaCy (``medspacy.load()``) and one that only starts Python."""
    review_s = _wall([sys.executable, "-m", "app.cli", "review", str(one_page), "--request-type", "initial"])
    stock_s = _wall([sys.executable, "-c", STOCK_MEDSPACY_LOAD])
    python_s = _wall([sys.executable, "-c", "pass"])
    return {"review_one_page_s": review_s, "baseline_stock_medspacy_load_s": stock_s,
            "ratio_to_baseline": review_s / stock_s, "python_start_s": python_s}


# ------------------------------------------------------------------ baselines


def pdfplumber_extract_text(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return sum(len(page.extract_text() or "") for page in pdf.pages)


def plain_tesseract(path: Path, one_thread: bool = False) -> int:
    """tesseract on the same page images our OCR sees (same renderer, same resolution), text only, one page after
    another: as installed (OpenMP threads by default), or with ``OMP_THREAD_LIMIT=1``."""
    import pypdfium2 as pdfium
    import pytesseract

    from extractor.ocr import OCR_DPI

    document = pdfium.PdfDocument(path.read_bytes())
    saved = os.environ.get("OMP_THREAD_LIMIT")
    if one_thread:
        os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        total = 0
        for page in document:
            image = page.render(scale=OCR_DPI / 72.0, grayscale=True).to_pil()
            total += len(pytesseract.image_to_string(image))
    finally:
        if saved is None:
            os.environ.pop("OMP_THREAD_LIMIT", None)
        else:
            os.environ["OMP_THREAD_LIMIT"] = saved
    return total


def stock_medspacy(text: str) -> Callable[[], int]:
    """medspacy.load() (PyRuSH sentences, TargetMatcher, ConText with default rules) given our target rules."""
    import medspacy
    from loguru import logger

    from extractor.nlp import target_rule

    logger.disable("PyRuSH")  # PyRuSH logs every token at DEBUG; logging is not part of what it costs to split
    from extractor.rules_loader import default_rules

    nlp = medspacy.load()
    nlp.get_pipe("medspacy_target_matcher").add([target_rule(spec) for spec in default_rules().targets])
    return lambda: len(nlp(text).ents)


# ------------------------------------------------------------------ our stages


def _review_file(path: str) -> int:
    from app.review import process_reviewer
    from models import ReviewRequest

    determination = process_reviewer().review_paths([Path(path)], ReviewRequest(request_type="initial"))
    return sum(len(d.pages) for d in determination.documents)


def _throughput(paths: list[Path], workers: int) -> float:
    """Pages per second reviewing the given files end to end (pipeline loaded once per worker, not timed)."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_review_file, [str(paths[0])] * workers))  # warm: load the pipeline in every worker
        seconds, pages = _timed(lambda: sum(pool.map(_review_file, [str(p) for p in paths])))
    return pages / seconds


def _other_chart() -> Any:
    """A 5-page chart of another patient (another seed), read as a text note."""
    from app.render import synthetic_note
    from extractor.read import read_document

    return read_document("warm.note", synthetic_note(5, SEED + 1).encode())


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return own / 1024.0


def run(typed: Path, scan: Path | None, cores: int, one_page: Path | None = None) -> dict[str, Any]:
    from app.review import Reviewer
    from criteria.engine import determine
    from extractor.findings import analyze
    from extractor.read import read_path
    from models import ReviewRequest

    load_s, reviewer = _timed(Reviewer)
    figures: dict[str, Any] = {"pipeline_load_s": load_s}

    extract_s, document = _timed(lambda: read_path(typed))
    pages = len(document.pages)
    base_extract_s, _ = _timed(lambda: pdfplumber_extract_text(typed))
    figures["text_extraction"] = {"pages": pages, "seconds": extract_s, "pages_per_s": pages / extract_s,
                                  "baseline_pdfplumber_extract_text_s": base_extract_s,
                                  "ratio_to_baseline": extract_s / base_extract_s}

    kb = len(document.text.encode()) / 1000.0
    # Warm both pipelines on a different chart (a running service has seen other notes, not this one), so the timed
    # run meets this text for the first time.
    other = _other_chart()
    analyze(reviewer.nlp, other, reviewer.rules)
    nlp_s, findings = _timed(lambda: analyze(reviewer.nlp, document, reviewer.rules))
    stock_medspacy(other.clean_text)()
    stock = stock_medspacy(document.clean_text)
    stock_s, _ = _timed(stock)
    figures["nlp"] = {"kb": kb, "seconds": nlp_s, "kb_per_s": kb / nlp_s, "findings": len(findings),
                      "baseline_stock_medspacy_s": stock_s, "baseline_kb_per_s": kb / stock_s,
                      "ratio_to_baseline": nlp_s / stock_s}

    criteria_s, _ = _timed(lambda: determine(findings, reviewer.policy, ReviewRequest(request_type="initial")))
    figures["criteria"] = {"seconds": criteria_s}

    one_core = _throughput([typed] * 2, 1)
    all_cores = _throughput([typed] * (2 * cores), cores) if cores > 1 else one_core
    figures["end_to_end_typed"] = {
        "pages_per_s_1_core": one_core, f"pages_per_s_{cores}_cores": all_cores,
        "baseline_pdfplumber_pages_per_s": pages / base_extract_s,
        "ratio_1_core_time_to_baseline": (pages / one_core) / base_extract_s,
        f"ratio_{cores}_cores_time_to_baseline": (pages / all_cores) / base_extract_s,
    }

    if scan is not None:
        ocr_s, scanned = _timed(lambda: read_path(scan))
        scan_pages = len(scanned.pages)
        base_ocr_s, _ = _timed(lambda: plain_tesseract(scan))
        base_ocr_1t_s, _ = _timed(lambda: plain_tesseract(scan, one_thread=True))
        figures["ocr"] = {"pages": scan_pages, "seconds": ocr_s, "pages_per_s": scan_pages / ocr_s,
                          "baseline_plain_tesseract_s": base_ocr_s, "ratio_to_baseline": ocr_s / base_ocr_s,
                          "baseline_tesseract_one_thread_s": base_ocr_1t_s,
                          "ratio_to_one_thread_baseline": ocr_s / base_ocr_1t_s}
        scan_one = _throughput([scan], 1)
        figures["end_to_end_scan"] = {"pages_per_s_1_core": scan_one,
                                      "baseline_tesseract_pages_per_s": scan_pages / base_ocr_s,
                                      "ratio_1_core_time_to_baseline": (scan_pages / scan_one) / base_ocr_s,
                                      "ratio_1_core_time_to_one_thread_baseline": (scan_pages / scan_one) / base_ocr_1t_s}
    if one_page is not None:
        figures["startup"] = startup(one_page)
    figures["peak_rss_mb_this_process"] = peak_rss_mb()
    return figures


def _print(figures: dict[str, Any]) -> None:
    def show(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    for stage, values in figures.items():
        if isinstance(values, dict):
            print(stage)
            for key, value in values.items():
                print(f"  {key:42} {show(value)}")
        else:
            print(f"{stage:44} {show(values)}")


def cmd_bench(args: argparse.Namespace) -> int:
    cores = args.cores or os.cpu_count() or 1
    if args.file:
        typed, scan = Path(args.file), (Path(args.scan) if args.scan else None)
        figures = run(typed, scan, cores)
    else:
        with tempfile.TemporaryDirectory() as folder:
            typed, scan, one_page = make_inputs(Path(folder))
            figures = run(typed, scan, cores, one_page)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        _print(figures)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="time each stage next to baselines on the same files")
    p.add_argument("--file", help="benchmark this typed PDF instead of the generated 50-page note")
    p.add_argument("--scan", help="with --file: a scanned PDF for the OCR stage")
    p.add_argument("--cores", type=int, default=None, help="cores for the all-cores figure (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
