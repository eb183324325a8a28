"""XML inputs for the ingest benchmark: a folder of JATS articles and one large PubMed file.

Both are made from real articles in ../shared/data/jats when it is there (each copy gets its own DOI,
PMID and title, so every copy is its own record), else from a small article written here.
"""

from __future__ import annotations

import re
from pathlib import Path

SHARED_JATS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "jats"

_FALLBACK_JATS = """<?xml version="1.0" encoding="UTF-8"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article"><front>
<journal-meta><journal-title-group><journal-title>材料导报</journal-title></journal-title-group></journal-meta>
<article-meta><article-id pub-id-type="doi">10.5555/bench.0</article-id>
<title-group><article-title>石墨烯复合材料的制备与表征</article-title></title-group>
<contrib-group><contrib contrib-type="author"><name><surname>张</surname><given-names>三</given-names></name></contrib></contrib-group>
<pub-date pub-type="ppub"><year>2021</year></pub-date><volume>35</volume><issue>4</issue><fpage>1</fpage><lpage>9</lpage>
<abstract><p>采用水热法制备了石墨烯复合材料，并研究了其电化学性能。</p></abstract>
<kwd-group><kwd>石墨烯</kwd><kwd>复合材料</kwd></kwd-group></article-meta></front>
<back><ref-list><ref id="r1"><mixed-citation>李四. 锂电池负极材料[J]. 电源技术, 2019, 43(2): 1-5.</mixed-citation></ref></ref-list></back>
</article>
"""
_FALLBACK_PUBMED = """<PubmedArticle><MedlineCitation><PMID>1</PMID><Article><Journal><Title>Bench Journal</Title>
<JournalIssue><Volume>1</Volume><PubDate><Year>2020</Year></PubDate></JournalIssue></Journal>
<ArticleTitle>A benchmark article about graphene anodes</ArticleTitle>
<Abstract><AbstractText>Graphene anodes were prepared and characterised.</AbstractText></Abstract>
<AuthorList><Author><LastName>Smith</LastName><ForeName>Jane</ForeName></Author></AuthorList></Article>
</MedlineCitation></PubmedArticle>"""

_DOI = re.compile(r'(<article-id pub-id-type="doi">)([^<]+)(</article-id>)')
_TITLE = re.compile(r"(<article-title>)")
_PMID = re.compile(r"(<PMID[^>]*>)(\d+)(</PMID>)")
_ARTICLE_TITLE = re.compile(r"(<ArticleTitle>)")
_PUBMED_DOI = re.compile(r'(<(?:ArticleId IdType|ELocationID EIdType)="doi"[^>]*>)([^<]+)(<)')


def _jats_templates() -> list[str]:
    folder = SHARED_JATS / "elife"
    found = sorted(folder.glob("*.xml")) if folder.exists() else []
    texts = [p.read_text("utf-8") for p in found if _DOI.search(p.read_text("utf-8"))]
    return texts or [_FALLBACK_JATS]


def build_jats_dir(dest: Path, n: int) -> dict[str, object]:
    """n article files, one record each, cycling through the templates."""
    dest.mkdir(parents=True, exist_ok=True)
    templates = _jats_templates()
    size = 0
    for i in range(n):
        text = templates[i % len(templates)]
        text = _DOI.sub(lambda m, i=i: f"{m.group(1)}{m.group(2)}.bench{i}{m.group(3)}", text, count=1)
        text = _TITLE.sub(rf"\g<1>[{i}] ", text, count=1)
        path = dest / f"article-{i:06d}.xml"
        path.write_text(text, "utf-8")
        size += path.stat().st_size
    return {"files": n, "templates": len(templates), "bytes": size}


def _pubmed_template() -> str:
    path = SHARED_JATS / "pubmed_efetch" / "pubmed-29768149.xml"
    if path.exists():
        text = path.read_text("utf-8")
        start, end = text.find("<PubmedArticle>"), text.rfind("</PubmedArticle>")
        if start >= 0 and end > start:
            return text[start : end + len("</PubmedArticle>")]
    return _FALLBACK_PUBMED


def build_pubmed_file(dest: Path, target_mb: float) -> dict[str, object]:
    """One PubmedArticleSet of at least target_mb megabytes, written article by article."""
    template = _pubmed_template()
    target = int(target_mb * 1024 * 1024)
    n = 0
    with dest.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n')
        while out.tell() < target:
            n += 1
            article = _PMID.sub(lambda m, n=n: f"{m.group(1)}{90_000_000 + n}{m.group(3)}", template, count=1)
            article = _PUBMED_DOI.sub(lambda m, n=n: f"{m.group(1)}{m.group(2)}.bench{n}{m.group(3)}", article)
            out.write(_ARTICLE_TITLE.sub(rf"\g<1>[{n}] ", article, count=1))
            out.write("\n")
        out.write("</PubmedArticleSet>\n")
    return {"articles": n, "bytes": dest.stat().st_size}
