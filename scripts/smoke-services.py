#!/usr/bin/env python3
"""Smoke test for the throwaway servers of scripts/with-services.sh.

    bash scripts/with-services.sh python3 scripts/smoke-services.py

Standard library only (runs outside the venv); PostgreSQL is checked with psql.
Prints one OK line per service and exits non-zero on the first problem.
"""

import imaplib
import os
import subprocess
import sys
import time


def check_postgres() -> None:
    admin_url = os.environ["INNSYN_TEST_PG_ADMIN_URL"]
    # The app URL is SQLAlchemy's asyncpg form; psql wants the plain libpq form.
    app_url = os.environ["INNSYN_TEST_PG_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    for url in (admin_url, app_url):
        out = subprocess.run(
            [
                "psql",
                url,
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                "select current_database(), 1",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not out.endswith("|1"):
            sys.exit(f"PostgreSQL: unexpected answer {out!r} from {url}")
    print(f"PostgreSQL OK ({admin_url}, database innsyn_test present)")


def check_imap() -> None:
    host = os.environ["INNSYN_TEST_IMAP_HOST"]
    port = int(os.environ["INNSYN_TEST_IMAP_PORT"])
    users = [entry.split(":", 1) for entry in os.environ["INNSYN_TEST_IMAP_USERS"].split(",")]

    # Every user can log in and open an (empty) INBOX.
    for user, password in users:
        with imaplib.IMAP4(host, port) as imap:
            imap.login(user, password)
            typ, data = imap.select("INBOX")
            assert typ == "OK", (user, typ, data)
            imap.logout()

    # A wrong password is refused.
    with imaplib.IMAP4(host, port) as imap:
        try:
            imap.login(users[0][0], "wrong")
        except imaplib.IMAP4.error:
            pass
        else:
            sys.exit("IMAP: login with a wrong password succeeded")

    # The first user can write: APPEND, SELECT, FETCH, delete + EXPUNGE.
    user, password = users[0]
    message = (
        f"From: Smoke <smoke@example.test>\r\nTo: {user}\r\n"
        "Subject: smoke test \xe6\xf8\xe5\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHei!\r\n"
    ).encode()
    with imaplib.IMAP4(host, port) as imap:
        imap.login(user, password)
        typ, data = imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), message)
        assert typ == "OK", ("APPEND", typ, data)
        typ, data = imap.select("INBOX")
        assert typ == "OK" and int(data[0]) == 1, ("SELECT", typ, data)
        typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK" and b"smoke test" in data[0][1], ("FETCH", typ, data)
        typ, data = imap.store("1", "+FLAGS", r"(\Deleted)")
        assert typ == "OK", ("STORE", typ, data)
        typ, data = imap.expunge()
        assert typ == "OK", ("EXPUNGE", typ, data)
        typ, data = imap.select("INBOX")
        assert typ == "OK" and int(data[0]) == 0, ("SELECT after EXPUNGE", typ, data)
        imap.logout()
    print(f"IMAP OK ({host}:{port}, {len(users)} users, append/select/expunge as {user})")


if __name__ == "__main__":
    check_postgres()
    check_imap()
