"""The clinical NLP pipeline: spaCy's tokenizer, our sentence splitter, and medspaCy's TargetMatcher, Sectionizer
and ConText (each adapted in its own module), fed from the rule files. Built once per process and passed to whoever
needs it."""

from __future__ import annotations

from typing import Any

import spacy
from medspacy.context import ConTextRule
from medspacy.ner import TargetRule
from medspacy.section_detection import SectionRule
from spacy.language import Language
from spacy.tokens import Span

import extractor.sentences  # noqa: F401  (registers the chartcheck_sentences component)
from extractor.context import SentenceContext
from extractor.rules_loader import ContextRuleSpec, RuleSet, TargetRuleSpec, default_rules
from extractor.sections import Sections
from extractor.targets import Targets
from extractor.tokenizer import WarmTokenizer


def target_rule(spec: TargetRuleSpec) -> TargetRule:
    return TargetRule(
        literal=spec.literal,
        category=spec.category,
        pattern=spec.pattern,
        attributes=spec.attributes,
        metadata=spec.metadata.model_dump(),
    )


def _outside_target(target: Span, modifier: Span, _between: Span) -> bool:
    """A cue that overlaps a target's own words ("surgery is NOT feasible", "NO surgical options", "is NOT amenable to
    resection") is part of that concept, not a modifier of it. medspaCy's own overlap check only catches some of these."""
    return modifier.end <= target.start or modifier.start >= target.end


def context_rule(spec: ContextRuleSpec) -> ConTextRule:
    return ConTextRule(
        literal=spec.literal,
        category=spec.category,
        pattern=spec.pattern,
        direction=spec.direction,
        allowed_types=set(spec.allowed_types) if spec.allowed_types else None,
        excluded_types=set(spec.excluded_types) if spec.excluded_types else None,
        max_scope=spec.max_scope,
        max_targets=spec.max_targets,
        terminated_by=set(spec.terminated_by) if spec.terminated_by else None,
        on_modifies=_outside_target,
        metadata=spec.metadata.model_dump(),
    )


def add_context(nlp: Language, rules: list[ContextRuleSpec]) -> SentenceContext:
    """medspaCy's ConText algorithm, applied one sentence at a time (extractor/context.py)."""
    context: SentenceContext = nlp.add_pipe("chartcheck_context", name="medspacy_context")
    context.add([context_rule(spec) for spec in rules])
    return context


def heading_line_pattern(nlp: Language, literal: str) -> list[dict[str, Any]] | None:
    """A heading written alone on its line ("Physical Exam\\n") matches whatever line break follows it: the phrase
    would match only a single newline token, and most notes put a blank line under a heading ("\\n\\n")."""
    if not literal.endswith("\n") or not literal.strip():
        return None
    words = [{"LOWER": token.lower_} for token in nlp.make_doc(literal.rstrip()) if not token.is_space]
    return [*words, {"IS_SPACE": True, "TEXT": {"REGEX": "\n"}}]


def build_pipeline(rules: RuleSet | None = None) -> Language:
    """tokenizer -> sentences -> targets -> sections -> ConText."""
    rules = rules or default_rules()
    nlp = spacy.blank("en")
    nlp.add_pipe("chartcheck_sentences")
    matcher: Targets = nlp.add_pipe("chartcheck_targets")
    matcher.add([target_rule(spec) for spec in rules.targets])
    sectionizer: Sections = nlp.add_pipe("chartcheck_sections", config={"require_start_line": True})
    sectionizer.add(
        [
            SectionRule(
                literal=spec.literal,
                category=spec.category,
                pattern=spec.pattern if spec.pattern is not None else heading_line_pattern(nlp, spec.literal),
                parents=spec.parents,
                parent_required=spec.parent_required,
                metadata=spec.metadata.model_dump(),
            )
            for spec in rules.sections
        ]
    )
    add_context(nlp, rules.context)
    nlp.tokenizer = WarmTokenizer(nlp.tokenizer)  # for the notes; the components tokenized their phrases already
    return nlp
