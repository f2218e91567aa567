"""Target matching: medspaCy's TargetMatcher, with its results written onto ``doc.ents`` in one assignment
(medspaCy adds them one at a time, which is quadratic in the number of mentions) and its token patterns served by
a RuleMatcher (extractor/token_matcher.py)."""


from medspacy.ner import TargetMatcher
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from extractor.token_matcher import use_rule_matcher


class Targets:
    """Two TargetMatchers: literals compared in lower case, and case-sensitive literals (abbreviations such as 'AIDS'
    or 'SCC') compared letter for letter, both served by fast phrase matching."""

    def __init__(self, nlp: Language) -> None:
        self.matcher = TargetMatcher(nlp, result_type=None)
        self.exact = TargetMatcher(nlp, name="chartcheck_targets_exact", phrase_matcher_attr="ORTH", result_type=None)
        for matcher in (self.matcher, self.exact):
            use_rule_matcher(matcher._TargetMatcher__matcher)  # medspaCy 1.3.1 (pinned) keeps its matcher private

    def add(self, rules: list) -> None:
        self.matcher.add([r for r in rules if not (r.metadata or {}).get("case_sensitive")])
        self.exact.add([r for r in rules if (r.metadata or {}).get("case_sensitive")])

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = filter_spans(self.matcher(doc) + self.exact(doc))
        return doc


@Language.factory("chartcheck_targets")
def make_targets(nlp: Language, name: str) -> Targets:
    return Targets(nlp)
