"""Outgoing mail to the data subject: SMTP when configured, otherwise a local outbox folder."""

from __future__ import annotations

import asyncio
import email.utils
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlparse

from app.domain.letters import Letter
from app.files import private_dir, write_private
from app.ids import new_id


class Mailer:
    """Sends a letter to one address. Addresses are never logged."""

    def __init__(self, *, sender: str, smtp_url: str | None, outbox: Path) -> None:
        self.sender = sender
        self.smtp_url = smtp_url
        self.outbox = outbox

    def _message(self, to: str, letter: Letter, message_id: str | None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = letter.subject
        # RFC 5322 requires Date. Message-ID lets replies and bounces point to this letter; the
        # outbox passes the same one when it sends a letter again, so a repeat can be told.
        message["Date"] = email.utils.format_datetime(datetime.now(UTC))
        domain = self.sender.rpartition("@")[2] or "innsyn.invalid"
        message["Message-ID"] = message_id or email.utils.make_msgid(domain=domain)
        message.set_content(letter.body)
        return message

    async def send(self, to: str, letter: Letter, *, message_id: str | None = None) -> None:
        """Send now. ``message_id`` stays the same when a letter is sent again after a crash,
        so the receiving side can tell a repeat."""
        message = self._message(to, letter, message_id)
        if self.smtp_url:
            await asyncio.to_thread(self._send_smtp, message)
        else:
            await asyncio.to_thread(self._write_outbox, message)

    def _send_smtp(self, message: EmailMessage) -> None:
        url = urlparse(str(self.smtp_url))
        smtp_cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_cls(url.hostname or "localhost", url.port or 25, timeout=10) as smtp:
            if url.scheme == "smtp+starttls":
                smtp.starttls()
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)

    def _write_outbox(self, message: EmailMessage) -> None:
        private_dir(self.outbox)
        write_private(self.outbox / f"{new_id('mail')}.eml", message.as_bytes())

    def purge_outbox(self, *, older_than: datetime) -> int:
        """Delete outbox letters written before ``older_than``: they hold codes and names."""
        if not self.outbox.is_dir():
            return 0
        cutoff = older_than.timestamp()
        purged = 0
        for path in self.outbox.glob("*.eml"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    purged += 1
            except FileNotFoundError:  # another replica purged it first
                continue
        return purged
