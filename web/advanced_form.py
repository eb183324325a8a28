"""The advanced search form (高级检索): field rows, year range and document types read from a query
string and written as one pro-mode expression.

The expression is built here, on the server, so the form works without JavaScript and every value is
quoted by the query language's own `quote` (a value holding quotes of both kinds still reads back
exactly). Rows combine left to right with equal precedence, as the query language does; the rows are
bracketed before the year and type conditions whenever an OR or NOT among them would otherwise make
the reader wonder what the year applies to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from search.errors import BadQuery
from search.fields import DOC_TYPE_LABELS
from search.query import lookup
from search.query.fields import FUZZY
from search.query.printer import quote

# The codes offered in a row's field menu, in the order CNKI's advanced search lists them.
ROW_FIELDS: tuple[str, ...] = (
    "SU",
    "TKA",
    "TI",
    "KY",
    "AB",
    "FT",
    "AU",
    "FI",
    "RP",
    "AF",
    "JN",
    "FU",
    "DOI",
    "CLC",
    "RN",
    "PN",
    "SN",
)
MATCHES = {"exact": ("精确", "="), "fuzzy": ("模糊", "%")}
OPERATORS = {"AND": "并且", "OR": "或者", "NOT": "不含"}
DEFAULT_ROWS = ("SU", "AU", "JN")
MIN_ROWS = 1
MAX_ROWS = 10
MAX_VALUE_CHARS = 200
YEAR_LOW, YEAR_HIGH = 1000, 2100


class FormError(BadQuery):
    """A form value refused; `field` names its parameter (y1, v2, op3...) so the page can mark it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Row:
    field: str
    match: str = "fuzzy"
    value: str = ""
    op: str = "AND"  # how this row joins the rows before it; ignored on the first filled row


@dataclass
class AdvancedForm:
    rows: list[Row]
    year_from: str = ""
    year_to: str = ""
    doc_types: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(r.value.strip() for r in self.rows) and not (
            self.year_from or self.year_to or self.doc_types
        )


def field_choices() -> list[dict[str, object]]:
    """Field menu entries: code, Chinese label, and whether fuzzy matching is offered."""
    out: list[dict[str, object]] = []
    for code in ROW_FIELDS:
        spec = lookup(code)
        assert spec is not None, code
        out.append({"code": code, "label": spec.label, "fuzzy": FUZZY in spec.modes})
    return out


def _one(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[0].strip()


def read_form(params: Mapping[str, Sequence[str]]) -> AdvancedForm:
    """The form as submitted; BadQuery (Chinese) for a value no form of ours could have sent."""
    raw_count = _one(params, "rows")
    try:
        count = int(raw_count) if raw_count else 0
    except ValueError:
        raise FormError(f"参数“条件行数”应为整数，收到的是“{raw_count[:20]}”", "rows") from None
    # Rows beyond `rows` still count when filled, so a hand-edited URL loses no condition.
    filled = [i for i in range(1, MAX_ROWS + 1) if _one(params, f"v{i}") or _one(params, f"f{i}")]
    count = max(count, filled[-1] if filled else 0)
    if not raw_count:  # a hand-made link (/advanced?v1=...) still gets the usual empty rows to fill
        count = max(count, len(DEFAULT_ROWS))
    count = min(max(count, MIN_ROWS), MAX_ROWS)

    rows: list[Row] = []
    for i in range(1, count + 1):
        code = (_one(params, f"f{i}") or DEFAULT_ROWS[min(i, len(DEFAULT_ROWS)) - 1]).upper()
        if code not in ROW_FIELDS:
            raise FormError(f"第 {i} 行的检索字段“{code[:20]}”无效", f"f{i}")
        match = _one(params, f"m{i}") or "fuzzy"
        if match not in MATCHES:
            raise FormError(f"第 {i} 行的匹配方式“{match[:20]}”无效，应为精确或模糊", f"m{i}")
        op = (_one(params, f"op{i}") or "AND").upper()
        if op not in OPERATORS:
            raise FormError(f"第 {i} 行的逻辑关系“{op[:20]}”无效，应为 AND、OR 或 NOT", f"op{i}")
        value = _one(params, f"v{i}")
        if len(value) > MAX_VALUE_CHARS:
            raise FormError(f"第 {i} 行的检索词过长（最多 {MAX_VALUE_CHARS} 个字符）", f"v{i}")
        rows.append(Row(code, match, value, op))

    year_from, year_to = _one(params, "y1"), _one(params, "y2")
    for label, name, year in (("起始年", "y1", year_from), ("结束年", "y2", year_to)):
        if year and not (
            year.isascii() and year.isdigit() and len(year) == 4 and YEAR_LOW <= int(year) <= YEAR_HIGH
        ):
            raise FormError(f"{label}应为 {YEAR_LOW}–{YEAR_HIGH} 之间的四位年份，收到的是“{year[:20]}”", name)
    if year_from and year_to and int(year_from) > int(year_to):
        raise FormError(f"起始年（{year_from}）不能晚于结束年（{year_to}）", "y1")

    doc_types: list[str] = []
    for dt in params.get("dt") or []:
        dt = dt.strip()
        if not dt:
            continue
        if dt not in DOC_TYPE_LABELS:
            raise FormError(f"文献类型“{dt[:20]}”无效", "dt")
        if dt not in doc_types:
            doc_types.append(dt)
    return AdvancedForm(rows=rows, year_from=year_from, year_to=year_to, doc_types=doc_types)


def salvage_form(params: Mapping[str, Sequence[str]]) -> AdvancedForm:
    """The form as submitted with each refused value left out, then the refused text put back where
    the user typed it (years, search words): a 400 shows the form as it was, to fix, not empty."""
    kept = {k: list(v) for k, v in params.items()}
    dropped: dict[str, str] = {}
    for _ in range(4 * MAX_ROWS + 8):  # each pass drops one parameter; there are only so many
        try:
            form = read_form(kept)
            break
        except FormError as exc:
            dropped[exc.field] = _one(kept, exc.field)
            kept.pop(exc.field, None)
    else:
        form = read_form({})
    form.year_from = dropped.get("y1", form.year_from)
    form.year_to = dropped.get("y2", form.year_to)
    for i, row in enumerate(form.rows, 1):
        row.value = dropped.get(f"v{i}", row.value)
    return form


def _term(row: Row) -> str:
    spec = lookup(row.field)
    assert spec is not None
    mode = MATCHES[row.match][1]
    if mode not in spec.modes:  # exact-only fields (DOI, numbers) ignore a fuzzy choice
        mode = "="
    return f"{row.field}{mode}{quote(row.value)}"


def build_expression(form: AdvancedForm) -> str:
    """The pro-mode expression the form stands for ('' when nothing was filled in)."""
    terms: list[str] = []
    ops: list[str] = []
    for row in form.rows:
        if not row.value:
            continue
        if terms:
            ops.append(row.op)
        elif row.op == "NOT":
            raise BadQuery("第一个检索条件前不能使用“不含（NOT）”，请先填写要包含的检索词")
        terms.append(_term(row))
    core = terms[0] if terms else ""
    for op, term in zip(ops, terms[1:], strict=True):
        core = f"{core} {op} {term}"

    limits: list[str] = []
    if form.year_from and form.year_to:
        limits.append(f"PY BETWEEN ('{form.year_from}','{form.year_to}')")
    elif form.year_from:
        limits.append(f"PY>={form.year_from}")
    elif form.year_to:
        limits.append(f"PY<={form.year_to}")
    if form.doc_types:
        labels = [quote(DOC_TYPE_LABELS[dt]) for dt in form.doc_types]
        limits.append("DT=" + (labels[0] if len(labels) == 1 else "(" + "+".join(labels) + ")"))

    if core and limits and any(op != "AND" for op in ops):
        core = f"({core})"
    return " AND ".join(part for part in (core, *limits) if part)


def form_params(form: AdvancedForm) -> list[tuple[str, str]]:
    """The query-string pairs that submit this form again (for paging and facet links)."""
    params: list[tuple[str, str]] = [("rows", str(len(form.rows)))]
    for i, row in enumerate(form.rows, 1):
        params += [(f"f{i}", row.field), (f"m{i}", row.match), (f"v{i}", row.value)]
        if i > 1:
            params.append((f"op{i}", row.op))
    if form.year_from:
        params.append(("y1", form.year_from))
    if form.year_to:
        params.append(("y2", form.year_to))
    params += [("dt", dt) for dt in form.doc_types]
    return params
