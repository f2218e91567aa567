"""Retractions: a note that quotes one of its own statements and takes it back.

A supervising physician's addendum writes '"Not a surgical candidate" is default text in our template and should have
been deleted'; a corrected note writes 'the "no prior surgery" above was entered in error'. The quoted words are then
not what the note states: every mention in the document with the same concept and the same words is negated, the
retracting words its cue. So is a statement the note names to disagree with ('I do not agree with the assessment that
these lesions are not amenable to surgical resection'). The retracting words live in rules/retractions.json.
"""

from __future__ import annotations

import re

from extractor.rules_loader import RetractionRule
from models import Cue, Finding

_QUOTE = re.compile(r"[\"“”]([^\"“”\n]{3,120})[\"“”]")


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _disagreed(findings: list[Finding], text: str, rule: RetractionRule) -> dict[tuple[str, str], Cue]:
    """The statements a note names to disagree with ('I do not agree with the assessment that ...'), by concept and
    words, each with the disagreeing words as its cue."""
    out: dict[tuple[str, str], Cue] = {}
    for pattern in rule.disagreements:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            a, b = match.span("said")
            cue = Cue(qualifier="negated", text=text[match.start() : a].strip(), start=match.start(), end=a,
                      rule=f"{rule.id}.disagreed")
            for finding in findings:
                if finding.concept in rule.concepts and a <= finding.start and finding.end <= b:
                    out.setdefault((finding.concept, _words(finding.matched_text)), cue)
    return out


def mark_retracted_quotes(findings: list[Finding], text: str, rule: RetractionRule) -> list[Finding]:
    retracted = _disagreed(findings, text, rule) if rule.disagreements else {}
    if '"' not in text and "“" not in text and not retracted:
        return findings  # nothing quoted or disagreed with, nothing retracted
    retracting = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, rule.words)) + r")(?!\w)", re.IGNORECASE)
    for finding in findings:
        sentence = text[finding.sentence_start : finding.sentence_end]
        cue = retracting.search(sentence)
        if cue is None or finding.concept not in rule.concepts:
            continue
        for quote in _QUOTE.finditer(sentence):
            a, b = finding.sentence_start + quote.start(1), finding.sentence_start + quote.end(1)
            if a <= finding.start and finding.end <= b:
                start = finding.sentence_start + cue.start()
                retracted.setdefault(
                    (finding.concept, _words(finding.matched_text)),
                    Cue(qualifier="negated", text=cue.group(), start=start, end=start + len(cue.group()), rule=rule.id),
                )
    if not retracted:
        return findings
    return [
        f.qualified(cue) if (cue := retracted.get((f.concept, _words(f.matched_text)))) and not f.qualifiers.negated
        else f
        for f in findings
    ]
