"""``innsyn demo``: the demo data, the loopback services, the connectors file, the API.

The order matters: the services must listen before the connectors file can name their
ports, and the file and its ``${VAR}`` credentials must be in place before the server
builds its connector registry. The server then runs exactly as ``innsyn serve`` does, with
the in-process workers; when it stops (Ctrl-C or SIGTERM), the services stop too.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from app.demo.config import secret_environment, write_connectors_file
from app.demo.data import DemoPaths, create_databases
from app.demo.peers import MAILBOX, DemoPeers, DemoSecrets, require_pymap, running_peers
from app.demo.people import PEOPLE, DemoPerson
from app.settings import Settings, get_settings, proxy_options

Echo = Callable[[str], object]


class _Stopped(Exception):
    """SIGTERM: unwind like Ctrl-C does, so the loopback services are stopped."""


def _raise_stopped(_signum: int, _frame: FrameType | None) -> None:
    raise _Stopped


def run_demo(
    *,
    host: str | None,
    port: int | None,
    reset: bool,
    banner: Callable[[str, int], str],
    echo: Echo = print,
) -> None:
    """Prepare everything, then serve until stopped. ``banner`` says how to get credentials."""
    import uvicorn

    from app.db.migrate import upgrade
    from app.logging import configure
    from app.main import create_app

    configure()
    require_pymap()
    settings = get_settings()
    host = host or settings.host
    port = port if port is not None else settings.port
    paths = DemoPaths.under(settings.var_dir)
    fresh = create_databases(paths, reset=reset)
    secrets = DemoSecrets.generate()
    os.environ.update(secret_environment(secrets))
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        with running_peers(secrets) as peers:
            settings = _use_connectors_file(write_connectors_file(paths, peers))
            upgrade(settings.database_url)
            echo(describe(paths, peers, fresh=fresh))
            echo(banner(host, port))
            uvicorn.run(
                create_app(settings),
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                **proxy_options(settings),
            )
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    echo("demo stopped")


def _use_connectors_file(path: Path) -> Settings:
    """Point this process's settings at the demo's connectors file."""
    os.environ["INNSYN_CONNECTORS_FILE"] = str(path)
    get_settings.cache_clear()
    return get_settings()


def describe(
    paths: DemoPaths, peers: DemoPeers, *, fresh: bool, people: Sequence[DemoPerson] = PEOPLE
) -> str:
    """What the demo holds and where (the people are made up, so they may be shown)."""
    width = max(len(p.name) for p in people)
    lines = ["Innsyn demo: every connector kind wired to made-up data", "", "Demo people:"]
    for person in people:
        known_by = f"national id {person.national_id}" if person.national_id else "e-mail only"
        lines.append(f"  {person.name:<{width}}  {person.email:<26} {known_by}")
        lines.append(f"  {'':<{width}}  {person.story}")
    kept = "created now" if fresh else "kept from an earlier run; --reset recreates them"
    lines += [
        "",
        "Connectors (GET /v1/connectors):",
        f"  crm              sql        {paths.crm_db}",
        f"  billing          invoicing  {paths.invoicing_db}",
        f"  intercom         rest       {peers.intercom_url} (chat, in memory)",
        f"  support-mailbox  imap       {peers.imap_host}:{peers.imap_port} ({MAILBOX})",
        f"  elhub            registry   {peers.elhub_url} (Elhub-style, by national id)",
        "  paper-archive    manual     a checklist for staff",
        f"  connectors file: {paths.connectors_file}",
        f"  the databases were {kept}; chat, mailbox and registry start afresh each time",
        "",
    ]
    return "\n".join(lines)
