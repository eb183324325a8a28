"""A realistic 收录引证 case, for tests, the benchmark and previewing the layout by eye.

`python -m reports.citation_sample OUTDIR` writes the sample draft and issued reports as DOCX, PDF
and XLSX. The numbers are fixed by construction (see `sample_citation_report`), so tests can state
them.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

from reports.citation_docx import render_citation_docx
from reports.citation_model import (
    CitationOptions,
    CitationPurpose,
    CitationReportData,
    CitedPaper,
    CitingRecord,
    IndexingEntry,
)
from reports.citation_pdf import render_citation_pdf
from reports.citation_xlsx import render_citation_xlsx
from reports.model import DatabaseSpan, Origin, Party, Person
from reports.verification import compute_code

_ZH_TOPICS = (
    "数字经济对区域创新效率的影响研究",
    "高校图书馆科技查新服务质量评价",
    "基于引文网络的学科交叉测度方法",
    "乡村振兴背景下农村电商发展路径",
    "科研评价中的同行评议与计量指标",
)
_EN_TOPICS = (
    "Citation network analysis of interdisciplinary research",
    "Self-citation patterns in Chinese social science journals",
    "Measuring research impact with altmetrics and citations",
    "Author name disambiguation for Chinese bibliographic records",
    "A comparison of h-index variants across disciplines",
)
_ZH_JOURNALS = ("情报学报", "中国图书馆学报", "图书情报工作", "管理世界", "科学学研究")
_EN_JOURNALS = ("Scientometrics", "Journal of Informetrics", "Research Policy", "Journal of the Association "
                "for Information Science and Technology", "Quantitative Science Studies")  # fmt: skip
_CITERS_ZH = ("王磊, 陈晓", "刘洋", "赵敏, 孙立, 周杰", "黄文", "吴昊, 郑琳")
_CITERS_EN = (
    "SMITH J, LEE K",
    "GARCIA M",
    "MÜLLER H, SCHMIDT P, WEBER T, et al",
    "TANAKA Y",
    "BROWN A, DAVIS R",
)


def _paper_year(seq: int) -> int:
    return 2015 + seq % 9


def _citing(paper: int, count: int, english: bool) -> tuple[CitingRecord, ...]:
    records = []
    for k in range(count):
        own = k % 4 == 0  # every fourth citer shares an author with the cited paper
        year = min(2026, _paper_year(paper) + 1 + k % 4)
        if english:
            authors = "ZHANG W, LI M" if own else _CITERS_EN[(paper + k) % len(_CITERS_EN)]
            journal = _EN_JOURNALS[(paper + 2 * k) % len(_EN_JOURNALS)]
            ref = f"{authors}. Follow-up study {paper}.{k + 1} on {_EN_TOPICS[k % 5].lower()}[J]. {journal}, {year}, {10 + k}({1 + k % 4}): {100 + 7 * k}-{112 + 7 * k}."  # noqa: E501
            db, accession = "SCIE", f"WOS:000{paper:03d}{k:06d}0001"
        else:
            authors = "张伟, 李明" if own else _CITERS_ZH[(paper + k) % len(_CITERS_ZH)]
            journal = _ZH_JOURNALS[(paper + 2 * k) % len(_ZH_JOURNALS)]
            ref = f"{authors}. {_ZH_TOPICS[k % 5]}的再探讨（{paper}-{k + 1}）[J]. {journal}, {year}, {30 + k % 9}({1 + k % 6}): {20 + 9 * k}-{29 + 9 * k}."  # noqa: E501
            db, accession = "CSSCI", f"{year}{paper:03d}{k:05d}"
        records.append(CitingRecord(reference=ref, self_citation=own, database=db, year=year,
                                    flipped=(paper == 2 and k == 1), accession=accession))  # fmt: skip
    return tuple(records)


def _paper(seq: int, citing: int) -> CitedPaper:
    english = seq % 2 == 0
    if seq % 7 == 0:  # now and then the client lists a paper no database holds
        return CitedPaper(
            seq=seq,
            reference=f"张伟. 会议交流论文第 {seq} 篇[C]//第十届全国情报学年会论文集. 北京, 2020: 1-8.",
            found=False,
        )  # noqa: E501
    year = _paper_year(seq)
    if english:
        journal = _EN_JOURNALS[seq % len(_EN_JOURNALS)]
        reference = f"ZHANG W, LI M, WANG Q. {_EN_TOPICS[seq % 5]} ({seq})[J]. {journal}, {year}, {100 + seq}({seq % 12 + 1}): {1000 + seq}-{1020 + seq}."  # noqa: E501
        indexing = [IndexingEntry("SCIE", f"WOS:0004{seq:011d}", "Article")]
        if seq % 3 == 0:
            indexing.append(IndexingEntry("EI", f"2019{seq:08d}", "Journal article (JA)"))
    else:
        journal = _ZH_JOURNALS[seq % len(_ZH_JOURNALS)]
        reference = f"张伟, 李明. {_ZH_TOPICS[seq % 5]}（{seq}）[J]. {journal}, {year}, {40 + seq % 9}({seq % 6 + 1}): {10 + seq}-{22 + seq}."  # noqa: E501
        indexing = [
            IndexingEntry("CSSCI", f"{year}{seq:07d}", "论文"),
            IndexingEntry("CNKI", f"QBXB{year}{seq:04d}", "期刊"),
        ]  # noqa: E501
    return CitedPaper(seq=seq, reference=reference, found=True, indexing=tuple(indexing),
                      citing=_citing(seq, citing, english))  # fmt: skip


_NOTES = (
    "论文 [1] 的一条施引文献（会议通知，非学术引用）经委托人确认后排除。",
    "论文 [2] 的第 2 条施引文献：作者“Zhang Wei”与被引论文作者非同一人（单位不同），由自引改判为他引。",
)


def citing_counts(papers: int, citing_total: int) -> list[int]:
    """How many citing records each paper gets: uneven (as real lists are), summing to citing_total
    over the papers that are found."""
    found = [seq for seq in range(1, papers + 1) if seq % 7 != 0]
    weights = [(seq * 37) % 11 + (0 if seq % 5 == 0 else 1) for seq in found]
    scale = sum(weights) or 1
    counts = [citing_total * w // scale for w in weights]
    for i in range(citing_total - sum(counts)):  # hand out the remainder, first papers first
        counts[i % len(counts)] += 1
    by_seq = dict(zip(found, counts, strict=True))
    return [by_seq.get(seq, 0) for seq in range(1, papers + 1)]


def sample_citation_report(
    *,
    papers: int = 10,
    citing: int = 40,
    draft: bool = True,
    options: CitationOptions | None = None,
) -> CitationReportData:
    """A complete case; `draft=False` gives the issued report with number, date and a valid code."""
    counts = citing_counts(papers, citing)
    report = CitationReportData(
        centre=Party(
            name="浙江省科技信息研究院科技查新中心",
            address="杭州市西湖区文三路 199 号",
            phone="0571-88888888",
            email="chaxin@example.org.cn",
        ),
        client=Party(name="张伟", phone="13800000000", email="zhangwei@example.edu.cn"),
        client_unit="浙江大学公共管理学院",
        purpose=CitationPurpose.promotion,
        databases=(
            DatabaseSpan("SCIE", 1900, 2026, Origin.foreign),
            DatabaseSpan("SSCI", 1900, 2026, Origin.foreign),
            DatabaseSpan("CSSCI", 1998, 2026),
            DatabaseSpan("EI", 1969, 2026, Origin.foreign),
        ),
        cutoff=date(2026, 10, 31),
        search_date=date(2026, 11, 3),
        analyst=Person("陈静", "副研究馆员"),
        reviewer=Person("王海涛", "研究馆员"),
        papers=tuple(_paper(seq, counts[seq - 1]) for seq in range(1, papers + 1)),
        options=options or CitationOptions(others_only=False, include_citing_list=True, show_h_index=True),
        notes=_NOTES[: min(papers, len(_NOTES))],
    )
    if draft:
        return report
    signed = dataclasses.replace(report, report_number="20263300100123", issue_date=date(2026, 11, 5),
                                 verify_url="https://chaxin.example.org.cn/verify/20263300100123")  # fmt: skip
    return dataclasses.replace(signed, draft=False, verification_code=compute_code(signed))


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for name, report in (
        ("draft", sample_citation_report()),
        ("issued", sample_citation_report(draft=False)),
    ):
        (out / f"citation-{name}.docx").write_bytes(render_citation_docx(report))
        (out / f"citation-{name}.pdf").write_bytes(render_citation_pdf(report))
        (out / f"citation-{name}.xlsx").write_bytes(render_citation_xlsx(report))
    print(f"wrote citation-draft/issued .docx .pdf .xlsx to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
