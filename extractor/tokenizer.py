"""spaCy's tokenizer, with its word cache kept warm.

spaCy splits a text at whitespace and caches how each piece splits into tokens, but once a document has used one of
its special cases ("Dr.", "e.g.", "'s", ...) it stops adding to the cache for the rest of that document (spaCy #1250),
so a chart note that opens with "Dr." has every later word split afresh by the prefix, suffix and infix rules: that
was most of the tokenizer's time. Here each new piece is first tokenized on its own, which caches it exactly as spaCy
would have; the document is then tokenized by spaCy as before, from the cache. Same tokens, same Doc.
"""

from __future__ import annotations

from typing import Any

from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

# Pieces remembered as already warmed; past this many the memory is cleared (warming again is harmless).
MAX_WARMED = 500_000


class WarmTokenizer:
    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.warmed: set[str] = set()

    def warm(self, text: str) -> None:
        new = set(text.split()) - self.warmed
        if len(self.warmed) + len(new) > MAX_WARMED:
            self.warmed.clear()
        for piece in new:
            self.tokenizer(piece)
        self.warmed |= new

    def __call__(self, text: str) -> Doc:
        self.warm(text)
        return self.tokenizer(text)

    def __getattr__(self, name: str) -> Any:
        if name == "tokenizer":  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.tokenizer, name)
