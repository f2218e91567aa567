"""The ``chartcheck`` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from app.errors import SettingsError
from extractor.errors import RuleFileError, UnreadableDocument
from models import Determination, ReviewRequest


def _request(args: argparse.Namespace) -> ReviewRequest:
    return ReviewRequest(request_type=args.request_type, nonformulary_exception=args.nonformulary_exception)


def format_summary(determination: Determination) -> str:
    """The readable summary: each criterion, its status, its reason, and the cited sentences with document and page."""
    lines = [
        f"Policy {determination.policy_id} {determination.policy_title}",
        f"Request: {determination.request.request_type}"
        + (" (non-formulary exception)" if determination.request.nonformulary_exception else ""),
        f"Suggested outcome: {determination.suggested_outcome}"
        + (f" ({determination.approval_months} months)" if determination.approval_months else ""),
        "",
    ]
    for flag in determination.safety_flags:
        lines.append(f"SAFETY FLAG {flag.id}: {flag.reason}")
        for ev in flag.evidence[:2]:
            lines.append(f'    "{_one_line(ev.text)}" ({ev.document}, p. {ev.page})')
    if determination.safety_flags:
        lines.append("")
    for result in determination.criteria:
        lines.append(f"[{result.status}] {result.id}: {result.reason}")
        for ev in _summary_evidence(result.evidence):
            qualifiers = ", ".join(ev.qualifiers.active())
            tag = f" [{qualifiers}]" if qualifiers else ""
            what = f" {ev.requirement}" if ev.requirement else ""
            lines.append(f'    {ev.stance}{what}: "{_one_line(ev.text)}" ({ev.document}, p. {ev.page}){tag}')
    return "\n".join(lines)


SUMMARY_EVIDENCE = 3


def _summary_evidence(evidence: list) -> list:
    """The first cited sentence for each requirement (a surgery, a recurrence; an exam, a history, ...), then the rest,
    at most SUMMARY_EVIDENCE; the JSON output has them all."""
    firsts = list({ev.requirement: ev for ev in reversed(evidence)}.values())[::-1]
    rest = [ev for ev in evidence if ev not in firsts]
    return (sorted(firsts, key=evidence.index) + rest)[:SUMMARY_EVIDENCE]


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def cmd_review(args: argparse.Namespace) -> int:
    from app.review import Reviewer
    from extractor.read import read_path

    documents = [read_path(Path(p)) for p in args.files]  # a bad file fails fast, before the pipeline loads
    determination = Reviewer().review_documents(documents, _request(args))
    if args.json:
        print(determination.model_dump_json(indent=2))
    else:
        print(format_summary(determination))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(Determination.model_json_schema(), indent=2))
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from app.batch import run_batch

    return run_batch(Path(args.manifest), Path(args.out), workers=args.workers, show_progress=not args.quiet)


def _add_request_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--request-type", required=True, choices=["initial", "reauthorization"])
    parser.add_argument("--nonformulary-exception", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chartcheck", description="Pre-fill Imlygic prior-authorization reviews from chart notes.")
    sub = parser.add_subparsers(dest="command", required=True)

    review = sub.add_parser("review", help="review one case's documents (PDF or .txt)")
    review.add_argument("files", nargs="+")
    _add_request_args(review)
    review.add_argument("--json", action="store_true", help="print the determination contract as JSON")
    review.set_defaults(func=cmd_review)

    batch = sub.add_parser("batch", help="review every case of a JSONL manifest")
    batch.add_argument("manifest")
    batch.add_argument("--out", required=True)
    batch.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(func=cmd_batch)

    schema = sub.add_parser("schema", help="print the determination's JSON Schema")
    schema.set_defaults(func=cmd_schema)

    from app import bench, evaluate, loadtest, negex, service_commands

    service_commands.register(sub)
    loadtest.register(sub)
    evaluate.register(sub)
    negex.register(sub)
    bench.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UnreadableDocument as error:
        print(f"chartcheck: error: {error.name}: {error.cause}", file=sys.stderr)
        return 2
    except (RuleFileError, SettingsError) as error:
        print(f"chartcheck: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
