"""The Chinese reference styles: GB/T 7714 by type code and CSSCI's dotted layout, field by field.

The GB/T strings follow the standard's own examples (GB/T 7714—2015, 8.x); the CSSCI strings are
lines of the real export in ../shared (the same shapes appear there hundreds of times).
"""

from __future__ import annotations

import pytest

from mappings.citations.parse import parse_cssci_reference, parse_reference
from mappings.citations.parse_zh import cssci_shaped

FIELDS = ("authors", "title", "venue", "year", "volume", "issue", "pages", "type_code")


def fields(raw: str, *, cssci: bool = False) -> dict[str, object]:
    ref = (parse_cssci_reference if cssci else parse_reference)(raw)
    assert ref.raw == raw and ref.linked_id is None
    return {k: v for k, v in ref.model_dump().items() if v not in (None, []) and k not in ("raw", "language")}


GBT = [
    ("[1] 王世伟. 论智慧图书馆的三大特点[J]. 中国图书馆学报, 2012, 38(6): 22-28.",
     {"authors": ["王世伟"], "title": "论智慧图书馆的三大特点", "venue": "中国图书馆学报", "year": 2012,
      "volume": "38", "issue": "6", "pages": "22-28", "type_code": "J"}),
    ("[2] 初景利, 段美珍. 智慧图书馆与智慧服务[J]. 图书馆建设, 2018(4): 85-90, 95.",
     {"authors": ["初景利", "段美珍"], "title": "智慧图书馆与智慧服务", "venue": "图书馆建设", "year": 2018,
      "issue": "4", "pages": "85-90,95", "type_code": "J"}),
    ("[16] 杨洪升.四库馆私家抄校书考略[J].文献,2013(1):56-75.",
     {"authors": ["杨洪升"], "title": "四库馆私家抄校书考略", "venue": "文献", "year": 2013, "issue": "1",
      "pages": "56-75", "type_code": "J"}),
    ("[3] 陈登原. 国史旧闻: 第1卷[M]. 北京: 中华书局, 2000: 29.",
     {"authors": ["陈登原"], "title": "国史旧闻: 第1卷", "venue": "中华书局", "year": 2000, "pages": "29",
      "type_code": "M"}),
    ("[13] 王夫之. 宋论[M]. 刻本. 金陵: 湘乡曾国荃, 1865(清同治四年).",
     {"authors": ["王夫之"], "title": "宋论", "venue": "湘乡曾国荃", "year": 1865, "type_code": "M"}),
    ("[14] 白书农. 植物开花研究[M]//李承森. 植物科学进展. 北京: 高等教育出版社, 1998: 146-163.",
     {"authors": ["白书农"], "title": "植物开花研究", "venue": "植物科学进展", "year": 1998, "pages": "146-163",
      "type_code": "M"}),
    ("[4] 马欢. 人类活动影响下海河流域典型区水循环变化分析[D]. 北京: 清华大学, 2011: 27.",
     {"authors": ["马欢"], "title": "人类活动影响下海河流域典型区水循环变化分析", "venue": "清华大学",
      "year": 2011, "pages": "27", "type_code": "D"}),
    ("[12] 中国力学学会. 第3届全国实验流体力学学术会议论文集[C]. 天津: [出版者不详], 1990.",
     {"authors": ["中国力学学会"], "title": "第3届全国实验流体力学学术会议论文集", "year": 1990, "type_code": "C"}),
    ("[5] 丁文祥. 数字革命与竞争国际化[N]. 中国青年报, 2000-11-20(15).",
     {"authors": ["丁文祥"], "title": "数字革命与竞争国际化", "venue": "中国青年报", "year": 2000, "pages": "15",
      "type_code": "N"}),
    ("[6] 萧钰. 出版业信息化迈入快车道[EB/OL]. (2001-12-19)[2002-04-15]. http://www.creader.com/news/200112190019.html.",
     {"authors": ["萧钰"], "title": "出版业信息化迈入快车道", "year": 2001, "type_code": "EB"}),
    ("[15] 李炳穆. 韩国图书馆法[J/OL]. 图书情报工作, 2008, 52(6): 6-12[2013-10-25]. http://www.docin.com/p-400265742.html.",
     {"authors": ["李炳穆"], "title": "韩国图书馆法", "venue": "图书情报工作", "year": 2008, "volume": "52",
      "issue": "6", "pages": "6-12", "type_code": "J"}),
    ("[7] 姜锡洲. 一种温热外敷药制备方案: 中国, 88105607.3[P]. 1989-07-26.",
     {"authors": ["姜锡洲"], "title": "一种温热外敷药制备方案", "year": 1989, "patent_number": "88105607.3",
      "type_code": "P"}),
    ("[8] 全国信息与文献标准化技术委员会. 信息与文献 参考文献著录规则: GB/T 7714—2015[S]. 北京: 中国标准出版社, 2015: 15.",
     {"authors": ["全国信息与文献标准化技术委员会"], "title": "信息与文献 参考文献著录规则", "venue": "中国标准出版社",
      "year": 2015, "pages": "15", "type_code": "S"}),
    ("[9] CRANE D. Invisible colleges: diffusion of knowledge in scientific communities[M]. Chicago: University of Chicago Press, 1972.",
     {"authors": ["CRANE D"], "title": "Invisible colleges: diffusion of knowledge in scientific communities",
      "venue": "University of Chicago Press", "year": 1972, "type_code": "M"}),
    ("[10] SMITH J, DOE A. A study of graphene[J]. Nature, 2001, 412(6): 45-49. DOI: 10.1038/35084000.",
     {"authors": ["SMITH J", "DOE A"], "title": "A study of graphene", "venue": "Nature", "year": 2001,
      "volume": "412", "issue": "6", "pages": "45-49", "doi": "10.1038/35084000", "type_code": "J"}),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), GBT, ids=[raw.split("]")[0] + "]" for raw, _ in GBT])
def test_gbt_7714(raw: str, expected: dict[str, object]) -> None:
    assert fields(raw) == expected


CSSCI = [
    ("9.王雨.我国智慧图书馆研究热点分析与趋势预测.图书馆论坛.2020.40(6)",
     {"authors": ["王雨"], "title": "我国智慧图书馆研究热点分析与趋势预测", "venue": "图书馆论坛", "year": 2020,
      "volume": "40", "issue": "6"}),
    ("12.范并思.纪念图书馆2.0运动5周年.图书情报研究.2011.(4)",
     {"authors": ["范并思"], "title": "纪念图书馆2.0运动5周年", "venue": "图书情报研究", "year": 2011, "issue": "4"}),
    ("2..2018中国(北京)未来智慧图书馆发展论坛会议通知.图书情报工作.2018.62(2)",
     {"title": "2018中国(北京)未来智慧图书馆发展论坛会议通知", "venue": "图书情报工作", "year": 2018, "volume": "62",
      "issue": "2"}),
    ("23.Hirsch,J E.An index to quantify an individual’s scientific research output.Proceedings of the National Academy of Sciences of the USA CPNAS.2005.102(46)",
     {"authors": ["Hirsch,J E"], "title": "An index to quantify an individual’s scientific research output",
      "venue": "Proceedings of the National Academy of Sciences of the USA CPNAS", "year": 2005, "volume": "102",
      "issue": "46"}),
    ("15.Ramesh,M.R..Biometric recognition: a new approach for library patron authentication.International Journal of Library Science.2012.(5)",
     {"authors": ["Ramesh,M.R"], "title": "Biometric recognition: a new approach for library patron authentication",
      "venue": "International Journal of Library Science", "year": 2012, "issue": "5"}),
    ("9.Yegang,D U.Activity Recognition Using RFID Phase Profiling in Smart Library.IEICE Transactions on Information and Systems.2019.E102-D(4)",
     {"authors": ["Yegang,D U"], "title": "Activity Recognition Using RFID Phase Profiling in Smart Library",
      "venue": "IEICE Transactions on Information and Systems", "year": 2019, "volume": "E102-D", "issue": "4"}),
    ("17.Vlaskovits,Patrick.Henry Ford, Innovation, and that \"Faster Horse\" Quote.Harvard Business Review.2011.",
     {"authors": ["Vlaskovits,Patrick"], "title": "Henry Ford, Innovation, and that \"Faster Horse\" Quote",
      "venue": "Harvard Business Review", "year": 2011}),
    ("30.王世伟.未来图书馆的新模式——智慧图书馆.图书馆建设.(12)",
     {"authors": ["王世伟"], "title": "未来图书馆的新模式——智慧图书馆", "venue": "图书馆建设", "issue": "12"}),
    ("秦殿启.智慧图书馆文化图式.2021", {"authors": ["秦殿启"], "title": "智慧图书馆文化图式", "year": 2021}),
    ("段美珍.智慧图书馆的内涵特点及其认知模型研究.图书情报工作.",
     {"authors": ["段美珍"], "title": "智慧图书馆的内涵特点及其认知模型研究", "venue": "图书情报工作"}),
    ("7..区块链.2019", {"title": "区块链", "year": 2019}),
    ("金元浦.中国文化概论.北京:首都师范大学出版社",
     {"authors": ["金元浦"], "title": "中国文化概论", "venue": "首都师范大学出版社", "type_code": "M"}),
    ("13.HERZBERG,F..Motivation to work.New York:John Wiley and Sons",
     {"authors": ["HERZBERG,F"], "title": "Motivation to work", "venue": "John Wiley and Sons", "type_code": "M"}),
    ("40.徐军华.高校图书馆业务流程重组的模式研究:学位论文.武汉:武汉大学,2012:103-180",
     {"authors": ["徐军华"], "title": "高校图书馆业务流程重组的模式研究", "venue": "武汉大学", "year": 2012,
      "pages": "103-180", "type_code": "D"}),
    ("26.全国信息技术标准化技术委员会.非结构化数据表示规范:GB/T 32909-2016.北京:中国标准出版社",
     {"authors": ["全国信息技术标准化技术委员会"], "title": "非结构化数据表示规范", "venue": "中国标准出版社",
      "type_code": "S"}),
    ("7.饶权.现代图书馆越来越“智慧”.人民日报.11.13(20)",
     {"authors": ["饶权"], "title": "现代图书馆越来越“智慧”", "venue": "人民日报", "pages": "20", "type_code": "N"}),
    ("26.图书上下架机器人.CN102152293A", {"title": "图书上下架机器人", "patent_number": "CN102152293A", "type_code": "P"}),
    ("9.Chen,D M.Tree histogram coding for mobile image matching,2009:143-152",
     {"authors": ["Chen,D M"], "title": "Tree histogram coding for mobile image matching", "year": 2009,
      "pages": "143-152"}),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), CSSCI, ids=[raw[:12] for raw, _ in CSSCI])
def test_cssci_dotted(raw: str, expected: dict[str, object]) -> None:
    assert fields(raw, cssci=True) == expected
    assert fields(raw) == expected  # a pasted CSSCI line is recognised by its shape


@pytest.mark.parametrize(
    "raw",
    [
        "https://www.example.com/a/b.html",
        "2019",
        "(C) ---",
        "4...2017",
        "22..",
        "ISO 15836-2: 2019.2020",
        "[M]",
    ],
)
def test_noise_keeps_only_raw(raw: str) -> None:
    assert parse_reference(raw).model_dump(exclude_defaults=True) == {"raw": raw}


def test_english_free_text_is_not_taken_for_cssci() -> None:
    # Left to the English parser: dots followed by spaces are no CSSCI separators.
    for raw in (
        "Smith J, Doe A. Title of the paper. J Med. 2001;12(3):45-9.",
        "Lopez, R. (2019). Deep learning for libraries. Library Hi Tech, 37(2), 1-10.",
    ):
        assert not cssci_shaped(raw)
