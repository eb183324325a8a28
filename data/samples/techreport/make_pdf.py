"""Generates hebei_public_final.pdf, the full text of the hebei_public_final.xml sample report.

Run from anywhere: `.venv/bin/python data/samples/techreport/make_pdf.py` (needs fpdf2, a dev-only tool;
the ingest parser reads the PDF with pypdf). The text is Chinese when fontconfig finds a CJK font
(Debian: fonts-noto-cjk); without one it falls back to an English rendering of the same report, so the
script still runs, but the committed PDF was made with Noto Sans CJK SC. The content is a fictitious
example written for the sample.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent
OUT = HERE / "hebei_public_final.pdf"
# A fixed date keeps the PDF byte-stable across runs, so regenerating does not dirty the tree.
FIXED_DATE = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)

TITLE_ZH = "设施番茄水肥一体化智能调控关键技术研究与示范"
BODY_ZH = [
    ("报告编号", "401700125-22327001D/01"),
    ("承担单位", "河北农业大学"),
    ("计划名称", "河北省重点研发计划（项目编号 22327001D）"),
    ("公开范围", "公开"),
    (
        "摘要",
        (
            "针对河北省设施番茄生产中灌溉施肥凭经验、水肥利用率低、土壤次生盐渍化加重等问题，"
            "项目以日光温室番茄为对象，研究了基于土壤墒情与作物蒸腾的灌溉决策模型，"
            "建立了番茄不同生育期氮磷钾需求规律与滴灌施肥制度。"
        ),
    ),
    (
        "1 引言",
        (
            "河北省设施蔬菜面积约 1200 万亩，其中日光温室番茄占比较高。生产中普遍存在大水漫灌、"
            "重施氮肥的现象，造成水肥浪费和地下水硝酸盐污染。"
        ),
    ),
    (
        "2 研究内容与方法",
        (
            "在藁城、永清和饶阳三地日光温室布设土壤墒情传感器与电导率传感器，连续两年采集土壤水分、"
            "基质电导率和气象数据；以 Penman-Monteith 公式估算作物蒸腾，结合土壤水分下限确定灌溉时机。"
        ),
    ),
    (
        "3 结果与结论",
        (
            "与农户常规管理相比，示范区节水 32.6%，减施氮肥 28.4%，番茄增产 9.8%，"
            "氮肥偏生产力提高 41.3%。水肥一体化智能调控系统运行稳定，适合在河北省设施蔬菜产区推广。"
        ),
    ),
]
TITLE_EN = "Key technologies and demonstration of intelligent fertigation for greenhouse tomato"
BODY_EN = [
    ("Report number", "401700125-22327001D/01"),
    ("Organisation", "Hebei Agricultural University"),
    ("Programme", "Hebei Province Key R&D Programme (project 22327001D)"),
    ("Access", "public"),
    (
        "Results",
        (
            "Compared with farmers' practice the demonstration greenhouses saved 32.6% water, applied "
            "28.4% less nitrogen and yielded 9.8% more tomatoes."
        ),
    ),
]


def cjk_font() -> tuple[str, int] | None:
    """(file, index in a collection) of a Simplified Chinese font fontconfig knows, or None."""
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}:%{index}", "Noto Sans CJK SC:lang=zh-cn"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    path, _, index = found.rpartition(":")
    if not path or not Path(path).exists() or "CJK" not in path:
        return None
    return path, int(index or 0)


def build() -> None:
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(TITLE_ZH)
    pdf.set_author("王建华 等")
    font = cjk_font()
    if font is not None:
        pdf.add_font("cjk", fname=font[0], collection_font_number=font[1])
        family, title, body = "cjk", TITLE_ZH, BODY_ZH
    else:
        family, title, body = "helvetica", TITLE_EN, BODY_EN
    pdf.add_page()
    pdf.set_font(family, size=18)
    pdf.multi_cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for heading, text in body:
        pdf.set_font(family, size=13)
        pdf.multi_cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=11)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        if heading.startswith("1 ") or heading == "Access":
            pdf.add_page()  # a second page, so extraction across pages is exercised
    pdf.output(str(OUT))


if __name__ == "__main__":
    build()
    print(OUT)
