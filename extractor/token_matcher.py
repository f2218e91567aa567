"""spaCy's token Matcher, run only where a rule can match.

spaCy's Matcher tries the first token of every pattern at every token of the doc, and tests ``IN``, ``NOT_IN`` and
``REGEX`` by calling Python: with a few hundred rules that costs more than tokenizing. But a match can only lie where
its words are. ``RuleMatcher`` keeps each rule's pattern as written (medspaCy's format, the rule files unchanged) and:

- picks, per rule, the tokens every match must have (an *anchor*: a token without ``OP`` whose test depends on the
  word alone, its lexeme), and the tests of all its tokens;
- runs those tests once per distinct word (remembered across docs), so finding where they pass is array look-ups;
- runs the rule's own spaCy Matcher only in windows around the anchor words: as far as the pattern can reach from
  its anchor (``?``, ``{n,m}``: a few tokens; ``*``, ``+``: unbounded) and never past a token that no token of the
  pattern accepts.

Every match lies in such a window, and a match found in a window is a match in the doc, so the matches are exactly
spaCy's: same keys, same spans. A rule without an anchor is matched over the whole doc. ``use_rule_matcher`` puts
one in place of the token Matcher inside a medspaCy matcher (TargetMatcher, Sectionizer, ConText), which keeps its
phrase matching and its pruning; patterns are checked against spaCy's schema as they are added, as before.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy
from spacy.attrs import ORTH
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

TokenSpec = dict[str, Any]
TokenPattern = list[TokenSpec]
MatchTuple = tuple[int, int, int]

# Token attributes that belong to the word itself (spaCy's lexeme), so a test on them gives the same answer for every
# occurrence of the word. NORM is not one: tokenizer exceptions set it per token.
LEXICAL_ATTRS = frozenset(
    "ORTH TEXT LOWER LENGTH SHAPE IS_ALPHA IS_ASCII IS_DIGIT IS_LOWER IS_UPPER IS_TITLE IS_PUNCT IS_SPACE IS_STOP"
    " IS_BRACKET IS_QUOTE IS_LEFT_PUNCT IS_RIGHT_PUNCT IS_CURRENCY LIKE_NUM LIKE_URL LIKE_EMAIL".split()
)
_REPEAT = re.compile(r"^\{(\d*)(?:(,)(\d*))?\}$")
# Words whose test results are remembered; past this many the memory starts afresh (a long-running worker sees
# every number and date as a new word).
MAX_REMEMBERED_WORDS = 200_000


def max_repeats(op: str | None) -> float:
    """How many tokens a pattern token with this ``OP`` can take (``math.inf`` for ``*``, ``+``, ``{n,}``)."""
    if op in (None, "?", "!", "1"):
        return 1
    if op in ("*", "+"):
        return math.inf
    repeat = _REPEAT.match(op)
    if repeat is None:
        raise ValueError(f"unknown token pattern OP {op!r}")
    low, comma, high = repeat.groups()
    if not comma:
        return int(low)
    return int(high) if high else math.inf


def is_lexical(token: TokenSpec) -> bool:
    """Does the token's test depend on the word alone (so it can be run once per distinct word)?"""
    return bool(token) and token.get("OP") != "!" and set(token) - {"OP"} <= LEXICAL_ATTRS


def _test(token: TokenSpec) -> TokenSpec:
    return {key: value for key, value in token.items() if key != "OP"}


class _Rule:
    """One pattern: its Matcher, its anchors (test column, tokens it can reach before and after) and the column of
    the test 'some token of the pattern accepts this word' (None: any word may be part of a match)."""

    def __init__(self, vocab: Vocab, key: str, pattern: TokenPattern, validate: bool) -> None:
        self.matcher = Matcher(vocab, validate=validate)
        self.matcher.add(key, [pattern])
        reach = [max_repeats(token.get("OP")) for token in pattern]
        self.anchors: list[tuple[TokenSpec, float, float]] = [
            (_test(token), sum(reach[:k]), sum(reach[k + 1 :]))
            for k, token in enumerate(pattern)
            if "OP" not in token and is_lexical(token)
        ]
        self.accepts: list[TokenSpec] | None = (
            [_test(token) for token in pattern] if all(is_lexical(token) for token in pattern) else None
        )
        self.anchor_columns: list[tuple[int, float, float]] = []
        self.accepts_column: int | None = None


# Word attributes a test can compare with a word or a set of words directly, and the lexeme attribute each reads.
WORD_VALUES = {"LOWER": "lower_", "TEXT": "orth_", "ORTH": "orth_"}


def _word_values(test: TokenSpec) -> tuple[str, list[str]] | None:
    """(lexeme attribute, words) for a test that is one word attribute equal to a word or in a set of words."""
    if len(test) != 1:
        return None
    ((attr, value),) = test.items()
    if attr not in WORD_VALUES:
        return None
    if isinstance(value, str):
        return WORD_VALUES[attr], [value]
    if isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"]):
        return WORD_VALUES[attr], value["IN"]
    return None


class _WordTests:
    """Token tests run once per distinct word (ORTH id) and remembered: a boolean table, one row per word seen, one
    column per test; a test 'any of these' is the OR of other columns. Tests of a word or a word set are looked up
    in an index; the others are run by spaCy's Matcher over the new words."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.tests: list[TokenSpec] = []
        self.ors: list[list[int]] = []  # per column: [] for a test of its own, else the columns it ORs
        self.index: dict[str, int] = {}
        self.by_word: dict[str, dict[str, list[int]]] = {attr: {} for attr in set(WORD_VALUES.values())}
        self.probe = Matcher(vocab, validate=False)  # the other tests: each a token of a pattern already checked
        self.rows: dict[int, int] = {}
        self.table = numpy.zeros((0, 0), dtype=bool)

    def column(self, test: TokenSpec) -> int:
        name = json.dumps(test, sort_keys=True)
        if name not in self.index:
            column = self.index[name] = len(self.tests)
            self.tests.append(test)
            self.ors.append([])
            values = _word_values(test)
            if values is None:
                self.probe.add(f"test{column}", [[test]])
            else:
                for word in set(values[1]):
                    self.by_word[values[0]].setdefault(word, []).append(column)
        return self.index[name]

    def any_of(self, tests: list[TokenSpec]) -> int:
        columns = sorted({self.column(test) for test in tests})
        name = "any:" + ",".join(map(str, columns))
        if name not in self.index:
            self.index[name] = len(self.tests)
            self.tests.append({})
            self.ors.append(columns)
        return self.index[name]

    def _learn(self, orths: list[int]) -> None:
        new = [orth for orth in orths if orth not in self.rows]
        if len(self.rows) + len(new) > MAX_REMEMBERED_WORDS:
            new, self.rows, self.table = orths, {}, numpy.zeros((0, len(self.tests)), dtype=bool)
        if self.table.shape[1] != len(self.tests):  # tests were added: run them all again
            new, self.rows, self.table = list(self.rows) + new, {}, numpy.zeros((0, len(self.tests)), dtype=bool)
        if not new:
            return
        block = numpy.zeros((len(new), len(self.tests)), dtype=bool)
        for i, orth in enumerate(new):
            lexeme = self.vocab[orth]
            for attr, index in self.by_word.items():
                for column in index.get(getattr(lexeme, attr), ()):
                    block[i, column] = True
        if len(self.probe):
            words = Doc(self.vocab, words=[self.vocab.strings[orth] for orth in new])
            for key, start, _end in self.probe(words):
                block[start, int(self.vocab.strings[key][4:])] = True
        for column, ors in enumerate(self.ors):
            if ors:
                block[:, column] = block[:, ors].any(axis=1)
        first_row = len(self.rows)
        self.rows.update((orth, first_row + i) for i, orth in enumerate(new))
        self.table = numpy.concatenate([self.table, block])

    def lookup(self, orths: numpy.ndarray) -> numpy.ndarray:
        """Test results for each token (tokens x columns)."""
        unique, inverse = numpy.unique(orths, return_inverse=True)
        words = unique.tolist()
        self._learn(words)
        rows = numpy.array([self.rows[orth] for orth in words], dtype=numpy.intp)
        return self.table[rows][inverse]


class RuleMatcher:
    """Token patterns under string keys, called like spaCy's Matcher on a Doc or a Span: ``(key, start, end)``
    relative to it, each match once; ``match_segments`` matches inside several spans of one doc at once."""

    def __init__(self, vocab: Vocab, validate: bool = True) -> None:
        self.vocab = vocab
        self.validate = validate  # check each pattern against spaCy's schema as it is added
        self.rules: list[_Rule] = []
        self.words = _WordTests(vocab)

    def add(self, key: str, patterns: list[TokenPattern], on_match: Any = None) -> None:
        """Add patterns under a key (spaCy's ``Matcher.add``, without callbacks)."""
        if on_match is not None:
            raise ValueError(f"{key}: token patterns with on_match callbacks are not supported")
        for pattern in patterns:
            rule = _Rule(self.vocab, key, pattern, self.validate)
            rule.anchor_columns = [(self.words.column(test), before, after) for test, before, after in rule.anchors]
            rule.accepts_column = self.words.any_of(rule.accepts) if rule.accepts is not None else None
            self.rules.append(rule)

    def __len__(self) -> int:
        return len(self.rules)

    def __call__(self, doclike: Doc | Span) -> list[MatchTuple]:
        if isinstance(doclike, Span):
            doc, start, end = doclike.doc, doclike.start, doclike.end
        else:
            doc, start, end = doclike, 0, len(doclike)
        return [(key, a - start, b - start) for key, a, b in self.match_segments(doc, [(start, end)])[0]]

    def match_segments(self, doc: Doc, segments: list[tuple[int, int]]) -> list[list[MatchTuple]]:
        """For each ``[start, end)`` token span (not overlapping), the matches inside it, in doc offsets."""
        found: list[list[MatchTuple]] = [[] for _ in segments]
        kept = [(i, a, b) for i, (a, b) in enumerate(segments) if b > a]
        if not self.rules or not kept:
            return found
        positions = numpy.concatenate([numpy.arange(a, b) for _, a, b in kept])
        segment_of = numpy.concatenate([numpy.full(b - a, i) for i, a, b in kept])
        bounds = numpy.array(segments).reshape(-1, 2)
        tests = self.words.lookup(doc.to_array(ORTH)[positions])
        hit_counts = tests.sum(axis=0).tolist()
        for rule in self.rules:
            for segment, a, b in self._windows(rule, tests, hit_counts, positions, segment_of, bounds):
                found[segment].extend((key, a + s, a + e) for key, s, e in rule.matcher(doc[a:b]))
        return found

    @staticmethod
    def _windows(
        rule: _Rule,
        tests: numpy.ndarray,
        hit_counts: list[int],
        positions: numpy.ndarray,
        segment_of: numpy.ndarray,
        bounds: numpy.ndarray,
    ) -> list[tuple[int, int, int]]:
        """(segment, start, end): disjoint doc spans, each inside one segment, together holding every match of the
        rule; ``tests``, ``positions`` and ``segment_of`` describe the tokens of the segments, in order, and
        ``hit_counts`` how many of them pass each test."""
        if not rule.anchor_columns:
            segments = sorted(set(segment_of.tolist()))
            return [(i, int(bounds[i, 0]), int(bounds[i, 1])) for i in segments]
        column, before, after = min(rule.anchor_columns, key=lambda anchor: hit_counts[anchor[0]])
        if not hit_counts[column]:
            return []
        hits = numpy.flatnonzero(tests[:, column])
        segment = segment_of[hits]
        low, high = bounds[segment, 0], bounds[segment, 1]
        if rule.accepts_column is not None:
            refused = numpy.flatnonzero(~tests[:, rule.accepts_column])  # no token of the pattern takes these
            if len(refused):
                k = numpy.searchsorted(refused, hits)
                previous = positions[refused[numpy.maximum(k - 1, 0)]] + 1
                following = positions[refused[numpy.minimum(k, len(refused) - 1)]]
                low = numpy.where(k > 0, numpy.maximum(low, previous), low)
                high = numpy.where(k < len(refused), numpy.minimum(high, following), high)
        at = positions[hits]
        if before != math.inf:
            low = numpy.maximum(low, at - int(before))
        if after != math.inf:
            high = numpy.minimum(high, at + 1 + int(after))
        windows: list[tuple[int, int, int]] = []
        for i, a, b in zip(segment.tolist(), low.tolist(), high.tolist()):
            if windows and windows[-1][0] == i and a < windows[-1][2]:
                windows[-1] = (i, windows[-1][1], max(windows[-1][2], b))
            else:
                windows.append((i, a, b))
        return windows


def use_rule_matcher(medspacy_matcher: Any) -> RuleMatcher:
    """Serve the token patterns of a medspaCy matcher (``MedspacyMatcher``) with a RuleMatcher, in the order the
    rules are added and under the keys medspaCy gives them: call it before adding rules. medspaCy 1.3.1 (pinned)
    keeps its token Matcher private."""
    fast = RuleMatcher(medspacy_matcher.nlp.vocab)
    for rule_id, rule in medspacy_matcher.rule_map.items():  # rules added before the swap
        if isinstance(rule.pattern, list):
            fast.add(rule_id, [rule.pattern], on_match=rule.on_match)
    medspacy_matcher._MedspacyMatcher__matcher = fast
    return fast
