"""The ``innsyn`` command: serve, worker, migrate, token, apikey, openapi, connectors."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from app.domain.requests import Role
from app.settings import Settings, get_settings, proxy_options

cli = typer.Typer(no_args_is_help=True, help="Innsyn: GDPR data-subject requests as a service.")
apikey_cli = typer.Typer(no_args_is_help=True, help="Form-client API keys.")
cli.add_typer(apikey_cli, name="apikey")
connectors_cli = typer.Typer(no_args_is_help=True, help="Configured connectors.")
cli.add_typer(connectors_cli, name="connectors")


def _banner(host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    return (
        f"Innsyn is starting on {base} (API docs at {base}/docs)\n"
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
    from app.jobs.service import run_worker
    from app.logging import configure

    configure()
    asyncio.run(
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
    upgrade(settings.database_url, audit_key=key)
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


@apikey_cli.command("create")
def apikey_create(name: Annotated[str, typer.Option(help="Who uses the key")]) -> None:
    """Create an API key for a website form backend; it is shown once."""
    from app.runtime import Runtime
    from app.services import apikeys

    async def run() -> str:
        rt = Runtime.build(get_settings())
        try:
            async with rt.db.session() as session:
                _row, key = await apikeys.create(rt, session, name=name)
            return key
        finally:
            await rt.db.dispose()

    typer.echo(asyncio.run(run()))


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
