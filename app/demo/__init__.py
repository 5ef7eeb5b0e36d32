"""The demo behind ``make run``: made-up people in every kind of system Innsyn reaches.

``innsyn demo`` creates a small CRM and an invoicing database (SQLite, under
``<var_dir>/demo/``), starts loopback stand-ins for a chat tool, a mailbox and an
Elhub-style registry seeded with the same people, writes a connectors file wiring all six
built-in connector kinds to them, and serves the API. Everything here is fictional.
"""
