"""Small, real stand-ins for the systems the built-in connectors talk to.

Each peer speaks the wire format of a kind of system (an Intercom-style chat API, a
HubSpot-style CRM, an IMAP mailbox, an Elhub-style registry) on a loopback port, with
in-memory data seeded by the caller. Connector tests run against them, and the demo
(``make run``) points its connectors at them, so what the demo shows is what the tests
prove. A package of its own, installed for development: it is not part of the service.
"""
