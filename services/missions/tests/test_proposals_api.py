"""Proposals, the monthly quota, and accepting one (R6, R7), through HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from missions_helpers import Api, assert_problem, fields_of

from clikopro_contracts.testing import assert_like_example


def test_a_pro_submits_a_proposal_with_its_task_plan(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    response = api.propose_raw(pro, mission["id"])
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["status"] == "submitted" and proposal["pro_id"] == pro.user_id
    assert [t["position"] for t in proposal["tasks"]] == [1, 2, 3]
    assert sum(t["amount_cents"] for t in proposal["tasks"]) == proposal["amount_cents"] == 250_000

    event = api.events(mission["id"])[-1]
    assert_like_example(event)
    assert (event.type, event.version) == ("ProposalSubmitted", 2)
    assert event.data == {  # a message and task titles without contact details: nothing masked
        "proposal_id": proposal["id"], "mission_id": mission["id"], "pro_id": pro.user_id,
        "client_id": client.user_id, "amount_cents": 250_000, "currency": "EUR", "payment_mode": "secure",
        "task_count": 3, "submitted_at": "2026-03-10T09:00:00Z", "masked_contacts": [],
    }  # fmt: skip


def test_invalid_proposals_are_refused_with_field_errors(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    path = f"/api/v1/missions/{mission['id']}/proposals"

    negative = api.post(pro, path, api.proposal_body(amounts=(-100, 200), amount_cents=-5))
    assert_problem(negative, 400, "validation_error")
    assert fields_of(negative) == {"amount_cents", "tasks.0.amount_cents"}

    mismatch = api.post(pro, path, api.proposal_body(amounts=(100, 200), amount_cents=301))
    assert_problem(mismatch, 422, "validation_error")
    assert fields_of(mismatch) == {"tasks"}

    body = api.proposal_body(amounts=(100, 200))
    body["tasks"][1]["due_date"] = api.clock.today(-1)
    past = api.post(pro, path, body)
    assert_problem(past, 422, "validation_error")
    assert fields_of(past) == {"tasks.1.due_date"}

    assert fields_of(api.post(pro, path, api.proposal_body(tasks=[]))) == {"tasks"}
    assert fields_of(api.post(pro, path, api.proposal_body(payment_mode="cash"))) == {"payment_mode"}
    assert fields_of(api.post(pro, path, api.proposal_body(amount_cents=1.5))) == {"amount_cents"}
    assert [e.type for e in api.events(mission["id"])] == ["MissionPublished"]  # nothing submitted


def test_one_live_proposal_per_pro_per_mission_and_withdrawing_frees_the_place(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    first = api.propose(pro, mission["id"])
    assert_problem(api.propose_raw(pro, mission["id"]), 409, "conflict")
    api.clock.advance(minutes=1)

    other_pro = api.pro()
    assert_problem(api.post(other_pro, f"/api/v1/proposals/{first['id']}/withdraw"), 403, "forbidden")
    assert_problem(api.post(client, f"/api/v1/proposals/{first['id']}/withdraw"), 403, "forbidden")
    withdrawn = api.post(pro, f"/api/v1/proposals/{first['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert_problem(api.post(pro, f"/api/v1/proposals/{first['id']}/withdraw"), 409, "conflict")
    assert_problem(api.post(client, f"/api/v1/proposals/{first['id']}/accept"), 409, "conflict")

    second = api.propose(pro, mission["id"])
    listed = api.get(client, f"/api/v1/missions/{mission['id']}/proposals").json()["items"]
    assert [(p["id"], p["status"]) for p in listed] == [
        (first["id"], "withdrawn"),
        (second["id"], "submitted"),
    ]


def test_who_sees_which_proposals(api: Api) -> None:
    client, pro_a, pro_b = api.client(), api.pro(), api.pro()
    mission = api.publish(client)
    a = api.propose(pro_a, mission["id"])
    api.clock.advance(minutes=1)
    b = api.propose(pro_b, mission["id"])

    def listed(who) -> list[str]:
        response = api.get(who, f"/api/v1/missions/{mission['id']}/proposals")
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert listed(client) == [a["id"], b["id"]]
    assert listed(pro_a) == [a["id"]]  # another pro's proposal is not theirs to see
    assert listed(api.moderator()) == [a["id"], b["id"]]
    assert_problem(api.get(api.client(), f"/api/v1/missions/{mission['id']}/proposals"), 404, "not_found")
    assert_problem(api.get(pro_a, f"/api/v1/proposals/{b['id']}"), 404, "not_found")
    assert_problem(api.get(api.client(), f"/api/v1/proposals/{a['id']}"), 404, "not_found")
    assert api.get(client, f"/api/v1/proposals/{a['id']}").status_code == 200
    page = api.get(client, f"/api/v1/missions/{mission['id']}/proposals", params={"limit": 1}).json()
    rest = api.get(
        client, f"/api/v1/missions/{mission['id']}/proposals", params={"cursor": page["next_cursor"]}
    )
    assert [p["id"] for p in page["items"] + rest.json()["items"]] == [a["id"], b["id"]]


def test_only_pros_propose_and_only_on_published_missions(api: Api) -> None:
    client = api.client()
    mission = api.publish(client)
    assert_problem(api.propose_raw(client, mission["id"]), 403, "forbidden")
    assert_problem(api.propose_raw(api.moderator(), mission["id"]), 403, "forbidden")
    api.post(client, f"/api/v1/missions/{mission['id']}/cancel")
    assert_problem(api.propose_raw(api.pro(), mission["id"]), 409, "conflict")


def test_paiement_direct_needs_a_paid_plan(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    refused = assert_problem(api.propose_raw(pro, mission["id"], payment_mode="direct"), 403, "plan_required")
    assert refused["feature"] == "direct_payment"
    api.give_plan(pro, "pro")
    assert api.propose_raw(pro, mission["id"], payment_mode="direct").status_code == 201


def test_the_free_plan_refuses_the_sixth_proposal_of_the_paris_month_until_it_resets(api: Api) -> None:
    client, pro = api.client(), api.pro()
    api.clock.at = dt.datetime(2026, 3, 31, 21, 0, tzinfo=dt.UTC)  # 23:00 in Paris, 31 March
    missions = [api.publish(client) for _ in range(7)]
    for mission in missions[:5]:
        api.propose(pro, mission["id"])
    refused = api.propose_raw(pro, missions[5]["id"])
    body = assert_problem(refused, 429, "proposal_quota_exceeded")
    assert body["limit"] == 5
    assert body["resets_at"] == "2026-03-31T22:00:00Z"  # midnight in Paris (summer time)
    assert refused.headers["retry-after"] == "3600"
    # Withdrawing does not give the proposal back: it was submitted this month.
    first = api.get(pro, f"/api/v1/missions/{missions[0]['id']}/proposals").json()["items"][0]
    api.post(pro, f"/api/v1/proposals/{first['id']}/withdraw")
    assert_problem(api.propose_raw(pro, missions[5]["id"]), 429, "proposal_quota_exceeded")
    # Another pro is not affected.
    api.propose(api.pro(), missions[5]["id"])

    api.clock.at = dt.datetime(2026, 3, 31, 22, 0, tzinfo=dt.UTC)  # 1 April, 00:00 in Paris
    api.propose(pro, missions[5]["id"])
    assert sum(e.type == "ProposalSubmitted" for e in api.events()) == 7


def test_a_paid_plan_has_no_quota_and_a_lapsed_one_falls_back_to_the_free_quota(api: Api) -> None:
    client, pro = api.client(), api.pro()
    missions = [api.publish(client) for _ in range(9)]
    api.give_plan(pro, "pro")
    for mission in missions[:7]:
        api.propose(pro, mission["id"])
    api.clock.advance(seconds=1)
    api.give_plan(pro, "free")  # the paid plan lapsed: 5 a month again, 7 already used
    assert_problem(api.propose_raw(pro, missions[7]["id"]), 429, "proposal_quota_exceeded")


def test_the_quota_holds_under_concurrent_submissions(api: Api) -> None:
    client, pro = api.client(), api.pro()
    missions = [api.publish(client) for _ in range(10)]
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def submit(mission_id: str) -> None:
        barrier.wait()
        statuses.append(api.propose_raw(pro, mission_id).status_code)

    threads = [threading.Thread(target=submit, args=(m["id"],)) for m in missions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {201: 5, 429: 5}


def test_accepting_concludes_the_contract_and_rejects_every_other_proposal(api: Api) -> None:
    client = api.client()
    mission = api.publish(client)
    pros = [api.pro() for _ in range(3)]
    proposals = [api.propose(p, mission["id"], amounts=(100_000 + i, 50_000)) for i, p in enumerate(pros)]
    assert_problem(api.post(pros[0], f"/api/v1/proposals/{proposals[0]['id']}/accept"), 403, "forbidden")
    assert_problem(api.post(api.client(), f"/api/v1/proposals/{proposals[0]['id']}/accept"), 403, "forbidden")

    api.clock.advance(hours=1)
    contracted = api.accept(client, proposals[1]["id"])
    assert contracted["status"] == "awaiting_payment" and contracted["pro_id"] == pros[1].user_id
    contract = contracted["contract"]
    assert contract["proposal_id"] == proposals[1]["id"] and contract["amount_cents"] == 150_001
    assert [t["amount_cents"] for t in contract["terms"]["tasks"]] == [100_001, 50_000]

    statuses = {p["id"]: api.get(client, f"/api/v1/proposals/{p['id']}").json()["status"] for p in proposals}
    assert statuses == {proposals[0]["id"]: "rejected", proposals[1]["id"]: "accepted",
                        proposals[2]["id"]: "rejected"}  # fmt: skip

    events = api.events(mission["id"])
    assert [e.type for e in events] == ["MissionPublished", *["ProposalSubmitted"] * 3, "ProposalAccepted",
                                        "ProposalRejected", "ProposalRejected"]  # fmt: skip
    for event in events[4:]:
        assert_like_example(event)
    accepted = events[4].data
    assert accepted["payment_mode"] == "secure" and accepted["amount_cents"] == 150_001
    assert accepted["accepted_at"] == "2026-03-10T10:00:00Z"
    tasks = api.tasks(client, mission["id"])
    assert [(t["task_id"], t["position"], t["amount_cents"]) for t in accepted["tasks"]] == [
        (t["id"], t["position"], t["amount_cents"]) for t in tasks
    ]
    assert all(t["status"] == "pending" for t in tasks)
    assert {e.data["proposal_id"] for e in events[5:]} == {proposals[0]["id"], proposals[2]["id"]}
    assert {e.data["reason"] for e in events[5:]} == {"other_proposal_accepted"}

    # The contract is a snapshot: nothing changes it, and a second accept is a conflict.
    assert_problem(api.post(client, f"/api/v1/proposals/{proposals[0]['id']}/accept"), 409, "conflict")
    assert_problem(api.post(client, f"/api/v1/proposals/{proposals[1]['id']}/accept"), 409, "conflict")
    assert_problem(api.post(pros[1], f"/api/v1/proposals/{proposals[1]['id']}/withdraw"), 409, "conflict")
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["contract"] == contract
    assert api.get(pros[1], f"/api/v1/missions/{mission['id']}").status_code == 200
    assert_problem(api.get(pros[0], f"/api/v1/missions/{mission['id']}"), 404, "not_found")


def test_paiement_direct_goes_straight_to_in_progress(api: Api) -> None:
    _, _, mission = api.contracted("direct")
    assert mission["status"] == "in_progress" and mission["contract"]["payment_mode"] == "direct"


def test_of_twenty_concurrent_accepts_on_one_mission_exactly_one_wins(api: Api) -> None:
    client = api.client()
    mission = api.publish(client)
    proposals = [api.propose(api.pro(), mission["id"]) for _ in range(20)]
    barrier = threading.Barrier(20)
    answers: list[tuple[str, int, str]] = []

    def accept(proposal_id: str) -> None:
        barrier.wait()
        response = api.post(client, f"/api/v1/proposals/{proposal_id}/accept")
        answers.append((proposal_id, response.status_code, response.json().get("code", "")))

    threads = [threading.Thread(target=accept, args=(p["id"],)) for p in proposals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(status for _, status, _ in answers) == {200: 1, 409: 19}
    assert {code for _, status, code in answers if status == 409} == {"conflict"}
    [winner] = [pid for pid, status, _ in answers if status == 200]
    events = api.events(mission["id"])
    assert [e.data["proposal_id"] for e in events if e.type == "ProposalAccepted"] == [winner]
    rejected = [e.data["proposal_id"] for e in events if e.type == "ProposalRejected"]
    assert sorted(rejected) == sorted(p["id"] for p in proposals if p["id"] != winner)
    assert len(api.tasks(client, mission["id"])) == 3  # one contract's tasks, once
