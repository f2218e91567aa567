"""Nodes named by station: a note whose nodal disease is mediastinal, hilar or retroperitoneal means those nodes when
it says "lymph node metastases" without a place.

A consult headed "REASON FOR CONSULT: Recurrent melanoma, lymph node metastases" whose history and assessment name
only subcarinal, hilar and aortocaval nodes has no injectable nodal disease: the generic words are marked uncertain,
the first station named as the cue. A note that names a peripheral basin (axillary, inguinal, cervical, ...) as well,
affirmed, is left alone; so is a denial ("no superficial nodal disease"), which stays evidence against. Rule ids
live in rules/nodes.json.
"""

from __future__ import annotations

from extractor.rules_loader import UnplacedNodesRule
from models import Cue, Finding


def _affirmed(finding: Finding) -> bool:
    return not finding.qualifiers.active()


def mark_unplaced_nodes(findings: list[Finding], rule: UnplacedNodesRule) -> list[Finding]:
    stations = [f for f in findings if f.rule in rule.visceral_rules and _affirmed(f)]
    if not stations or any(f.rule in rule.basin_rules and _affirmed(f) for f in findings):
        return findings
    first = min(stations, key=lambda f: f.start)
    cue = Cue(qualifier="uncertain", text=first.matched_text, start=first.start, end=first.end, rule=rule.id)
    return [f.qualified(cue) if f.rule in rule.generic_rules and _affirmed(f) else f for f in findings]
