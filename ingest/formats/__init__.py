"""One parser module per source format."""
