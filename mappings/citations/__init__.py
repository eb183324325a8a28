"""Reference parsing, normalisation and matching, shared by ingest (linking) and search (references/match)."""
