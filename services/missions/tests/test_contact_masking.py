"""Anti-circumvention on missions (R19, issue 12): free text is masked before it is stored, events say
what was masked and never carry it, and the parties see each other's contact details and the
intervention address once a contract allows contact — not before, and never anyone else."""

from __future__ import annotations

import json
import re
from typing import Any

from missions_helpers import Api, Person, feed

from clikopro_contracts.testing import assert_like_example

PHONE = "zéro six douze 34 56 78"
EMAIL = "paul arobase gmail point com"
ADDRESS = {"street": "12 rue des Lilas", "city": "Lyon", "details": "3e étage, code 4512B"}


def no_contact_left(text: str) -> bool:
    return not re.search(r"\d{2}", text) and "gmail" not in text and "arobase" not in text


def register(api: Api, who: Person, **changes: Any) -> None:
    """identity's UserRegistered for ``who``, as the worker would hand it to missions."""
    data = {
        "user_id": who.user_id,
        "role": who.role,
        "email": f"{who.role}-{who.user_id[:8]}@example.fr",
        "first_name": "Paul" if who.role == "pro" else "Claire",
        "last_name": "Martin" if who.role == "pro" else "Durand",
        "phone": "+33612345678" if who.role == "pro" else "+33798765432",
        "registered_at": "2026-03-01T08:00:00Z",
        "pro_profile": None,
    }
    feed(api.services, "UserRegistered", **(data | changes))


def event_text(api: Api, mission_id: str) -> str:
    return json.dumps([e.data for e in api.events(mission_id)], ensure_ascii=False)


def no_contact_in_events(api: Api, mission_id: str) -> bool:
    text = event_text(api, mission_id).lower()
    return not any(s in text for s in ("06 12", "34 56", "zéro six", "gmail", "whatsapp", "insta", "liquide"))


def test_a_missions_title_and_description_are_stored_and_shown_masked(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(
        client,
        title="Salle de bain, appelez le 06 12 34 56 78",
        description=f"Douche à l'italienne. Mon mail : {EMAIL}, WhatsApp ok, paiement en liquide possible.",
    )
    assert mission["title"] == "Salle de bain, appelez le •••"
    assert mission["description"] == "Douche à l'italienne. Mon mail : •••, ••• ok, paiement ••• possible."
    shown = api.get(pro, f"/api/v1/missions/{mission['id']}").json()
    assert (shown["title"], shown["description"]) == (mission["title"], mission["description"])
    [listed] = [m for m in api.get(pro, "/api/v1/missions").json()["items"] if m["id"] == mission["id"]]
    assert listed["title"] == mission["title"] and no_contact_left(listed["description"])

    [event] = api.events(mission["id"])
    assert_like_example(event)
    assert (event.type, event.version) == ("MissionPublished", 2)
    assert event.data["masked_contacts"] == ["phone", "email", "social", "offplatform_payment"]
    assert event.data["title"] == "Salle de bain, appelez le •••"
    assert no_contact_in_events(api, mission["id"])


def test_a_proposal_message_and_task_titles_are_stored_and_shown_masked(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    body = api.proposal_body(amounts=(100_000, 50_000))
    body["message"] = f"Appelez-moi au {PHONE} ou {EMAIL}"
    body["tasks"][0]["title"] = "Dépose, on en parle sur insta"
    response = api.post(pro, f"/api/v1/missions/{mission['id']}/proposals", body)
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["message"] == "Appelez-moi au ••• ou •••"
    assert [t["title"] for t in proposal["tasks"]] == ["Dépose, on en parle sur •••", "Étape 2"]

    [seen] = api.get(client, f"/api/v1/missions/{mission['id']}/proposals").json()["items"]
    assert seen["message"] == "Appelez-moi au ••• ou •••" and no_contact_left(seen["message"])
    event = api.events(mission["id"])[-1]
    assert_like_example(event)
    assert (event.type, event.version) == ("ProposalSubmitted", 2)
    assert event.data["masked_contacts"] == ["phone", "email", "social"]
    assert no_contact_in_events(api, mission["id"])

    # The contract is a snapshot of what was stored: masked too.
    contracted = api.accept(client, proposal["id"])
    assert contracted["contract"]["terms"]["message"] == "Appelez-moi au ••• ou •••"
    assert api.tasks(client, mission["id"])[0]["title"] == "Dépose, on en parle sur •••"


def test_prices_dates_and_references_are_left_as_written(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client, description="45 m2 à carreler le 06/12 à 14h30, budget 2 500,00 euros.")
    assert mission["description"] == "45 m2 à carreler le 06/12 à 14h30, budget 2 500,00 euros."
    proposal = api.propose(
        pro, mission["id"], message="Devis n° 2024-0612 : 1 200 € TTC, SIRET 732 829 320 00074"
    )
    assert proposal["message"] == "Devis n° 2024-0612 : 1 200 € TTC, SIRET 732 829 320 00074"
    assert [e.data["masked_contacts"] for e in api.events(mission["id"])] == [[], []]


def contact_keys(api: Api, who: Person, mission_id: str) -> dict[str, Any]:
    response = api.get(who, f"/api/v1/missions/{mission_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    return {k: body[k] for k in ("counterpart_contact", "intervention_address") if k in body}


def test_paiement_direct_shows_each_party_the_others_contact_details_from_acceptance(api: Api) -> None:
    client, pro, other_pro, moderator = api.client(), api.pro(), api.pro(), api.moderator()
    for who in (client, pro, other_pro):
        register(api, who)
    api.give_plan(pro, "pro")
    mission = api.publish(client, address=ADDRESS)
    proposal = api.propose(pro, mission["id"], payment_mode="direct")
    for who in (client, pro, other_pro):  # published, proposed: no contract yet
        assert contact_keys(api, who, mission["id"]) == {}
    assert "address" not in json.dumps(api.get(pro, "/api/v1/missions").json())

    accepted = api.accept(client, proposal["id"])
    assert accepted["counterpart_contact"]["user_id"] == pro.user_id  # from the acceptance on
    address = {
        "street": "12 rue des Lilas",
        "postcode": "69003",
        "city": "Lyon",
        "details": "3e étage, code 4512B",
    }
    assert contact_keys(api, client, mission["id"]) == {
        "counterpart_contact": {
            "user_id": pro.user_id, "first_name": "Paul", "last_name": "Martin",
            "email": f"pro-{pro.user_id[:8]}@example.fr", "phone": "+33612345678",
        },
        "intervention_address": address,
    }  # fmt: skip
    assert contact_keys(api, pro, mission["id"]) == {
        "counterpart_contact": {
            "user_id": client.user_id, "first_name": "Claire", "last_name": "Durand",
            "email": f"client-{client.user_id[:8]}@example.fr", "phone": "+33798765432",
        },
        "intervention_address": address,
    }  # fmt: skip
    # Anyone else: a pro who is not the contracted one does not even see the mission; staff see it, but
    # not the parties' contact details.
    assert api.get(other_pro, f"/api/v1/missions/{mission['id']}").status_code == 404
    assert contact_keys(api, moderator, mission["id"]) == {}
    for who in (other_pro, moderator):
        listed = api.get(
            who, "/api/v1/missions", params={"status": "in_progress"} if who is moderator else {}
        )
        assert "+33" not in listed.text and "Lilas" not in listed.text


def test_secure_shows_contact_details_only_once_the_payment_is_secured(api: Api) -> None:
    client, pro = api.client(), api.pro()
    register(api, client)
    register(api, pro)
    mission = api.publish(client)  # no address given
    proposal = api.propose(pro, mission["id"], payment_mode="secure")
    accepted = api.accept(client, proposal["id"])
    assert accepted["status"] == "awaiting_payment" and "counterpart_contact" not in accepted
    assert contact_keys(api, client, mission["id"]) == {} == contact_keys(api, pro, mission["id"])

    feed(
        api.services, "PaymentSecured", mission_id=mission["id"], client_id=client.user_id, pro_id=pro.user_id
    )
    seen_by_pro = contact_keys(api, pro, mission["id"])
    assert seen_by_pro["counterpart_contact"]["phone"] == "+33798765432"
    assert seen_by_pro["intervention_address"] is None
    assert contact_keys(api, client, mission["id"])["counterpart_contact"]["user_id"] == pro.user_id


def test_the_newest_contact_details_are_shown_whatever_the_order_they_arrive_in(api: Api) -> None:
    client, pro = api.client(), api.pro()
    register(api, client)
    changed = {"user_id": pro.user_id, "first_name": "Paul", "last_name": "Martin-Roux"}
    feed(api.services, "ContactDetailsChanged", **changed, email="new@example.fr", phone=None,
         changed_at="2026-03-05T10:00:00Z")  # fmt: skip
    register(api, pro)  # UserRegistered arrives late: older than the change, it changes nothing
    feed(api.services, "ContactDetailsChanged", **changed, email="older@example.fr", phone="+33611111111",
         changed_at="2026-03-04T10:00:00Z")  # fmt: skip
    api.give_plan(pro, "pro")
    mission = api.publish(client)
    api.accept(client, api.propose(pro, mission["id"], payment_mode="direct")["id"])
    assert contact_keys(api, client, mission["id"])["counterpart_contact"] == {
        "user_id": pro.user_id, "first_name": "Paul", "last_name": "Martin-Roux",
        "email": "new@example.fr", "phone": None,
    }  # fmt: skip


def test_a_contracted_party_not_yet_known_from_identity_has_null_contact_fields(api: Api) -> None:
    client, pro, mission = api.contracted("direct")
    assert contact_keys(api, client, mission["id"])["counterpart_contact"] == {
        "user_id": pro.user_id,
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone": None,
    }


def contest(api: Api, client: Person, pro: Person, mission_id: str, reason: str) -> dict[str, Any]:
    task = api.tasks(pro, mission_id)[0]
    assert api.task_command(pro, mission_id, task["id"], "submit").status_code == 200
    response = api.task_command(client, mission_id, task["id"], "contest", reason=reason)
    assert response.status_code == 200, response.text
    return response.json()


def test_after_a_secure_contract_contact_is_free_but_paying_outside_is_still_masked_and_flagged(
    api: Api,
) -> None:
    client, pro, mission = api.contracted("secure")
    feed(
        api.services, "PaymentSecured", mission_id=mission["id"], client_id=client.user_id, pro_id=pro.user_id
    )
    task = contest(
        api,
        client,
        pro,
        mission["id"],
        "Fuite encore. Rappelez-moi au 06 12 34 56 78, je paierai en liquide.",
    )
    assert task["contest_reason"] == "Fuite encore. Rappelez-moi au 06 12 34 56 78, je paierai •••."
    event = api.events(mission["id"])[-1]
    assert_like_example(event)
    assert (event.type, event.version, event.data["masked_contacts"]) == (
        "TaskContested",
        2,
        ["offplatform_payment"],
    )
    assert "liquide" not in event.data["reason"]


def test_after_a_direct_contract_nothing_in_the_text_is_masked(api: Api) -> None:
    client, pro, mission = api.contracted("direct")
    reason = "Rappelez-moi au 06 12 34 56 78, je vous paierai en liquide comme convenu."
    assert contest(api, client, pro, mission["id"], reason)["contest_reason"] == reason
    assert api.events(mission["id"])[-1].data["masked_contacts"] == []


def test_a_blank_intervention_address_is_refused(api: Api) -> None:
    client = api.client()
    response = api.post(client, "/api/v1/missions", api.mission_body(address={"street": " ", "city": "Lyon"}))
    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {"address.street"}
    unknown = api.post(
        client, "/api/v1/missions", api.mission_body(address={"street": "1 rue", "town": "Lyon"})
    )
    assert unknown.status_code == 400, unknown.text
