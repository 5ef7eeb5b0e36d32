"""HTTP only: parse, authorise, call a service, return. Errors become problem+json."""
