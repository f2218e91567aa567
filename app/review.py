"""Review one case: read its files, find what the policy asks about, and pre-fill the determination.

``Reviewer`` holds the expensive parts (the spaCy pipeline, the rules, the policy), built once per process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from spacy.language import Language

from criteria.engine import determine
from criteria.policy import Policy, load_policy
from extractor.document import TextDocument
from extractor.benign import mark_benign_places_across
from extractor.encounters import (
    mark_old_dated_statements_across,
    mark_overtaken_denials,
    mark_revised_opinions,
    mark_stale_documents,
)
from extractor.findings import analyze
from extractor.nlp import build_pipeline
from extractor.pdf import ProgressFn
from extractor.read import read_path
from extractor.rules_loader import RuleSet, default_rules
from models import Determination, Finding, ReviewRequest


class Reviewer:
    def __init__(
        self, rules: RuleSet | None = None, policy: Policy | None = None, nlp: Language | None = None
    ) -> None:
        self.rules = rules or default_rules()
        self.policy = policy or load_policy()
        self.nlp = nlp or build_pipeline(self.rules)

    def findings(self, document: TextDocument) -> list[Finding]:
        return analyze(self.nlp, document, self.rules)

    def review_documents(self, documents: list[TextDocument], request: ReviewRequest) -> Determination:
        texts = [d.clean_text for d in documents]
        printed = [d.text for d in documents]  # with the banners, whose 'DOS' may be a printout's only date
        per_document = mark_stale_documents(
            [self.findings(d) for d in documents], texts, self.rules.encounters, printed
        )
        per_document = mark_revised_opinions(per_document, texts, self.rules.encounters, printed)
        per_document = mark_overtaken_denials(
            per_document, texts, [d.name for d in documents], self.rules.encounters, printed
        )
        per_document = mark_old_dated_statements_across(per_document, texts, self.rules.encounters, printed)
        per_document = mark_benign_places_across(
            per_document, texts, [d.name for d in documents], self.rules.benign_verdicts
        )
        findings = [f for document_findings in per_document for f in document_findings]
        return determine(findings, self.policy, request, [d.info() for d in documents])

    def review_paths(
        self, paths: list[Path], request: ReviewRequest, progress: ProgressFn | None = None
    ) -> Determination:
        """Read every file first (so a bad file fails the case before any work is wasted), then review."""
        documents = [read_path(path, progress) for path in paths]
        return self.review_documents(documents, request)


@lru_cache(maxsize=1)
def process_reviewer() -> Reviewer:
    """The Reviewer of this process, built on first use: worker pools call it from their initializer so each worker
    loads the pipeline once."""
    return Reviewer()
