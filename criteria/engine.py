"""The criteria engine: a pure function of findings + policy + request -> determination.

No spaCy, no PDFs, no I/O: everything it needs arrives as arguments, so it is tested on hand-made findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from criteria.policy import Criterion, FlagRule, Policy, Requirement
from models import (
    CriterionResult,
    Determination,
    DocumentInfo,
    Evidence,
    Finding,
    ReviewRequest,
    SafetyFlag,
    Stance,
    Status,
)

# Qualifiers that always stop a mention from counting (the contract); `historical` is decided per requirement.
DISCOUNTING = ("negated", "family", "hypothetical", "uncertain")
# At most this many evidence items per stance per criterion: the most telling first, then shown in document order.
MAX_EVIDENCE = 15
SectionRank = Mapping[str, int]


def _discounted(finding: Finding) -> bool:
    """Negated, family, hypothetical or uncertain: a mention that never counts."""
    return any(getattr(finding.qualifiers, name) for name in DISCOUNTING)


def _uncertain_only(finding: Finding) -> bool:
    q = finding.qualifiers
    return q.uncertain and not (q.negated or q.family or q.hypothetical)


def without_outweighed_inferences(findings: list[Finding], requirements: list[Requirement]) -> list[Finding]:
    """A mention that only infers a concept (the requirement's ``inferred_by`` rules) gives way when a note states
    the concept itself as uncertain: "ten new papules" after an excision is no recurrence when the surgeon calls the
    papules "concerning for in-transit recurrence" and awaits the biopsy. It gives way too when a note states one of
    the requirement's ``gives_way_to`` concepts for the patient: a healed excision scar on exam is no surgery for the
    melanoma when the notes say the melanoma was never operated on."""
    dropped: set[int] = set()
    for requirement in requirements:
        if not requirement.inferred_by:
            continue
        doubted = {f.concept for f in findings if f.concept in requirement.any_of and _uncertain_only(f)}
        stated_otherwise = any(
            f.concept in requirement.gives_way_to
            and not _discounted(f)
            and not (f.qualifiers.historical and "historical" not in requirement.accept)
            for f in findings
        )
        if not doubted and not stated_otherwise:
            continue
        dropped.update(
            id(f)
            for f in findings
            if f.rule in requirement.inferred_by
            and f.concept in requirement.any_of
            and (
                (f.concept in doubted and not _uncertain_only(f))
                # a denial of the inferred concept ("not excised") stays: it is evidence for the other side
                or (stated_otherwise and not _discounted(f))
            )
        )
    return [f for f in findings if id(f) not in dropped] if dropped else findings


def overruled_by_stronger(findings: list[Finding], requirements: list[Requirement]) -> list[Finding]:
    """The affirmed mentions of requirements that a stronger concept stated for the patient outweighs (the
    requirement's ``outweighed_by``): a note's 'primary never excised' gives way to the operative report of the
    excision or the operating surgeon's 'on 06/18/2025 I performed a wide local excision'."""
    out: list[Finding] = []
    for requirement in requirements:
        if not requirement.outweighed_by:
            continue
        if any(f.concept in requirement.outweighed_by and not _discounted(f) for f in findings):
            out.extend(f for f in findings if counts(f, requirement))
    return out


def counts(finding: Finding, requirement: Requirement | FlagRule) -> bool:
    """Does this mention count for the requirement: the right concept, affirmed, about the patient, real?"""
    if finding.concept not in requirement.any_of:
        return False
    q = finding.qualifiers
    if any(getattr(q, name) for name in DISCOUNTING):
        return False
    return not (q.historical and "historical" not in requirement.accept)


def _matching(findings: Iterable[Finding], requirement: Requirement) -> list[Finding]:
    return [f for f in findings if f.concept in requirement.any_of]


# Scopes: where the requirements of one criterion must be satisfied together. Registry, named in the policy YAML.
ScopeFn = Callable[[list[Finding], list[Requirement]], list[Finding] | None]


def _anywhere(findings: list[Finding], requirements: list[Requirement]) -> list[Finding] | None:
    chosen: list[Finding] = []
    for requirement in requirements:
        hits = [f for f in findings if counts(f, requirement)]
        if not hits:
            return None
        chosen.extend(hits)
    return chosen


def _same_document(findings: list[Finding], requirements: list[Requirement]) -> list[Finding] | None:
    """Met when one document satisfies every requirement; the evidence comes from every document that does."""
    chosen: list[Finding] = []
    for document in dict.fromkeys(f.document for f in findings):
        found = _anywhere([f for f in findings if f.document == document], requirements)
        if found is not None:
            chosen.extend(found)
    return chosen or None


SCOPES: dict[str, ScopeFn] = {"anywhere": _anywhere, "same_document": _same_document}


def _evidence(finding: Finding, stance: Stance, requirement: str | None = None) -> Evidence:
    return Evidence(
        document=finding.document,
        page=finding.page,
        start=finding.sentence_start,
        end=finding.sentence_end,
        text=finding.sentence,
        section=finding.section,
        qualifiers=finding.qualifiers,
        stance=stance,
        concept=finding.concept,
        rule=finding.rule,
        matched_text=finding.matched_text,
        requirement=requirement,
        boxes=finding.boxes,
    )


def _rank(finding: Finding, accepted: Iterable[str], section_rank: SectionRank) -> tuple[int, int]:
    """Lower is more telling: fewer qualifiers the requirement does not accept, then the section a reviewer reads
    first (the policy's ``evidence_section_rank``; unlisted sections come last)."""
    unaccepted = [q for q in finding.qualifiers.active() if q not in accepted]
    return (len(unaccepted), section_rank.get(finding.section or "", len(section_rank)))


def _cite(
    findings: Iterable[Finding],
    stance: Stance,
    section_rank: SectionRank,
    requirements: list[Requirement] | None = None,
) -> list[Evidence]:
    """One evidence item per sentence, at most MAX_EVIDENCE in all, shared fairly between the requirements (so a
    criterion needing a surgery and a recurrence cites both), shown in document order."""
    findings = list(findings)
    groups: list[tuple[list[Finding], list[str], str | None]] = (
        [([f for f in findings if f.concept in r.any_of], list(r.accept), r.label) for r in requirements]
        if requirements
        else [(findings, [], None)]
    )
    queues: list[list[tuple[tuple[str, int, int], Finding, str | None]]] = []
    for group, accepted, label in groups:
        best: dict[tuple[str, int, int], Finding] = {}
        for finding in sorted(group, key=lambda f: (_rank(f, accepted, section_rank), f.document, f.sentence_start)):
            best.setdefault((finding.document, finding.sentence_start, finding.sentence_end), finding)
        queues.append([(key, finding, label) for key, finding in best.items()])
    # the requirements take turns, each adding its most telling sentence not yet cited, until the cap
    chosen: dict[tuple[str, int, int], tuple[Finding, str | None]] = {}
    while len(chosen) < MAX_EVIDENCE and any(queues):
        for queue in queues:
            while queue and queue[0][0] in chosen:
                queue.pop(0)
            if queue and len(chosen) < MAX_EVIDENCE:
                key, finding, label = queue.pop(0)
                chosen[key] = (finding, label)
    ordered = sorted(chosen.values(), key=lambda pair: (pair[0].document, pair[0].sentence_start))
    return [_evidence(f, stance, label) for f, label in ordered]


def _denied(findings: Iterable[Finding], requirements: list[Requirement]) -> list[Finding]:
    """Mentions that deny a requirement's concept for this patient ("no skin or nodal lesion", "no new lesions"):
    negated, and otherwise about the patient and real. A denial of what a criterion needs is evidence against it; a
    denial of what would contradict it is evidence for it."""
    others = [name for name in DISCOUNTING if name != "negated"]
    return [
        f for req in requirements for f in findings
        if f.concept in req.any_of and f.qualifiers.negated and not any(getattr(f.qualifiers, q) for q in others)
    ]


def _same_sentence(a: Evidence, b: Evidence) -> bool:
    return a.document == b.document and a.start == b.start


def _cited(finding: Finding, evidence: list[Evidence]) -> bool:
    return any(e.document == finding.document and e.start == finding.sentence_start for e in evidence)


def _discounted_reason(findings: list[Finding]) -> str:
    kinds = sorted({name for f in findings for name in f.qualifiers.active() if name in DISCOUNTING or name == "historical"})
    return f" Only {', '.join(kinds)} mentions were found." if kinds else ""


def evaluate_criterion(
    criterion: Criterion, findings: list[Finding], request: ReviewRequest, section_rank: SectionRank
) -> CriterionResult:
    def cite(chosen: Iterable[Finding], stance: Stance, requirements: list[Requirement] | None = None) -> list[Evidence]:
        return _cite(chosen, stance, section_rank, requirements)

    def result(status: Status, reason: str, evidence: list[Evidence], conflict: bool = False) -> CriterionResult:
        # what was outweighed is still shown, for the side it would have taken, so the reviewer sees both
        shown = cite(outweighed, "supports") + cite(overruled, "contradicts")
        evidence = evidence + [e for e in shown if not any(_same_sentence(e, x) for x in evidence)]
        return CriterionResult(
            id=criterion.id, question=criterion.question, status=status, reason=reason,
            conflict=conflict, evidence=evidence,
        )

    outweighed: list[Finding] = []
    overruled: list[Finding] = []
    if request.request_type not in criterion.applies_to:
        return result("not_applicable", criterion.reasons.not_applicable, [])
    kept = without_outweighed_inferences(findings, criterion.requires)
    kept_ids = {id(f) for f in kept}
    outweighed = [f for f in findings if id(f) not in kept_ids]
    findings = kept
    # a contradiction a stronger statement outweighs is shown, against, but no longer counts
    overruled = overruled_by_stronger(findings, criterion.contradicted_by)
    if overruled:
        overruled_ids = {id(f) for f in overruled}
        findings = [f for f in findings if id(f) not in overruled_ids]
    support = SCOPES[criterion.scope](findings, criterion.requires)
    contra = [f for req in criterion.contradicted_by for f in findings if counts(f, req)]
    doubts = [f for req in criterion.doubted_by for f in findings if counts(f, req)]
    if support is not None and contra and doubts and criterion.when_doubted_and_contradicted:
        evidence = cite(contra + doubts, "contradicts") + cite(support, "supports", criterion.requires)
        return result(criterion.when_doubted_and_contradicted, criterion.reasons.doubted_and_contradicted or "", evidence)
    if support is not None and contra:
        evidence = cite(support, "supports", criterion.requires) + cite(contra, "contradicts")
        if criterion.when_both == "insufficient":
            return result("insufficient", criterion.reasons.conflict or criterion.reasons.insufficient, evidence, True)
        reason = criterion.reasons.met if criterion.when_both == "met" else (criterion.reasons.not_met or "")
        return result(criterion.when_both, reason, evidence)
    if support is not None and doubts:
        evidence = cite(support, "supports", criterion.requires) + cite(doubts, "contradicts")
        return result("insufficient", criterion.reasons.doubt or criterion.reasons.insufficient, evidence, True)
    if support is not None:
        evidence = cite(support, "supports", criterion.requires)
        denials = [f for f in _denied(findings, criterion.contradicted_by) if not _cited(f, evidence)]
        return result("met", criterion.reasons.met, evidence + cite(denials, "supports"))
    if contra:
        evidence = cite(contra, "contradicts")
        denials = [f for f in _denied(findings, criterion.requires) if not _cited(f, evidence)]
        return result("not_met", criterion.reasons.not_met or "", evidence + cite(denials, "contradicts"))
    neutral = [f for req in criterion.neutral for f in findings if counts(f, req)]
    if neutral:
        return result("insufficient", criterion.reasons.neutral or criterion.reasons.insufficient, cite(neutral, "contradicts"))
    # Show what was found but did not count, so the reviewer sees why.
    partial = [f for req in criterion.requires for f in findings if counts(f, req)]
    discounted = [
        f for req in criterion.requires + criterion.contradicted_by for f in _matching(findings, req) if not counts(f, req)
    ]
    missing = [req.label for req in criterion.requires if not any(counts(f, req) for f in findings)]
    reason = criterion.reasons.insufficient
    if partial and missing:
        reason += f" Missing: {', '.join(missing)}."
    reason += _discounted_reason(discounted)
    return result("insufficient", reason, cite(partial, "supports", criterion.requires) + cite(discounted, "supports"))


def _flags(policy: Policy, findings: list[Finding]) -> list[SafetyFlag]:
    flags = []
    for rule in policy.safety_flags:
        hits = [f for f in findings if counts(f, rule)]
        if hits:
            flags.append(SafetyFlag(id=rule.id, label=rule.label, reason=rule.reason, evidence=_cite(hits, "supports", policy.evidence_section_rank)))
    return flags


def determine(
    findings: list[Finding],
    policy: Policy,
    request: ReviewRequest,
    documents: list[DocumentInfo] | None = None,
) -> Determination:
    """The pre-filled determination for one case."""
    results = [evaluate_criterion(c, findings, request, policy.evidence_section_rank) for c in policy.criteria]
    applicable = [r.status for r in results if r.status != "not_applicable"]
    if all(s == "met" for s in applicable):
        outcome = policy.outcomes.all_met
    elif any(s == "not_met" for s in applicable):
        outcome = policy.outcomes.any_not_met
    else:
        outcome = policy.outcomes.otherwise
    months = None
    if outcome == policy.outcomes.all_met:
        months = next(
            rule.months
            for rule in policy.approval_months
            if rule.request_type == request.request_type
            and rule.nonformulary_exception == request.nonformulary_exception
        )
    return Determination(
        policy_id=policy.id,
        policy_title=policy.title,
        request=request,
        criteria=results,
        suggested_outcome=outcome,
        approval_months=months,
        safety_flags=_flags(policy, findings),
        documents=documents or [],
    )
