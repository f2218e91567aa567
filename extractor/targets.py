"""Target matching: medspaCy's TargetMatcher rules, their token patterns served by a RuleMatcher
(extractor/token_matcher.py), and the results written onto ``doc.ents`` in one assignment (medspaCy adds them one at
a time, which is quadratic in the number of mentions).

Every match is kept (no pruning inside the matchers), each is checked against its rule's nearby conditions
(extractor/nearby.py), and only then do overlapping matches compete, longest first: a longer match its sentence rules
out ("four new pink dermal nodules" as a recurrence, in a note with no excision) leaves the shorter mention inside it
("dermal nodules") to count. Two rules matching the very same words: the one listed first in targets.json wins.
Spans are made for the winners only: spaCy keeps a span's extension values by its offsets, so two spans over the
same words would share one ``target_rule``."""

from bisect import bisect_right

from medspacy.ner import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor.nearby import (
    clause_bounds,
    clause_ok,
    nearby_ok,
    next_sentence_ok,
    previous_sentence_ok,
    sentence_bounds_at,
)
from extractor.rules_loader import TargetMeta
from extractor.sentences import STARTS_KEY, sentence_starts
from extractor.token_matcher import use_rule_matcher

Match = tuple[TargetRule, int, int]  # rule, start token, end token


class Targets:
    """Two TargetMatchers: literals compared in lower case, and case-sensitive literals (abbreviations such as 'AIDS'
    or 'SCC') compared letter for letter, both served by fast phrase matching."""

    def __init__(self, nlp: Language) -> None:
        self.matcher = TargetMatcher(nlp, result_type=None, prune=False)
        self.exact = TargetMatcher(
            nlp, name="chartcheck_targets_exact", phrase_matcher_attr="ORTH", result_type=None, prune=False
        )
        for matcher in (self.matcher, self.exact):
            use_rule_matcher(matcher._TargetMatcher__matcher)  # medspaCy 1.3.1 (pinned) keeps its matcher private
        self.metas: dict[str, TargetMeta] = {}
        self.order: dict[str, int] = {}

    def add(self, rules: list) -> None:
        for rule in rules:
            rule_id = rule.metadata["id"]
            self.metas[rule_id] = TargetMeta.model_validate(rule.metadata)
            self.order.setdefault(rule_id, len(self.order))
        self.matcher.add([r for r in rules if not (r.metadata or {}).get("case_sensitive")])
        self.exact.add([r for r in rules if (r.metadata or {}).get("case_sensitive")])

    def matches(self, doc: Doc) -> list[Match]:
        found = []
        for target_matcher in (self.matcher, self.exact):
            medspacy_matcher = target_matcher._TargetMatcher__matcher
            for rule_id, start, end in medspacy_matcher(doc):
                found.append((medspacy_matcher.rule_map[doc.vocab.strings[rule_id]], start, end))
        return found

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = spans(doc, resolve(doc, self.matches(doc), self.metas, self.order))
        return doc


# How many sentences before a 'therefore' sentence its reasoning may lie in.
PREVIOUS_SENTENCES = 2


def resolve(doc: Doc, matches: list[Match], metas: dict[str, TargetMeta], order: dict[str, int]) -> list[Match]:
    """The mentions that count: matches whose sentence lets them count, then the longest of overlapping ones (the
    earlier one first, and the rule listed first when two match the very same words), in text order."""
    kept = []
    text: str | None = None  # Doc.text joins every token each time it is read: read it once
    starts: list[int] = []
    for rule, start, end in matches:
        meta = metas[rule.metadata["id"]]
        if (meta.requires_nearby or meta.excluded_nearby or meta.never_nearby or meta.excluded_in_clause
                or meta.excluded_next_sentence or meta.excluded_previous_sentence):
            if text is None:
                text = doc.text
                starts = doc.user_data.get(STARTS_KEY) or sentence_starts(text)
            first, last = doc[start].idx, doc[end - 1].idx + len(doc[end - 1])
            s_start, s_end = sentence_bounds_at(text, starts, first, last)
            if not nearby_ok(meta, text[s_start:s_end]):
                continue
            if meta.excluded_next_sentence:
                k = bisect_right(starts, s_end)  # the start of the next sentence
                following = ""
                if k < len(starts):
                    following = text[starts[k] : starts[k + 1] if k + 1 < len(starts) else len(text)]
                if not next_sentence_ok(meta, text[s_start:s_end], following):
                    continue
            if meta.excluded_previous_sentence:
                k = bisect_right(starts, s_start) - 1  # this sentence's start; the reasoning it draws on comes before
                previous = text[starts[max(0, k - PREVIOUS_SENTENCES)] : starts[k]] if k >= 1 else ""
                if not previous_sentence_ok(meta, text[s_start:s_end], previous):
                    continue
            if meta.excluded_in_clause:
                c_start, c_end = clause_bounds(text, s_start, s_end, first, last)
                if not clause_ok(meta, text[c_start:c_end]):
                    continue
        kept.append((rule, start, end))
    kept.sort(key=lambda m: (m[1] - m[2], m[1], order[m[0].metadata["id"]]))
    taken: set[int] = set()
    chosen = []
    for rule, start, end in kept:
        if not taken.intersection(range(start, end)):
            chosen.append((rule, start, end))
            taken.update(range(start, end))
    return sorted(chosen, key=lambda m: m[1])


def spans(doc: Doc, matches: list[Match]) -> list[Span]:
    out = []
    for rule, start, end in matches:
        span = Span(doc, start=start, end=end, label=rule.category)
        span._.target_rule = rule
        for attribute, value in (rule.attributes or {}).items():
            setattr(span._, attribute, value)
        out.append(span)
    return out


@Language.factory("chartcheck_targets")
def make_targets(nlp: Language, name: str) -> Targets:
    return Targets(nlp)
