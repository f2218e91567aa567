"""ConText, one sentence at a time.

medspaCy's ConText compares every modifier with every other modifier and every target of the whole document, which is
quadratic in the length of a note. Here the same algorithm (medspaCy's ConTextModifier and ConTextGraph) runs per
sentence, and only on sentences that hold a target: a modifier's scope never leaves its sentence anyway.
"""

from collections import defaultdict

from medspacy.context import ConText
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier
from medspacy.common.util import prune_overlapping_matches
from spacy.language import Language
from spacy.tokens import Doc, Span


class SentenceContext:
    def __init__(self, nlp: Language, name: str) -> None:
        self.context = ConText(nlp, name=name, rules=None)
        self.nlp = nlp

    def add(self, rules: list) -> None:
        self.context.add(rules)

    @property
    def rules(self) -> list:
        return self.context.rules

    @staticmethod
    def _matches(span: Span, matcher: object, prune: bool) -> list[tuple[int, int, int]]:
        """Modifier matches inside one sentence, as doc token offsets (the token Matcher answers relative to the span,
        the PhraseMatcher relative to the doc)."""
        token_matches = matcher._MedspacyMatcher__matcher(span)  # type: ignore[attr-defined]
        phrase_matches = matcher._MedspacyMatcher__phrase_matcher(span)  # type: ignore[attr-defined]
        matches = [(m, span.start + a, span.start + b) for m, a, b in token_matches] + list(phrase_matches)
        return prune_overlapping_matches(matches) if prune else matches

    def __call__(self, doc: Doc) -> Doc:
        targets = list(doc.ents)
        if not targets:
            doc._.context_graph = ConTextGraph()
            return doc
        sentence_spans = [(sent.start, sent.end) for sent in doc.sents]
        starts = [start for start, _ in sentence_spans]
        token_sentence = [0] * len(doc)
        k = -1
        for i in range(len(doc)):
            if k + 1 < len(starts) and starts[k + 1] == i:
                k += 1
            token_sentence[i] = max(k, 0)
        by_sentence: dict[int, list[Span]] = defaultdict(list)
        for target in targets:
            by_sentence[token_sentence[target.start]].append(target)
        matcher = self.context._ConText__matcher  # medspaCy 1.3.1 (pinned) keeps its matchers private
        modifiers_by_sentence = {
            sentence: self._matches(doc[slice(*sentence_spans[sentence])], matcher, self.context.prune_on_modifier_overlap)
            for sentence in by_sentence
        }
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
            graph.update_scopes()
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
