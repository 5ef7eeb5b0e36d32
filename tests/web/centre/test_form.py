"""The request form: the rights in plain words, errors next to the fields with the values
kept, CSRF on the post, and a request filed through the same flow as the API's."""

from __future__ import annotations

from pathlib import Path

from app.web.centre.access import COOKIE
from tests.web.centre.helpers import csrf_of, last_code, post_form

OLA = "ola.nordmann@example.no"


async def test_the_form_offers_every_right_in_plain_words(client):
    page = await client.get("/personvern/", headers={"Accept-Language": "nb"})
    assert page.status_code == 200
    for right in ("access", "rectification", "erasure", "restriction", "portability"):
        assert f'value="{right}"' in page.text
    assert "Se opplysningene" in page.text and "Slette opplysninger" in page.text
    assert 'for="f-email"' in page.text and "valgfritt" in page.text
    assert "Bekreft med ID-porten" not in page.text  # no issuer configured


async def test_a_link_may_choose_the_right(client):
    page = await client.get("/personvern/?right=erasure")
    assert 'value="erasure" checked' in page.text
    unknown = await client.get("/personvern/?right=nonsense")
    assert " checked" not in unknown.text


async def test_errors_are_shown_next_to_the_fields_with_the_values_kept(client):
    answer = await post_form(
        client,
        "/personvern/?lang=en",
        {"right": "rectification", "email": "not-an-address", "name": "Ola", "national_id": "123"},
    )
    assert answer.status_code == 422
    text = answer.text
    assert 'class="error-summary"' in text
    assert 'id="f-email-error"' in text and "valid e-mail" in text
    assert 'value="not-an-address"' in text and 'value="Ola"' in text
    assert "Write what is wrong" in text


async def test_each_field_error_names_its_field(client):
    answer = await post_form(
        client, "/personvern/", {"right": "access", "email": OLA, "national_id": "12345678901"}
    )
    assert answer.status_code == 422
    assert 'id="f-national_id-error"' in answer.text
    assert 'id="f-email-error"' not in answer.text
    objection = await post_form(client, "/personvern/", {"right": "objection", "email": OLA})
    assert 'id="f-purpose-direct_marketing-error"' in objection.text


async def test_a_post_without_the_form_token_is_refused(client, settings):
    refused = await client.post("/personvern/", data={"right": "access", "email": OLA})
    assert refused.status_code == 403
    assert not Path(settings.outbox_dir).exists() or not list(Path(settings.outbox_dir).glob("*"))


async def test_the_form_files_a_request_and_asks_for_the_code(client, settings, staff):
    answer = await post_form(
        client,
        "/personvern/",
        {
            "right": "rectification",
            "email": OLA,
            "name": "Ola Nordmann",
            "change_what_1": "address",
            "change_value_1": "Storgata 1, 0155 Oslo",
        },
    )
    assert answer.status_code == 303, answer.text
    code_url = answer.headers["location"]
    assert code_url.startswith("/personvern/requests/req_") and code_url.endswith("/code")
    assert (
        COOKIE in answer.headers["set-cookie"]
        and "httponly" in answer.headers["set-cookie"].lower()
    )
    assert "path=/personvern" in answer.headers["set-cookie"].lower()
    request_id = code_url.split("/")[3]
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert view["kind"] == "rectification" and view["channel"] == "web"
    assert view["details"] == {"changes": {"address": "Storgata 1, 0155 Oslo"}}
    assert view["subject"]["email"] == OLA
    assert last_code(Path(settings.outbox_dir))


async def test_objection_purposes_reach_the_request(client, staff):
    answer = await post_form(
        client,
        "/personvern/",
        {"right": "objection", "email": OLA, "purpose": ["direct_marketing", "bogus"]},
    )
    request_id = answer.headers["location"].split("/")[3]
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert view["details"] == {"purposes": ["direct_marketing"]}


async def test_the_form_page_carries_its_token(client):
    page = await client.get("/personvern/")
    assert csrf_of(page.text)
