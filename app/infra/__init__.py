"""Adapters to the world outside the database: outgoing mail, outbound HTTP to configured
URLs (safe from SSRF), and encryption at rest. No use case lives here; services call these."""
