"""The connectors that ship with Innsyn, registered in the ``innsyn.connectors`` entry-point
group like any third-party connector: sql, rest, imap, invoicing, registry, manual."""
