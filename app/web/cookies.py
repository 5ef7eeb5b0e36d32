"""Signed, expiring cookie values (itsdangerous) and the flags every page cookie gets."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

SameSite = Literal["strict", "lax", "none"]


def secure(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (the proxy's scheme when it is trusted)."""
    return request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int | None,
    same_site: SameSite = "strict",
    path: str = "/",
) -> None:
    """HttpOnly always; Secure over HTTPS (and always with SameSite=None, which needs it)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        secure=secure(request) or same_site == "none",
        samesite=same_site,
    )


class SignedCookie:
    """A JSON value in a cookie, signed with a derived key and refused once older than
    ``max_age`` seconds. It is readable by its holder: never put a secret in it."""

    def __init__(self, key: bytes, name: str, *, max_age: int, salt: str) -> None:
        self.name = name
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(key, salt=salt)

    def load(self, request: Request) -> dict[str, Any] | None:
        raw = request.cookies.get(self.name)
        if not raw or len(raw) > 4096:
            return None
        try:
            value = self._serializer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return None
        return value if isinstance(value, dict) else None

    def store(
        self,
        response: Response,
        request: Request,
        value: dict[str, Any],
        *,
        same_site: SameSite = "strict",
        path: str = "/",
    ) -> None:
        encoded = self._serializer.dumps(value)
        set_cookie(
            response,
            request,
            self.name,
            encoded,
            max_age=self.max_age,
            same_site=same_site,
            path=path,
        )

    def clear(self, response: Response, path: str = "/") -> None:
        response.delete_cookie(self.name, path=path)
