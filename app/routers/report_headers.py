"""Headers for the person's answer: it holds personal data, so nothing may keep or leak it."""

from __future__ import annotations

# No caches (browsers, proxies), no Referer with the token-bearing URL, and for HTML a page
# that can load, run, embed or submit nothing: it is static, escaped text.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}
HTML_CSP = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "img-src 'none'; script-src 'none'; style-src 'none'"
)


def report_headers(*, html: bool) -> dict[str, str]:
    headers = {**NO_STORE, "X-Content-Type-Options": "nosniff"}
    if html:
        headers["Content-Security-Policy"] = HTML_CSP
    return headers
