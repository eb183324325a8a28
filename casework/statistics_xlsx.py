"""Case statistics as an .xlsx workbook with three sheets: 按月, 按目的, 汇总.

- 按月: one row per centre and month of the period (months with nothing included, so the series
  has no gaps), received and issued in total and per purpose.
- 按目的: one row per centre and purpose.
- 汇总: one row per centre with turnaround and returned rate, a 合计 row when there are several
  centres, then the period and the definitions (the figures should not travel without them).
"""

from __future__ import annotations

from casework.spreadsheet import Cell, Sheet, workbook_bytes
from casework.statistics import DEFINITIONS, CaseStatistics, CentreSummary

SUMMARY_HEADERS = ("分中心代码", "分中心名称", "受理数", "签发数", "平均查新周期（工作日）",
                   "曾退回修改的签发案件数", "退回率")  # fmt: skip


def _by_month(stats: CaseStatistics) -> Sheet:
    purposes = stats.purposes()
    headers = ["分中心", "月份", "受理数", "签发数", *(f"受理·{p}" for p in purposes),
               *(f"签发·{p}" for p in purposes)]  # fmt: skip
    rows: list[list[Cell]] = []
    for centre in stats.centres:
        for month, total in stats.by_month(centre.code):
            split = [stats.count(centre=centre.code, month=month, purpose=p) for p in purposes]
            rows.append([centre.code, month, total.received, total.issued, *(n.received for n in split),
                         *(n.issued for n in split)])  # fmt: skip
    return Sheet("按月", headers, rows)


def _by_purpose(stats: CaseStatistics) -> Sheet:
    rows: list[list[Cell]] = [
        [centre.code, purpose, counts.received, counts.issued]
        for centre in stats.centres
        for purpose, counts in stats.by_purpose(centre.code)
    ]
    return Sheet("按目的", ("分中心", "查新目的", "受理数", "签发数"), rows)


def _summary_row(s: CentreSummary) -> list[Cell]:
    average, rate = s.average_turnaround, s.returned_rate
    return [s.code, s.name, s.received, s.issued, None if average is None else round(average, 2), s.returned,
            None if rate is None else round(rate, 4)]  # fmt: skip


def _summary(stats: CaseStatistics) -> Sheet:
    rows = [_summary_row(c) for c in stats.centres]
    if len(stats.centres) > 1:
        rows.append(_summary_row(stats.totals))
    period = f"统计期间：{stats.period.start.isoformat()} 至 {stats.period.end.isoformat()}（含起止日）"
    return Sheet(
        "汇总",
        SUMMARY_HEADERS,
        rows,
        widths={"分中心名称": 30, "平均查新周期（工作日）": 22, "曾退回修改的签发案件数": 22},
        # The cell keeps the exact fraction (sums and charts work); Excel shows it as 33.3%.
        formats={"退回率": "0.0%"},
        notes=(period, *DEFINITIONS.values(), "退回率以百分比显示；没有签发案件时留空。"),
    )


def statistics_xlsx(stats: CaseStatistics) -> bytes:
    return workbook_bytes([_by_month(stats), _by_purpose(stats), _summary(stats)])
