"""Sentence boundaries for clinical notes: hard-wrapped lines, bullet lists, headings and table rows.

Works on character offsets of the text (furniture already blanked), so it is one regex pass plus a walk over lines;
``sentence_starts`` is pure and tested on its own, and the spaCy component only copies its result onto tokens.
"""

from __future__ import annotations

import re

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

# A line shorter than this that does not end mid-sentence is a list item, a heading or a field, not wrapped prose.
SHORT_LINE = 48
# Tokens that end in a period without ending a sentence.
ABBREVIATIONS = frozenset(
    "dr mr mrs ms vs approx e.g i.e etc no st jr sr pt pts hx dx tx fx sx yo y.o wk wks mo mos yr yrs min max"
    " a.m p.m inc co dept est fig".split()
)

_SENTENCE_END = re.compile(r"[.?!]+[\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9•\-*])")
_BULLET = re.compile(r"^\s*(?:[-•*▪◦·]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)](?=\s))\s+")
_FIELD = re.compile(r"^\s*[A-Z][A-Za-z /&()'-]{0,40}:")
_BLANK_RUN = re.compile(r"\n[ \t\f]*\n")
# OCR reads a faint full stop as a comma: a comma before a capitalised word that only opens sentences ends one
_OCR_COMMA_END = re.compile(r",(?=[ \t]+(?:The|She|He|There|His|Her|This|These|They|We|Patient|Pt)\s)")


def _ends_sentence_here(text: str, end: int) -> bool:
    """True if the period run ending at `end` closes a sentence (not an abbreviation, initial or decimal)."""
    j = end
    while j > 0 and text[j - 1] in "\"')]":
        j -= 1
    k = j
    while k > 0 and text[k - 1] in ".?!":
        k -= 1
    w = k
    while w > 0 and not text[w - 1].isspace():
        w -= 1
    word = text[w:k].lower().lstrip("([\"'")
    if text[k:j] == "." and (word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
        return False
    return True


def sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start (sorted, unique, each at a non-space character)."""
    starts: set[int] = {0}
    for match in _SENTENCE_END.finditer(text):
        if _ends_sentence_here(text, match.end()):
            starts.add(match.end())
    for match in _BLANK_RUN.finditer(text):
        starts.add(match.end())
    for match in _OCR_COMMA_END.finditer(text):
        starts.add(match.end())
    # Line by line: decide whether each newline ends the sentence.
    line_start = 0
    previous: str | None = None
    for line in text.split("\n"):
        if previous is not None:
            prev = previous.rstrip()
            cur = line.strip()
            # "which Dr.\nOsei has scheduled": a line ending in an abbreviation's period runs on
            abbreviated = prev.endswith(".") and not _ends_sentence_here(text, line_start - len(previous) - 1 + len(prev))
            breaks = (
                not prev
                or (prev.endswith((".", ":", ";", "?", "!")) and not abbreviated)
                or len(prev.strip()) < SHORT_LINE
                or "  " in prev.strip()
                or "  " in cur
                or bool(_BULLET.match(line))
                or bool(_FIELD.match(line))
            )
            if breaks and cur and not cur[0].islower():
                starts.add(line_start)
            elif breaks and cur and (
                not prev or (prev.endswith((".", ":", "?", "!")) and not abbreviated) or _BULLET.match(line)
            ):
                starts.add(line_start)
        previous = line
        line_start += len(line) + 1
    # Move each start onto the first non-space character after it.
    result: list[int] = []
    n = len(text)
    for start in sorted(starts):
        while start < n and text[start].isspace():
            start += 1
        if start < n and (not result or result[-1] != start) and not _runs_on_over_a_page_break(text, start):
            result.append(start)
    return result


_BLANKED_LINE = re.compile(r"\n[ \t]+\n")


def _runs_on_over_a_page_break(text: str, start: int) -> bool:
    """A lowercase word after a page break (a footer and banner, blanked to spaces) whose last line stopped
    mid-sentence continues that sentence: "... and he does not / [Page 4 of 5] / consider it resectable"."""
    if not text[start].islower():
        return False
    before = start
    while before > 0 and text[before - 1].isspace():
        before -= 1
    return before > 0 and text[before - 1] not in ".:;?!" and _BLANKED_LINE.search(text, before, start) is not None


def join_wrapped_lines(text: str, starts: list[int]) -> str:
    """A copy of text, same length, in which each newline that does not end a sentence becomes a space, so a phrase
    hard-wrapped over two lines ("not amenable to / resection") still matches as one phrase."""
    chars = list(text)
    start_set = set(starts)
    n = len(text)
    for i, char in enumerate(text):
        if char != "\n":
            continue
        j = i + 1
        while j < n and text[j].isspace() and text[j] != "\n":
            j += 1
        if j < n and text[j] != "\n" and j not in start_set:
            chars[i] = " "
    return "".join(chars)


STARTS_KEY = "sentence_starts"


@Language.component("chartcheck_sentences")
def set_sentence_starts(doc: Doc) -> Doc:
    """Mark sentence starts: those computed on the original lines (``doc.user_data[STARTS_KEY]``) when given,
    otherwise computed from the doc's own text."""
    starts = doc.user_data.get(STARTS_KEY) or sentence_starts(doc.text)
    flags = numpy.full(len(doc), -1, dtype="int32")  # -1: not a start, 1: a start (spaCy's SENT_START values)
    k = 0
    for token in doc:
        while k < len(starts) and starts[k] < token.idx:
            k += 1
        if token.i == 0 or (k < len(starts) and starts[k] == token.idx):
            flags[token.i] = 1
    doc.from_array([SENT_START], flags.reshape(-1, 1).astype("uint64"))
    return doc
