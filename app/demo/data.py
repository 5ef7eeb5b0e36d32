"""The demo's own systems of record: a small CRM and an invoicing database (SQLite).

Both live under ``<var_dir>/demo/`` and are created once: a later start keeps them as they
are, so what an erasure removed stays removed until ``innsyn demo --reset`` recreates them.
Each database is written to a temporary file and renamed into place, so an interrupted
start never leaves half a database behind. Invoice dates are counted back from the day the
data is created, so the unpaid invoice is overdue whenever the demo runs.

E-mail columns are ``COLLATE NOCASE`` with a plain index: SQLite then matches addresses
without regard to case, through the index. (An index on ``lower(email)`` works as well, but
SQLAlchemy cannot reflect one from SQLite, so the connector's ``check()`` would call it
missing.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from app.demo.people import PEOPLE, DemoPerson

CRM_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    customer_no TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,  -- compared without case, through the index
    phone TEXT,
    address TEXT,
    newsletter BOOLEAN,            -- direct-marketing consent; NULL: never asked
    restricted BOOLEAN NOT NULL DEFAULT 0,
    created_at DATE NOT NULL
);
CREATE UNIQUE INDEX customers_email ON customers (email);
CREATE INDEX customers_phone ON customers (phone);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    order_date DATE NOT NULL,
    product TEXT NOT NULL,
    total NUMERIC NOT NULL,
    shipping_address TEXT
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    created_at DATE NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX notes_customer ON notes (customer_id);
CREATE TABLE company_contacts (    -- contact people of business customers
    id INTEGER PRIMARY KEY,
    org_number TEXT NOT NULL,      -- the company's, not personal data
    company_name TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_email TEXT NOT NULL COLLATE NOCASE,
    contact_phone TEXT,
    role TEXT,
    contract_active BOOLEAN NOT NULL
);
CREATE INDEX company_contacts_email ON company_contacts (contact_email);
"""

INVOICING_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    phone TEXT,
    billing_address TEXT
);
CREATE UNIQUE INDEX billing_customers_email ON customers (email);
CREATE INDEX billing_customers_phone ON customers (phone);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    customer_ref INTEGER NOT NULL REFERENCES customers (id),
    description TEXT NOT NULL,
    amount NUMERIC NOT NULL,
    currency TEXT NOT NULL DEFAULT 'NOK',
    issued_at DATE NOT NULL,
    due_at DATE NOT NULL,
    paid_at DATE,
    status TEXT NOT NULL          -- paid | unpaid | sent_to_collection
);
CREATE INDEX invoices_customer ON invoices (customer_ref);
"""


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo keeps its files."""

    root: Path

    @classmethod
    def under(cls, var_dir: Path) -> DemoPaths:
        return cls(root=(var_dir / "demo").resolve())

    @property
    def crm_db(self) -> Path:
        return self.root / "crm.db"

    @property
    def invoicing_db(self) -> Path:
        return self.root / "invoicing.db"

    @property
    def connectors_file(self) -> Path:
        return self.root / "connectors.yaml"

    @staticmethod
    def sqlite_url(path: Path) -> str:
        return f"sqlite+aiosqlite:///{path}"


def create_databases(
    paths: DemoPaths,
    *,
    reset: bool = False,
    today: date | None = None,
    people: Sequence[DemoPerson] = PEOPLE,
) -> bool:
    """Create the CRM and invoicing databases unless they exist; True if anything was new.

    Args:
        reset: delete the existing databases first (and with them what erasures changed).
        today: the day invoice dates are counted back from (default: today).
    """
    paths.root.mkdir(parents=True, exist_ok=True)
    day = today or date.today()
    created = False
    for path, fill in ((paths.crm_db, _fill_crm), (paths.invoicing_db, _fill_invoicing)):
        if reset:
            path.unlink(missing_ok=True)
        if path.exists():
            continue
        partial = path.with_name(path.name + ".new")
        partial.unlink(missing_ok=True)
        with closing(sqlite3.connect(partial)) as conn, conn:
            fill(conn, people, day)
        partial.replace(path)
        created = True
    return created


def _fill_crm(conn: sqlite3.Connection, people: Sequence[DemoPerson], today: date) -> None:
    conn.executescript(CRM_SCHEMA)
    order_id = note_id = contact_id = 0
    for number, person in enumerate(people, start=1):
        since = today - timedelta(days=400 + 30 * number)
        conn.execute(
            "INSERT INTO customers (id, customer_no, name, email, phone, address, newsletter,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                person.customer_no,
                person.name,
                person.email,
                person.phone,
                person.address,
                True if person.newsletter else None,
                since.isoformat(),
            ),
        )
        for product, total in person.orders:
            order_id += 1
            conn.execute(
                "INSERT INTO orders (id, customer_id, order_date, product, total,"
                " shipping_address) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    order_id,
                    number,
                    (since + timedelta(days=order_id)).isoformat(),
                    product,
                    total,
                    person.address,
                ),
            )
        for body in person.crm_notes:
            note_id += 1
            conn.execute(
                "INSERT INTO notes (id, customer_id, created_at, body) VALUES (?, ?, ?, ?)",
                (note_id, number, (today - timedelta(days=20 + note_id)).isoformat(), body),
            )
        for contact in person.company_contacts:
            contact_id += 1
            conn.execute(
                "INSERT INTO company_contacts (id, org_number, company_name, contact_name,"
                " contact_email, contact_phone, role, contract_active)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    contact_id,
                    contact.org_number,
                    contact.company,
                    person.name,
                    person.email,
                    person.phone,
                    contact.role,
                    contact.contract_active,
                ),
            )


def _fill_invoicing(conn: sqlite3.Connection, people: Sequence[DemoPerson], today: date) -> None:
    conn.executescript(INVOICING_SCHEMA)
    for number, person in enumerate(people, start=1):
        if not person.invoices:
            continue  # never invoiced: not in the invoicing system at all
        conn.execute(
            "INSERT INTO customers (id, name, email, phone, billing_address)"
            " VALUES (?, ?, ?, ?, ?)",
            (number, person.name, person.email, person.phone, person.address),
        )
        for invoice in person.invoices:
            issued = today - timedelta(days=invoice.issued_days_ago)
            paid = (
                issued + timedelta(days=invoice.paid_after_days)
                if invoice.paid_after_days is not None
                else None
            )
            conn.execute(
                "INSERT INTO invoices (id, customer_ref, description, amount, issued_at, due_at,"
                " paid_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    invoice.number,
                    number,
                    invoice.description,
                    invoice.amount,
                    issued.isoformat(),
                    (issued + timedelta(days=invoice.due_after_days)).isoformat(),
                    paid.isoformat() if paid else None,
                    invoice.status,
                ),
            )
