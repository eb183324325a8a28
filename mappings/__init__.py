"""The index contract shared by ingest (writes) and search (reads).

Holds the canonical record model, the versioned mapping files, index naming, and the
one Chinese text-analysis module used on both sides.
"""
