"""The 收录引证报告 as PDF: an HTML template laid out by WeasyPrint, on the 查新 report's stylesheet.

reports/templates/report.css gives the page (A4, MOST margins), fonts, grid tables, watermark and
signature table; citation_report.css adds this report's own parts. The footer (number, code, page x
of y) is the same inline @page rule as the 查新 report's. WeasyPrint writes the same bytes for the same
HTML, and nothing here depends on the clock: the document date is the report's own.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from reports import citation_content as cc
from reports import content
from reports.citation_model import CitationReportData
from reports.pdf_report import TEMPLATES, _env, css_string
from reports.printable import printable


def render_citation_html(report: CitationReportData) -> str:
    """The HTML WeasyPrint lays out; a web page may show it as the preview."""
    cc.check_issuable(report)
    report = printable(report)
    footer = css_string(cc.footer_text(report) + "　第 ")
    top = cc.verify_line(report)
    page_css = Markup(
        "@page { @bottom-center { content: "
        f"{footer} counter(page) {css_string(' 页 共 ')} counter(pages) {css_string(' 页')}; }}"
        + (f" @top-center {{ content: {css_string(top)}; font-size: 8pt; }}" if top else "")
        + " }"
    )
    view: dict[str, Any] = {
        "r": report,
        "c": cc,
        "page_css": page_css,
        "header_rows": cc.header_rows(report),
        "indexing": [(p, cc.indexing_rows(report, p)) for p in report.papers],
        "citation_rows": cc.citation_rows(report),
        "citing_blocks": cc.citing_blocks(report) if report.options.include_citing_list else [],
        "signature_rows": cc.signature_rows(report),
        "fill": content.TO_FILL if report.draft else content.EMPTY,
        "qr": content.qr_data_uri(report.verify_url) if cc.verify_line(report) else "",
    }
    return _env.get_template("citation_report.html").render(view)


def render_citation_pdf(report: CitationReportData) -> bytes:
    """The report as PDF bytes; raises ReportDataError for an issued report whose code is wrong."""
    # Imported here, as in reports.pdf_report: WeasyPrint loads Pango at import, and a machine
    # without it should still serve everything but the PDF.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_citation_html(report)
    fonts = FontConfiguration()
    sheets = [
        CSS(filename=str(TEMPLATES / name), font_config=fonts)
        for name in ("report.css", "citation_report.css")
    ]
    pdf: bytes | None = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=sheets, font_config=fonts
    )
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return pdf
