"""The made-up people of the demo, and what each system holds about them.

One list feeds every system (the CRM and invoicing databases, the chat tool, the mailbox and
the registry), so an access request finds the same person everywhere. Names, addresses and
phone numbers are invented; e-mail addresses are under ``example.no``. Kari's and Ola's
national identity numbers are the test numbers of the design rules (§ 7); Per's and Ingrid's
are synthetic numbers (month + 80, as in Skatteetaten's Tenor test data), which are never
given to real people. Nils is a business customer's contact person, known by e-mail only; his
company's organisation number fails the mod-11 check, so no real company has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

InvoiceStatus = Literal["paid", "unpaid", "sent_to_collection"]


@dataclass(frozen=True)
class Invoice:
    """An invoice, dated relative to the day the demo data is created."""

    number: int
    description: str
    amount: str
    issued_days_ago: int
    status: InvoiceStatus
    due_after_days: int = 14
    paid_after_days: int | None = None  # days after issue; None while unpaid


@dataclass(frozen=True)
class Mail:
    """A message in the support mailbox, from the person or to them."""

    subject: str
    body: str
    from_person: bool
    day: int  # of February 2026


@dataclass(frozen=True)
class Chat:
    title: str
    body: str


@dataclass(frozen=True)
class CompanyContact:
    """The person is the registered contact of a business customer (the CRM's B2B register)."""

    company: str
    org_number: str
    role: str
    contract_active: bool


@dataclass(frozen=True)
class DemoPerson:
    name: str
    email: str
    phone: str
    national_id: str | None  # None: not a private customer, so not in the registry
    address: str
    customer_no: str
    story: str  # one line for the console: what the demo shows with this person
    newsletter: bool = False
    orders: tuple[tuple[str, str], ...] = ()  # (product, total in NOK)
    crm_notes: tuple[str, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    chats: tuple[Chat, ...] = ()
    chat_notes: tuple[str, ...] = ()
    mails: tuple[Mail, ...] = ()
    metering_points: int = 1
    company_contacts: tuple[CompanyContact, ...] = ()


KARI = DemoPerson(
    name="Kari Nordmann",
    email="kari.nordmann@example.no",
    phone="+4741500001",
    national_id="02013299997",
    address="Eksempelgata 1, 0150 Oslo",
    customer_no="K-1001",
    story="has an unpaid invoice: an erasure keeps her invoices, name and billing address, "
    "not her e-mail and phone",
    newsletter=True,
    orders=(("Strømavtale Fastpris 12 mnd", "0.00"), ("Smart varmestyring", "1490.00")),
    crm_notes=("Ringte om fakturaen for januar; forklarte nettleien.",),
    invoices=(
        Invoice(
            10001,
            "Strøm desember",
            "1245.50",
            issued_days_ago=100,
            status="paid",
            paid_after_days=10,
        ),
        Invoice(10002, "Strøm januar", "1873.20", issued_days_ago=40, status="unpaid"),
    ),
    chats=(
        Chat("Faktura", "Hei, jeg har et spørsmål om fakturaen for januar."),
        Chat("Flytting", "Jeg flytter 1. april. Hva gjør jeg med avtalen?"),
    ),
    chat_notes=("Kunden ønsker betalingsutsettelse; sendt til økonomi.",),
    mails=(
        Mail(
            "Spørsmål om faktura",
            "Hei! Fakturaen for januar ser for høy ut. Kan dere sjekke? Mvh Kari",
            from_person=True,
            day=2,
        ),
        Mail(
            "Re: Spørsmål om faktura",
            "Hei Kari, fakturaen stemmer: januar var kald. Du kan be om betalingsutsettelse.",
            from_person=False,
            day=3,
        ),
    ),
)

OLA = DemoPerson(
    name="Ola Nordmann",
    email="ola.nordmann@example.no",
    phone="+4741500002",
    national_id="30108299920",
    address="Prøvevegen 12, 7010 Trondheim",
    customer_no="K-1002",
    story="has paid everything: an access request finds him in all six systems",
    orders=(("Strømavtale Spotpris", "0.00"),),
    crm_notes=("Ønsker faktura på e-post.",),
    invoices=(
        Invoice(
            10003, "Strøm desember", "980.00", issued_days_ago=95, status="paid", paid_after_days=12
        ),
        Invoice(
            10004, "Strøm januar", "1120.40", issued_days_ago=35, status="paid", paid_after_days=9
        ),
    ),
    chats=(Chat("Måler", "Måleren på hytta viser feil, kan dere se på det?"),),
    mails=(
        Mail(
            "Faktura på e-post",
            "Hei, jeg vil gjerne ha fakturaene på e-post. Hilsen Ola",
            from_person=True,
            day=4,
        ),
    ),
    metering_points=2,
)

PER = DemoPerson(
    name="Per Hansen",
    email="per.hansen@example.no",
    phone="+4741500003",
    national_id="15857510027",
    address="Testveien 7, 5003 Bergen",
    customer_no="K-1003",
    story="has an invoice sent to debt collection (inkasso)",
    orders=(("Strømavtale Fastpris 36 mnd", "0.00"),),
    invoices=(
        Invoice(
            10005, "Strøm oktober", "2310.00", issued_days_ago=150, status="sent_to_collection"
        ),
    ),
    chats=(Chat("Inkasso", "Jeg har fått brev fra inkassobyrået. Kan vi lage en avtale?"),),
    mails=(
        Mail(
            "Purring",
            "Hei Per, vi minner om fakturaen for oktober som ikke er betalt.",
            from_person=False,
            day=5,
        ),
    ),
)

INGRID = DemoPerson(
    name="Ingrid Berg",
    email="ingrid.berg@example.no",
    phone="+4741500004",
    national_id="04889110150",
    address="Demogata 3, 9008 Tromsø",
    customer_no="K-1004",
    story="gets the newsletter and has no invoices: try an objection to direct marketing",
    newsletter=True,
    chats=(Chat("Nyhetsbrev", "Hvor ofte kommer nyhetsbrevet?"),),
    mails=(
        Mail(
            "Nyhetsbrev",
            "Hei, jeg vil gjerne ha nyhetsbrevet deres. Ingrid",
            from_person=True,
            day=6,
        ),
    ),
)

NILS = DemoPerson(
    name="Nils Berg",
    email="nils.berg@example.no",
    phone="+4741500005",
    national_id=None,
    address="Kaigaten 4, 5015 Bergen",
    customer_no="K-1005",
    story="is a business customer's contact person: an erasure keeps that role, erases the rest",
    newsletter=True,
    crm_notes=("Ringte for Fjordlys Elektro AS om ny måler på lageret.",),
    company_contacts=(
        CompanyContact(
            "Fjordlys Elektro AS", "999888777", role="daglig leder", contract_active=True
        ),
    ),
)

PEOPLE: tuple[DemoPerson, ...] = (KARI, OLA, PER, INGRID, NILS)
