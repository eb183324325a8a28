"""`chaxin` command line: serve, worker, ingest, index, db, services."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from conf.settings import Settings, get_settings
from ingest.formats import FORMATS

console = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]错误：[/]{message}")
    sys.exit(code)


class DefaultCommandGroup(click.Group):
    """A group that runs its default command when the first argument is not a sub-command.

    It lets `chaxin ingest --format csl FILE` and `chaxin ingest errors JOB` live side by side.
    """

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@click.group()
def app() -> None:
    """Chaxin 查新平台."""


# ------------------------------------------------------------------ services / db


@app.group()
def services() -> None:
    """Local Elasticsearch and Redis (idle when ES_URL / REDIS_URL are set)."""


@services.command("start")
@click.option("--nodes", type=click.IntRange(1, 9), default=None,
              help="Elasticsearch nodes to start as one cluster (default CHAXIN_ES_NODES, 1)")  # fmt: skip
def services_start(nodes: int | None) -> None:
    from chaxin.services import ServiceError, start_all

    settings = get_settings()
    if nodes is not None:
        settings = settings.model_copy(update={"es_nodes": nodes})
    try:
        for key, value in start_all(settings).items():
            click.echo(f"{key}={value}")
    except ServiceError as exc:
        _fail(str(exc))


@services.command("stop")
def services_stop() -> None:
    from chaxin.services import stop_all

    stop_all()


@app.group()
def db() -> None:
    """Application database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to the newest."""
    from appdb.session import upgrade

    upgrade(get_settings().effective_database_url)
    click.echo("database schema is up to date")


# ------------------------------------------------------------------ index


def _es_or_fail() -> Any:
    from elasticsearch import ConnectionError as ESConnectionError

    from conf.clients import make_es

    settings = get_settings()
    es = make_es(settings)
    try:
        es.cluster.health(timeout="5s")
    except ESConnectionError:
        _fail(
            f"无法连接 Elasticsearch（{settings.effective_es_url}）。请先运行 `make services`，或设置 ES_URL。"
        )
    return es


@app.group()
def index() -> None:
    """Search index lifecycle."""


@index.command("create")
@click.option("--if-missing", is_flag=True, help="Do nothing if the alias already exists.")
def index_create(if_missing: bool) -> None:
    from ingest.index_admin import IndexAdminError, create
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.naming import IndexNames

    settings = get_settings()
    try:
        name = create(_es_or_fail(), IndexNames(settings.index_prefix), get_tokenizer(settings.tokenizer_backend),
                      if_missing=if_missing, shards=settings.index_shards, replicas=settings.index_replicas)  # fmt: skip
    except IndexAdminError as exc:
        _fail(str(exc))
    click.echo(name)


@index.command("rebuild")
def index_rebuild() -> None:
    """Re-tokenize every record into a new index, then swap the aliases in one call."""
    from conf.clients import make_redis
    from ingest.index_admin import IndexAdminError, rebuild
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.naming import IndexNames

    settings = get_settings()
    es = _es_or_fail()
    try:
        result = rebuild(es, make_redis(settings), IndexNames(settings.index_prefix),
                         get_tokenizer(settings.tokenizer_backend),
                         progress=lambda n: console.print(f"  copied {n}"), shards=settings.index_shards,
                         replicas=settings.index_replicas, keep_previous=settings.index_keep_previous)  # fmt: skip
    except IndexAdminError as exc:
        _fail(str(exc))
    click.echo(f"rebuilt {result.copied} records: {result.old_index} -> {result.new_index}")
    if result.old_index:
        click.echo(f"kept {result.old_index} for `chaxin index rollback` (`chaxin index prune` deletes it)")
    for name in result.pruned:
        click.echo(f"deleted {name}")


@index.command("rollback")
def index_rollback() -> None:
    """Point both aliases back at the index the last rebuild replaced, in one call."""
    from conf.clients import make_redis
    from ingest.index_admin import IndexAdminError, rollback
    from mappings.naming import IndexNames

    settings = get_settings()
    try:
        result = rollback(_es_or_fail(), make_redis(settings), IndexNames(settings.index_prefix))
    except IndexAdminError as exc:
        _fail(str(exc))
    click.echo(f"rolled back: {result.from_index} -> {result.to_index}")
    click.echo(f"records ingested since the rebuild are only in {result.from_index}, kept until `chaxin index prune`")


@index.command("prune")
@click.option("--keep", default=0, show_default=True, type=click.IntRange(min=0),
              help="Keep this many of the newest indices no alias points at.")  # fmt: skip
def index_prune(keep: int) -> None:
    """Delete the physical indices no alias points at (kept for rollback after a rebuild)."""
    from conf.clients import make_redis
    from ingest.index_admin import IndexAdminError, prune
    from mappings.naming import IndexNames

    settings = get_settings()
    try:
        deleted = prune(_es_or_fail(), make_redis(settings), IndexNames(settings.index_prefix), keep=keep)
    except IndexAdminError as exc:
        _fail(str(exc))
    for name in deleted:
        click.echo(f"deleted {name}")
    if not deleted:
        click.echo("nothing to delete")


@index.command("drop")
@click.option("--yes", is_flag=True, required=True, help="Confirm deleting every index of this prefix.")
def index_drop(yes: bool) -> None:  # noqa: ARG001 (click demands the flag; it is the confirmation)
    from ingest.index_admin import drop_all
    from mappings.naming import IndexNames

    drop_all(_es_or_fail(), IndexNames(get_settings().index_prefix))


# ------------------------------------------------------------------ ingest


@app.group(cls=DefaultCommandGroup)
def ingest() -> None:
    """Ingest files: `chaxin ingest --format csl PATH [--wait]`."""


@ingest.command("run", hidden=True)
@click.option("--format", "fmt", required=True, type=click.Choice(list(FORMATS)), help="Source format.")
@click.option("--wait", is_flag=True, help="Show progress and wait for the job to finish.")
@click.option(
    "--allow-lower-access", is_flag=True,
    help="Let this job lower access levels of existing tech reports (written to the audit log).",
)  # fmt: skip
@click.argument("path", type=click.Path(path_type=Path))
def ingest_run(fmt: str, wait: bool, allow_lower_access: bool, path: Path) -> None:
    from appdb.jobs import Submitter
    from ingest.submit import SubmitError, submit

    settings = get_settings()
    try:
        job_id, chunks = submit(settings, fmt, path, submitter=Submitter(lower_access=allow_lower_access))
    except SubmitError as exc:
        _fail(str(exc))
    console.print(f"job {job_id}: {chunks} chunk(s) queued")
    click.echo(job_id)
    if wait:
        _wait(job_id)


@ingest.command("harvest")
@click.argument("base_url")
@click.option("--metadata-prefix", default="oai_dc", show_default=True, help="oai_dc or marcxml.")
@click.option(
    "--from", "from_", default=None, help="Only records changed on or after this date (YYYY-MM-DD)."
)
@click.option("--until", default=None, help="Only records changed on or before this date.")
@click.option("--set", "set_", default=None, help="An OAI set.")
@click.option("--wait", is_flag=True, help="Show progress and wait for the job to finish.")
def ingest_harvest(
    base_url: str, metadata_prefix: str, from_: str | None, until: str | None, set_: str | None, wait: bool
) -> None:
    """Harvest an OAI-PMH repository (following resumption tokens) and ingest every page as one job.

    Each response page is kept as received, so the raw store holds exactly what the repository sent
    and a malformed page shows up as a job error naming it.
    """
    import tempfile

    from ingest.oai_harvest import harvest
    from ingest.submit import SubmitError, submit

    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="chaxin-oai-") as tmp:
        pages = 0
        for page in harvest(base_url, metadata_prefix, from_=from_, until=until, set_=set_):
            if page.body is None:
                for err in page.errors:
                    console.print(f"[red]第 {page.number} 页：{err}[/]")
                continue
            pages += 1
            (Path(tmp) / f"page-{page.number:05d}.xml").write_bytes(page.body)
            console.print(f"page {page.number}: {len(page.records)} record(s), {len(page.errors)} error(s)")
        if not pages:
            _fail(f"没有从 {base_url} 收割到任何页面")
        try:
            job_id, _ = submit(settings, "oai", Path(tmp), name=base_url)
        except SubmitError as exc:
            _fail(str(exc))
    console.print(f"job {job_id}: {pages} page(s) from {base_url}")
    click.echo(job_id)
    if wait:
        _wait(job_id)


@ingest.command("replay")
@click.option("--wait", is_flag=True, help="Show progress and wait for each job to finish.")
def ingest_replay(wait: bool) -> None:
    """Parse every file in the raw store again, each with the format it arrived in.

    After a parser fix, this brings every record up to date; unchanged records are not rewritten.
    """
    from ingest.raw_store import RawStore
    from ingest.submit import SubmitError, submit

    settings = get_settings()
    store = RawStore(settings.effective_raw_store_dir)
    for entry in store.entries():
        path = store.path_for(entry["sha256"])
        for fmt in entry.get("formats", []):
            try:
                job_id, _ = submit(settings, fmt, path, name=(entry.get("names") or [path.name])[0])
            except SubmitError as exc:
                _fail(str(exc))
            console.print(f"job {job_id}: {fmt} {entry['names'][0]}")
            if wait:
                _wait(job_id)


@ingest.command("status")
@click.argument("job_id", type=int)
def ingest_status(job_id: int) -> None:
    import json

    status = _status(job_id)
    click.echo(json.dumps(status, ensure_ascii=False, indent=2))


@ingest.command("resume")
@click.argument("job_id", type=int)
@click.option("--wait", is_flag=True, help="Show progress and wait for the job to finish.")
def ingest_resume(job_id: int, wait: bool) -> None:
    """Send again the chunks of a job that have no result and are neither queued nor being worked on.

    For a task the broker lost; workers do it themselves for a job with no progress for longer than
    CHAXIN_BROKER_VISIBILITY_TIMEOUT.
    """
    from ingest.resume import ResumeError, resume

    try:
        result = resume(get_settings(), job_id)
    except ResumeError as exc:
        _fail(str(exc))
    if result.resent:
        click.echo(f"job {job_id}: sent again chunk(s) {', '.join(map(str, result.resent))}")
    else:
        click.echo(f"job {job_id}: no chunk lost")
    if result.in_flight:
        click.echo(f"still queued or being worked on: {len(result.in_flight)} chunk(s)")
    if wait:
        _wait(job_id)


@ingest.command("errors")
@click.argument("job_id", type=int)
def ingest_errors(job_id: int) -> None:
    """List the records of a job that were quarantined, with position and reason."""
    from appdb.jobs import job_errors
    from appdb.session import session_factory

    with session_factory(get_settings().effective_database_url)() as session:
        for err in job_errors(session, job_id):
            click.echo(f"{err['file']}\t{err['position']}\t{err['reason']}")


def _status(job_id: int) -> dict[str, Any]:
    from appdb.jobs import job_status
    from appdb.session import session_factory

    with session_factory(get_settings().effective_database_url)() as session:
        status = job_status(session, job_id)
    if status is None:
        _fail(f"没有编号为 {job_id} 的任务")
    assert status is not None
    return status.as_dict()


def _wait(job_id: int, label: str = "ingest") -> None:
    status = _status(job_id)
    idle_since = time.monotonic()
    last_done = -1
    with Progress(
        TextColumn(f"[bold]{label}[/] job {{task.fields[job]}}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("chunks · indexed {task.fields[indexed]} · merged {task.fields[merged]} · failed {task.fields[failed]}"), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:  # fmt: skip
        bar = progress.add_task(
            "ingest", total=status["chunks_total"], job=job_id, indexed=0, merged=0, failed=0
        )
        while True:
            status = _status(job_id)
            progress.update(
                bar,
                total=status["chunks_total"],
                completed=status["chunks_done"],
                indexed=status["indexed"],
                merged=status["merged"],
                failed=status["failed"],
            )
            if status["state"] in ("done", "failed"):
                break
            if status["chunks_done"] != last_done:
                last_done, idle_since = status["chunks_done"], time.monotonic()
            elif time.monotonic() - idle_since > 60:
                console.print("[yellow]一分钟没有进展：是否有 worker 在运行？（`chaxin worker`）[/]")
                idle_since = time.monotonic()
            time.sleep(0.5)
    click.echo(
        f"job {job_id} {status['state']}: seen {status['seen']}, indexed {status['indexed']}, "
        f"merged {status['merged']}, unchanged {status['skipped']}, failed {status['failed']}"
    )
    if status["failed"]:
        click.echo(f"see `chaxin ingest errors {job_id}` for the failed records")


# ------------------------------------------------------------------ citations


@app.group()
def citations() -> None:
    """The citation index."""


@citations.command("relink")
@click.option("--wait", is_flag=True, help="Show progress and wait for the job to finish.")
def citations_relink(wait: bool) -> None:
    """Recompute every reference's link and every stored count (after a matcher change).

    A second run changes nothing: links are a function of the references and the records only.
    """
    from citeindex.relink import start_relink

    _es_or_fail()
    job_id, chunks = start_relink(get_settings())
    console.print(f"job {job_id}: about {chunks} chunk(s) of records to relink")
    click.echo(job_id)
    if wait:
        _wait(job_id, label="relink")


# ------------------------------------------------------------------ users and centres


def _accounts_session() -> Any:
    """A transaction on the application database, migrated first so a fresh deployment can bootstrap."""
    from appdb.session import session_factory, upgrade

    url = get_settings().effective_database_url
    upgrade(url)
    return session_factory(url).begin()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("标准输入中没有读到密码")
        return password
    prompted: str = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    return prompted


def _until(value: str | None) -> Any:
    from datetime import UTC, datetime, time

    if not value:
        return None
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time.max, tzinfo=UTC)
    except ValueError:
        _fail("--until 的格式应为 YYYY-MM-DD")


@app.group()
def demo() -> None:
    """The local demo (`make run`)."""


@demo.command("accounts")
def demo_accounts() -> None:
    """Demo centre and users (analyst, reviewer, centre admin, platform admin) with a published password."""
    from chaxin.demo_accounts import DEMO_PASSWORD, DEMO_USERS, seed

    with _accounts_session() as session:
        seed(session)
    names = "、".join(u.username for u in DEMO_USERS)
    click.echo(f"演示账户（仅供本机试用）：{names}，密码 {DEMO_PASSWORD}")


@app.group()
def users() -> None:
    """User accounts: `chaxin users add --username U --role R [--centre C]`."""


@users.command("add")
@click.option("--username", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="registered, analyst, reviewer, centre_admin, platform_admin (repeatable).",
)
@click.option(
    "--centre", default=None, help="Branch-centre code; analysts, reviewers and centre admins need one."
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)
@click.option("--real-name", default=None, help="真实姓名")
@click.option("--organisation", default=None, help="工作单位")
@click.option("--phone", default=None)
@click.option("--email", default=None)
@click.option("--title", "professional_title", default=None, help="职称 (reviewers)")
@click.option("--senior", is_flag=True, help="The title is a senior one (高级职称), needed to sign reports.")
def users_add(
    username: str,
    roles: tuple[str, ...],
    centre: str | None,
    password_stdin: bool,
    real_name: str | None,
    organisation: str | None,
    phone: str | None,
    email: str | None,
    professional_title: str | None,
    senior: bool,
) -> None:
    """Create a user (prints its ID)."""
    from appdb import accounts

    password = _read_password(password_stdin)
    try:
        with _accounts_session() as session:
            user = accounts.create_user(
                session, username=username, password=password, real_name=real_name, organisation=organisation,
                phone=phone, email=email, professional_title=professional_title, senior_title=senior,
                centre=centre, roles=roles,
            )  # fmt: skip
            accounts.audit(session, "cli", "user.create",
                           {"user_id": user.id, "username": user.username, "roles": list(roles), "centre": centre})  # fmt: skip
            user_id = user.id
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo(user_id)


@users.command("grant")
@click.option("--username", required=True)
@click.option("--role", default=None, help="A role to grant (or revoke, with --revoke).")
@click.option("--record", "record_id", default=None, help="A 限制 report's record ID to open to this user.")
@click.option("--until", default=None, help="With --record: the grant ends after this day (YYYY-MM-DD).")
@click.option("--centre", default=None, help="Move the user into this centre first.")
@click.option("--revoke", is_flag=True, help="Take the role or record grant away instead.")
def users_grant(
    username: str,
    role: str | None,
    record_id: str | None,
    until: str | None,
    centre: str | None,
    revoke: bool,
) -> None:
    """Grant (or --revoke) a role or access to one 限制 report."""
    from appdb import accounts

    if not role and not record_id and not centre:
        _fail("请指定 --role、--record 或 --centre")
    try:
        with _accounts_session() as session:
            user = accounts.find_user(session, username)
            if centre:
                accounts.set_centre(session, user, centre)
                accounts.audit(session, "cli", "user.update", {"user_id": user.id, "centre": centre})
            if role:
                changed = (accounts.revoke_role if revoke else accounts.grant_role)(session, user, role)
                if changed:
                    accounts.audit(session, "cli", "role.revoke" if revoke else "role.grant",
                                   {"user_id": user.id, "role": role})  # fmt: skip
            if record_id:
                if revoke:
                    accounts.revoke_record(session, user, record_id)
                else:
                    accounts.grant_record(session, user, record_id, expires_at=_until(until))
                accounts.audit(session, "cli", "record.revoke" if revoke else "record.grant",
                               {"user_id": user.id, "record_id": record_id, "until": until})  # fmt: skip
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo("ok")


@users.command("list")
def users_list() -> None:
    from appdb import accounts

    with _accounts_session() as session:
        centres = {c.id: c.code for c in accounts.list_centres(session)}
        for user in accounts.list_users(session, limit=100_000):
            roles = ",".join(sorted(accounts.user_roles(session, user.id))) or accounts.IMPLICIT_ROLE
            centre = centres.get(user.centre_id, "") if user.centre_id else ""
            state = "" if user.active else "disabled"
            click.echo("\t".join((str(user.id), user.username, roles, centre, user.real_name or "", state)))


@app.group()
def centres() -> None:
    """Branch centres (分中心)."""


@centres.command("add")
@click.option("--code", required=True, help="Short code, e.g. GZ01.")
@click.option("--name", required=True)
@click.option("--province", required=True, help="Two-digit GB/T 2260 province code, e.g. 52.")
@click.option(
    "--institution", required=True, help="Institution number: 3 digits (most) or 5-digit station (moe)."
)
@click.option(
    "--pattern", type=click.Choice(["most", "moe"]), required=True, help="Report-numbering pattern."
)
def centres_add(code: str, name: str, province: str, institution: str, pattern: str) -> None:
    from appdb import accounts

    try:
        with _accounts_session() as session:
            centre = accounts.create_centre(session, code=code, name=name, province_code=province,
                                            institution_no=institution, pattern=pattern)  # fmt: skip
            accounts.audit(session, "cli", "centre.create", {"code": centre.code, "name": centre.name,
                                                              "pattern": centre.numbering_pattern})  # fmt: skip
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo(code)


@centres.command("contact")
@click.argument("code")
@click.option("--address", help="通信地址")
@click.option("--postcode", help="邮政编码")
@click.option("--principal", help="负责人")
@click.option("--contact", help="联系人")
@click.option("--phone", help="电话")
@click.option("--fax", help="传真")
@click.option("--email", help="电子信箱")
def centres_contact(code: str, **fields: str | None) -> None:
    """Set the centre's contact block (查新机构), printed in every report header; unset options stay."""
    from appdb import accounts

    given = {k: v for k, v in fields.items() if v is not None}
    try:
        with _accounts_session() as session:
            centre = accounts.get_centre(session, code)
            accounts.set_centre_contact(centre, given)
            accounts.audit(session, "cli", "centre.contact", {"code": centre.code, "fields": sorted(given)})
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo(code)


@centres.command("list")
def centres_list() -> None:
    from appdb import accounts

    with _accounts_session() as session:
        for c in accounts.list_centres(session):
            click.echo(f"{c.code}\t{c.name}\t{c.province_code}\t{c.institution_no}\t{c.numbering_pattern}")


# ------------------------------------------------------------------ processes


@app.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="API worker processes (default: CHAXIN_API_WORKERS)")  # fmt: skip
def serve(host: str, port: int, workers: int | None) -> None:
    """Run the API and the search pages."""
    from appdb.session import upgrade

    settings = get_settings()
    upgrade(settings.effective_database_url)
    # uvicorn's own command replaces this process: with several workers it stays as their supervisor,
    # and a supervisor that had imported this CLI (ingest, Celery, the parsers) held 100 MB for nothing.
    argv = uvicorn_argv(settings, host=host, port=port, workers=workers or settings.api_workers)
    os.execvp(argv[0], argv)


H11_MAX_EVENT_BYTES = 1024 * 1024


def uvicorn_argv(settings: Settings, *, host: str, port: int, workers: int) -> list[str]:
    """The uvicorn command line that `chaxin serve` becomes.

    h11 rather than httptools: httptools refuses a URL past ~64 KB in English before the app sees it;
    with room for 1 MiB, the app's own limit (web/url_limit.py) answers in Chinese first.
    Several processes share one socket: one Python process serves requests one GIL at a time.
    Everything a request relies on across requests lives outside the process (sessions and history
    in the database, rate limits in Redis, the CSRF key in the environment or one file).
    """
    return [
        sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory", "--host", host, "--port", str(port),
        "--log-level", "info", "--http", "h11", "--h11-max-incomplete-event-size", str(H11_MAX_EVENT_BYTES),
        "--workers", str(workers), *uvicorn_proxy_args(settings),
    ]  # fmt: skip


def uvicorn_proxy_args(settings: Settings) -> list[str]:
    """Forwarded headers are believed only from CHAXIN_TRUSTED_PROXIES; uvicorn's own default (trust
    127.0.0.1) would let anyone on the host, or behind an unconfigured proxy, pick their address."""
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if not proxies:
        return ["--no-proxy-headers", "--forwarded-allow-ips", ""]
    return ["--proxy-headers", "--forwarded-allow-ips", ",".join(proxies)]


@app.command()
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int, loglevel: str) -> None:
    """Run a Celery worker for ingestion tasks."""
    from appdb.session import upgrade

    upgrade(get_settings().effective_database_url)
    os.execvp(
        sys.executable,
        [sys.executable, "-m", "celery", "-A", "ingest.celery_app:app", "worker",
         f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--without-gossip", "--without-mingle"],
    )  # fmt: skip


if __name__ == "__main__":
    app()
