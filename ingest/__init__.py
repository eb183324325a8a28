"""Getting documents in: parsers, the index writer, index lifecycle, and Celery tasks."""
