"""The 收录引证报告 as PDF: an HTML template laid out by WeasyPrint, on the 查新 report's stylesheet.

reports/templates/report.css gives the page (A4, MOST margins), fonts, grid tables, watermark and
signature table; citation_report.css adds this report's own parts. The footer (number, code, page x
of y) is the same inline @page rule as the 查新 report's. WeasyPrint writes the same bytes for the same
HTML, and nothing here depends on the clock: the document date is the report's own.
"""

from __future__ import annotations

from typing import Any

from reports import citation_content as cc
from reports import content
from reports.citation_model import CitationReportData
from reports.pdf_report import html_to_pdf, page_css, render_template
from reports.printable import printable


def render_citation_html(report: CitationReportData) -> str:
    """The HTML WeasyPrint lays out; a web page may show it as the preview."""
    content.check_issuable(report)
    report = printable(report)
    view: dict[str, Any] = {
        "r": report,
        "c": cc,
        "page_css": page_css(cc.footer_text(report), cc.verify_line(report)),
        "header_rows": cc.header_rows(report),
        "indexing": [(p, cc.indexing_rows(report, p)) for p in report.papers],
        "citation_rows": cc.citation_rows(report),
        "citing_blocks": cc.citing_blocks(report) if report.options.include_citing_list else [],
        "signature_rows": cc.signature_rows(report),
        "fill": content.TO_FILL if report.draft else content.EMPTY,
        "qr": content.qr_data_uri(report.verify_url) if cc.verify_line(report) else "",
    }
    return render_template("citation_report.html", view)


def render_citation_pdf(report: CitationReportData) -> bytes:
    """The report as PDF bytes; raises ReportDataError for an issued report whose code is wrong."""
    return html_to_pdf(render_citation_html(report), "report.css", "citation_report.css")
