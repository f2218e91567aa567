"""Benign verdicts: a lesion a document finds benign at one place is no melanoma lesion, wherever else the document
mentions it by that place.

A pathology report's clinical history reads "New L flank SQ nodule, r/o metastasis"; its diagnosis, a few lines
later, "D. Left flank subcutaneous nodule, core biopsy: lipoma". A reviewer reads both and does not count the flank
nodule as an injectable lesion or as a new lesion on treatment. Places (a side and a body part within a few words:
'L flank', 'flank, left') and verdict words live in rules/benign_verdicts.json. A verdict reaches the lines of its
own sentence and, for a specimen heading ending in ':', the sentence before it. The mentions found at a place with
a benign verdict are marked uncertain, the verdict's words as the cue.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from extractor.rules_loader import BenignVerdictRule
from extractor.sentences import sentence_starts
from models import Cue, Finding

Place = tuple[str, str]  # (side, body part), canonical


class _Patterns(NamedTuple):
    side_first: re.Pattern[str]  # 'L flank', 'left upper back'
    part_first: re.Pattern[str]  # 'flank, left'
    part_alone: re.Pattern[str]  # 'the back'
    side_of: dict[str, str]  # a side word -> its canonical side
    benign: re.Pattern[str]
    doubt: re.Pattern[str]
    gone: re.Pattern[str]
    excised: re.Pattern[str]


_COMPILED: dict[int, tuple[BenignVerdictRule, _Patterns]] = {}
# a clause ends at ';' or '.', at a blank line, or where a line starts a new list item or heading; a line wrapped in
# mid-clause (the hard newlines of a PDF) does not end it
_CLAUSE_END = re.compile(r"[;.]|\n\s*\n|\n\s*(?:[-*\u2022>]|\d+[.)]\s|[A-Z][A-Za-z /]{1,30}:)")


def _patterns(rule: BenignVerdictRule) -> _Patterns:
    """The rule's regexes, compiled once per rule object (the rule is kept with them, so its id stays its own)."""
    cached = _COMPILED.get(id(rule))
    if cached is None or cached[0] is not rule:
        cached = _COMPILED[id(rule)] = (rule, _compile(rule))
    return cached[1]


def _alternatives(words: list[str]) -> str:
    """One regex alternation of the words, longest first; one that never matches when there are none."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True)) or "(?!)"


def _compile(rule: BenignVerdictRule) -> _Patterns:
    side_of = {word.lower().rstrip("."): side for side, words in rule.sides.items() for word in words}
    sides, parts = _alternatives(list(side_of)), _alternatives(rule.body_parts)
    gap = rf"(?:[\s,.:;/()-]+[\w-]+){{0,{rule.gap_words}}}[\s,.:;/()-]+"
    part = rf"(?P<part>{parts})s?(?!\w)"
    return _Patterns(
        side_first=re.compile(rf"(?<![\w/])(?P<side>{sides})\.?" + gap + part, re.I),
        part_first=re.compile(rf"(?<![\w/])(?P<part>{parts})s?,?\s+(?P<side>{sides})(?![\w/])", re.I),
        part_alone=re.compile(rf"(?<![\w/]){part}", re.I),
        side_of=side_of,
        benign=re.compile(rf"(?<![\w/-])(?:{_alternatives(rule.benign_words)})", re.I),
        # the doubting words, then what they doubt within three words: "worrisome for a ... metastasis"
        doubt=re.compile(
            rf"(?<![\w/])(?:{_alternatives(rule.doubt_words)})\s*(?:[\w-]+\s+){{0,3}}?"
            rf"(?:{_alternatives(rule.doubt_objects)})",
            re.I,
        ),
        gone=re.compile(rf"(?<![\w/])(?:{_alternatives(rule.gone_words)})(?!\w)", re.I),
        excised=re.compile(rf"(?<![\w/])(?:{_alternatives(rule.excised_words)})(?!\w)", re.I),
    )


def places(text: str, rule: BenignVerdictRule) -> set[Place]:
    patterns = _patterns(rule)
    found = set()
    for pattern in (patterns.side_first, patterns.part_first):
        for match in pattern.finditer(text):
            found.add((patterns.side_of[match.group("side").lower().rstrip(".")], match.group("part").lower()))
    return found


def _unsided_parts(text: str, rule: BenignVerdictRule) -> set[str]:
    """Body parts the text names with no side anywhere in it ('a new lump on the back')."""
    if places(text, rule):
        return set()
    return {m.group("part").lower() for m in _patterns(rule).part_alone.finditer(text)}


def _verdict_at(sentence: str, found: dict[Place, Cue], rule: BenignVerdictRule) -> Cue | None:
    """The verdict at a place the sentence names; a body part named without a side matches a verdict at that part
    ('the back' and 'left upper back') when only one side of it has a verdict."""
    for place in places(sentence, rule):
        if place in found:
            return found[place]
    for part in _unsided_parts(sentence, rule):
        at = [(place, cue) for place, cue in found.items() if place[1] == part or place[1].endswith(" " + part)]
        if len({place[0] for place, _cue in at}) == 1:
            return at[0][1]
    return None


def verdicts(text: str, rule: BenignVerdictRule) -> dict[Place, Cue]:
    """Each place the text calls benign, with the words that say so."""
    benign = _patterns(rule).benign
    starts = sentence_starts(text) + [len(text)]
    out: dict[Place, Cue] = {}
    for k in range(len(starts) - 1):
        sentence = text[starts[k] : starts[k + 1]]
        match = benign.search(sentence)
        if match is None or any(word in sentence.lower() for word in rule.not_with):
            continue
        reach = sentence
        if k and text[starts[k - 1] : starts[k]].rstrip().endswith(":"):
            reach = text[starts[k - 1] : starts[k]] + sentence  # the specimen heading over the diagnosis
        at = starts[k] + match.start()
        end = starts[k] + match.end()
        cue = Cue(qualifier="uncertain", text=text[at:end], start=at, end=end, rule=rule.id)
        for place in places(reach, rule):
            out.setdefault(place, cue)
    return out


def _mark_at(findings: list[Finding], found: dict[Place, Cue], rule: BenignVerdictRule) -> list[Finding]:
    """Lesion mentions (the rule's concepts) at a place with a benign verdict are uncertain, the verdict the cue; a
    denial ("no nodule of the left flank") stays a denial."""
    if not found:
        return findings
    out = []
    for finding in findings:
        if finding.concept in rule.concepts and not (finding.qualifiers.uncertain or finding.qualifiers.negated):
            cue = _verdict_at(finding.sentence, found, rule)
            if cue is not None:
                finding = finding.qualified(cue)
        out.append(finding)
    return out


def mark_benign_places(findings: list[Finding], text: str, rule: BenignVerdictRule) -> list[Finding]:
    """Lesion mentions at a place the same document calls benign are uncertain."""
    return _mark_at(findings, verdicts(text, rule), rule)


def mark_benign_places_across(
    findings_per_document: list[list[Finding]], texts: list[str], names: list[str], rule: BenignVerdictRule
) -> list[list[Finding]]:
    """A verdict in one document (a cytology or pathology report) reaches lesion mentions at the same place in the
    case's other documents; the cue names the document it is in."""
    found = [verdicts(text, rule) for text in texts]
    return [
        _mark_at(
            findings,
            {
                place: cue.model_copy(update={"document": names[j]})
                for j, verdict in enumerate(found) if j != k for place, cue in verdict.items()
            },
            rule,
        )
        for k, findings in enumerate(findings_per_document)
    ]


def mark_doubted_lesions(findings: list[Finding], text: str, rule: BenignVerdictRule) -> list[Finding]:
    """A lesion whose own clause says it is gone ("groin disease in clinical CR") is negated. A lesion whose own
    clause goes on to doubt its nature ("a new 1.4 cm subcutaneous nodule ..., worrisome for a
    subcutaneous metastasis"; "New L flank SQ nodule, r/o metastasis") is uncertain, the doubting words the cue. The
    clause ends at ';', '.', a blank line or a new list item; the doubt must start within ``doubt_within``
    characters, the gone words within ``gone_within``. A lesion whose sentence goes on to report the margins of its
    excision ("consistent with in-transit metastases; all margins negative") was cut out: historical."""
    patterns = _patterns(rule)
    out = []
    for finding in findings:
        if finding.concept in rule.concepts and not finding.qualifiers.active():
            reach = max(rule.doubt_within, rule.gone_within) + 40
            after = text[finding.end : min(finding.sentence_end, finding.end + reach)]
            clause = _CLAUSE_END.split(after, maxsplit=1)[0]
            checks = (
                (patterns.gone, "negated", "gone", rule.gone_within),
                (patterns.doubt, "uncertain", "doubted", rule.doubt_within),
            )
            for pattern, qualifier, name, within in checks:
                match = pattern.search(clause)
                if match is not None and match.start() <= within:
                    at, end = finding.end + match.start(), finding.end + match.end()
                    finding = finding.qualified(
                        Cue(qualifier=qualifier, text=text[at:end], start=at, end=end, rule=f"{rule.id}.{name}")
                    )
                    break
            else:
                # a pathology result that goes on to report the margins is about lesions already cut out
                match = patterns.excised.search(text, finding.end, finding.sentence_end)
                if match is not None:
                    finding = finding.qualified(
                        Cue(qualifier="historical", text=match.group(), start=match.start(), end=match.end(),
                            rule=f"{rule.id}.excised")
                    )
        out.append(finding)
    return out
