"""``chartcheck evaluate``: hold the pipeline to the gold labels of ``sample_notes/``.

Per split (``dev``, ``held``) and overall: per-criterion accuracy with a confusion table, outcome accuracy,
approval-months accuracy, flag precision and recall, the evidence hit rate (the share of gold sentences overlapped by
a cited evidence span whose boxes lie on the gold page), wrong ``meets_criteria`` outcomes, and every failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from extractor.document import TextDocument
from extractor.errors import UnreadableDocument
from extractor.read import read_path
from models import Determination, ReviewRequest

STATUSES = ("met", "not_met", "insufficient", "not_applicable")
# A gold sentence is found in OCR text when at least this share of its words appear in one window of the page.
FUZZY_WORD_SHARE = 0.6


class GoldEvidence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: str
    page: int | None = None
    text: str


class GoldCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    evidence: list[GoldEvidence] = Field(default_factory=list)


class Gold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_id: str
    description: str = ""
    request_type: str
    nonformulary_exception: bool = False
    documents: list[str]
    criteria: dict[str, GoldCriterion]
    suggested_outcome: str
    approval_months: int | None
    flags: list[str] = Field(default_factory=list)


@dataclass
class CaseResult:
    case_id: str
    split: str
    gold: dict[str, Any]
    determination: dict[str, Any] | None = None
    error: str | None = None
    evidence_hits: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------- locating gold sentences in extracted text


# A word; a size's figures, 'x' and unit apart (OCR runs a table's '14 x 11 mm' together as '14x11mm')
_WORD = re.compile(r"[0-9]+(?=[x×][0-9])|(?<=[0-9])[x×](?=[0-9])|[0-9]+(?=(?:mm|cm)\b)|[A-Za-z0-9]+", re.IGNORECASE)


def _normalized_words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    words, spans = [], []
    for match in _WORD.finditer(text):
        words.append(match.group().lower())
        spans.append((match.start(), match.end()))
    return words, spans


def locate(document: TextDocument, sentence: str, page: int | None) -> tuple[int, int] | None:
    """Offsets of the gold sentence in the document's text (on the gold page when given): exact on the word
    sequence first, then the best window sharing at least FUZZY_WORD_SHARE of its words (OCR noise). A sentence that
    runs on over a page break is found from the gold page, past the footer and banner, the same two ways."""
    target, _ = _normalized_words(sentence)
    if not target:
        return None
    words, spans = _normalized_words(document.text)
    if page is not None and document.pages[0].source != "plain":
        keep = [i for i, (s, e) in enumerate(spans) if document.page_at(s, e) == page]
        found = _find(target, [words[i] for i in keep], [spans[i] for i in keep])
        if found is None:
            on_page = set(keep)
            body = [i for i in range(keep[0], len(spans)) if not document.is_furniture(*spans[i])] if keep else []
            starting = sum(1 for i in body if i in on_page)  # the page's words come first in body
            found = _find(target, [words[i] for i in body], [spans[i] for i in body], first=starting)
        return found
    return _find(target, words, spans)


def _exact(
    target: list[str], words: list[str], spans: list[tuple[int, int]], first: int | None = None
) -> tuple[int, int] | None:
    """The first exact occurrence of the word sequence (starting among the first ``first`` words when given)."""
    n = len(target)
    for i in range(min(len(words) - n + 1, first if first is not None else len(words))):
        if words[i : i + n] == target:
            return spans[i][0], spans[i + n - 1][1]
    return None


def _find(
    target: list[str], words: list[str], spans: list[tuple[int, int]], first: int | None = None
) -> tuple[int, int] | None:
    """Exact first, then the best window sharing FUZZY_WORD_SHARE of the words (starting among the first ``first``
    words when given)."""
    exact = _exact(target, words, spans, first=first)
    if exact is not None:
        return exact
    n = len(target)
    want = Counter(target)
    best, best_i = 0, -1
    for i in range(min(max(1, len(words) - n + 1), first if first is not None else len(words))):
        have = Counter(words[i : i + n])
        score = sum((want & have).values())
        if score > best:
            best, best_i = score, i
    if best_i >= 0 and best >= FUZZY_WORD_SHARE * n:
        return spans[best_i][0], spans[min(best_i + n, len(spans)) - 1][1]
    return None


# ---------------------------------------------------------------- one case (runs in a worker)

def evaluate_case(case_dir: str, split: str) -> CaseResult:
    from app.review import process_reviewer

    folder = Path(case_dir)
    gold = Gold.model_validate_json((folder / "gold.json").read_text(encoding="utf-8"))
    result = CaseResult(case_id=gold.case_id, split=split, gold=gold.model_dump())
    try:
        documents = [read_path(folder / name) for name in gold.documents]
    except UnreadableDocument as error:
        result.error = f"{error.name}: {error.cause}"
        return result
    request = ReviewRequest(request_type=gold.request_type, nonformulary_exception=gold.nonformulary_exception)
    determination: Determination = process_reviewer().review_documents(documents, request)
    result.determination = determination.model_dump(mode="json")
    by_name = {d.name: d for d in documents}
    for criterion_id, gold_criterion in gold.criteria.items():
        if gold_criterion.status not in ("met", "not_met"):
            continue
        predicted = next((c for c in determination.criteria if c.id == criterion_id), None)
        for item in gold_criterion.evidence:
            document = by_name.get(item.document)
            where = locate(document, item.text, item.page) if document else None
            hit = False
            if where is not None and predicted is not None:
                hit = any(
                    ev.document == item.document
                    and ev.start < where[1]
                    and where[0] < ev.end
                    and (item.page is None or any(b.page == item.page for b in ev.boxes) or not ev.boxes)
                    for ev in predicted.evidence
                )
            result.evidence_hits.append(
                {"criterion": criterion_id, "document": item.document, "page": item.page, "text": item.text,
                 "located": where is not None, "hit": hit}
            )
    return result


# ---------------------------------------------------------------- scoring


def find_cases(root: Path) -> list[tuple[str, str]]:
    """(case folder, split) for every gold.json below root; the split is the folder above the case."""
    return [(str(p.parent), p.parent.parent.name) for p in sorted(root.rglob("gold.json"))]


def score(results: list[CaseResult]) -> dict[str, Any]:
    criteria_total = Counter[str]()
    criteria_right = Counter[str]()
    confusion: dict[str, Counter[str]] = {}
    outcome_right = months_right = false_meets = 0
    flag_tp = flag_fp = flag_fn = 0
    hits = located = gold_sentences = 0
    failures: list[dict[str, Any]] = []
    errors = []
    for r in results:
        if r.determination is None:
            errors.append({"case": r.case_id, "error": r.error})
            continue
        det = r.determination
        got = {c["id"]: c for c in det["criteria"]}
        for cid, gold_c in r.gold["criteria"].items():
            pred = got.get(cid, {"status": "missing", "evidence": []})
            criteria_total[cid] += 1
            confusion.setdefault(cid, Counter())[f"{gold_c['status']}->{pred['status']}"] += 1
            if pred["status"] == gold_c["status"]:
                criteria_right[cid] += 1
            else:
                cited = [e["text"] for e in pred.get("evidence", [])[:2]]
                failures.append({"case": r.case_id, "criterion": cid, "expected": gold_c["status"],
                                 "got": pred["status"], "reason": pred.get("reason", ""), "cited": cited})
        outcome_right += det["suggested_outcome"] == r.gold["suggested_outcome"]
        months_right += det["approval_months"] == r.gold["approval_months"]
        if det["suggested_outcome"] != r.gold["suggested_outcome"]:
            failures.append({"case": r.case_id, "criterion": "suggested_outcome", "expected": r.gold["suggested_outcome"],
                             "got": det["suggested_outcome"], "reason": "", "cited": []})
        false_meets += det["suggested_outcome"] == "meets_criteria" and r.gold["suggested_outcome"] != "meets_criteria"
        got_flags = {f["id"] for f in det["safety_flags"]}
        gold_flags = set(r.gold["flags"])
        flag_tp += len(got_flags & gold_flags)
        flag_fp += len(got_flags - gold_flags)
        flag_fn += len(gold_flags - got_flags)
        for fid in sorted(got_flags ^ gold_flags):
            failures.append({"case": r.case_id, "criterion": f"flag:{fid}", "expected": fid in gold_flags,
                             "got": fid in got_flags, "reason": "", "cited": []})
        for h in r.evidence_hits:
            gold_sentences += 1
            located += h["located"]
            hits += h["hit"]
            if not h["hit"]:
                failures.append({"case": r.case_id, "criterion": f"evidence:{h['criterion']}", "expected": h["text"],
                                 "got": "not cited" if h["located"] else "gold sentence not found in extracted text",
                                 "reason": f"{h['document']} p.{h['page']}", "cited": []})
    n = sum(1 for r in results if r.determination is not None)
    total_c = sum(criteria_total.values())
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None
    return {
        "cases": len(results),
        "reviewed": n,
        "errors": errors,
        "criterion_accuracy": ratio(sum(criteria_right.values()), total_c),
        "per_criterion_accuracy": {c: ratio(criteria_right[c], criteria_total[c]) for c in sorted(criteria_total)},
        "confusion": {c: dict(sorted(v.items())) for c, v in sorted(confusion.items())},
        "outcome_accuracy": ratio(outcome_right, n),
        "approval_months_accuracy": ratio(months_right, n),
        "flag_precision": ratio(flag_tp, flag_tp + flag_fp) if flag_tp + flag_fp else 1.0,
        "flag_recall": ratio(flag_tp, flag_tp + flag_fn) if flag_tp + flag_fn else 1.0,
        "evidence_hit_rate": ratio(hits, gold_sentences),
        "gold_sentences": gold_sentences,
        "gold_sentences_located": located,
        "false_meets_criteria": false_meets,
        "failures": failures,
    }


def run(root: Path, workers: int | None = None, splits: list[str] | None = None) -> dict[str, Any]:
    return report(evaluate_cases(root, workers, splits))


def evaluate_cases(root: Path, workers: int | None = None, splits: list[str] | None = None) -> list[CaseResult]:
    """Every case under root (of the given splits), reviewed and compared with its gold."""
    cases = [c for c in find_cases(root) if splits is None or c[1] in splits]
    workers = max(1, min(workers or os.cpu_count() or 1, len(cases) or 1))
    if workers == 1:
        results = [evaluate_case(d, s) for d, s in cases]
    else:
        from app.review import process_reviewer  # each worker loads the pipeline once, at start

        with ProcessPoolExecutor(max_workers=workers, initializer=process_reviewer) as pool:
            results = list(pool.map(evaluate_case, [d for d, _ in cases], [s for _, s in cases]))
    return results


def report(results: list[CaseResult]) -> dict[str, Any]:
    """The figures of each split and of all cases."""
    figures: dict[str, Any] = {"splits": {}}
    for split in sorted({r.split for r in results}):
        figures["splits"][split] = score([r for r in results if r.split == split])
    figures["all"] = score(results)
    return figures


def _print_report(report: dict[str, Any]) -> None:
    def pct(x: float | None) -> str:
        return "  n/a" if x is None else f"{100 * x:5.1f}%"
    names = list(report["splits"]) + ["all"]
    blocks = {**report["splits"], "all": report["all"]}
    print(f"{'':34}" + "".join(f"{n:>10}" for n in names))
    rows = [("cases", "cases"), ("outcome accuracy", "outcome_accuracy"), ("criterion accuracy", "criterion_accuracy"),
            ("approval-months accuracy", "approval_months_accuracy"), ("flag precision", "flag_precision"),
            ("flag recall", "flag_recall"), ("evidence hit rate", "evidence_hit_rate"),
            ("wrong meets_criteria", "false_meets_criteria")]
    for label, key in rows:
        vals = [blocks[n][key] for n in names]
        cells = [f"{v:>10}" if isinstance(v, int) else f"{pct(v):>10}" for v in vals]
        print(f"{label:34}" + "".join(cells))
    print()
    all_ = report["all"]
    print("Per criterion (all splits): accuracy and confusion gold->got")
    for cid, acc in all_["per_criterion_accuracy"].items():
        conf = ", ".join(f"{k}:{v}" for k, v in all_["confusion"][cid].items())
        print(f"  {cid:28} {pct(acc)}   {conf}")
    for name in names[:-1]:
        block = blocks[name]
        if block["errors"] or block["failures"]:
            print(f"\nFailures [{name}]:")
        for e in block["errors"]:
            print(f"  {e['case']}: ERROR {e['error']}")
        for f in block["failures"]:
            cited = " | ".join(" ".join(t.split())[:110] for t in f["cited"])
            print(f"  {f['case']} {f['criterion']}: expected {f['expected']!s:.90} got {f['got']}"
                  + (f" ({f['reason']})" if f["reason"] and f["criterion"].startswith("evidence") else "")
                  + (f"\n      cited: {cited}" if cited else ""))


def cmd_evaluate(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not root.is_dir():
        print(f"chartcheck: error: {root}: not a folder", file=sys.stderr)
        return 2
    report = run(root, workers=args.workers, splits=args.split)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report)
    below = []
    for name, block in {**report["splits"], "all": report["all"]}.items():
        checks = [("outcome accuracy", block["outcome_accuracy"], args.min_outcome),
                  *[(f"accuracy of {cid}", acc, args.min_criterion)
                    for cid, acc in block["per_criterion_accuracy"].items()],
                  ("evidence hit rate", block["evidence_hit_rate"], args.min_evidence)]
        for label, value, floor in checks:
            if floor is not None and (value is None or value < floor):
                below.append(f"{name}: {label} {value} < {floor}")
        if args.max_false_meets is not None and block["false_meets_criteria"] > args.max_false_meets:
            below.append(f"{name}: wrong meets_criteria {block['false_meets_criteria']} > {args.max_false_meets}")
        if block["errors"]:
            below.append(f"{name}: {len(block['errors'])} case(s) could not be read")
    for line in below:
        print(f"below floor: {line}", file=sys.stderr)
    return 1 if below else 0


def register(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="score the pipeline against gold-labelled sample cases")
    p.add_argument("root", help="folder holding case folders with gold.json (e.g. sample_notes/)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--split", action="append", help="only this split (repeatable), e.g. dev")
    p.add_argument("--min-outcome", type=float, default=None, help="floor for outcome accuracy (0-1)")
    p.add_argument("--min-criterion", type=float, default=None, help="floor for per-criterion accuracy (0-1)")
    p.add_argument("--min-evidence", type=float, default=None, help="floor for the evidence hit rate (0-1)")
    p.add_argument("--max-false-meets", type=int, default=None, help="most wrong meets_criteria outcomes allowed")
    p.set_defaults(func=cmd_evaluate)
