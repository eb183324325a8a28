"""`chaxin citations relink`: recompute every link (after a matcher change) as one recorded job."""

from __future__ import annotations

import math

from appdb.jobs import create_job
from appdb.session import session_factory, upgrade
from citeindex.tasks import PLAN_TASK, RELINK_FORMAT
from conf.clients import make_es
from conf.settings import Settings
from ingest.celery_app import producer_for
from mappings.naming import IndexNames

CHUNK = 1000


def start_relink(settings: Settings, *, chunk: int = CHUNK) -> tuple[int, int]:
    """Create the job and queue its planner; returns (job id, estimated chunks)."""
    index = IndexNames(settings.index_prefix).write_alias
    es = make_es(settings)
    total = int(es.count(index=index)["count"])
    chunks = math.ceil(total / chunk)
    url = settings.effective_database_url
    upgrade(url)
    with session_factory(url).begin() as session:
        job = create_job(session, RELINK_FORMAT, index, chunks)
        job_id = job.id
        if not chunks:
            job.message = "索引中没有记录"
    if chunks:
        producer_for(settings).send_task(PLAN_TASK, args=[job_id, index, chunk])
    return job_id, chunks
