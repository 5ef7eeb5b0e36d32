"""The imap connector's parsing and classification helpers, without a server."""

from __future__ import annotations

import imaplib
import ssl
from pathlib import Path

import pytest

from app.connectors.builtin.imap import ImapConnector
from app.connectors.builtin.imap_wire import (
    addresses,
    classified,
    decode_folder,
    login_error,
    parse_fetch,
    parse_list,
    quote,
)
from app.connectors.discovery import validate_connector_class
from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorPermanentError,
    ConnectorTransientError,
)
from app.connectors.loader import load_registry

EXAMPLES = Path(__file__).parents[3] / "examples" / "connectors"


def test_the_class_passes_registration() -> None:
    validate_connector_class(ImapConnector, name="imap")


async def test_example_loads_through_the_connectors_file() -> None:
    registry = load_registry(
        EXAMPLES / "imap.yaml", strict=True, environ={"SUPPORT_IMAP_PASSWORD": "pw-123456"}
    )
    [instance] = registry.active()
    assert isinstance(instance.connector, ImapConnector)
    assert [c.name for c in instance.connector.categories()] == ["email_correspondence"]
    assert "pw-123456" not in repr(instance.connector.config)
    await registry.aclose()


def test_modified_utf7_folder_names() -> None:
    assert decode_folder("S&APg-ppelpost") == "Søppelpost"
    assert decode_folder("Kunder &- leverand&APg-rer") == "Kunder & leverandører"
    assert decode_folder("INBOX") == "INBOX"
    assert decode_folder("broken &@@-") == "broken &@@-"


def test_list_answer_parsing() -> None:
    data = [
        b'(\\HasNoChildren) "/" INBOX',
        b'(\\Noselect \\HasChildren) "/" Arkiv',
        b'(\\HasNoChildren) "/" "Sent Items"',
        b'(\\HasNoChildren) "/" "a \\"quoted\\" name"',
        (b'(\\HasNoChildren) "/" {9}', b"Literal/x"),
        b'(\\NonExistent) "/" Gone',
        None,
    ]
    assert [f.raw for f in parse_list(data)] == [
        "INBOX",
        "Sent Items",
        'a "quoted" name',
        "Literal/x",
    ]


def test_fetch_answer_parsing_with_uid_before_or_after_the_literal() -> None:
    data = [
        (b"1 (UID 101 RFC822.SIZE 50 BODY[]<0> {5}", b"hello"),
        b")",
        (b"2 (RFC822.SIZE 7 BODY[]<0> {3}", b"abc"),
        b" UID 102)",
        b"3 (UID 103 FLAGS (\\Seen))",  # an unsolicited update without a literal
    ]
    assert parse_fetch(data) == {101: (50, b"hello"), 102: (7, b"abc")}


def test_addresses_are_exact_and_lower_case() -> None:
    raw = (
        b"From: =?utf-8?q?K=C3=A5ri?= <Kari@Example.com>\r\nTo: a@x.no, skari@example.com\r\n"
        b"Cc: \r\nBcc: b@y.no\r\nReply-To: c@z.no\r\n\r\nhi"
    )
    assert addresses(raw) == {"kari@example.com", "a@x.no", "skari@example.com", "b@y.no"}


def test_quote_refuses_line_breaks() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(ConnectorPermanentError):
        quote("kari@example.com\r\nA1 DELETE INBOX")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (imaplib.IMAP4.abort("socket error: EOF"), ConnectorTransientError),
        (
            imaplib.IMAP4.error("b'[NONEXISTENT] Mailbox kari doesn't exist'"),
            ConnectorPermanentError,
        ),
        (TimeoutError(), ConnectorTransientError),
        (ConnectionResetError(), ConnectorTransientError),
        (ssl.SSLCertVerificationError("self-signed"), ConnectorConfigError),
        (ssl.SSLError("WRONG_VERSION_NUMBER"), ConnectorConfigError),
    ],
)
def test_failures_are_classified_without_server_text(
    error: Exception, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as raised, classified("SELECT"):
        raise error
    assert "kari" not in str(raised.value) + getattr(raised.value, "internal_message", "")


def test_login_refusals() -> None:
    assert isinstance(
        login_error(imaplib.IMAP4.error("[AUTHENTICATIONFAILED] no")), ConnectorConfigError
    )
    assert isinstance(
        login_error(imaplib.IMAP4.error("[UNAVAILABLE] try later")), ConnectorTransientError
    )
