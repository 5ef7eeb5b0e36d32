"""The ``innsyn`` command: serve, worker, migrate, token, apikey, openapi."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from app.domain.requests import Role
from app.settings import get_settings

cli = typer.Typer(no_args_is_help=True, help="Innsyn: GDPR data-subject requests as a service.")
apikey_cli = typer.Typer(no_args_is_help=True, help="Form-client API keys.")
cli.add_typer(apikey_cli, name="apikey")


def _banner(host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    return (
        f"Innsyn is starting on {base} (API docs at {base}/docs)\n"
        "  staff token:   innsyn token --role operator   (roles: operator, approver, auditor, "
        "admin)\n"
        "  form API key:  innsyn apikey create --name website\n"
        "  (from a checkout without an activated venv: .venv/bin/innsyn ...)"
    )


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the HTTP API (and, by default, the in-process workers)."""
    import uvicorn

    from app.logging import configure
    from app.main import create_app

    settings = get_settings()
    configure()
    host = host or settings.host
    port = port if port is not None else settings.port
    typer.echo(_banner(host, port))
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


@cli.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    from app.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
