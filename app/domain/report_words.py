"""The words of the answer (Art. 15 report) in Norwegian and English: headings, field
labels, the rights and how to use them. Pure data, no I/O."""

from __future__ import annotations

from app.domain.letter_words import lang

# Record fields the built-in connectors and the demo return. A connector can label its own
# (``labels`` on a category); any other field is shown with spaces for underscores.
FIELDS: dict[str, tuple[str, str]] = {
    "email": ("E-post", "E-mail"),
    "name": ("Navn", "Name"),
    "phone": ("Telefon", "Phone"),
    "address": ("Adresse", "Address"),
    "customer_no": ("Kundenummer", "Customer number"),
    "created_at": ("Opprettet", "Created"),
    "updated_at": ("Endret", "Changed"),
    "newsletter": ("Nyhetsbrev", "Newsletter"),
    "order_date": ("Bestillingsdato", "Order date"),
    "product": ("Produkt", "Product"),
    "total": ("Beløp", "Amount"),
    "amount": ("Beløp", "Amount"),
    "shipping_address": ("Leveringsadresse", "Delivery address"),
    "billing_address": ("Fakturaadresse", "Billing address"),
    "body": ("Tekst", "Text"),
    "note": ("Notat", "Note"),
    "company_name": ("Firma", "Company"),
    "contact_name": ("Kontaktperson", "Contact person"),
    "contact_email": ("E-post", "E-mail"),
    "contact_phone": ("Telefon", "Phone"),
    "role": ("Rolle", "Role"),
    "currency": ("Valuta", "Currency"),
    "description": ("Beskrivelse", "Description"),
    "title": ("Tittel", "Title"),
    "state": ("Status", "State"),
    "status": ("Status", "Status"),
    "subject": ("Emne", "Subject"),
    "from": ("Fra", "From"),
    "to": ("Til", "To"),
    "cc": ("Kopi til", "Copy to"),
    "date": ("Dato", "Date"),
    "sent_at": ("Sendt", "Sent"),
    "attachments": ("Vedlegg", "Attachments"),
    "national_id": ("Fødselsnummer", "National identity number"),
    "invoice_no": ("Fakturanummer", "Invoice number"),
    "invoice_number": ("Fakturanummer", "Invoice number"),
    "issued_at": ("Fakturadato", "Invoice date"),
    "issue_date": ("Fakturadato", "Invoice date"),
    "due_date": ("Forfallsdato", "Due date"),
    "due_at": ("Forfallsdato", "Due date"),
    "paid_at": ("Betalt", "Paid"),
    "paid": ("Betalt", "Paid"),
    "collection": ("Sendt til inkasso", "Sent to debt collection"),
    "gsrn": ("Målepunkt-ID", "Metering point ID"),
    "grid_owner": ("Nettselskap", "Grid company"),
    "postal_address": ("Postadresse", "Postal address"),
    "invoice_address": ("Fakturaadresse", "Invoice address"),
    "birth_date": ("Fødselsdato", "Date of birth"),
    "text": ("Tekst", "Text"),
}

# Art. 15(1)(a)-(h) and 15(2): the headings the answer gives every fact under.
ARTICLE: dict[str, tuple[str, str]] = {
    "a": ("Hvorfor vi behandler opplysningene (formål)", "Why we process the data (purposes)"),
    "b": ("Hvilke opplysninger vi har (kategorier)", "What data we hold (categories)"),
    "c": ("Hvem vi deler opplysningene med (mottakere)", "Who we share the data with (recipients)"),
    "d": ("Hvor lenge vi lagrer opplysningene", "How long we keep the data"),
    "e": (
        "Retten til retting, sletting, begrensning og protest",
        "Your right to rectification, erasure, restriction and objection",
    ),
    "f": ("Retten til å klage til Datatilsynet", "Your right to complain to Datatilsynet"),
    "g": ("Hvor opplysningene kommer fra (kilde)", "Where the data comes from (source)"),
    "h": (
        "Automatiserte avgjørelser og profilering",
        "Automated decisions and profiling",
    ),
    "2": ("Overføring til land utenfor EØS", "Transfers to countries outside the EEA"),
}
LAW = {"nb": "personvernforordningen artikkel 15", "en": "GDPR Article 15"}

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Dine personopplysninger", "Your personal data"),
    "controller": ("Behandlingsansvarlig", "Controller"),
    "dpo": ("Personvernombud", "Data protection officer"),
    "contact": ("Kontakt", "Contact"),
    "received": ("Forespørselen kom inn", "Request received"),
    "answered": ("Besvart", "Answered"),
    "confirmation_yes": (
        "Ja, vi behandler personopplysninger om deg. Her er alt vi fant, system for system, og "
        "det loven krever at vi forteller deg.",
        "Yes, we process personal data about you. Here is everything we found, system by "
        "system, and what the law requires us to tell you.",
    ),
    "confirmation_no": (
        "Vi fant ingen personopplysninger om deg i systemene våre.",
        "We found no personal data about you in our systems.",
    ),
    "summary": ("Det loven krever at vi forteller deg", "What the law requires us to tell you"),
    "data": ("Opplysningene vi har om deg", "The data we hold about you"),
    "records": ("Oppføringer", "Records"),
    "record": ("Oppføring", "Record"),
    "field": ("Felt", "Field"),
    "value": ("Verdi", "Value"),
    "none_found": ("Ingen opplysninger funnet.", "No data found."),
    "no_recipients": ("Vi deler ikke disse opplysningene.", "We do not share this data."),
    "no_transfers": (
        "Opplysningene lagres og behandles bare innenfor EØS.",
        "The data is stored and processed only within the EEA.",
    ),
    "not_declared": (
        "Ikke oppgitt. Kontakt oss, så svarer vi.",
        "Not stated. Contact us and we will answer.",
    ),
    "safeguard": ("Overføringsgrunnlag", "Safeguard"),
    "country": ("Land", "Country"),
    "recipient": ("Mottaker", "Recipient"),
    "kept": ("Det vi må beholde etter lov", "What the law requires us to keep"),
    "kept_until": ("til og med", "until"),
    "kept_open": ("så lenge vilkåret gjelder", "as long as the condition applies"),
    "external": (
        "Dette systemet styres av {who}, som er selvstendig behandlingsansvarlig. Se også: {url}",
        "This system is run by {who}, an independent controller. See also: {url}",
    ),
    "redacted": (
        "Skjult for å verne andres rettigheter (artikkel 15 nr. 4)",
        "Hidden to protect the rights of others (Article 15(4))",
    ),
    "cut": (
        "Teksten er forkortet her; hele teksten ligger som fil i zip-nedlastingen.",
        "The text is shortened here; the full text is a file in the zip download.",
    ),
    "attachments": ("Vedlegg", "Attachments"),
    "in_zip": ("ligger som fil i zip-nedlastingen", "is a file in the zip download"),
    "name_only": ("bare navnet er tatt med", "only the name is included"),
    "file_right": ("Be om dette", "Ask for this"),
    "main": ("Svar på innsynsbegjæringen", "Answer to your access request"),
    "downloads": ("Last ned", "Download"),
}

RIGHTS: list[tuple[str, tuple[str, str], tuple[str, str]]] = [
    (
        "rectification",
        ("Retting (artikkel 16)", "Rectification (Article 16)"),
        (
            "Er noe feil, kan du be oss rette det.",
            "If something is wrong, you can ask us to correct it.",
        ),
    ),
    (
        "erasure",
        ("Sletting (artikkel 17)", "Erasure (Article 17)"),
        (
            "Du kan be oss slette opplysningene, med mindre loven krever at vi beholder dem.",
            "You can ask us to erase the data, unless the law requires us to keep it.",
        ),
    ),
    (
        "restriction",
        ("Begrensning (artikkel 18)", "Restriction (Article 18)"),
        (
            "Du kan be oss bare lagre opplysningene, ikke bruke dem, mens noe avklares.",
            "You can ask us only to store the data, not use it, while something is settled.",
        ),
    ),
    (
        "objection",
        ("Protest (artikkel 21)", "Objection (Article 21)"),
        (
            "Du kan protestere mot behandling vi gjør på grunnlag av berettiget interesse, og "
            "alltid mot markedsføring.",
            "You can object to processing we do on the basis of legitimate interest, and "
            "always to direct marketing.",
        ),
    ),
    (
        "portability",
        ("Dataportabilitet (artikkel 20)", "Data portability (Article 20)"),
        (
            "Du kan få opplysningene du har gitt oss i et maskinlesbart format (JSON).",
            "You can get the data you gave us in a machine-readable format (JSON).",
        ),
    ),
]
HOW_TO = (
    "Send forespørselen på personvernsiden vår, eller kontakt oss: {contact}.",
    "Make the request on our privacy page, or contact us: {contact}.",
)
COMPLAINT = (
    "Mener du at vi behandler opplysningene dine i strid med loven, kan du klage til "
    "Datatilsynet (www.datatilsynet.no, postboks 458 Sentrum, 0105 Oslo), eller til "
    "tilsynsmyndigheten der du bor eller arbeider. Du kan også bringe saken inn for "
    "domstolene.",
    "If you think we process your data unlawfully, you can complain to Datatilsynet, the "
    "Norwegian Data Protection Authority (www.datatilsynet.no, PO Box 458 Sentrum, 0105 Oslo), "
    "or to the supervisory authority where you live or work. You can also take the matter "
    "to court.",
)


def word(key: str, language: str) -> str:
    nb, en = WORDS[key]
    return en if lang(language) == "en" else nb


def pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if lang(language) == "en" else pair[0]


def field_label(field: str, language: str) -> str:
    known = FIELDS.get(field.lower())
    if known is not None:
        return pick(known, language)
    text = field.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
