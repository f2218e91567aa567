"""ConText, one sentence at a time.

medspaCy's ConText compares every modifier with every other modifier and every target of the whole document, which is
quadratic in the length of a note. Here the same algorithm (medspaCy's ConTextModifier and ConTextGraph) runs per
sentence, and only on sentences that hold a target: a modifier's scope never leaves its sentence anyway.
"""

from bisect import bisect_right
from collections import defaultdict

from medspacy.common.util import prune_overlapping_matches
from medspacy.context import ConText
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier
from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor.token_matcher import use_rule_matcher


def _owns_negation(target: Span) -> bool:
    rule = target._.target_rule  # None for spans made outside the TargetMatcher (the negex scorer's)
    return rule is not None and bool((rule.metadata or {}).get("own_negation"))


def _cut_at_terminators(modifiers: list[ConTextModifier]) -> None:
    """End each scope at the first terminator inside it ("not a candidate for surgery; margins unlikely to be clear":
    the ';' keeps 'unlikely' off the candidacy). medspaCy 1.3.1 skips a terminator once an earlier limit has narrowed
    the scope inside the terminator's own: its ``tuple_overlaps`` misses a span that holds the other whole."""
    terminators = [m for m in modifiers if m.direction.upper() == "TERMINATE"]
    for modifier in modifiers:
        direction = modifier.direction.lower()
        if direction == "terminate" or (modifier.rule.metadata or {}).get("unterminated"):
            continue
        start, end = modifier.modifier_span
        for terminator in terminators:
            t_start, t_end = terminator.modifier_span
            if direction in ("forward", "bidirectional") and end <= t_start < modifier._scope_end:
                modifier._scope_end = t_start
            if direction in ("backward", "bidirectional") and modifier._scope_start < t_end <= start:
                modifier._scope_start = t_end


class SentenceContext:
    def __init__(self, nlp: Language, name: str) -> None:
        self.context = ConText(nlp, name=name, rules=None)
        use_rule_matcher(self.context._ConText__matcher)  # medspaCy 1.3.1 (pinned) keeps its matcher private
        self.nlp = nlp

    def add(self, rules: list) -> None:
        self.context.add(rules)

    @property
    def rules(self) -> list:
        return self.context.rules

    def _modifier_matches(self, doc: Doc, sentences: list[tuple[int, int]]) -> list[list[tuple[int, int, int]]]:
        """Modifier matches inside each sentence, as doc token offsets: token patterns for all sentences at once
        (a RuleMatcher, extractor/token_matcher.py), phrases one sentence at a time (the PhraseMatcher answers
        relative to the doc)."""
        matcher = self.context._ConText__matcher  # medspaCy 1.3.1 (pinned) keeps its matchers private
        token_matches = matcher._MedspacyMatcher__matcher.match_segments(doc, sentences)
        phrase_matcher = matcher._MedspacyMatcher__phrase_matcher
        out = []
        for (start, end), matches in zip(sentences, token_matches):
            matches = matches + list(phrase_matcher(doc[start:end]))
            out.append(prune_overlapping_matches(matches) if self.context.prune_on_modifier_overlap else matches)
        return out

    def __call__(self, doc: Doc) -> Doc:
        targets = list(doc.ents)
        if not targets:
            doc._.context_graph = ConTextGraph()
            return doc
        sentence_spans = [(sent.start, sent.end) for sent in doc.sents]
        starts = [start for start, _ in sentence_spans]
        by_sentence: dict[int, list[Span]] = defaultdict(list)
        for target in targets:
            by_sentence[max(bisect_right(starts, target.start) - 1, 0)].append(target)
        matcher = self.context._ConText__matcher
        modifiers_by_sentence = dict(
            zip(by_sentence, self._modifier_matches(doc, [sentence_spans[sentence] for sentence in by_sentence]))
        )
        all_modifiers: list[ConTextModifier] = []
        all_edges: list = []
        for sentence, sentence_targets in by_sentence.items():
            modifiers = [
                ConTextModifier(
                    matcher.rule_map[self.nlp.vocab[match_id].text], start, end, doc, max_scope=self.context.max_scope
                )
                for match_id, start, end in modifiers_by_sentence.get(sentence, [])
            ]
            graph = ConTextGraph(prune_on_modifier_overlap=self.context.prune_on_target_overlap)
            graph.targets = sentence_targets
            graph.modifiers = modifiers
            whole = [(m, m._scope_end) for m in modifiers if (m.rule.metadata or {}).get("unterminated")]
            graph.update_scopes()
            _cut_at_terminators(modifiers)
            for modifier, scope_end in whole:  # ContextMeta.unterminated: terminators do not cut this scope
                modifier._scope_end = scope_end
            # a negation word inside a target phrase that owns it (TargetMeta.own_negation: "not resectable", "No prior
            # surgery") is part of what that target says: it still ends an earlier negation's scope, denies nothing else
            spans = [(t.start, t.end) for t in sentence_targets if _owns_negation(t)]
            for modifier in modifiers:
                start, end = modifier.modifier_span
                if modifier.category == "NEGATED_EXISTENCE" and any(a < end and start < b for a, b in spans):
                    modifier._scope_start = modifier._scope_end = end
            graph.apply_modifiers()
            for target, modifier in graph.edges:
                target._.modifiers += (modifier,)
            all_modifiers.extend(graph.modifiers)
            all_edges.extend(graph.edges)
        doc._.context_graph = ConTextGraph(targets=targets, modifiers=all_modifiers, edges=all_edges)
        return doc


@Language.factory("chartcheck_context")
def make_context(nlp: Language, name: str) -> SentenceContext:
    return SentenceContext(nlp, name)
