"""``chartcheck negex``: score our ConText qualifiers on a NegEx-format test set, beside stock medspaCy.

A NegEx-format file is tab-separated: line number, condition, sentence, negation status (Negated/Affirmed),
temporality (Recent/Historical/Not particular) and experiencer (Patient/Other/...), with an optional header row.
For each row the condition is located in its sentence and made the only target entity; then only the sentence
splitter and ConText run over the sentence (our pipeline's, and stock ``medspacy.load()``'s).

Reading rows, locating the condition, turning ConText categories into a prediction and computing the metrics are
pure functions; only ``run_pipeline`` touches spaCy.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# ----------------------------------------------------------------------------------------------- rows and gold


@dataclass(frozen=True)
class Gold:
    negated: bool
    historical: bool
    hypothetical: bool
    patient: bool


@dataclass(frozen=True)
class Row:
    line: str
    condition: str
    sentence: str
    gold: Gold


@dataclass(frozen=True)
class Prediction:
    negated: bool
    historical: bool
    hypothetical: bool
    patient: bool


def _norm(value: str) -> str:
    return " ".join(value.strip().lower().replace("_", " ").split())


def parse_gold(negation: str, temporality: str, experiencer: str) -> Gold:
    temporality = _norm(temporality)
    return Gold(
        negated=_norm(negation).startswith("negated"),
        historical=temporality.startswith("historical"),
        hypothetical=temporality.startswith(("not particular", "hypothetical")),
        patient=_norm(experiencer) == "patient",
    )


def _is_header(cells: Sequence[str]) -> bool:
    return not cells[0].strip().isdigit() and _norm(cells[3]).split(" ")[0] not in ("negated", "affirmed", "possible")


def read_rows(lines: Iterable[str]) -> list[Row]:
    """Rows of a NegEx-format TSV (header row and blank lines tolerated; labels compared case-insensitively)."""
    rows: list[Row] = []
    for cells in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) < 6:
            raise ValueError(f"NegEx row needs 6 tab-separated columns, got {len(cells)}: {cells!r}")
        if not rows and _is_header(cells):
            continue
        rows.append(Row(cells[0].strip(), cells[1].strip(), cells[2], parse_gold(cells[3], cells[4], cells[5])))
    return rows


# ----------------------------------------------------------------------------------------- locating the condition

_WORD = re.compile(r"[A-Za-z0-9]+")
# A run of capitalized words (letters all upper case), with the digits and punctuation between them.
_TRAILING_NUMBERS = re.compile(r"(?:[\s,.:;&()/-]+[0-9][0-9'/-]*)+[\s,.:;&()/-]*$")
_CAPS_RUN = re.compile(r"[A-Z][A-Z0-9'/-]*(?:[\s,.:;&()/-]+(?:[A-Z0-9][A-Z0-9'/-]*))*")


def locate(condition: str, sentence: str) -> tuple[int, int] | None:
    """Character span of the condition in the sentence: the phrase itself (case-insensitive, any whitespace, whole
    words; of several, the one written in capitals and not a heading), else the run of capitals sharing the most
    words with it, else None."""
    words = condition.split()
    if words:
        pattern = r"\s*".join(re.escape(word) for word in words)
        if condition.strip()[0].isalnum():
            pattern = r"(?<![A-Za-z0-9])" + pattern
        if condition.strip()[-1].isalnum():
            pattern += r"(?![A-Za-z0-9])"
        matches = list(re.finditer(pattern, sentence, re.IGNORECASE))
        if matches:

            def rank(match: re.Match[str]) -> tuple[bool, bool, int]:
                text = match.group()
                in_capitals = text == text.upper() and any(c.isalpha() for c in text)
                heading = sentence[match.end() :].lstrip(" ").startswith(":")
                return in_capitals, not heading, -match.start()

            best = max(matches, key=rank)
            return best.start(), best.end()
    wanted = {w.lower() for w in _WORD.findall(condition)}
    best: tuple[int, int, int, int] | None = None  # (shared words, length, start, end)
    for match in _CAPS_RUN.finditer(sentence):
        text = _TRAILING_NUMBERS.sub("", match.group()).rstrip(" ,.:;&(-/")
        run_words = {w.lower() for w in _WORD.findall(text) if any(c.isalpha() for c in w)}
        if not run_words or any(w.upper() != w for w in _WORD.findall(text)):
            continue
        shared = len(run_words & wanted)
        if shared == 0:
            continue
        key = (shared, len(text), match.start(), match.start() + len(text))
        if best is None or key[:2] > best[:2]:
            best = key
    return (best[2], best[3]) if best else None


# ------------------------------------------------------------------------------------------ prediction and metrics


def predict(categories: Iterable[str]) -> Prediction:
    """The qualifiers ConText's modifier categories on the target amount to."""
    found = {c.upper() for c in categories}
    return Prediction(
        negated="NEGATED_EXISTENCE" in found,
        historical="HISTORICAL" in found,
        hypothetical="HYPOTHETICAL" in found,
        patient="FAMILY" not in found,
    )


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def metrics(pairs: Sequence[tuple[Gold, Prediction]]) -> dict[str, Any]:
    """Negation precision/recall/F1 (positive class Negated), historical accuracy (Historical vs not) and
    experiencer accuracy (Patient vs not) over (gold, prediction) pairs."""
    tp = sum(1 for g, p in pairs if g.negated and p.negated)
    fp = sum(1 for g, p in pairs if not g.negated and p.negated)
    fn = sum(1 for g, p in pairs if g.negated and not p.negated)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall) if precision + recall else 0.0
    n = len(pairs)
    return {
        "n": n,
        "negation": {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)},
        "historical_accuracy": round(_ratio(sum(1 for g, p in pairs if g.historical == p.historical), n), 4),
        "experiencer_accuracy": round(_ratio(sum(1 for g, p in pairs if g.patient == p.patient), n), 4),
        "counts": {"tp": tp, "fp": fp, "fn": fn, "tn": n - tp - fp - fn},
    }


def misclassified(gold: Gold, prediction: Prediction) -> list[str]:
    """Which scored dimensions the prediction gets wrong."""
    wrong = []
    if gold.negated != prediction.negated:
        wrong.append("negation")
    if gold.historical != prediction.historical:
        wrong.append("historical")
    if gold.patient != prediction.patient:
        wrong.append("experiencer")
    return wrong


# --------------------------------------------------------------------------------------------------- pipelines

# categories of the ConText modifiers on the one target, and the cue texts
Classifier = Callable[[str, tuple[int, int]], list[tuple[str, str]]]


def run_pipeline(nlp: Any, sentence_pipes: Sequence[str], sentence: str, span: tuple[int, int]) -> list[tuple[str, str]]:
    """Tokenize, run the sentence component(s), make the span the only entity, run ConText; (category, cue) pairs."""
    doc = nlp.make_doc(sentence)
    for name in sentence_pipes:
        doc = nlp.get_pipe(name)(doc)
    ent = doc.char_span(span[0], span[1], label="CONDITION", alignment_mode="expand")
    doc.ents = [ent] if ent is not None else []
    doc = nlp.get_pipe("medspacy_context")(doc)
    if ent is None:
        return []
    target = doc.ents[0]
    return [(m.category, doc[m.modifier_span[0] : m.modifier_span[1]].text) for m in target._.modifiers]


def ours() -> Classifier:
    from extractor.nlp import build_pipeline

    nlp = build_pipeline()
    return lambda sentence, span: run_pipeline(nlp, ["chartcheck_sentences"], sentence, span)


def stock() -> Classifier:
    import medspacy
    from loguru import logger

    logger.disable("PyRuSH")  # its sentencizer logs every sentence at DEBUG
    nlp = medspacy.load()
    return lambda sentence, span: run_pipeline(nlp, ["medspacy_pyrush"], sentence, span)


@dataclass
class Scored:
    row: Row
    span: tuple[int, int]
    cues: list[tuple[str, str]]
    prediction: Prediction


def score_rows(rows: Sequence[Row], classify: Classifier) -> tuple[list[Scored], list[Row]]:
    scored, unlocated = [], []
    for row in rows:
        span = locate(row.condition, row.sentence)
        if span is None:
            unlocated.append(row)
            continue
        cues = classify(row.sentence, span)
        scored.append(Scored(row, span, cues, predict(c for c, _ in cues)))
    return scored, unlocated


def evaluate(rows: Sequence[Row], classifier: Classifier, baseline: Classifier) -> tuple[dict[str, Any], list[Scored]]:
    scored, unlocated = score_rows(rows, classifier)
    base, _ = score_rows(rows, baseline)
    result = metrics([(s.row.gold, s.prediction) for s in scored])
    result["baseline"] = metrics([(s.row.gold, s.prediction) for s in base])
    result["unlocated"] = [row.line for row in unlocated]
    return result, scored


# --------------------------------------------------------------------------------------------------------- CLI


def format_table(result: dict[str, Any]) -> str:
    base = result["baseline"]
    lines = [
        f"rows scored: {result['n']}  (unlocated: {len(result['unlocated'])}"
        + (f": lines {', '.join(result['unlocated'])}" if result["unlocated"] else "")
        + ")",
        "",
        f"{'metric':<22}{'ours':>8}{'stock':>8}",
    ]
    for label, key in (("negation precision", "precision"), ("negation recall", "recall"), ("negation F1", "f1")):
        lines.append(f"{label:<22}{result['negation'][key]:>8.3f}{base['negation'][key]:>8.3f}")
    lines.append(f"{'historical accuracy':<22}{result['historical_accuracy']:>8.3f}{base['historical_accuracy']:>8.3f}")
    lines.append(
        f"{'experiencer accuracy':<22}{result['experiencer_accuracy']:>8.3f}{base['experiencer_accuracy']:>8.3f}"
    )
    c, b = result["counts"], base["counts"]
    lines.append("")
    lines.append(f"negation counts  ours: tp {c['tp']} fp {c['fp']} fn {c['fn']} tn {c['tn']}")
    lines.append(f"                stock: tp {b['tp']} fp {b['fp']} fn {b['fn']} tn {b['tn']}")
    return "\n".join(lines)


def format_errors(scored: Sequence[Scored], limit: int) -> str:
    out = []
    for s in scored:
        wrong = misclassified(s.row.gold, s.prediction)
        if not wrong:
            continue
        if len(out) >= limit:
            break
        g = s.row.gold
        target = s.row.sentence[s.span[0] : s.span[1]]
        cues = ", ".join(f"{cat}:{text!r}" for cat, text in s.cues) or "none"
        out.append(
            f"line {s.row.line} [{', '.join(wrong)}] target {target!r}\n"
            f"    gold: negated={g.negated} historical={g.historical} patient={g.patient}; cues: {cues}\n"
            f"    {' '.join(s.row.sentence.split())}"
        )
    return "\n".join(out)


def cmd_negex(args: argparse.Namespace) -> int:
    path = Path(args.file)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = read_rows(handle)
    result, scored = evaluate(rows, ours(), stock())
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    if args.errors:
        print()
        print(format_errors(scored, args.errors))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("negex", help="score ConText qualifiers on a NegEx-format TSV, ours vs stock medspaCy")
    p.add_argument("file", help="NegEx-format TSV (line, condition, sentence, negation, temporality, experiencer)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", type=int, default=0, metavar="N", help="print the first N misclassified rows (ours)")
    p.set_defaults(func=cmd_negex)
