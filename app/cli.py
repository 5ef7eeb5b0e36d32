"""The ``innsyn`` command: serve, worker, migrate, token, apikey, openapi, connectors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from app.domain.requests import Role
from app.security import Principal
from app.settings import Settings, get_settings, proxy_options

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from app.runtime import Runtime

T = TypeVar("T")

cli = typer.Typer(no_args_is_help=True, help="Innsyn: GDPR data-subject requests as a service.")
apikey_cli = typer.Typer(no_args_is_help=True, help="Form-client API keys.")
cli.add_typer(apikey_cli, name="apikey")
audit_cli = typer.Typer(no_args_is_help=True, help="The audit trail: checkpoints, checks.")
cli.add_typer(audit_cli, name="audit")
connectors_cli = typer.Typer(no_args_is_help=True, help="Configured connectors.")
cli.add_typer(connectors_cli, name="connectors")


def _banner(host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    return (
        f"Innsyn is starting on {base} (API docs at {base}/docs)\n"
        f"  privacy centre (for the person): {base}/personvern/\n"
        f"  console (for staff):             {base}/console/\n"
        "  staff token:   innsyn token --role operator   (roles: operator, approver, auditor, "
        "admin)\n"
        "  form API key:  innsyn apikey create --name website\n"
        "  (from a checkout without an activated venv: .venv/bin/innsyn ...)"
    )


def _refuse_exposed_dev_keys(settings: Settings, host: str, *, allow: bool) -> None:
    from app.exposure import ExposedDevelopmentKeys, check_listen_address

    try:
        check_listen_address(settings, host, allow=allow)
    except ExposedDevelopmentKeys as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    allow_dev_keys_on_network: Annotated[
        bool,
        typer.Option(
            "--allow-dev-keys-on-network",
            help="Serve development keys on a non-loopback address (never in production use)",
        ),
    ] = False,
) -> None:
    """Run the HTTP API (and, by default, the in-process workers)."""
    import uvicorn

    from app.logging import configure
    from app.main import create_app

    settings = get_settings()
    host = host or settings.host
    _refuse_exposed_dev_keys(settings, host, allow=allow_dev_keys_on_network)
    configure()
    port = port if port is not None else settings.port
    typer.echo(_banner(host, port))
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        **proxy_options(settings),
    )


@cli.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Recreate the demo CRM and invoicing databases")
    ] = False,
) -> None:
    """Serve the API with all six connector kinds wired to made-up demo data (make run)."""
    from app.demo.peers import DemoUnavailable
    from app.demo.run import run_demo

    settings = get_settings()
    _refuse_exposed_dev_keys(settings, host or settings.host, allow=False)
    try:
        run_demo(host=host, port=port, reset=reset, banner=_banner, echo=typer.echo)
    except DemoUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Attempts run at once (default INNSYN_WORKER_CONCURRENCY)")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Lease owner name (default host:pid:random)")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port")
    ] = None,
    grace_seconds: Annotated[
        float, typer.Option(help="On SIGTERM, how long running attempts may take to finish")
    ] = 25.0,
) -> None:
    """Run connector tasks from the shared database until SIGTERM (any number, anywhere)."""
    import uvloop  # the event loop `serve` runs on too (uvicorn picks it when installed)

    from app.jobs.service import run_worker
    from app.logging import configure

    configure()
    uvloop.run(
        run_worker(
            get_settings(),
            concurrency=concurrency,
            name=name,
            metrics_port=metrics_port,
            grace_seconds=grace_seconds,
        )
    )


@cli.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    from app.db.migrate import upgrade

    settings = get_settings()
    key = settings.audit_key.get_secret_value() if settings.audit_key is not None else None
    data = settings.data_key.get_secret_value() if settings.data_key is not None else None
    upgrade(settings.database_url, audit_key=key, data_key=data)
    typer.echo("database is at the newest schema version")


@cli.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Role(s) to grant")],
    subject: Annotated[str, typer.Option(help="Staff member's id")] = "dev-staff",
    minutes: Annotated[int | None, typer.Option(help="Lifetime in minutes")] = None,
) -> None:
    """Print a staff JWT signed with the local development key."""
    from app.security import issue_local_token

    settings = get_settings()
    if settings.env == "production":
        raise typer.BadParameter("production tokens come from the identity provider")
    typer.echo(issue_local_token(settings, subject=subject, roles=role, ttl_minutes=minutes))


def _operator() -> Principal:
    """Who ran the command, for the audit trail: the local user name."""
    import getpass

    try:
        return Principal(kind="cli", id=getpass.getuser())
    except (KeyError, OSError):
        return Principal(kind="cli", id="unknown")


def _with_runtime(work: Callable[[Runtime, AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction against the configured database."""
    from app.runtime import Runtime

    async def run() -> T:
        rt = Runtime.build(get_settings())
        try:
            async with rt.db.session() as session:
                return await work(rt, session)
        finally:
            await rt.db.dispose()

    return asyncio.run(run())


@contextmanager
def _domain_errors_exit() -> Iterator[None]:
    """A refused action (unknown key, already revoked) is a message and exit 1."""
    from app.domain.errors import DomainError

    try:
        yield
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None


@apikey_cli.command("create")
def apikey_create(name: Annotated[str, typer.Option(help="Who uses the key")]) -> None:
    """Create an API key for a website form backend; it is shown once."""
    from app.services import apikeys

    async def work(rt: Runtime, session: AsyncSession) -> str:
        _row, key = await apikeys.create(rt, session, name=name, principal=_operator())
        return key

    typer.echo(_with_runtime(work))


@apikey_cli.command("list")
def apikey_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (as GET /v1/apikeys)")
    ] = False,
) -> None:
    """Every key: id, name, prefix, status, created, last used. Never a secret."""
    from app.routers.apikeys import view
    from app.schemas.apikeys import ApiKeyList
    from app.services import apikeys

    async def work(_rt: Runtime, session: AsyncSession) -> ApiKeyList:
        return ApiKeyList(items=[view(r) for r in await apikeys.listed(session)])

    keys = _with_runtime(work)
    if as_json:
        typer.echo(keys.model_dump_json(indent=2))
        return
    for k in keys.items:
        used = k.last_used_at.isoformat(timespec="minutes") if k.last_used_at else "never"
        typer.echo(
            f"{k.id}  ik_{k.prefix}_…  {k.status:<7}  created {k.created_at:%Y-%m-%d}  "
            f"last used {used}  {k.name}"
        )


@apikey_cli.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…)")]) -> None:
    """Revoke a key: refused from the next call on, on every replica."""
    from app.services import apikeys

    async def work(rt: Runtime, session: AsyncSession) -> None:
        await apikeys.revoke(rt, session, key_id, principal=_operator())

    with _domain_errors_exit():
        _with_runtime(work)
    typer.echo(f"revoked {key_id}")


@apikey_cli.command("rotate")
def apikey_rotate(key_id: Annotated[str, typer.Argument(help="The key's id (key_…)")]) -> None:
    """Give a key a new secret (printed once); the old secret is refused at once."""
    from app.services import apikeys

    async def work(rt: Runtime, session: AsyncSession) -> str:
        _row, key = await apikeys.rotate(rt, session, key_id, principal=_operator())
        return key

    with _domain_errors_exit():
        typer.echo(_with_runtime(work))


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the audit trail's head and print the checkpoint: store it outside Innsyn."""
    from app.services import audit_checkpoints

    async def work(rt: Runtime, session: AsyncSession) -> str:
        row = await audit_checkpoints.take(session, at=rt.clock.now(), actor=_operator().actor)
        return row.token

    typer.echo(_with_runtime(work))


@audit_cli.command("verify")
def audit_verify(
    checkpoint: Annotated[
        str | None, typer.Option(help="A checkpoint kept elsewhere (default: from genesis)")
    ] = None,
) -> None:
    """Check the whole global chain (from genesis, or a checkpoint); exit 1 on any finding."""
    from app.domain.audit import InvalidCheckpoint
    from app.services import audit, audit_trail

    async def work(_rt: Runtime, session: AsyncSession) -> audit_trail.TrailCheck:
        anchor = audit.key_of(session).open(checkpoint) if checkpoint else None
        return await audit_trail.check_trail(session, anchor, from_genesis=True)

    try:
        trail = _with_runtime(work)
    except InvalidCheckpoint as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for f in trail.check.findings:
        where = f"request {f.request_id}" if f.request_id else (f.stream or "unknown stream")
        typer.echo(f"{f.problem}: global {f.global_seq}, {where} seq {f.seq}: {f.detail}")
    typer.echo(
        f"{'verified' if trail.check.verified else 'NOT verified'}: "
        f"{trail.check.events} events from {trail.anchor} {trail.anchor_global_seq} "
        f"to head {trail.head_global_seq}"
    )
    if not trail.check.verified:
        raise typer.Exit(1)


@cli.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the schema")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI document generated from the app."""
    from app.openapi_export import render

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render())
    typer.echo(f"wrote {out}")


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (as GET /v1/connectors)")]


def _connectors_report(*, health: bool, timeout: float, as_json: bool) -> None:
    """Load the connectors as the server would, print them, exit 1 if anything is broken."""
    from app.connectors.errors import ConnectorConfigError, ConnectorValidationError
    from app.connectors.loader import load_registry
    from app.connectors.status import ConnectorsView, describe, failing, render_text
    from app.logging import configure

    configure(level="WARNING", json=False)  # to stderr: stdout stays clean for --json
    settings = get_settings()
    try:
        registry = load_registry(settings.connectors_file, strict=settings.connectors_strict)
    except (ConnectorConfigError, ConnectorValidationError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def run() -> ConnectorsView:
        try:
            return await describe(registry, health=health, timeout=timeout)
        finally:
            await registry.aclose()

    view = asyncio.run(run())
    typer.echo(view.model_dump_json(indent=2) if as_json else render_text(view))
    if failing(view):
        raise typer.Exit(1)


@connectors_cli.command("list")
def connectors_list(
    as_json: JsonFlag = False,
) -> None:
    """Show configured instances, capabilities, categories and broken plugins."""
    _connectors_report(health=False, timeout=0, as_json=as_json)


@connectors_cli.command("check")
def connectors_check(
    timeout: Annotated[float, typer.Option(help="Seconds each check may take")] = 10.0,
    as_json: JsonFlag = False,
) -> None:
    """Run every instance's check(); exit 1 if one fails or anything is broken."""
    _connectors_report(health=True, timeout=timeout, as_json=as_json)


def main() -> None:
    os.umask(0o077)  # whatever the service writes under var/ is its user's alone
    cli()


if __name__ == "__main__":
    main()
