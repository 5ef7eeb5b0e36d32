"""Review before release: with INNSYN_REVIEW_ANSWERS an access answer waits for an approver,
who may withhold what would reveal other people's data (Art. 15(4))."""

from __future__ import annotations

from tests.reports.test_report_and_logs import EMAIL, run_request


def letters_to_the_person(runtime) -> list[str]:
    folder = runtime.settings.outbox_dir
    return [p.read_text(errors="replace") for p in sorted(folder.glob("*.eml"))]


async def test_an_answer_waits_for_review_and_is_released_with_a_field_withheld(
    client, staff, runtime, worker
):
    runtime.settings = runtime.settings.model_copy(update={"review_answers": True})
    created = await run_request(client, staff, runtime, worker, "access")
    request_id, token = created["id"], created["status_token"]
    url = f"/v1/requests/{request_id}"
    view = (await client.get(url, headers=staff["operator"])).json()
    assert view["status"] == "awaiting_review"
    assert [x["kind"] for x in view["letters"]] == ["acknowledgement"]  # not told yet
    status = (await client.get(f"{url}/status", params={"token": token})).json()
    assert (status["status"], status["download_url"]) == ("awaiting_review", None)
    mine = await client.get(f"{url}/report", params={"token": token})
    assert mine.status_code == 409  # not the person's until released

    staff_copy = (await client.get(f"{url}/report", headers=staff["approver"])).json()
    [system] = staff_copy["systems"]
    notes = next(c for c in system["categories"] if c["category"] == "support_notes")
    assert "called about her bill" in notes["records"][0]["fields"][0]["text"]

    wrong = {
        "redactions": [
            {
                "system": "crm",
                "category": "support_notes",
                "record": 5,
                "reason": "another customer's data",
            }
        ]
    }
    assert (
        await client.post(f"{url}/release", json=wrong, headers=staff["approver"])
    ).status_code == 422
    assert (
        await client.post(f"{url}/release", json={}, headers=staff["operator"])
    ).status_code == 403
    body = {
        "redactions": [
            {
                "system": "crm",
                "category": "support_notes",
                "record": 0,
                "field": "note",
                "reason": "it names another customer",
            }
        ]
    }
    released = await client.post(f"{url}/release", json=body, headers=staff["approver"])
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "completed"
    again = await client.post(f"{url}/release", json={}, headers=staff["approver"])
    assert again.status_code == 409

    answer = (await client.get(f"{url}/report", params={"token": token})).json()
    [system] = answer["systems"]
    notes = next(c for c in system["categories"] if c["category"] == "support_notes")
    [field] = notes["records"][0]["fields"]
    assert field["redacted"] is True and field["value"] is None
    assert "it names another customer" in field["text"]
    assert "called about her bill" not in str(answer)
    contact = next(c for c in system["categories"] if c["category"] == "contact")
    assert EMAIL in str(contact)  # the rest is the person's, untouched
    view = (await client.get(url, headers=staff["operator"])).json()
    assert [x["kind"] for x in view["letters"]] == ["acknowledgement", "completion"]
    assert "request.release" in [e["action"] for e in view["timeline"]]


async def test_without_review_an_answer_completes_at_once(client, staff, runtime, worker):
    created = await run_request(client, staff, runtime, worker, "access")
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
