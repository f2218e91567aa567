"""The reviewed case as a PDF summary for the case file: criteria, pre-filled and decided statuses, reasons, cited
text with document and page, and who decided what and when."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from app.api import schemas
from models import Determination

MAX_QUOTES = 4
STATUS_WORDS = {"met": "Met", "not_met": "Not met", "insufficient": "Insufficient", "not_applicable": "Not applicable"}
OUTCOME_WORDS = {"meets_criteria": "Meets criteria", "does_not_meet_criteria": "Does not meet criteria",
                 "insufficient_documentation": "Insufficient documentation"}


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def summary_pdf(case: schemas.CaseDetail, determination: Determination, exported_by: str, now: datetime) -> bytes:
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=8.5, leading=11)
    quote = ParagraphStyle("quote", parent=small, leftIndent=12, textColor=colors.HexColor("#333333"))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=letter, leftMargin=0.7 * inch, rightMargin=0.7 * inch,
                            topMargin=0.7 * inch, bottomMargin=0.7 * inch,
                            title=f"chartcheck review {case.id}", author="chartcheck")
    story = [
        Paragraph(escape(f"Prior-authorization review: policy {determination.policy_id} {determination.policy_title}"),
                  styles["Title"]),
        Paragraph(escape(f"Case {case.id}" + (f" (reference {case.external_reference})" if case.external_reference
                                               else "")), styles["BodyText"]),
        Paragraph(escape(f"Request: {case.request_type}" + (", non-formulary exception" if case.nonformulary_exception
                                                              else "")), styles["BodyText"]),
        Paragraph(escape("Documents: " + "; ".join(f"{d.filename} ({d.page_count} p., {d.status})"
                                                     for d in case.documents)), small),
        Paragraph(escape(f"Exported {_when(now)} by {exported_by}"), small),
        Spacer(1, 8),
    ]
    for flag in determination.safety_flags:
        story.append(Paragraph(escape(f"SAFETY FLAG: {flag.label}. {flag.reason}"), styles["Heading4"]))
    review = case.review or schemas.ReviewPublic(decisions=[], history=[])
    decided = {d.criterion_id: d for d in review.decisions}
    rows = [["Criterion", "Pre-filled", "Decision", "By, when"]]
    for result in determination.criteria:
        decision = decided.get(result.id)
        rows.append([
            Paragraph(escape(result.id), small), STATUS_WORDS[result.status],
            (("Accepted: " if decision.action == "accept" else "Overridden: ") + STATUS_WORDS[decision.status])
            if decision else "Not decided",
            Paragraph(escape(f"{decision.decided_by}, {_when(decision.decided_at)}") if decision else "", small),
        ])
    table = Table(rows, colWidths=[2.0 * inch, 1.1 * inch, 1.9 * inch, 2.1 * inch], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]))
    story += [table, Spacer(1, 10)]
    suggested = OUTCOME_WORDS[determination.suggested_outcome]
    months = f", {determination.approval_months} months" if determination.approval_months else ""
    story.append(Paragraph(escape(f"Suggested outcome: {suggested}{months}"), styles["Heading3"]))
    if review.final_outcome:
        final_months = f", {review.final_approval_months} months" if review.final_approval_months else ""
        story.append(Paragraph(escape(
            f"Final decision: {OUTCOME_WORDS[review.final_outcome]}{final_months}, by {review.finalized_by}, "
            f"{_when(review.finalized_at)}" + (f". Reason: {review.final_reason}" if review.final_reason else "")
        ), styles["Heading3"]))
    else:
        story.append(Paragraph("Final decision: not yet made", styles["Heading3"]))
    for result in determination.criteria:
        story.append(Paragraph(escape(f"{result.id}: {STATUS_WORDS[result.status]}"), styles["Heading4"]))
        story.append(Paragraph(escape(result.question), small))
        story.append(Paragraph(escape(f"Reason: {result.reason}"), small))
        decision = decided.get(result.id)
        if decision and decision.reason:
            story.append(Paragraph(escape(f"Reviewer's reason ({decision.decided_by}): {decision.reason}"), small))
        for ev in result.evidence[:MAX_QUOTES]:
            qualifiers = ", ".join(ev.qualifiers.active())
            where = f"{ev.document}, page {ev.page}" + (f", {ev.section}" if ev.section else "")
            text = " ".join(ev.text.split())
            story.append(Paragraph(escape(f"{ev.stance}: \u201c{text}\u201d ({where})"
                                          + (f" [{qualifiers}]" if qualifiers else "")), quote))
    if review.history:
        story.append(Paragraph("Decision history", styles["Heading4"]))
        for row in review.history:
            story.append(Paragraph(escape(
                f"{_when(row.decided_at)} {row.decided_by}: {row.action} {row.criterion_id} as "
                f"{STATUS_WORDS[row.status]}" + (f" ({row.reason})" if row.reason else "")), small))
    doc.build(story)
    return out.getvalue()
