"""The one strict loader for the NLP's knowledge: target, ConText, section, page-furniture, measurement-table,
encounter and request-form rules.

Rule files are JSON in medspaCy's own format (``target_rules``, ``context_rules``, ``section_rules``); each rule also
carries ``metadata`` with a stable ``id`` and its ``source``. Every file is validated with ``extra="forbid"``: an
unknown key or a bad value stops the program with a message naming the file and the key.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from extractor.errors import RuleFileError

RULES_DIR = Path(__file__).parent / "rules"
QUALIFIERS = ("negated", "family", "historical", "hypothetical", "uncertain")
Qualifier = Literal["negated", "family", "historical", "hypothetical", "uncertain"]
ContextCategory = Literal[
    "NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HISTORICAL", "HYPOTHETICAL", "FAMILY", "PSEUDO", "TERMINATE"
]
# Which qualifier each ConText category sets.
CATEGORY_QUALIFIER: dict[str, Qualifier] = {
    "NEGATED_EXISTENCE": "negated",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HISTORICAL": "historical",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "family",
}
TokenPattern = list[dict[str, Any]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_token_pattern(pattern: TokenPattern | str | None) -> TokenPattern | str | None:
    """A token pattern compares one token at a time: a LOWER/TEXT value holding a space can never match."""
    if isinstance(pattern, list):
        for token in pattern:
            for attr in ("LOWER", "TEXT", "ORTH"):
                value = token.get(attr)
                values = value.get("IN", []) if isinstance(value, dict) else [value]
                if any(isinstance(v, str) and " " in v.strip() for v in values):
                    raise ValueError(f"{attr} value with a space never matches one token: {values}")
    return pattern


class RuleMeta(_Strict):
    id: str = Field(min_length=1)
    source: str = Field(min_length=1, description="where the rule's knowledge comes from")


class TargetMeta(RuleMeta):
    case_sensitive: bool = Field(default=False, description="match the literal's exact letters ('AIDS', not 'aids')")
    also: list[str] = Field(default_factory=list, description="further concepts the same words establish")
    negated_means: str | None = Field(
        default=None, description="the concept the words state when a negation cue denies them, and nothing else "
        "qualifies them: 'does not consider her disease resectable' says it is unresectable"
    )
    negated_never_nearby: list[str] = Field(
        default_factory=list, description="words of the sentence that keep a denial from stating ``negated_means`` "
        "(a patient's refusal, surgery for another condition)"
    )
    own_negation: bool = Field(
        default=False,
        description="the negation words inside the phrase ('not resectable', 'no prior surgery') are what it says: "
        "they end an earlier negation's scope but deny nothing else in the sentence",
    )
    requires_nearby: list[str] = Field(
        default_factory=list, description="the mention counts only if one of these word prefixes is in its sentence"
    )
    excluded_nearby: list[str] = Field(
        default_factory=list, description="the mention does not count if one of these word prefixes is in its sentence"
    )
    never_nearby: list[str] = Field(
        default_factory=list,
        description="the mention never counts if one of these word prefixes is in its sentence, whatever else is there "
        "(a drug's indication or a policy's criteria restated, not a fact about this patient)",
    )
    unless_nearby: list[str] = Field(
        default_factory=list, description="...except when one of these word prefixes is in the sentence too"
    )
    excluded_next_sentence: list[str] = Field(
        default_factory=list,
        description="the mention does not count if the sentence right after it holds one of these word prefixes and "
        "neither sentence an ``unless_nearby`` one: the reason given for a bare claim ('Not a surgical candidate. "
        "She will not undergo any further surgery.')",
    )
    next_sentence_about: list[str] = Field(
        default_factory=list, description="...and that next sentence holds one of these too (it speaks of surgery)"
    )
    excluded_previous_sentence: list[str] = Field(
        default_factory=list,
        description="words of the sentences just before that rule the mention out when its own sentence draws on them "
        "(``previous_sentence_link``): 'She has declined surgical excision. Surgery is therefore not an option.'",
    )
    previous_sentence_link: list[str] = Field(
        default_factory=list, description="words that make a sentence a consequence of the one before ('therefore')"
    )
    excluded_in_clause: list[str] = Field(
        default_factory=list,
        description="word prefixes that, in the mention's own clause (between commas, semicolons, colons or brackets), "
        "make it not count ('lung metastases in complete response since ipi/nivo')...",
    )
    unless_in_clause: list[str] = Field(
        default_factory=list, description="...except when one of these word prefixes is in that clause too"
    )
    in_sections: list[str] = Field(
        default_factory=list, description="the mention counts only inside a section of one of these categories"
    )
    not_in_sections: list[str] = Field(
        default_factory=list, description="the mention never counts inside a section of one of these categories"
    )
    belongs_to: list[str] = Field(
        default_factory=list,
        description="the mention belongs to the nearest of these concepts named before it in its section; it counts "
        "only when that is the first one listed (a recurrence told after an SCC is the SCC's)",
    )


class _PatternRule(_Strict):
    """A rule with a medspaCy token pattern, checked to be one that can match."""

    pattern: TokenPattern | str | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern_tokens(cls, value: TokenPattern | str | None) -> TokenPattern | str | None:
        return _check_token_pattern(value)


class TargetRuleSpec(_PatternRule):
    literal: str
    category: str
    pattern: TokenPattern | str | None = None
    attributes: dict[str, Any] | None = None
    metadata: TargetMeta


class ContextMeta(RuleMeta):
    unterminated: bool = Field(
        default=False,
        description="the scope runs on to the end of the sentence past terminators (';', 'but'): the date that opens "
        "a history list item governs the whole item",
    )


class ContextRuleSpec(_PatternRule):
    literal: str
    category: ContextCategory
    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"] = "BIDIRECTIONAL"
    pattern: TokenPattern | str | None = None
    allowed_types: list[str] | None = None
    excluded_types: list[str] | None = None
    max_scope: int | None = None
    max_targets: int | None = None
    terminated_by: list[str] | None = None
    metadata: ContextMeta


class SectionMeta(RuleMeta):
    qualifier: Qualifier | None = Field(default=None, description="a qualifier every mention in the section takes")
    qualifies: list[str] = Field(
        default_factory=list,
        description="only mentions of these concepts take the qualifier (all when empty): an oncologic history's dated "
        "lines tell the lesions and their course of then, while its surgeon's 'not a surgical candidate' stands",
    )


class SectionRuleSpec(_PatternRule):
    literal: str
    category: str
    pattern: TokenPattern | str | None = None
    parents: list[str] | None = None
    parent_required: bool = False
    metadata: SectionMeta


class FurnitureRule(_Strict):
    id: str
    pattern: str
    source: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class MeasurementTableRule(_Strict):
    id: str
    source: str
    baseline_words: list[str] = Field(min_length=1)
    none_words: list[str] = Field(
        default_factory=list, description="a cell that denies ('none', 'nil', '0'): a 'New lesions' row of them all "
        "says no new lesion appeared at any visit"
    )
    response_change: float = Field(lt=0)
    progression_change: float = Field(gt=0)
    min_rows: int = Field(ge=1)
    unit_title_words: list[str] = Field(
        default_factory=list, description="words of a table title that names the unit of its sizes ('diameter in mm')"
    )
    other_units: tuple[str, ...] = Field(
        default=(), description="units after a number that make it no size, in a table that declares its unit ('0.1 mL')"
    )
    resolved_words: tuple[str, ...] = Field(
        default=(), description="a cell saying the lesion is gone (size 0) in a table that declares its unit"
    )
    prose_lesion_words: tuple[str, ...] = Field(
        default=(), description="words naming a lesion in a line of prose whose size change is read ('nodule')"
    )
    prose_earlier_words: tuple[str, ...] = Field(
        default=(), description="words before a lesion's earlier size in prose, its size now following ('previously')"
    )
    prose_now_words: tuple[str, ...] = Field(
        default=(), description="words before a lesion's size now in prose ('now')"
    )
    prose_then_words: tuple[str, ...] = Field(
        default=(), description="words before an earlier size told after the size now ('now 3.1 cm, previously 1.8')"
    )
    prose_decrease_words: tuple[str, ...] = Field(
        default=(), description="words before a share of shrinkage ('down 48%')"
    )
    prose_decrease_nouns: tuple[str, ...] = Field(
        default=(), description="words after a share of shrinkage ('48% reduction')"
    )
    prose_increase_words: tuple[str, ...] = Field(
        default=(), description="words before a share of growth ('up 35%')"
    )
    prose_increase_nouns: tuple[str, ...] = Field(
        default=(), description="words after a share of growth ('35% increase')"
    )
    prose_excluded_words: tuple[str, ...] = Field(
        default=(), description="words of a line of prose whose figures measure no lesion's size ('margin', 'Breslow')"
    )
    sum_words: tuple[str, ...] = Field(
        default=(), description="names of a sum of lesion diameters followed in prose ('SLD 77 -> 48 -> 24 mm')"
    )
    first_dose_words: tuple[str, ...] = Field(
        default=(), description="words of a header column that mark the drug's first dose ('T-VEC #1'): sizes are "
        "measured from that column when an earlier baseline column comes before it"
    )
    dated_header_words: tuple[str, ...] = Field(
        default=(), description="a header with two or more dates and one of these words heads a lesion table whose "
        "first dated column is the baseline"
    )
    distance_words: tuple[str, ...] = Field(
        default=(), description="words after a measure that make it a distance, not a size ('8 cm above the scar')"
    )
    max_size_mm: float = Field(
        gt=0, description="a size above this is no skin or nodal lesion's diameter but a misread number (OCR of a "
        "faxed table): the row is not trusted"
    )
    visit_header_words: tuple[str, ...] = Field(
        default=(), description="the first cell of the header of a table with a row per visit ('Date | L1 | L2 | "
        "Sum'), whose rows open with the visit's date"
    )
    dose_column_words: tuple[str, ...] = Field(
        default=(), description="header words of a visit table's dose-number column ('Tx #'): the first column, "
        "counting from 1, holds no size"
    )
    volume_column_words: tuple[str, ...] = Field(
        default=(), description="header words of a visit table's injected-volume column ('Vol (mL)'): a column of "
        "decimals there holds no size"
    )
    sum_column_words: tuple[str, ...] = Field(
        default=(), description="header words of a visit table's column summing the lesions ('Sum', 'SLD'): when "
        "present, its figures are the table's measure"
    )
    progression_min_mm: float = Field(
        default=5.0, ge=0, description="RECIST 1.1: a growth from the smallest sum is progression only when it is "
        "also at least this many mm"
    )


class MeasurementTableFile(_Strict):
    measurement_tables: MeasurementTableRule


class RevisedOpinion(_Strict):
    old: str = Field(description="the concept a later note revises")
    new: str = Field(description="the opposite concept it states now")
    qualifier: Literal["historical", "uncertain"] = Field(
        description="what the revised statements become: a past view (resectability changes with the disease), or "
        "uncertain (a diagnosis withdrawn on review was never established)"
    )
    recount_cues: list[str] = Field(
        default_factory=list,
        description="when given, the later note must recount the old opinion with one of these cue rules (prefixes), "
        "as a pathology consultation 'revises' an outside diagnosis; otherwise any past or doubted mention will do",
    )
    after_days: int | None = Field(
        default=None,
        description="when set, a note revises another only by being this many days newer, whatever it recounts: a "
        "lesion's course is told anew at each visit ('no new lesions' denies no earlier note), and one visit's "
        "'responding' is last season's news once a note months newer finds the lesions growing",
    )
    within_note: bool = Field(
        default=False,
        description="a note's assessment whose last word is the new opinion, told as calling a plan off "
        "(``cancel_words``), settles the note's own plans of the old side (``past_plan_rules``): a pre-op visit's "
        "'reason for visit: scheduled re-excision' is a plan the author has since given up",
    )
    settled_by: list[str] = Field(
        default_factory=list,
        description="regular expressions (ignoring case) of a verdict that, in a note stating the new opinion now, "
        "settles every earlier note's old opinion whatever the days between: 'the August enlargement was "
        "inflammatory pseudoprogression' says the earlier growth was never progression",
    )
    across_notes: bool = Field(
        default=True,
        description="a later note stating the opposite revises earlier notes; when false, only a note's own old dated "
        "sentences are set against the opposite stated now (a lesion's course: last month's radiation-treated node "
        "'enlarging' is no verdict on this month's injections)",
    )


class OvertakenDenial(_Strict):
    denial: str = Field(description="the concept of the denial ('no_prior_surgery')")
    event: str = Field(description="the concept of the event that overtakes it ('prior_surgery')")
    qualifier: Literal["historical", "uncertain"] = Field(
        description="what the overtaken denial becomes: a qualifier its criterion does not accept"
    )


class EncounterRule(_Strict):
    """Heading lines that open one dated visit of an encounter printout. Each heading is a regular expression
    (multiline, ignoring case) with a named group ``date``; ``{date}`` in it stands for the ``date`` expression."""

    id: str
    source: str
    headings: list[str] = Field(min_length=1)
    printed_headings: list[str] = Field(
        default_factory=list,
        description="dates printed on every page of a printout ('Encounter 06/16/2026' in its footer), read only when "
        "the note's own lines give no visit date",
    )
    date: str
    month_date: str | None = Field(
        default=None, description="a month without its day ('02/2024', 'Feb 2024'), which may date a quotation's source"
    )
    stale_after_days: int = Field(
        gt=0, description="a document whose latest visit is this much older than the newest submitted document is "
        "the past"
    )
    earlier_visit_days: int = Field(
        default=1, ge=1, description="a visit of a document this many days or more older than its latest is an "
        "earlier visit, the past (a letter dated the day after the visit it reports is that visit)"
    )
    revision_after_days: int = Field(
        gt=0, description="a note this much newer than another that states the opposite opinion now supersedes it"
    )
    letter_revision_after_days: int = Field(
        gt=0, description="a letter of medical necessity (``necessity_letter``) restates the case for the request: a "
        "note this much newer that states the opposite opinion now supersedes it (a surgeon's consult after the letter)"
    )
    dated_statement_days: int = Field(
        gt=0, description="a sentence whose every date is this much older than its note's visit tells the past"
    )
    dated_statement_concepts: list[str] = Field(default_factory=list, description="the opinions that rule applies to")
    past_when_dated: list[str] = Field(
        default_factory=list,
        description="states a sentence dated wholly that much before the visit tells of then, whatever the note says "
        "now ('in 03/2024, while 22 weeks pregnant'; 'stopped in May 2025 after high-dose steroids')",
    )
    history_sections: list[str] = Field(
        default_factory=list, description="sections that tell the course so far (an oncologic history's dated lines)"
    )
    assessment_sections: list[str] = Field(
        default_factory=list, description="sections that hold a note's conclusion (``within_note`` opinions)"
    )
    cancel_words: list[str] = Field(
        default_factory=list,
        description="words by which a note's author calls off a plan ('I have cancelled the OR date'): an assessment "
        "concluding so settles the note's own plans (``within_note`` opinions)",
    )
    still_words: list[str] = Field(
        default_factory=list,
        description="words saying an opinion holds now ('the disease remains unresectable', 'is still not a "
        "candidate', 'I do not consider this disease resectable'): a sentence with one is current, whatever old dates "
        "it recounts",
    )
    past_plan_rules: list[str] = Field(
        default_factory=list,
        description="target rules of a planned operation: a plan whose sentence dates it wholly before the note's "
        "visit ('re-excision was planned for 09/03/2026', in a note of 10/14/2026) was done or dropped since, no plan "
        "now",
    )
    denied_now_concepts: list[str] = Field(
        default_factory=list,
        description="lesion concepts a history section's mentions tell only of then when the rest of the note denies "
        "them now and affirms none ('06/2026 new subcutaneous nodule L arm' above 'no cutaneous or subcutaneous "
        "disease' today)",
    )
    denied_now_rules: list[str] = Field(
        default_factory=list,
        description="the target rules whose denial is general enough to make a note's dated mentions past too ('in "
        "07/2025 she developed six in-transit nodules' above 'there is no cutaneous, subcutaneous or nodal disease at "
        "present'); a denial of one site ('no cervical adenopathy') dates nothing",
    )
    denied_others_words: list[str] = Field(
        default_factory=list,
        description="words between a denial and the sites it names that leave some lesions standing ('two nodules "
        "remain; no other subcutaneous lesions'): such a denial dates no site of its sentence",
    )
    short_date_lead_words: list[str] = Field(
        default_factory=list,
        description="words before a day written without its year ('her letter of 10/08') that make it a date: the "
        "last such day on or before the visit",
    )
    month_reference: str = Field(
        default="(?!)", description="a month named in a sentence ('saw him in September', '09/2026'): groups month "
        "and year, or mm and yyyy; a month without a year is the last such month on or before the visit"
    )
    month_ahead_leads: list[str] = Field(
        default_factory=list,
        description="words before a month named without its year that, for one of the ``month_ahead_window`` months "
        "after the visit's, make it the coming month ('offered her surgery in December', in a note of November), not "
        "the last one",
    )
    month_ahead_window: int = Field(
        default=0, ge=0, le=6, description="how many months after the visit's a yearless month may be the coming one"
    )
    addendum_headings: list[str] = Field(
        default_factory=list,
        description="regular expressions (multiline, ignoring case) of the heading that opens a note's addendum: "
        "what the addendum states now of one side of an opinion supersedes the other side stated above it",
    )
    addendum_correction_words: list[str] = Field(
        default_factory=list,
        description="words that make an addendum a correction of the note ('transcribed in error', 'the correct "
        "impression is'); an addendum without them (a pathology result, a colleague's letter) corrects nothing",
    )
    overtaken_denials: list[OvertakenDenial] = Field(
        default_factory=list,
        description="denials that something had happened, which a dated later event overtakes: a pre-operative "
        "consult's 'no prior surgery' says nothing against the excision the case dates after it",
    )
    revised_opinions: list[RevisedOpinion] = Field(
        default_factory=list,
        description="opposite opinions: a later note that recounts the old as a past view and states the new now "
        "revises what earlier notes said",
    )
    necessity_letter: list[str] = Field(
        default_factory=list,
        description="lines that make a document a letter of medical necessity (its title; a salutation to the plan "
        "or 'To whom it may concern'), regular expressions (multiline, ignoring case): the exam such a letter "
        "recounts is of a visit whose note was not submitted, so it is no office visit's exam",
    )

    @model_validator(mode="after")
    def _compiles(self) -> "EncounterRule":
        re.compile(self.date)
        for line in self.necessity_letter:
            re.compile(line)
        for heading in self.headings:
            if "(?P<date>" not in heading:
                raise ValueError(f"heading {heading!r} has no (?P<date>...) group")
            re.compile(self.expand(heading))
        return self

    def expand(self, heading: str) -> str:
        return heading.replace("{date}", f"(?:{self.date})")

    def patterns(self, printed: bool = False) -> list[re.Pattern[str]]:
        headings = self.headings + (self.printed_headings if printed else [])
        return [re.compile(self.expand(h), re.IGNORECASE | re.MULTILINE) for h in headings]


class EncounterFile(_Strict):
    encounter_rules: EncounterRule


class RetractionRule(_Strict):
    """Words that, in a sentence quoting one of the note's own statements, take it back ('is default template text',
    'entered in error'): the quoted mentions of these concepts are not what the note states."""

    id: str
    source: str
    words: list[str] = Field(min_length=1)
    concepts: list[str] = Field(min_length=1)
    disagreements: list[str] = Field(
        default_factory=list,
        description="regular expressions (ignoring case) of a note disagreeing with a statement it names, the "
        "statement in the group ``said`` ('I do not agree with the assessment that these lesions are not amenable to "
        "surgical resection'): the statement is taken back as a quoted one is",
    )

    @field_validator("disagreements")
    @classmethod
    def _said_group(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if "said" not in re.compile(pattern).groupindex:
                raise ValueError(f"disagreement pattern without a 'said' group: {pattern}")
        return patterns


class FirstHandRule(_Strict):
    """Sentences that tell an operation first hand: the operating surgeon's 'I performed a wide local excision', a
    pathology report's specimen of the excision, an operative report's list of procedures. A mention of ``concept``
    in such a sentence is also a mention of ``first_hand`` (the same words, the same qualifiers)."""

    id: str
    source: str
    concept: str
    first_hand: str
    sentences: list[str] = Field(
        min_length=1, description="regular expressions (ignoring case) searched in the mention's sentence"
    )
    operations: str = Field(
        description="a regular expression (ignoring case) the mention's words must match to name a melanoma "
        "operation ('wide local excision', 'sentinel node biopsy'), unless its sentence names the melanoma "
        "(``melanoma``): a plain 'excision' may be a lipoma's"
    )
    melanoma: str = Field(description="a regular expression (ignoring case) naming the melanoma in a sentence")
    not_melanoma: str = Field(
        description="a regular expression (ignoring case): a sentence naming another lesion ('lipoma', 'BCC') tells "
        "no melanoma operation first hand"
    )

    @field_validator("sentences")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            re.compile(pattern)
        return patterns

    @field_validator("operations", "melanoma", "not_melanoma")
    @classmethod
    def _compiles_one(cls, pattern: str) -> str:
        re.compile(pattern)
        return pattern


class FirstHandFile(_Strict):
    first_hand: FirstHandRule


class RetractionFile(_Strict):
    retractions: RetractionRule


class RequestFormRule(_Strict):
    """Titles of a prior-authorization request form (regular expressions, ignoring case) looked for in the opening
    characters of a document: what such a form states is the requester's claim, to be found in the chart notes."""

    id: str
    source: str
    titles: list[str] = Field(min_length=1)
    within: int = Field(gt=0, description="the title must start within this many characters of the document's start")

    @field_validator("titles")
    @classmethod
    def _compile(cls, titles: list[str]) -> list[str]:
        for title in titles:
            re.compile(title)
        return titles


class RequestFormFile(_Strict):
    request_forms: RequestFormRule


class BenignVerdictRule(_Strict):
    """A lesion at one place that the same document later calls benign ('Subcutaneous nodule, left flank: fat
    necrosis'): every mention of a lesion at that place in the document is doubtful. A place is a side word and a body
    part within a few words of each other, in either order ('L flank', 'flank, left')."""

    id: str
    source: str
    benign_words: list[str] = Field(min_length=1, description="words of a benign verdict (prefixes of words)")
    sides: dict[str, list[str]] = Field(description="each side's canonical name and the words that write it")
    body_parts: list[str] = Field(min_length=1)
    gap_words: int = Field(ge=0, le=4, description="at most this many words between the side and the body part")
    concepts: list[str] = Field(min_length=1, description="the concepts of lesion mentions a verdict makes doubtful")
    not_with: list[str] = Field(default_factory=list, description="words that make a sentence no verdict ('margin')")
    doubt_words: list[str] = Field(
        default_factory=list, description="words after a lesion, in its clause, that doubt its nature ('worrisome for')"
    )
    doubt_objects: list[str] = Field(
        default_factory=list, description="what the doubt must be about (prefixes: 'metast', 'recurren')"
    )
    gone_words: list[str] = Field(
        default_factory=list, description="words after a lesion, in its clause, that say it is gone ('in clinical CR')"
    )
    excised_words: list[str] = Field(
        default_factory=list,
        description="words after a lesion, in its sentence, that report the margins of its excision ('all margins "
        "negative'): the lesion was removed, it is not there now",
    )
    doubt_within: int = Field(default=60, gt=0, description="the doubt must start within this many characters")
    gone_within: int = Field(
        default=60, gt=0, description="the words saying a lesion is gone must start within this many characters (a"
        " treatment and its dates often stand between: 'ITM treated w/ T-VEC since 05/2026 with a complete response')"
    )


class BenignVerdictFile(_Strict):
    benign_verdicts: BenignVerdictRule


class UnplacedNodesRule(_Strict):
    """Generic nodal words ('lymph node metastases') in a document that names its nodes only by visceral stations."""

    id: str
    source: str
    generic_rules: list[str] = Field(min_length=1, description="target rules naming nodes without a place")
    visceral_rules: list[str] = Field(min_length=1, description="target rules naming thoracic or abdominal stations")
    basin_rules: list[str] = Field(min_length=1, description="target rules naming a peripheral nodal basin")


class NodesFile(_Strict):
    unplaced_nodes: UnplacedNodesRule


NEARBY_FIELDS = (
    "requires_nearby", "excluded_nearby", "unless_nearby", "never_nearby", "excluded_in_clause", "unless_in_clause",
    "excluded_next_sentence", "next_sentence_about", "negated_never_nearby", "excluded_previous_sentence",
    "previous_sentence_link",
)


class DeniedList(_Strict):
    """A denial that opens a list denies the whole list: 'never had a wide local excision, sentinel node biopsy or any
    other operation'. The denial is a mention of ``denial`` whose words open with one of ``openers``; the list's items
    are the mentions of ``items`` that follow it joined only by ``glue`` (a regular expression, ignoring case)."""

    denial: str
    items: str
    openers: list[str] = Field(min_length=1)
    glue: str

    @field_validator("glue")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        re.compile(pattern)
        return pattern


class TargetFile(_Strict):
    """Target rules, and named word lists a rule's ``*_nearby`` fields refer to as ``"@name"`` (one list of words
    to cut off statements of a drug's indication, say, kept once instead of on every rule)."""

    target_rules: list[TargetRuleSpec]
    word_lists: dict[str, list[str]] = Field(default_factory=dict)
    denied_lists: list[DeniedList] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _expand_word_lists(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        lists = raw.get("word_lists") or {}
        for rule in raw.get("target_rules") or []:
            metadata = rule.get("metadata") if isinstance(rule, dict) else None
            if not isinstance(metadata, dict):
                continue
            for field in NEARBY_FIELDS:
                words = metadata.get(field)
                if not isinstance(words, list):
                    continue
                expanded: list[str] = []
                for word in words:
                    if isinstance(word, str) and word.startswith("@"):
                        if word[1:] not in lists:
                            raise ValueError(f"rule {metadata.get('id')!r}: {field}: no word list named {word[1:]!r}")
                        expanded.extend(w for w in lists[word[1:]] if w not in expanded)
                    elif word not in expanded:
                        expanded.append(word)
                metadata[field] = expanded
        return raw


class ContextFile(_Strict):
    context_rules: list[ContextRuleSpec]

    @model_validator(mode="after")
    def _one_rule_per_phrase(self) -> "ContextFile":
        """Two phrase rules with the same words match the same span and only one survives medspaCy's overlap pruning,
        which one depending on match order: a rule's direction and scope must be stated once."""
        seen: dict[str, str] = {}
        for rule in self.context_rules:
            if rule.pattern is not None:
                continue
            key = rule.literal.lower()
            if key in seen:
                raise ValueError(f"rules {seen[key]!r} and {rule.metadata.id!r} both match the phrase {rule.literal!r}")
            seen[key] = rule.metadata.id
        return self


class NotDoneRule(_Strict):
    """Words that, opening a section's body, say the section was not done ('Physical exam: Deferred (telephone
    visit)'): its heading is no documentation of an exam."""

    id: str
    source: str
    words: list[str] = Field(min_length=1)
    within: int = Field(gt=0, description="the words count only within this many characters of the heading")


class SectionFile(_Strict):
    section_rules: list[SectionRuleSpec]
    not_done: NotDoneRule


class FurnitureFile(_Strict):
    furniture_rules: list[FurnitureRule]


class RuleSet(_Strict):
    targets: list[TargetRuleSpec]
    denied_lists: list[DeniedList] = Field(default_factory=list)
    context: list[ContextRuleSpec]
    sections: list[SectionRuleSpec]
    furniture: list[FurnitureRule]
    tables: MeasurementTableRule
    encounters: EncounterRule
    sections_not_done: NotDoneRule
    request_forms: RequestFormRule
    retractions: RetractionRule
    first_hand: FirstHandRule
    benign_verdicts: BenignVerdictRule
    unplaced_nodes: UnplacedNodesRule

    def target(self, rule_id: str) -> TargetRuleSpec:
        return self._targets_by_id()[rule_id]

    def _targets_by_id(self) -> dict[str, TargetRuleSpec]:
        return {rule.metadata.id: rule for rule in self.targets}


def load_file(path: Path, model: type[_Strict]) -> Any:
    """Parse one rule file into its schema; any problem is a RuleFileError naming the file and the key."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise RuleFileError(f"{path}: cannot read rule file: {error}") from None
    try:
        parsed = model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RuleFileError(f"{path}: {where}: {first['msg']}") from None
    rules = next(iter(parsed.__dict__.values()))
    ids = [rule.metadata.id if hasattr(rule, "metadata") else rule.id for rule in (rules if isinstance(rules, list) else [rules])]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuleFileError(f"{path}: duplicate rule ids: {', '.join(duplicates)}")
    return parsed


def load_rules(directory: Path = RULES_DIR) -> RuleSet:
    sections = load_file(directory / "sections.json", SectionFile)
    targets = load_file(directory / "targets.json", TargetFile)
    return RuleSet(
        targets=targets.target_rules,
        denied_lists=targets.denied_lists,
        context=load_file(directory / "context.json", ContextFile).context_rules,
        sections=sections.section_rules,
        sections_not_done=sections.not_done,
        furniture=load_file(directory / "furniture.json", FurnitureFile).furniture_rules,
        tables=load_file(directory / "measurement_tables.json", MeasurementTableFile).measurement_tables,
        encounters=load_file(directory / "encounters.json", EncounterFile).encounter_rules,
        request_forms=load_file(directory / "request_forms.json", RequestFormFile).request_forms,
        retractions=load_file(directory / "retractions.json", RetractionFile).retractions,
        first_hand=load_file(directory / "first_hand.json", FirstHandFile).first_hand,
        benign_verdicts=load_file(directory / "benign_verdicts.json", BenignVerdictFile).benign_verdicts,
        unplaced_nodes=load_file(directory / "nodes.json", NodesFile).unplaced_nodes,
    )


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    return load_rules()


def load_furniture_patterns() -> list[re.Pattern[str]]:
    return [re.compile(rule.pattern, re.IGNORECASE) for rule in default_rules().furniture]
