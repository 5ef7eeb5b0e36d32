"""The demo's databases and connectors file, without starting anything."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from app.connectors.loader import read_file
from app.demo import peers
from app.demo.config import render
from app.demo.data import DemoPaths, create_databases
from app.demo.people import PEOPLE

TODAY = date(2026, 3, 2)


def count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_created_once_then_kept_and_recreated_on_reset(tmp_path: Path) -> None:
    paths = DemoPaths.under(tmp_path / "var")
    assert create_databases(paths, today=TODAY) is True
    assert count(paths.crm_db, "customers") == len(PEOPLE)
    invoiced = sum(1 for p in PEOPLE if p.invoices)
    assert count(paths.invoicing_db, "customers") == invoiced
    with closing(sqlite3.connect(paths.crm_db)) as conn, conn:
        conn.execute("DELETE FROM notes")  # what an erasure might leave behind

    assert create_databases(paths, today=TODAY) is False
    assert count(paths.crm_db, "customers") == len(PEOPLE)
    assert count(paths.crm_db, "notes") == 0

    assert create_databases(paths, reset=True, today=TODAY) is True
    assert count(paths.crm_db, "notes") == sum(len(p.crm_notes) for p in PEOPLE)
    assert list(paths.root.glob("*.new")) == []


def test_kari_owes_money_ola_owes_nothing(tmp_path: Path) -> None:
    paths = DemoPaths.under(tmp_path)
    create_databases(paths, today=TODAY)
    query = (
        "SELECT c.email, i.status, i.due_at, i.paid_at FROM invoices i"
        " JOIN customers c ON c.id = i.customer_ref ORDER BY i.id"
    )
    with closing(sqlite3.connect(paths.invoicing_db)) as conn:
        rows = conn.execute(query).fetchall()
    unpaid = [(email, due) for email, status, due, paid in rows if paid is None]
    assert unpaid == [
        ("kari.nordmann@example.no", "2026-02-04"),
        ("per.hansen@example.no", "2025-10-17"),
    ]
    assert {status for email, status, _, _ in rows if email == "ola.nordmann@example.no"} == {
        "paid"
    }


def test_connectors_file_names_secrets_only_as_variables(tmp_path: Path) -> None:
    values: dict[str, str | int] = {
        "crm_url": "sqlite+aiosqlite:////tmp/a #b: c/crm.db",
        "billing_url": "sqlite+aiosqlite:////tmp/billing.db",
        "intercom_url": "http://127.0.0.1:1",
        "imap_host": "127.0.0.1",
        "imap_port": 2,
        "imap_user": peers.MAILBOX,
        "elhub_url": "http://127.0.0.1:3",
    }
    target = tmp_path / "connectors.yaml"
    target.write_text(render(values))
    entries = read_file(target)
    assert [e["kind"] for e in entries] == [
        "sql",
        "invoicing",
        "rest",
        "imap",
        "registry",
        "manual",
    ]
    assert entries[0]["config"]["url"] == values["crm_url"]
    assert entries[3]["config"]["port"] == 2
    assert entries[3]["config"]["password"] == "${DEMO_IMAP_PASSWORD}"
    assert entries[2]["config"]["auth"]["token"] == "${DEMO_INTERCOM_TOKEN}"
    with pytest.raises(ValueError, match="template places"):
        render({k: v for k, v in values.items() if k != "elhub_url"})


def test_missing_demo_packages_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers, "find_spec", lambda _name: None)
    with pytest.raises(peers.DemoUnavailable, match=r"bash scripts/bootstrap\.sh"):
        peers.require_pymap()
