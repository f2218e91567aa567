"""The nearby conditions of a target rule (``requires_nearby``, ``excluded_nearby``, ``unless_nearby``,
``never_nearby``, and ``excluded_in_clause`` / ``unless_in_clause`` for the mention's own clause): words of the
mention's sentence that make it count or not ("new lesion" is no progression in a sentence about a seborrheic
keratosis). Checked on every match before overlapping matches compete, so a longer
match its sentence rules out never hides a shorter one inside it."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from spacy.tokens import Span

from extractor.rules_loader import TargetMeta

# The cited sentence is cut to at most this many characters around the mention (long run-on lines, tables).
MAX_SENTENCE_CHARS = 400
_WORD_CHARS = re.compile(r"[\w/+-]+")


def sentence_bounds(ent: Span, text: str) -> tuple[int, int]:
    """Offsets of the mention's sentence in text, spaces trimmed, cut to MAX_SENTENCE_CHARS around the mention."""
    sent = ent.sent
    return _trimmed(text, sent.start_char, sent.end_char, ent.start_char, ent.end_char)


def sentence_bounds_at(text: str, starts: list[int], start_char: int, end_char: int) -> tuple[int, int]:
    """The same, for the words at [start_char, end_char), from the sorted sentence starts of text (no spaCy
    ``Span.sent``, which walks the whole doc each time it is asked)."""
    k = bisect_right(starts, start_char) - 1
    start = starts[k] if k >= 0 else 0
    end = starts[k + 1] if k + 1 < len(starts) else len(text)
    return _trimmed(text, start, end, start_char, end_char)


def _trimmed(text: str, start: int, end: int, ent_start: int, ent_end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start > MAX_SENTENCE_CHARS:
        start = max(start, ent_start - MAX_SENTENCE_CHARS // 2)
        end = min(end, start + MAX_SENTENCE_CHARS)
        while start < ent_start and not text[start - 1].isspace():
            start += 1
        while end > ent_end and end < len(text) and not text[end].isspace():
            end -= 1
    return start, end


@lru_cache(maxsize=4096)
def _word_prefixes(prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex finding a word (a run of _WORD_CHARS) that starts with one of the prefixes; a prefix holding another
    character can never start such a word."""
    usable = [p for p in prefixes if _WORD_CHARS.fullmatch(p)]
    return re.compile(r"(?<![\w/+-])(?:" + "|".join(map(re.escape, usable)) + ")") if usable else None


@lru_cache(maxsize=4096)
def _phrases(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex finding a phrase (it holds a space) where a word starts: 'indicated for' is not in 'contraindicated
    for'."""
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, phrases)) + ")") if phrases else None


def _present(prefixes: list[str], lowered: str) -> bool:
    """Is one of the prefixes in the sentence: a phrase holding a space where a word starts, otherwise as the start
    of a word?"""
    if not prefixes:
        return False
    phrases = _phrases(tuple(p for p in prefixes if " " in p))
    if phrases is not None and phrases.search(lowered) is not None:
        return True
    if "" in prefixes and _WORD_CHARS.search(lowered):
        return True
    pattern = _word_prefixes(tuple(p for p in prefixes if " " not in p))
    return pattern is not None and pattern.search(lowered) is not None


_CLAUSE_MARK = re.compile(r"[,;:()\[\]]")


def clause_bounds(text: str, s_start: int, s_end: int, start: int, end: int) -> tuple[int, int]:
    """Offsets of the clause holding the words at [start, end): inside their sentence, from the last comma,
    semicolon, colon or bracket before them to the first one after them."""
    before = [m.end() for m in _CLAUSE_MARK.finditer(text, s_start, start)]
    after = _CLAUSE_MARK.search(text, end, s_end)
    return (before[-1] if before else s_start), (after.start() if after else s_end)


def clause_ok(meta: TargetMeta, clause: str) -> bool:
    lowered = clause.lower()
    return not _present(meta.excluded_in_clause, lowered) or _present(meta.unless_in_clause, lowered)


def next_sentence_ok(meta: TargetMeta, sentence: str, following: str) -> bool:
    lowered = following.lower()
    if not _present(meta.excluded_next_sentence, lowered):
        return True
    if meta.next_sentence_about and not _present(meta.next_sentence_about, lowered):
        return True
    return _present(meta.unless_nearby, sentence.lower()) or _present(meta.unless_nearby, following.lower())


def previous_sentence_ok(meta: TargetMeta, sentence: str, previous: str) -> bool:
    """A sentence drawing on those before it ('Surgery is therefore not an option') is ruled out by their excluded
    words (a refusal)."""
    if not _present(meta.previous_sentence_link, sentence.lower()):
        return True
    return not _present(meta.excluded_previous_sentence, previous.lower())


def nearby_ok(meta: TargetMeta, sentence: str) -> bool:
    lowered = sentence.lower()
    if _present(meta.never_nearby, lowered):
        return False
    if meta.requires_nearby and not _present(meta.requires_nearby, lowered):
        return False
    if _present(meta.excluded_nearby, lowered):
        return _present(meta.unless_nearby, lowered)
    return True


def denial_ok(meta: TargetMeta, sentence: str) -> bool:
    """May a denial of the mention state its ``negated_means`` concept in this sentence?"""
    return not _present(meta.negated_never_nearby, sentence.lower())
