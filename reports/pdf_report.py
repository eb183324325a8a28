"""The 科技查新报告 as PDF: an HTML template laid out by WeasyPrint.

Fonts come from the system through fontconfig (Debian: fonts-noto-cjk, fonts-liberation). The CSS
asks for Times New Roman first, so Latin text takes it (fontconfig maps the name to the metric-equal
Liberation Serif) and Chinese, which that font lacks, falls through to the first Song-style CJK serif
present. The running footer (report number, verification code, page x of y) and the 草稿 watermark
are CSS: a page-margin box and a fixed element, which WeasyPrint repeats on every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from reports import content
from reports.model import ReportData
from reports.printable import printable

TEMPLATES = Path(__file__).parent / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def css_string(text: str) -> str:
    """`text` as a quoted CSS string: every character outside printable ASCII letters is escaped,
    so nothing a client typed (a quote, a backslash, `</style>`) can end the string or the element.
    """
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in " -_.:/"):
            out.append(ch)
        else:
            # The space ends the escape and is consumed by the CSS parser, so a real space after it stays.
            out.append(f"\\{ord(ch):06x} ")
    return '"' + "".join(out) + '"'


def page_css(footer: str, top: str | None) -> Markup:
    """The @page rule a report's template inlines: `footer` and "第 x 页 共 y 页" in the bottom margin
    of every page, and the verification line `top`, if any, in the top margin."""
    bottom = css_string(footer + "　第 ")
    return Markup(
        "@page { @bottom-center { content: "
        f"{bottom} counter(page) {css_string(' 页 共 ')} counter(pages) {css_string(' 页')}; }}"
        + (f" @top-center {{ content: {css_string(top)}; font-size: 8pt; }}" if top else "")
        + " }"
    )


def render_template(name: str, view: dict[str, Any]) -> str:
    return _env.get_template(name).render(view)


def html_to_pdf(html: str, *stylesheets: str) -> bytes:
    """WeasyPrint's layout of `html`, with these stylesheets of reports/templates in this order."""
    # Imported here: WeasyPrint loads Pango at import, and a machine without it should still serve
    # everything but the PDF (.ci/run and the Dockerfile install it).
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    sheets = [CSS(filename=str(TEMPLATES / name), font_config=fonts) for name in stylesheets]
    pdf: bytes | None = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=sheets, font_config=fonts
    )
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return pdf


def render_html(report: ReportData) -> str:
    """The HTML WeasyPrint lays out; exposed so a web page can preview the report without a PDF."""
    content.check_issuable(report)
    report = printable(report)
    view: dict[str, Any] = {
        "r": report,
        "c": content,
        "page_css": page_css(content.footer_text(report), content.verify_line(report)),
        "sections": content.SECTION_TITLES,
        "cover_rows": content.cover_rows(report),
        "client_rows": content.party_rows(report.client),
        "centre_rows": content.party_rows(report.centre),
        "blocks": content.result_blocks(report),
        "conclusions": {pc.point_id: pc for pc in report.point_conclusions},
        "fill": content.TO_FILL if report.draft else content.EMPTY,
        "qr": content.qr_data_uri(report.verify_url) if content.verify_line(report) else "",
    }
    return render_template("report.html", view)


def render_pdf(report: ReportData) -> bytes:
    """The report as PDF bytes; raises ReportDataError for an issued report whose code is wrong."""
    return html_to_pdf(render_html(report), "report.css")
