"""What missions does with other services' events (consumer contract tests fed with the examples)."""

from __future__ import annotations

import datetime as dt

import pytest
from missions_helpers import Api, assert_problem, feed

from clikopro_contracts.examples import example
from clikopro_missions.service_layer.handlers import HANDLERS


def test_every_handled_event_is_a_known_contract_with_an_example() -> None:
    for type_ in HANDLERS:
        assert example(type_)["type"] == type_


@pytest.mark.parametrize("type_", ["SubscriptionActivated", "SubscriptionRenewed", "SubscriptionCancelled"])
def test_a_paid_plan_from_any_subscription_event_lifts_the_quota(api: Api, type_: str) -> None:
    client, pro = api.client(), api.pro()
    missions = [api.publish(client) for _ in range(6)]
    feed(api.services, type_, pro_id=pro.user_id)  # the examples are the paid plan "pro"
    for mission in missions:
        api.propose(pro, mission["id"], payment_mode="direct")


def test_a_lapsed_plan_and_older_events_are_handled_by_effective_time(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    feed(api.services, "SubscriptionActivated", pro_id=pro.user_id, effective_at="2026-02-01T00:00:00Z")
    feed(api.services, "SubscriptionLapsed", pro_id=pro.user_id, effective_at="2026-03-01T00:00:00Z")
    # A redelivered or late copy of the activation is older than the lapse: it changes nothing.
    feed(api.services, "SubscriptionActivated", pro_id=pro.user_id, effective_at="2026-02-01T00:00:00Z")
    assert_problem(api.propose_raw(pro, mission["id"], payment_mode="direct"), 403, "plan_required")


def test_paymentsecured_starts_a_secure_mission(api: Api) -> None:
    client, pro, mission = api.contracted("secure")
    feed(
        api.services, "PaymentSecured", mission_id=mission["id"], client_id=client.user_id, pro_id=pro.user_id
    )
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "in_progress"
    feed(
        api.services, "PaymentSecured", mission_id=mission["id"], client_id=client.user_id, pro_id=pro.user_id
    )
    history = api.get(client, f"/api/v1/missions/{mission['id']}/history").json()["items"]
    assert [h["command"] for h in history].count("secure_payment") == 1


def test_paymentsecured_arriving_before_the_mission_awaits_payment_is_not_lost(api: Api) -> None:
    client, pro = api.client(), api.pro()
    mission = api.publish(client)
    proposal = api.propose(pro, mission["id"])
    feed(
        api.services, "PaymentSecured", mission_id=mission["id"], client_id=client.user_id, pro_id=pro.user_id
    )
    assert api.get(client, f"/api/v1/missions/{mission['id']}").json()["status"] == "published"
    assert api.accept(client, proposal["id"])["status"] == "in_progress"
    history = api.get(client, f"/api/v1/missions/{mission['id']}/history").json()["items"]
    assert [(h["command"], h["to"]) for h in history[-2:]] == [
        ("await_payment", "awaiting_payment"),
        ("secure_payment", "in_progress"),
    ]


def test_paymentsecured_for_a_mission_not_known_yet_is_kept(api: Api) -> None:
    feed(api.services, "PaymentSecured")  # the example's mission does not exist here: no error, recorded
    feed(api.services, "PaymentSecured")


def test_a_suspended_pros_live_proposals_are_hidden_until_reinstated(api: Api) -> None:
    client, pro, other = api.client(), api.pro(), api.pro()
    mission = api.publish(client)
    hidden = api.propose(pro, mission["id"])
    kept = api.propose(other, mission["id"])

    def listed() -> list[str]:
        return [
            p["id"] for p in api.get(client, f"/api/v1/missions/{mission['id']}/proposals").json()["items"]
        ]

    feed(api.services, "AccountSuspended", user_id=pro.user_id, suspended_at="2026-03-10T08:00:00Z")
    assert listed() == [kept["id"]]
    assert_problem(api.post(client, f"/api/v1/proposals/{hidden['id']}/accept"), 409, "conflict")
    assert_problem(api.propose_raw(pro, api.publish(client)["id"]), 403, "account_suspended")
    assert api.get(pro, f"/api/v1/proposals/{hidden['id']}").status_code == 200  # their own, still

    # A reinstatement older than the suspension (out of order) changes nothing.
    feed(api.services, "AccountReinstated", user_id=pro.user_id, reinstated_at="2026-03-10T07:00:00Z")
    assert listed() == [kept["id"]]
    feed(api.services, "AccountReinstated", user_id=pro.user_id, reinstated_at="2026-03-10T08:30:00Z")
    assert sorted(listed()) == sorted([hidden["id"], kept["id"]])
    assert api.accept(client, hidden["id"])["pro_id"] == pro.user_id


def test_a_suspended_clients_published_missions_leave_the_listings_until_reinstated(api: Api) -> None:
    client, other_client, pro = api.client(), api.client(), api.pro()
    hidden = api.publish(client)
    api.clock.advance(minutes=1)
    shown = api.publish(other_client)

    def browsed() -> list[str]:
        return [m["id"] for m in api.get(pro, "/api/v1/missions").json()["items"]]

    at = (api.clock() + dt.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    feed(api.services, "AccountSuspended", user_id=client.user_id, suspended_at=at)
    assert browsed() == [shown["id"]]
    assert_problem(api.get(pro, f"/api/v1/missions/{hidden['id']}"), 404, "not_found")
    assert_problem(api.propose_raw(pro, hidden["id"]), 404, "not_found")
    assert_problem(api.post(client, "/api/v1/missions", api.mission_body()), 403, "account_suspended")
    assert api.get(client, f"/api/v1/missions/{hidden['id']}").status_code == 200  # the owner still sees it

    feed(
        api.services, "AccountReinstated", user_id=client.user_id, reinstated_at=at.replace("09:01", "09:02")
    )
    assert browsed() == [shown["id"], hidden["id"]]
