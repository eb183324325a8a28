"""Report generation: a typed case description in, DOCX and PDF bytes out.

Two kinds: the 科技查新报告 (`ReportData`) and the 论文收录引证报告 (`CitationReportData`, with an
XLSX of its two tables as well). Pure: no web framework, database or search index. The case service
builds the description, and for an issued report first computes its verification code over the
content:

    signed = ReportData(..., draft=True, report_no=no, signing_date=..., issue_date=...)
    issued = dataclasses.replace(signed, draft=False, verification_code=compute_code(signed))
    render_docx(issued), render_pdf(issued)

The code leaves out the draft flag, so it can be computed on the draft and carried into the issued
report; the renderers refuse an issued report whose code does not match its content. A citation
report is stored at signing as `CitationReportData.to_json()` and rebuilt with `from_json`, which
renders to the same bytes.
"""

from reports.citation_docx import render_citation_docx
from reports.citation_model import CitationReportData
from reports.citation_pdf import render_citation_html, render_citation_pdf
from reports.citation_xlsx import render_citation_xlsx
from reports.docx_report import render_docx
from reports.model import ReportData, ReportDataError
from reports.pdf_report import render_html, render_pdf
from reports.verification import code_matches, compute_code, display_code

__all__ = [
    "CitationReportData",
    "ReportData",
    "ReportDataError",
    "code_matches",
    "compute_code",
    "display_code",
    "render_citation_docx",
    "render_citation_html",
    "render_citation_pdf",
    "render_citation_xlsx",
    "render_docx",
    "render_html",
    "render_pdf",
]
