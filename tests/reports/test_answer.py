"""The answer as the person reads it: one language throughout, the law's headings, values
formatted, in HTML, PDF, portable JSON (valid against its schema) and a CSV zip."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import jsonschema
import pytest
from pypdf import PdfReader

from app.connectors.protocol import DataCategory, Transfer
from app.connectors.testing import checks
from tests.jobs.systems import MemorySystem, category, registry
from tests.reports.language import NOT_NORWEGIAN

EMAIL = "trude.testesen@example.no"
SCHEMA = Path(__file__).parents[2] / "openapi" / "portable-export.schema.json"
HEADINGS = {
    "nb": [
        "Hvorfor vi behandler opplysningene (formål)",
        "Hvilke opplysninger vi har (kategorier)",
        "Hvem vi deler opplysningene med (mottakere)",
        "Hvor lenge vi lagrer opplysningene",
        "Retten til retting, sletting, begrensning og protest",
        "Retten til å klage til Datatilsynet",
        "Hvor opplysningene kommer fra (kilde)",
        "Automatiserte avgjørelser og profilering",
        "Overføring til land utenfor EØS",
    ],
    "en": [
        "Why we process the data (purposes)",
        "What data we hold (categories)",
        "Who we share the data with (recipients)",
        "How long we keep the data",
        "Your right to rectification, erasure, restriction and objection",
        "Your right to complain to Datatilsynet",
        "Where the data comes from (source)",
        "Automated decisions and profiling",
        "Transfers to countries outside the EEA",
    ],
}


def system() -> MemorySystem:
    crm = MemorySystem(
        "crm",
        categories=[
            category(
                "contact",
                description={"nb": "Navn og e-post", "en": "Name and e-mail"},
                purpose={"nb": "Kundeforholdet", "en": "Customer relationship"},
                legal_basis={"nb": "avtale, art. 6(1)(b)", "en": "GDPR 6(1)(b) contract"},
                retention={"nb": "3 år", "en": "3 years"},
                source={"nb": "deg", "en": "you"},
                automated_decisions={"nb": "Ingen profilering.", "en": "No profiling."},
                transfers=[
                    Transfer(
                        country="US",
                        safeguard={"nb": "standardkontraktklausuler", "en": "standard clauses"},
                    )
                ],
            ),
            category(
                "invoices",
                description={"nb": "Fakturaer", "en": "Invoices"},
                purpose={"nb": "Fakturering", "en": "Invoicing"},
                legal_basis={"nb": "rettslig plikt, art. 6(1)(c)", "en": "GDPR 6(1)(c) law"},
                retention={"nb": "5 år", "en": "5 years"},
                source={"nb": "fakturasystemet", "en": "the invoicing system"},
                automated_decisions={"nb": "Ingen.", "en": "None."},
                provided_by_subject=False,
                labels={"note": {"nb": "Fakturatekst", "en": "Invoice text"}},
            ),
        ],
    )
    crm.seed(EMAIL, "contact", {"email": EMAIL, "name": "Trude <b>Testesen</b>"})
    crm.seed(
        EMAIL,
        "invoices",
        {"total": "980.0000000000", "currency": "NOK", "issued_at": 1788220800, "note": "Strøm"},
    )
    return crm


async def answer(client, staff, runtime, worker, language: str) -> str:
    runtime.connectors = registry(system())
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "language": language,
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    await worker.run_until_idle()
    return str(created.json()["id"])


def assert_in_one_language(text: str, language: str) -> None:
    """Amounts and dates formatted for the language; on a Norwegian page no English word of
    the list. Used on the HTML source's text, the PDF's text and the browser's innerText."""
    text = re.sub(r"\s+", " ", text.replace("\xa0", " "))
    if language == "nb":
        assert "980,00 kr" in text
        assert "1. september 2026" in text
        for word in NOT_NORWEGIAN:
            assert word not in text, word
    else:
        assert "NOK 980.00" in text
        assert "1 September 2026" in text


def text_of(page: str) -> str:
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("&amp;", "&")


@pytest.mark.parametrize("language", ["nb", "en"])
async def test_the_page_is_in_one_language_with_every_heading(
    client, staff, runtime, worker, language
):
    request_id = await answer(client, staff, runtime, worker, language)
    page = await client.get(
        f"/v1/requests/{request_id}/report", params={"format": "html"}, headers=staff["auditor"]
    )
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-disposition"].startswith("inline;")
    text = text_of(page.text)
    for heading in HEADINGS[language]:
        assert heading in text, heading
    assert_in_one_language(text, language)
    if language == "nb":
        assert "Fakturatekst" in text and "USA" in text and "standardkontraktklausuler" in text
    assert "<b>Testesen</b>" not in page.text  # markup from a source is text, not markup
    assert "Trude Testesen" in text


async def test_pdf_portable_json_and_csv_zip(client, staff, runtime, worker):
    request_id = await answer(client, staff, runtime, worker, "nb")
    url = f"/v1/requests/{request_id}/report"
    pdf = await client.get(url, params={"format": "pdf"}, headers=staff["auditor"])
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    text = re.sub(r"\s+", " ", text.replace("\xa0", " "))
    for heading in HEADINGS["nb"]:
        assert heading.split(" (")[0] in text, heading
    assert_in_one_language(text, "nb")
    portable = await client.get(url, params={"format": "portable"}, headers=staff["auditor"])
    data = portable.json()
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    [crm] = data["systems"]
    assert [c["category"] for c in crm["categories"]] == ["contact"]  # not the invoices
    archive = await client.get(url, params={"format": "zip"}, headers=staff["auditor"])
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert sorted(z.namelist()) == ["crm/contact.csv", "crm/invoices.csv", "data.json"]
        invoices = z.read("crm/invoices.csv").decode("utf-8-sig").splitlines()
    assert invoices[0] == "Beløp,Fakturadato,Fakturatekst"


def test_the_contract_asks_for_decisions_and_transfers():
    given = {"name": "contact", "description": "d", "purpose": "p", "retention": "r"}
    bare = DataCategory(legal_basis="GDPR 6(1)(b) contract", **given)
    with pytest.raises(AssertionError, match="automated_decisions"):
        checks.check_categories([bare])
    stated = DataCategory(
        legal_basis={"nb": "avtale, art. 6(1)(b)", "en": "GDPR 6(1)(b) contract"},
        automated_decisions="none",
        transfers=[],
        **given,
    )
    checks.check_categories([stated])
    assert stated.legal_basis == "GDPR 6(1)(b) contract"  # the rules read one text
    assert stated.text("legal_basis", "nb") == "avtale, art. 6(1)(b)"


async def test_each_right_links_to_the_form_that_files_it(client, staff, runtime, worker):
    request_id = await answer(client, staff, runtime, worker, "nb")
    url = f"/v1/requests/{request_id}/report"
    rights = (await client.get(url, headers=staff["auditor"])).json()["rights"]
    base = runtime.settings.public_base_url.rstrip("/")
    links = {r["code"]: r["url"] for r in rights}
    assert links["erasure"] == f"{base}/personvern/?right=erasure"
    assert set(links) == {"rectification", "erasure", "restriction", "objection", "portability"}
    page = (await client.get(url, params={"format": "html"}, headers=staff["auditor"])).text
    assert f'<a href="{base}/personvern/?right=objection">Be om dette</a>' in page
