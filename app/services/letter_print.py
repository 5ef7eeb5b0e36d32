"""A letter for the post: the same words as the e-mail would carry, as a page and a PDF."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.domain.letters import Letter

_ENV = Environment(
    loader=PackageLoader("app.domain", "templates/print"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),  # the letter's text is text, never markup
)


def html(letter: Letter, language: str) -> str:
    paragraphs = [p.split("\n") for p in letter.body.strip().split("\n\n") if p.strip()]
    return _ENV.get_template("letter.html").render(
        language=language, subject=letter.subject, paragraphs=paragraphs
    )


def pdf(letter: Letter, language: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy: only for a PDF

    document: bytes = HTML(string=html(letter, language), base_url=None).write_pdf()
    return document
