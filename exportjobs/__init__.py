"""Export jobs: exports too large to stream while the user waits, written by a Celery worker.

The web layer records the job (appdb/exports.py) and queues `exportjobs.run` with the job's ID; the
worker walks the hits with the search service's point-in-time iterator as the job's user, writes the
file under CHAXIN_EXPORT_DIR and records its progress, so the user can watch it and download the file.
"""
