"""Recursive-descent parser for CNKI-style expressions.

    query   := expr EOF
    expr    := operand (("AND" | "OR" | "NOT") operand)*       equal precedence, left to right
    operand := "(" expr ")" | "#" n | FIELD ("=" | "%") value
             | FIELD (">" | ">=" | "<" | "<=") number | FIELD "BETWEEN" "(" number "," number ")"
    number  := a year (PY) or a non-negative count (CF)
    value   := vatom (("*" | "+" | "-") vatom)*                equal precedence, left to right
    vatom   := "(" value ")" | 'quoted' | "quoted" | bare-word
    (inside a value's own parentheses AND, OR, NOT also read as *, +, -: TS=("a" OR "b"))

Bare (unquoted) words are accepted for convenience: letters, digits and CJK, joined by . _ / : - ·
so `DOI=10.1000/x-1` and `PY=2015-2020` read as one value; anything else must be quoted.
Only parentheses recurse, and their depth is capped, so no input can exhaust the stack.
"""

from __future__ import annotations

import unicodedata
from typing import cast

from search.query.ast import (
    Between,
    BoolOp,
    BoolOperator,
    Compare,
    Comparison,
    History,
    MatchMode,
    Query,
    Term,
    ValueExpr,
    ValueOp,
    ValueOperator,
)
from search.query.errors import QuerySyntaxError
from search.query.fields import EXACT, FIELDS, FUZZY, FieldSpec, Kind, lookup
from search.query.lexer import Token, tokenize
from search.query.printer import normalized
from search.query.values import ValueReader, count, year

MAX_QUERY_CHARS = 2000
MAX_DEPTH = 32
# WoS allows 49 operators in All Fields; 查新 strategies list many synonyms, so more room here,
# but a bound keeps the left-deep trees (and the recursion that walks them) shallow.
MAX_OPERATORS = 100

_BOOL_WORDS = {"AND", "OR", "NOT"}
_VALUE_OPS: dict[str, ValueOperator] = {"STAR": "*", "PLUS": "+", "MINUS": "-"}
_WOS_VALUE_OPS: dict[str, ValueOperator] = {"AND": "*", "OR": "+", "NOT": "-"}
_START = ["检索项", "(", "#n"]
_AFTER_OPERAND = ["AND", "OR", "NOT", ")", "结束"]
_MODE_NAMES = {EXACT: "精确（=）", FUZZY: "模糊（%）"}


def parse(text: str) -> Query:
    """The AST of an analyst expression; raises QuerySyntaxError with a Chinese message and position."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"检索式过长（{len(text)} 字），上限 {MAX_QUERY_CHARS} 字", MAX_QUERY_CHARS)
    if not text.strip():
        raise QuerySyntaxError("检索式为空", 0, _START)
    query = _Parser(text).parse()
    _check_reading(query)
    return query


def _check_reading(query: Query) -> None:
    # The normalized reading is shown, stored and re-run, so it must itself be a valid expression:
    # its brackets (explicit ones plus those that make left-to-right visible) and its length obey
    # the same limits. Anything that parses therefore round-trips.
    reading = normalized(query)
    if len(reading) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"检索式规范化后过长（{len(reading)} 字），上限 {MAX_QUERY_CHARS} 字", None)
    depth = deepest = 0
    for tok in tokenize(reading):
        depth += (tok.kind == "LPAREN") - (tok.kind == "RPAREN")
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise QuerySyntaxError(
            f"检索式层次过多（{deepest} 层，上限 {MAX_DEPTH}）：不同运算符交替过多，请拆分后用检索历史组合",
            None,
        )


def _word(tok: Token) -> str:
    return unicodedata.normalize("NFKC", tok.text).upper() if tok.kind == "WORD" else ""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.operators = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def fail(self, message: str, tok: Token, expected: list[str]) -> QuerySyntaxError:
        return QuerySyntaxError(message, tok.pos, expected)

    def expect(self, kind: str, what: str, message: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise self.fail(message, tok, [what])
        return self.advance()

    def count_operator(self, tok: Token) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise self.fail(
                f"检索式中的运算符过多（上限 {MAX_OPERATORS} 个），请拆分后用检索历史组合", tok, []
            )

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"括号嵌套过深（上限 {MAX_DEPTH} 层）", tok, [])

    def parse(self) -> Query:
        query = self.expr()
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise self.fail("多余的右括号", tok, ["AND", "OR", "NOT", "结束"])
        if tok.kind != "EOF":
            raise self.fail("此处需要 AND、OR 或 NOT", tok, ["AND", "OR", "NOT", "结束"])
        return query

    def expr(self) -> Query:
        left = self.operand()
        while _word(self.peek()) in _BOOL_WORDS:
            tok = self.advance()
            self.count_operator(tok)
            op = cast(BoolOperator, _word(tok))
            if self.peek().kind == "EOF":
                raise self.fail(f"{op} 后缺少检索项", self.peek(), _START)
            left = BoolOp(op, left, self.operand(), tok.pos)
        return left

    def operand(self) -> Query:
        tok = self.peek()
        if tok.kind == "LPAREN":
            self.advance()
            self.enter(tok)
            inner = self.expr()
            if self.peek().kind != "RPAREN":
                where = "缺少右括号" if self.peek().kind == "EOF" else "此处需要 AND、OR、NOT 或右括号"
                raise self.fail(
                    f"{where}（第 {tok.pos + 1} 个字符处的左括号）", self.peek(), _AFTER_OPERAND[:4]
                )
            self.advance()
            self.depth -= 1
            return inner
        if tok.kind == "HISTORY":
            self.advance()
            number = int(tok.text)
            if number < 1:
                raise self.fail("检索历史编号从 1 开始", tok, ["#n"])
            return History(number, tok.pos)
        if tok.kind == "WORD":
            if _word(tok) in _BOOL_WORDS:
                if _word(tok) == "NOT" and self.i > 0 and _word(self.tokens[self.i - 1]) in _BOOL_WORDS:
                    raise self.fail("NOT 本身就是“且不含”：把 AND NOT 写作 NOT", tok, _START)
                raise self.fail(f"{_word(tok)} 前缺少检索项", tok, _START)
            return self.term()
        if tok.kind == "EOF":
            raise self.fail("检索式不完整，此处需要检索项", tok, _START)
        if tok.kind == "RPAREN":
            raise self.fail("括号中缺少检索项", tok, _START)
        raise self.fail("此处需要检索项，如 TI='石墨烯'", tok, _START)

    def term(self) -> Query:
        tok = self.advance()
        code = _word(tok)
        spec = lookup(code)
        if spec is None:
            codes = "、".join(f.code for f in FIELDS)
            raise self.fail(f"未知的检索字段 '{tok.text}'（可用：{codes}）", tok, ["字段代码"])
        if spec.kind is Kind.UNSUPPORTED:
            raise self.fail(spec.unsupported, tok, [])
        nxt = self.peek()
        if nxt.kind in ("EQ", "PCT"):
            self.advance()
            mode: MatchMode = "=" if nxt.kind == "EQ" else "%"
            if mode == "%" and self.peek().kind == "EQ":
                raise self.fail("暂不支持相关匹配 %=，请用 = 或 %", self.peek(), ["检索值"])
            if mode not in spec.modes:
                allowed = "、".join(_MODE_NAMES[m] for m in sorted(spec.modes))
                raise self.fail(f"{spec.code}（{spec.label}）不支持{_MODE_NAMES[mode]}匹配，可用 {allowed}",
                                nxt, sorted(spec.modes))  # fmt: skip
            return Term(spec.code, mode, self.value(spec), tok.pos)
        if spec.ranges and nxt.kind == "CMP":
            self.advance()
            return Compare(spec.code, cast(Comparison, nxt.text), self.number(spec), tok.pos)
        if spec.ranges and _word(nxt) == "BETWEEN":
            self.advance()
            counts = spec.kind is Kind.COUNT
            self.expect("LPAREN", "(", "BETWEEN 后需要 ('下限','上限')" if counts else "BETWEEN 后需要 ('起始年','终止年')")
            first = self.peek()
            low = self.number(spec)
            self.expect("COMMA", ",", "两个数之间需要逗号" if counts else "两个年份之间需要逗号")
            high = self.number(spec)
            self.expect("RPAREN", ")", "范围缺少右括号" if counts else "年份范围缺少右括号")
            if low > high:
                what = "被引频次范围的起点 {} 大于终点 {}" if counts else "年份范围的起点 {} 晚于终点 {}"
                raise self.fail(what.format(low, high), first, [])
            return Between(spec.code, low, high, tok.pos)
        expected = ["=", "%"] if not spec.ranges else ["=", "BETWEEN", ">", ">=", "<", "<="]
        if nxt.kind == "CMP" or _word(nxt) == "BETWEEN":
            raise self.fail(f"{spec.code}（{spec.label}）不能比较大小或使用 BETWEEN", nxt, expected)
        raise self.fail(f"字段 {spec.code} 后需要匹配符 = 或 %", nxt, expected)

    def number(self, spec: FieldSpec) -> int:
        """The number a comparison or BETWEEN takes: a year for PY, a count for CF."""
        tok = self.peek()
        counts = spec.kind is Kind.COUNT
        if tok.kind not in ("STRING", "WORD"):
            if counts:
                raise self.fail("此处需要被引频次（非负整数），如 10", tok, ["被引频次"])
            raise self.fail("此处需要年份，如 2018", tok, ["年份"])
        self.advance()
        return count(tok.text, tok.pos) if counts else year(tok.text, tok.pos)

    def value_operator(self, grouped: bool) -> ValueOperator | None:
        tok = self.peek()
        if tok.kind in _VALUE_OPS:
            return _VALUE_OPS[tok.kind]
        # Inside a value's own parentheses WoS habits are unambiguous: TS=("a" OR "b") means 'a'+'b'.
        if grouped and _word(tok) in _BOOL_WORDS:
            return _WOS_VALUE_OPS[_word(tok)]
        return None

    def value(self, spec: FieldSpec, grouped: bool = False) -> ValueExpr:
        left = self.value_atom(spec)
        while (op := self.value_operator(grouped)) is not None:
            tok = self.advance()
            self.count_operator(tok)
            left = ValueOp(op, left, self.value_atom(spec), tok.pos)
        return left

    def value_atom(self, spec: FieldSpec) -> ValueExpr:
        tok = self.peek()
        if tok.kind == "LPAREN":
            self.advance()
            self.enter(tok)
            inner = self.value(spec, grouped=True)
            if self.peek().kind in ("EQ", "PCT", "CMP"):
                raise self.fail("检索值的括号中不能出现检索项；要组合字段，请把括号放在字段代码之前，如 (TI='A' OR KY='B')",
                                self.peek(), [")"])  # fmt: skip
            if self.peek().kind != "RPAREN":
                raise self.fail(f"检索值中缺少右括号（第 {tok.pos + 1} 个字符处的左括号）", self.peek(),
                                [")", "*", "+", "-"])  # fmt: skip
            self.advance()
            self.depth -= 1
            return inner
        if tok.kind == "STRING":
            self.advance()
            return ValueReader(spec, tok.text, tok.offsets, tok.pos).read()
        if tok.kind == "WORD" and _word(tok) not in _BOOL_WORDS:
            self.advance()
            return ValueReader(spec, tok.text, range(tok.pos, tok.end), tok.pos).read()
        before, star = self.tokens[self.i - 2], self.tokens[self.i - 1]
        if tok.kind == "STAR" or (star.kind == "STAR" and before.kind == "WORD" and before.end == star.pos):
            raise self.fail("此处需要检索值；截词请写在引号内，如 TI='graph*'", tok, ["检索值", "("])
        raise self.fail("此处需要检索值，如 '石墨烯'", tok, ["检索值", "("])
