"""Response read from lesion-measurement tables: baseline and current sizes of each lesion, compared as RECIST
compares sums of longest diameters. The thresholds and header words live in rules/measurement_tables.json."""

from __future__ import annotations

import re

from extractor.document import TextDocument
from extractor.rules_loader import MeasurementTableRule
from models import Finding, Qualifiers

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[x×]\s*(\d+(?:\.\d+)?)\s*(?:[x×]\s*\d+(?:\.\d+)?\s*)?)?(mm|cm)?", re.I)
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


def _sizes(row: str) -> list[float]:
    """Longest diameter of each measurement in a row ('14 x 12', '8 mm', '1.2 cm'), in mm; dates are skipped."""
    row = _DATE.sub(" ", row)
    out = []
    for match in _SIZE.finditer(row):
        first, second, unit = match.group(1), match.group(2), match.group(3)
        if second is None and unit is None:
            continue  # a bare number (lesion label, count) is not a size
        scale = 10.0 if (unit or "").lower() == "cm" else 1.0
        out.append(max(float(first), float(second or 0)) * scale)
    return out


def table_findings(document: TextDocument, rule: MeasurementTableRule) -> list[Finding]:
    """For each table whose header names a baseline column, one finding per measured row: concept ``response``
    (or ``progression``) when the table's summed change crosses the rule's thresholds."""
    text = document.clean_text
    lines: list[tuple[int, int]] = []
    start = 0
    for line in text.split("\n"):
        lines.append((start, start + len(line)))
        start += len(line) + 1
    findings: list[Finding] = []
    i = 0
    while i < len(lines):
        header = text[lines[i][0] : lines[i][1]].lower()
        if not any(word in header for word in rule.baseline_words) or _sizes(header):
            i += 1
            continue
        rows = []
        j = i + 1
        while j < len(lines):
            sizes = _sizes(text[lines[j][0] : lines[j][1]])
            if len(sizes) < 2:
                if text[lines[j][0] : lines[j][1]].strip() == "" and rows:
                    j += 1
                    continue
                break
            rows.append((lines[j], sizes[0], sizes[-1]))
            j += 1
        if len(rows) >= rule.min_rows:
            baseline = sum(r[1] for r in rows)
            current = sum(r[2] for r in rows)
            change = (current - baseline) / baseline if baseline else 0.0
            concept = "response" if change <= rule.response_change else "progression" if change >= rule.progression_change else None
            if concept:
                for (a, b), before, after in rows:
                    if (after < before) == (concept == "response"):
                        a += len(text[a:b]) - len(text[a:b].lstrip())
                        findings.append(_row_finding(document, concept, rule.id, a, b, change))
        i = max(j, i + 1)
    return findings


def _row_finding(document: TextDocument, concept: str, rule_id: str, start: int, end: int, change: float) -> Finding:
    end = start + len(document.text[start:end].rstrip())
    return Finding(
        concept=concept,
        rule=rule_id,
        document=document.name,
        start=start,
        end=end,
        matched_text=f"measured change {change:+.0%} across the table",
        sentence_start=start,
        sentence_end=end,
        sentence=document.text[start:end],
        page=document.page_at(start, end),
        section=None,
        qualifiers=Qualifiers(),
        boxes=document.boxes(start, end),
    )
