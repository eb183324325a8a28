"""科技查新 cases: the workflow from commission to issued report (issue 6).

Sits beside `search/`: it reads accounts and cases from appdb, formats references with
`search.export`, and builds `reports.ReportData`; it never imports FastAPI. Callers pass a SQLAlchemy
session and own the transaction. Errors are `CaseError` subclasses with a Chinese message.
"""
