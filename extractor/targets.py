"""Target matching: medspaCy's TargetMatcher, with its results written onto ``doc.ents`` in one assignment
(medspaCy adds them one at a time, which is quadratic in the number of mentions)."""


from medspacy.ner import TargetMatcher
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans


class Targets:
    def __init__(self, nlp: Language) -> None:
        self.matcher = TargetMatcher(nlp, result_type=None)

    def add(self, rules: list) -> None:
        self.matcher.add(rules)

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = filter_spans(self.matcher(doc))
        return doc


@Language.factory("chartcheck_targets")
def make_targets(nlp: Language, name: str) -> Targets:
    return Targets(nlp)
