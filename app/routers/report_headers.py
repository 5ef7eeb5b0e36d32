"""Headers for the person's answer: it holds personal data, so nothing may keep or leak it."""

from __future__ import annotations

from app.services.report_formats import STYLE_SRC

# No caches (browsers, proxies), no Referer with the token-bearing URL, and for HTML a page
# that can load, run, embed or submit nothing but its own style sheet: it is static text.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}
HTML_CSP = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    f"img-src 'none'; script-src 'none'; style-src {STYLE_SRC}"
)


def report_headers(*, html: bool, filename: str | None = None) -> dict[str, str]:
    headers = {**NO_STORE, "X-Content-Type-Options": "nosniff"}
    if html:
        headers["Content-Security-Policy"] = HTML_CSP
    if filename is not None:
        disposition = "inline" if html else "attachment"
        headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return headers
