"""Application state that is not a search document: ingest jobs now; users, cases, strategies later."""
