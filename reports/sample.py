"""A realistic example case, for tests, the benchmark and previewing the layout by eye.

`python -m reports.sample OUTDIR` writes sample draft and issued reports as DOCX and PDF.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date, datetime
from pathlib import Path

from reports.model import (
    DatabaseSpan,
    Document,
    NoveltyPoint,
    Origin,
    Party,
    Person,
    PointConclusion,
    Purpose,
    Relevance,
    ReportData,
    Scope,
    StrategyEntry,
)
from reports.verification import compute_code

_DOMESTIC_REFS = (
    "王海涛, 李明, 张伟, 等. 基于改进YOLOv5的输电线路绝缘子缺陷检测方法[J]. 电网技术, 2022, 46(9): 3567-3575.",
    "刘晓东, 陈静. 无人机巡检图像中绝缘子自爆缺陷识别研究[J]. 高电压技术, 2021, 47(4): 1320-1328.",
    "赵磊. 面向电力巡检的轻量化目标检测网络研究[D]. 北京: 华北电力大学, 2023.",
    "国网浙江省电力有限公司. 一种绝缘子缺陷检测方法及系统: CN114155244A[P]. 2022-03-08.",
)
_FOREIGN_REFS = (
    (
        "TAO X, ZHANG D, WANG Z, et al. Detection of power line insulator defects using aerial images "
        "analyzed with convolutional neural networks[J]. IEEE Transactions on Systems, Man, and "
        "Cybernetics: Systems, 2020, 50(4): 1486-1498."
    ),
    (
        "LIU C, WU Y, LIU J, et al. Insulator faults detection in aerial images from high-voltage "
        "transmission lines based on deep learning model[J]. Applied Sciences, 2021, 11(10): 4647."
    ),
)


def _documents(count: int) -> tuple[Document, ...]:
    docs = []
    for i in range(1, count + 1):
        foreign = i % 3 == 0
        pool = _FOREIGN_REFS if foreign else _DOMESTIC_REFS
        close = i % 4 == 1
        docs.append(
            Document(
                seq=i,
                reference=pool[i % len(pool)],
                relevance=Relevance.close if close else Relevance.general,
                origin=Origin.foreign if foreign else Origin.domestic,
                description=(
                    "该文献针对无人机巡检图像中的绝缘子目标，采用卷积神经网络进行定位与缺陷识别，"
                    "在自建数据集上取得了较高的检测精度，但未涉及多尺度特征融合与边缘端部署。"
                ),
                excerpt=(
                    "“本文在YOLOv5骨干网络中引入注意力机制，对绝缘子自爆缺陷的平均精度达到91.2%。”"
                    if close
                    else ""
                ),
                points=("NP-1",) if i % 2 else ("NP-1", "NP-2"),
            )
        )
    return tuple(docs)


def sample_report(*, references: int = 6, draft: bool = True) -> ReportData:
    """A complete case; `draft=False` gives the issued report with number, dates and a valid code."""
    report = ReportData(
        centre=Party(
            name="浙江省科技信息研究院科技查新中心",
            address="杭州市西湖区文三路 199 号",
            postcode="310012",
            principal="陈国华",
            contact="周敏",
            phone="0571-88888888",
            fax="0571-88888889",
            email="chaxin@example.org.cn",
        ),
        project_name_zh="基于深度学习的输电线路绝缘子缺陷智能检测方法",
        project_name_en="Intelligent detection of insulator defects on transmission lines based on deep learning",
        client=Party(
            name="浙江大学电气工程学院",
            address="杭州市西湖区余杭塘路 866 号",
            postcode="310058",
            principal="孙立军",
            contact="何雨",
            phone="13800000000",
            email="heyu@example.edu.cn",
        ),
        commission_date=date(2026, 10, 12),
        purpose=Purpose.project,
        scope=Scope.domestic_and_foreign,
        analyst=Person("周敏", "副研究馆员"),
        reviewer=Person("陈国华", "研究馆员"),
        purpose_text="为申报2027年度浙江省重点研发计划项目提供查新依据。",
        technical_points=(
            "本项目针对输电线路无人机巡检图像中绝缘子缺陷人工判读效率低、漏检率高的问题，"
            "提出一种基于深度学习的绝缘子缺陷智能检测方法。\n"
            "技术路线：构建多尺度特征融合的轻量化检测网络，引入通道—空间注意力模块增强小目标特征；"
            "采用知识蒸馏压缩模型，使其能够部署于无人机机载边缘计算设备。\n"
            "主要技术指标：绝缘子自爆、破损、污秽三类缺陷的平均检测精度（mAP）不低于95%，"
            "单帧推理时间不高于30 ms（Jetson Xavier NX）。"
        ),
        novelty_points=(
            NoveltyPoint("NP-1", "采用多尺度特征融合与通道—空间注意力相结合的轻量化网络检测绝缘子缺陷。"),
            NoveltyPoint("NP-2", "通过知识蒸馏将检测模型部署于无人机机载边缘设备，单帧推理时间不高于30 ms。"),
        ),
        requirements="要求查证国内外有无与上述查新点相同或类似的研究报道，并进行对比分析，作出新颖性判断。",
        databases=(
            DatabaseSpan("中国学术期刊网络出版总库（CNKI）", 1994, 2026),
            DatabaseSpan("万方数据知识服务平台", 1998, 2026),
            DatabaseSpan("中国专利数据库", 1985, 2026),
            DatabaseSpan("Web of Science Core Collection", 1990, 2026, Origin.foreign),
        ),
        terms_zh=("绝缘子", "缺陷检测", "深度学习", "注意力机制", "知识蒸馏", "无人机巡检"),
        terms_en=("insulator", "defect detection", "deep learning", "attention", "knowledge distillation"),
        strategies=(
            StrategyEntry(
                "CNKI",
                "TKA='绝缘子' AND TKA='缺陷'*'检测' AND (TKA%'深度学习' OR TKA%'神经网络')",
                "TKA='绝缘子' AND TKA='缺陷'*'检测' AND (TKA%'深度学习' + '神经网络')",
                386,
                datetime(2026, 10, 14, 9, 32),
            ),
            StrategyEntry(
                "Web of Science",
                "TS='insulator' AND TS='defect detection' AND TS='knowledge distillation'",
                'TS=(insulator AND "defect detection" AND "knowledge distillation")',
                27,
                datetime(2026, 10, 14, 10, 5),
            ),
        ),
        documents=_documents(references),
        point_conclusions=(
            PointConclusion(
                "NP-1",
                "文献[1]、[5]采用注意力机制改进YOLO系列网络检测绝缘子缺陷，但未采用多尺度特征融合"
                "与通道—空间注意力相结合的轻量化结构。",
                "在所检文献范围内，国内外未见与查新点1相同的报道。",
            ),
            PointConclusion(
                "NP-2",
                "文献[3]研究了轻量化目标检测网络，但未涉及知识蒸馏与无人机机载部署。",
                "在所检文献范围内，国内外未见与查新点2相同的报道。",
            ),
        ),
        overall_conclusion=(
            "综上所述，在所检文献范围内，国内外虽有采用深度学习方法检测绝缘子缺陷的研究报道，"
            "但未见与本项目查新点1、2所述技术特征相同的文献报道。"
        ),
        results_summary="依据上述检索策略，对检出文献逐篇阅读、筛选，与本项目查新点密切相关和一般相关的文献如下。",
        attachments=("密切相关文献原文复印件", "查新委托单"),
        remarks="本报告仅对委托日之前公开的文献负责；无查新机构科技查新专用章的报告无效。",
        completion_date=date(2026, 10, 19),
    )
    if draft:
        return report
    signed = dataclasses.replace(
        report, report_no="20263300100042", signing_date=date(2026, 10, 20), issue_date=date(2026, 10, 21)
    )
    return dataclasses.replace(signed, draft=False, verification_code=compute_code(signed))


def main(argv: list[str]) -> None:
    from reports import render_docx, render_pdf

    out = Path(argv[0] if argv else ".")
    out.mkdir(parents=True, exist_ok=True)
    for name, report in (("draft", sample_report()), ("issued", sample_report(draft=False))):
        (out / f"sample-{name}.docx").write_bytes(render_docx(report))
        (out / f"sample-{name}.pdf").write_bytes(render_pdf(report))
        print(out / f"sample-{name}.docx", out / f"sample-{name}.pdf")


if __name__ == "__main__":
    main(sys.argv[1:])
