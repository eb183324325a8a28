"""收录引证 cases (论文收录引证报告, domain.md Part B §2): the second kind of case.

It shares the states, roles, 回避, centre isolation, audit log, numbering, signing and verification
of `casework.core` and `casework.states`; what is its own lives here:

- `header`: 委托人, purpose, cut-off date, requested databases and report options;
- `papers`: the client's paper list (pasted citations, an export file, records picked by ID), each
  matched to a record and confirmed by the analyst, duplicates merged with a note;
- `indexing`: where each paper is indexed (收录), from the record's merged sources;
- `citing`: the citing records within the cut-off, marked 自引/他引, with the analyst's exclusions
  and flips;
- `assemble`: the case as a `reports.citation_model.CitationReportData`, frozen at signing.

Imports run one way: header ← papers, indexing ← citing ← assemble; none of them imports
`casework.states`, which calls `assemble` at signing and issuing.
"""
