"""科技查新报告 generation: a typed case description in, DOCX and PDF bytes out.

Pure: no web framework, database or search index. The case service builds a `ReportData`, and for an
issued report first computes its verification code over the content:

    signed = ReportData(..., draft=True, report_no=no, signing_date=..., issue_date=...)
    issued = dataclasses.replace(signed, draft=False, verification_code=compute_code(signed))
    render_docx(issued), render_pdf(issued)

The code leaves out the draft flag, so it can be computed on the draft and carried into the issued
report; the renderers refuse an issued report whose code does not match its content.
"""

from reports.docx_report import render_docx
from reports.model import ReportData, ReportDataError
from reports.pdf_report import render_html, render_pdf
from reports.verification import code_matches, compute_code, display_code

__all__ = [
    "ReportData",
    "ReportDataError",
    "code_matches",
    "compute_code",
    "display_code",
    "render_docx",
    "render_html",
    "render_pdf",
]
