"""Reading the index: query building, execution and result shaping. No web framework here."""
