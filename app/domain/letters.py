"""The words the person receives, in Norwegian (nb) or English (en). Pure text, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.refusals import REASONS, RefusalReason

_COMPLAINT = {
    "nb": (
        "Du kan klage til Datatilsynet (www.datatilsynet.no, postboks 458 Sentrum, 0105 Oslo), "
        "og du kan bringe saken inn for domstolene."
    ),
    "en": (
        "You may lodge a complaint with the Norwegian Data Protection Authority, Datatilsynet "
        "(www.datatilsynet.no), and you may take the matter to court."
    ),
}


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def verification_code(language: str, code: str, minutes: int) -> Letter:
    if language == "en":
        return Letter(
            "Confirm your privacy request",
            f"Your confirmation code is {code}. It is valid for {minutes} minutes.\n"
            "If you did not make a request, you can ignore this message.",
        )
    return Letter(
        "Bekreft forespørselen din om personopplysninger",
        f"Koden din er {code}. Den gjelder i {minutes} minutter.\n"
        "Hvis du ikke har sendt en forespørsel, kan du se bort fra denne meldingen.",
    )


def acknowledgement(language: str, request_id: str, due: date) -> Letter:
    if language == "en":
        return Letter(
            "We have received your privacy request",
            f"Reference {request_id}. We will answer without undue delay and at the latest "
            f"by {due.isoformat()}.",
        )
    return Letter(
        "Vi har mottatt forespørselen din",
        f"Referanse {request_id}. Vi svarer uten ugrunnet opphold og senest {due.isoformat()}.",
    )


def stronger_identity(language: str, request_id: str, systems: list[str]) -> Letter:
    """Some systems need a stronger proof than the person gave: say which, and how to give it."""
    names = ", ".join(systems)
    if language == "en":
        return Letter(
            "Confirm your identity to include all our systems",
            f"Reference {request_id}. We are handling your request. Some of our systems "
            f"({names}) may only be searched when you have confirmed your national identity "
            "number. Log in with the identity provider on our privacy page, where you made the "
            "request, to include them; you can also contact us and we will check your identity "
            "another way. Until then, we handle your request in our other systems.",
        )
    return Letter(
        "Bekreft identiteten din for å få med alle systemene våre",
        f"Referanse {request_id}. Vi behandler forespørselen din. I noen av systemene våre "
        f"({names}) kan vi bare søke når du har bekreftet fødselsnummeret ditt. Logg inn med "
        "ID-porten på personvernsiden vår, der du sendte forespørselen, for å få dem med. Du "
        "kan også kontakte oss, så bekrefter vi identiteten din på en annen måte. Inntil da "
        "behandler vi forespørselen i de andre systemene våre.",
    )


def extension(language: str, request_id: str, months: int, reason: str, due: date) -> Letter:
    """Art. 12(3): the person is told of an extension, with reasons, within the first month."""
    if language == "en":
        return Letter(
            "We need more time to answer your request",
            f"Reference {request_id}. Because {reason}, we extend the time limit by {months} "
            f"month(s) under GDPR Art. 12(3). You will have our answer by {due.isoformat()}.",
        )
    return Letter(
        "Vi trenger mer tid til å svare",
        f"Referanse {request_id}. Fordi {reason}, forlenger vi fristen med {months} måned(er) "
        f"etter personvernforordningen art. 12(3). Du får svar senest {due.isoformat()}.",
    )


def refusal(language: str, request_id: str, code: RefusalReason, explanation: str) -> Letter:
    """Art. 12(4) and pol. § 16(2): reasons, the precise legal reference, and remedies."""
    reason = REASONS[code]
    lang = "en" if language == "en" else "nb"
    if lang == "en":
        head = f"Reference {request_id}. We cannot carry out your request."
        ref = f"Legal basis: {reason.legal_reference}."
        title = "Answer to your privacy request"
    else:
        head = f"Referanse {request_id}. Vi kan ikke imøtekomme forespørselen din."
        ref = f"Rettslig grunnlag: {reason.legal_reference}."
        title = "Svar på forespørselen din om personopplysninger"
    text = reason.en if lang == "en" else reason.nb
    return Letter(title, "\n\n".join([head, text, explanation, ref, _COMPLAINT[lang]]))


@dataclass(frozen=True)
class KeptData:
    """One system's categories kept under a legal basis (for the completion letter)."""

    system: str
    categories: tuple[str, ...]
    explanation: str
    law: str
    until: date | None


def completion(
    language: str,
    request_id: str,
    kind: str,
    kept: list[KeptData],
    download: str | None,
    not_searched: list[str] | None = None,
) -> Letter:
    """The answer: done, what was kept and why (Art. 15(1)(d), 12(4), D9), and remedies."""
    en = language == "en"
    lines = [
        f"Reference {request_id}. We have completed your request ({kind})."
        if en
        else f"Referanse {request_id}. Vi har behandlet forespørselen din ({kind})."
    ]
    if download:
        lines.append(
            f"You can download your data at {download}?token=<the status token you received "
            "when you made the request>."
            if en
            else f"Du kan laste ned opplysningene dine på {download}?token=<statuskoden du fikk "
            "da du sendte forespørselen>."
        )
    if not_searched:
        names = ", ".join(not_searched)
        lines.append(
            f"We have not included {names}: there we may only search once you have confirmed "
            "your national identity number. Make a new request and log in with the identity "
            "provider if you want it included."
            if en
            else f"Vi har ikke tatt med {names}: der kan vi bare søke når du har bekreftet "
            "fødselsnummeret ditt. Send en ny forespørsel og logg inn med ID-porten hvis du vil "
            "ha det med."
        )
    if kept:
        lines.append(
            "Some data is kept because the law requires it or allows it:"
            if en
            else "Noen opplysninger beholder vi fordi loven krever eller tillater det:"
        )
        for item in kept:
            if item.until is not None:
                until = f"until {item.until.isoformat()}" if en else f"til {item.until.isoformat()}"
            else:
                until = "while the basis applies" if en else "så lenge grunnlaget gjelder"
            lines.append(
                f"- {item.system}: {', '.join(item.categories)} — {item.explanation} "
                f"({item.law}; {until})"
            )
        lines.append(_COMPLAINT["en" if en else "nb"])
    return Letter(
        "Your request is completed" if en else "Forespørselen din er behandlet",
        "\n\n".join(lines),
    )


def objection_decision(language: str, request_id: str, upheld: bool, grounds: str) -> Letter:
    """Art. 21(1): the controller stops, or demonstrates compelling legitimate grounds."""
    en = language == "en"
    if upheld:
        text = (
            f"Reference {request_id}. We have upheld your objection and stop the processing."
            if en
            else f"Referanse {request_id}. Vi tar protesten din til følge og stanser behandlingen."
        )
        return Letter("Your objection" if en else "Protesten din", f"{text}\n\n{grounds}")
    text = (
        f"Reference {request_id}. We continue the processing because of compelling legitimate "
        "grounds that override your interests (GDPR Art. 21(1)):"
        if en
        else f"Referanse {request_id}. Vi fortsetter behandlingen fordi vi har tvingende "
        "berettigede grunner som går foran dine interesser (personvernforordningen art. 21(1)):"
    )
    return Letter(
        "Your objection" if en else "Protesten din",
        "\n\n".join([text, grounds, _COMPLAINT["en" if en else "nb"]]),
    )


def restriction_lift(language: str, request_id: str, reason: str, effective: date) -> Letter:
    """Art. 18(3): the person is told before a restriction they obtained is lifted."""
    en = language == "en"
    text = (
        f"Reference {request_id}. You asked us to restrict the processing of your data. We "
        f"will lift that restriction on {effective.isoformat()}, for this reason:"
        if en
        else f"Referanse {request_id}. Du ba oss begrense behandlingen av opplysningene dine. "
        f"Vi opphever begrensningen {effective.isoformat()}, av denne grunnen:"
    )
    after = (
        "Until then the data is only stored. If you disagree, contact us before that date."
        if en
        else "Fram til da blir opplysningene bare lagret. Er du uenig, ta kontakt før den datoen."
    )
    return Letter(
        "We will lift the restriction" if en else "Vi opphever begrensningen",
        "\n\n".join([text, reason, after, _COMPLAINT["en" if en else "nb"]]),
    )
