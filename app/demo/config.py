"""The demo's connectors file: all six built-in kinds, wired to the demo's systems.

It is an ordinary connectors file (``INNSYN_CONNECTORS_FILE``), written on every start
because the loopback services get new ports. It shows the pattern for credentials: the
file names environment variables (``${DEMO_INTERCOM_TOKEN}``) and the process that runs
Innsyn sets them; the secrets themselves are never written to disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.demo.data import DemoPaths
from app.demo.peers import MAILBOX, DemoPeers, DemoSecrets

ENV_INTERCOM_TOKEN = "DEMO_INTERCOM_TOKEN"
ENV_ELHUB_TOKEN = "DEMO_ELHUB_TOKEN"
ENV_IMAP_PASSWORD = "DEMO_IMAP_PASSWORD"

# Short items: closing the task answers each one by its text.
PAPER_COLLECT_CHECKLIST = ["binders searched", "pages scanned", "archive locked"]
PAPER_ERASE_CHECKLIST = ["binders searched", "pages shredded", "archive locked"]

_HEADER = """\
# Written by `innsyn demo` on every start (the loopback services get new ports).
# Credentials are not in this file: ${VAR} is read from the environment of the process
# that runs Innsyn (here, `innsyn demo` sets them). Every person in the data is made up.
"""


def secret_environment(secrets: DemoSecrets) -> dict[str, str]:
    """The environment variables the connectors file reads its credentials from."""
    return {
        ENV_INTERCOM_TOKEN: secrets.intercom_token,
        ENV_ELHUB_TOKEN: secrets.elhub_token,
        ENV_IMAP_PASSWORD: secrets.imap_password,
    }


def write_connectors_file(paths: DemoPaths, peers: DemoPeers) -> Path:
    """Write ``<var_dir>/demo/connectors.yaml`` for the running services; returns its path."""
    document = {"connectors": connectors(paths, peers)}
    text = _HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    paths.connectors_file.parent.mkdir(parents=True, exist_ok=True)
    partial = paths.connectors_file.with_name(paths.connectors_file.name + ".new")
    partial.write_text(text, encoding="utf-8")
    partial.replace(paths.connectors_file)
    return paths.connectors_file


def connectors(paths: DemoPaths, peers: DemoPeers) -> list[dict[str, Any]]:
    """The six instances, in the order a person reads them in an answer."""
    return [
        {"name": "crm", "kind": "sql", "config": crm_config(paths)},
        {"name": "billing", "kind": "invoicing", "config": billing_config(paths)},
        {"name": "intercom", "kind": "rest", "config": chat_config(peers.intercom_url)},
        {
            "name": "support-mailbox",
            "kind": "imap",
            "config": mailbox_config(peers.imap_host, peers.imap_port),
        },
        {"name": "elhub", "kind": "registry", "config": registry_config(peers.elhub_url)},
        {"name": "paper-archive", "kind": "manual", "config": paper_archive_config()},
    ]


def _category(name: str, description: str, purpose: str, basis: str, retention: str,
              **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "name": name,
        "description": description,
        "purpose": purpose,
        "legal_basis": basis,
        "retention": retention,
        **extra,
    }


CONTRACT = "GDPR 6(1)(b) contract"


def crm_config(paths: DemoPaths) -> dict[str, Any]:
    """The CRM: customers with their orders and support notes, and the newsletter flag."""
    return {
        "url": DemoPaths.sqlite_url(paths.crm_db),
        "categories": [
            _category("contact", "Name, e-mail, phone and address", "Customer relationship",
                      CONTRACT, "3.5 years after the customer relationship ends"),
            _category("orders", "Orders and delivery addresses", "Delivering what you ordered",
                      CONTRACT, "3.5 years after the end of the financial year"),
            _category("support_notes", "Notes from customer service", "Customer support",
                      "GDPR 6(1)(f) legitimate interest", "2 years",
                      source="our customer service staff", provided_by_subject=False),
            _category("marketing", "Newsletter consent", "Direct marketing",
                      "GDPR 6(1)(a) consent", "until consent is withdrawn", marketing=True,
                      consent_based=True),
        ],  # fmt: skip
        "tables": [
            {
                "name": "customers",
                "category": "contact",
                "match": {
                    "email": "email",  # COLLATE NOCASE in the schema: case is ignored
                    "phone": "phone",
                    "customer_id": "customer_no",
                },
                "columns": [
                    {"name": "email", "erase": "anonymise",
                     "anonymise_with": "anonymised-{random}"},
                    {"name": "name", "erase": "anonymise", "anonymise_with": "anonymised"},
                    "customer_no",
                    "phone",
                    "address",
                    "created_at",
                    {"name": "newsletter", "category": "marketing", "erase": "null"},
                ],  # fmt: skip
            },
            {
                "name": "orders",
                "category": "orders",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["order_date", "product", "total", "shipping_address"],
            },
            {
                "name": "notes",
                "category": "support_notes",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["created_at", "body"],
            },
        ],
        "rectify": {
            "email": "customers.email",
            "phone": "customers.phone",
            "name": "customers.name",
            "address": "customers.address",
        },
        "restriction": [{"table": "customers", "column": "restricted"}],
    }


def billing_config(paths: DemoPaths) -> dict[str, Any]:
    """Invoicing: invoices and billing details; unpaid or collected invoices raise holds."""
    return {
        "url": DemoPaths.sqlite_url(paths.invoicing_db),
        "invoices": {"columns": ["currency", "description"]},
        "customers": {
            "match": {"email": "email", "phone": "phone"},  # e-mail: COLLATE NOCASE
            "columns": ["name", "email", "phone", "billing_address"],
        },
    }


def chat_config(base_url: str) -> dict[str, Any]:
    """The Intercom-style chat tool, as in examples/connectors/intercom.yaml."""
    processor = ["Intercom R&D Unlimited Company (processor)"]
    return {
        "base_url": base_url,
        "auth": {"type": "bearer", "token": "${" + ENV_INTERCOM_TOKEN + "}"},
        "headers": {"Accept": "application/json", "Intercom-Version": "2.11"},
        "check": {"method": "GET", "path": "/me"},
        "categories": [
            _category("chat_contact", "The contact in the chat tool (name, e-mail, phone)",
                      "Customer service over chat", CONTRACT,
                      "5 years after the last conversation", recipients=processor) | {
                "search": {
                    "method": "POST",
                    "path": "/contacts/search",
                    "body": {"query": {"field": "email", "operator": "=", "value": "{email}"},
                             "pagination": {"per_page": 50}},
                },
                "paging": {"type": "cursor", "cursor_path": "pages.next.starting_after",
                           "param": "pagination.starting_after", "location": "body"},
                "items_path": "data",
                "fields": {"email": "email", "name": "name", "phone": "phone",
                           "created_at": "created_at"},
                "erase": {"method": "POST", "path": "/user_delete_requests",
                          "body": {"intercom_user_id": "{id}"}},
                "rectify": {"method": "PUT", "path": "/contacts/{id}",
                            "fields": {"name": "name", "phone": "phone", "email": "email"}},
            },
            _category("chat_conversations", "Chat conversations with customer service",
                      "Customer service over chat", CONTRACT, "5 years after the conversation",
                      recipients=processor) | {
                "parent": "chat_contact",
                "search": {"path": "/contacts/{parent_id}/conversations",
                           "params": {"per_page": "50"}},
                "paging": {"type": "cursor", "cursor_path": "pages.next.starting_after",
                           "param": "starting_after"},
                "items_path": "conversations",
                "fields": {"created_at": "created_at", "title": "title", "state": "state",
                           "body": "source.body"},
                "erased_with_parent": True,
            },
            _category("chat_notes", "Notes our staff wrote about the contact",
                      "Customer service follow-up", "GDPR 6(1)(f) legitimate interest",
                      "5 years after the last conversation", recipients=processor,
                      source="our customer service staff", provided_by_subject=False) | {
                "parent": "chat_contact",
                "search": {"path": "/contacts/{parent_id}/notes", "params": {"per_page": "50"}},
                "paging": {"type": "page", "param": "page", "total_pages_path": "pages.total_pages"},
                "items_path": "data",
                "fields": {"created_at": "created_at", "body": "body"},
                "erased_with_parent": True,
            },
        ],
    }  # fmt: skip


def mailbox_config(host: str, port: int) -> dict[str, Any]:
    """The shared support mailbox (plain IMAP: the server is on loopback)."""
    return {
        "host": host,
        "port": port,
        "security": "none",
        "username": MAILBOX,
        "password": "${" + ENV_IMAP_PASSWORD + "}",
        "category": _category(
            "email_correspondence",
            "E-mails you sent to customer service or received from it",
            "Answering and documenting customer enquiries",
            "GDPR 6(1)(f) legitimate interest in handling customer enquiries",
            "2 years after the enquiry is closed",
            source="you and our customer service staff",
        ),
    }


def registry_config(base_url: str) -> dict[str, Any]:
    """The Elhub-style registry: finds people by national identity number only."""
    return {
        "base_url": base_url,
        "token": "${" + ENV_ELHUB_TOKEN + "}",
        "controller": "Elhub",
    }


def paper_archive_config() -> dict[str, Any]:
    """Signed contracts in a locked archive: every action is a checklist for a person."""
    return {
        "system": "Paper archive, Oslo office (locked cabinet)",
        "categories": [
            _category("paper_contracts", "Signed paper contracts and letters",
                      "Documenting agreements made on paper", CONTRACT,
                      "10 years after the customer relationship ends"),
        ],  # fmt: skip
        "instructions": "Search the customer binders under the person's name and customer "
        "number (the key is at reception), scan every page found for the answer to the "
        "person, and lock the archive again.",
        "checklist": PAPER_COLLECT_CHECKLIST,
        "actions": {
            "erase": {
                "instructions": "Search the customer binders under the person's name and "
                "customer number (the key is at reception), shred the pages in the locked "
                "shredding bin, never the open paper recycling, and lock the archive again.",
                "checklist": PAPER_ERASE_CHECKLIST,
            },
        },
    }
