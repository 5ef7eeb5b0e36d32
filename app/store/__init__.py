"""Shared query helpers: the leased outbox, cursor pages, and the repositories routers use."""
