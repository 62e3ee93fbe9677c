"""The local Stripe emulator (tools/stripe-emulator) behaves like Stripe where payments relies on
it, seen through the official SDK: Connect, transfers from a charge, idempotency keys, the
client-side confirmation, signed webhooks. (Its tests live here so that ``make test`` runs them
with the service that depends on them.)"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from clikopro_stripe_emulator import StripeEmulator
from clikopro_stripe_emulator.process import EmulatorError


def paid_intent(client, emulator: StripeEmulator, amount: int = 10_000, group: str = "m1"):
    intent = client.v1.payment_intents.create({"amount": amount, "currency": "eur", "transfer_group": group})
    emulator.confirm_payment(intent.id, intent.client_secret)
    intent = client.v1.payment_intents.retrieve(intent.id)
    return intent, intent.latest_charge.id


def enabled_account(client, emulator: StripeEmulator) -> str:
    account = client.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    emulator.onboard(account.id)
    return account.id


def test_connect_accounts_links_and_transfers_from_a_charge(
    stripe_emulator: StripeEmulator, stripe_client
) -> None:
    client = stripe_client
    account = client.v1.accounts.create(
        {"type": "express", "country": "FR", "capabilities": {"transfers": {"requested": True}}}
    )
    assert account.capabilities["transfers"] == "inactive" and not account.details_submitted
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "http://x/r",
            "return_url": "http://x/ok",
            "type": "account_onboarding",
        }
    )
    assert link.url.startswith(stripe_emulator.url) and link.expires_at > time.time()
    intent, charge = paid_intent(client, stripe_emulator)
    assert intent.status == "succeeded" and intent.transfer_group == "m1"
    assert client.v1.charges.retrieve(charge).transfer_group == "m1"

    with pytest.raises(stripe.InvalidRequestError) as refused:  # not onboarded: nothing moves
        client.v1.transfers.create({"amount": 100, "currency": "eur", "destination": account.id})
    assert refused.value.code == "insufficient_capabilities_for_transfer"

    stripe_emulator.onboard(account.id)
    assert client.v1.accounts.retrieve(account.id).capabilities["transfers"] == "active"
    params = {
        "currency": "eur",
        "destination": account.id,
        "source_transaction": charge,
        "transfer_group": "m1",
    }
    first = client.v1.transfers.create({**params, "amount": 6_000, "metadata": {"task_id": "t1"}})
    with pytest.raises(stripe.InvalidRequestError) as too_much:  # more than is left of the charge
        client.v1.transfers.create({**params, "amount": 4_001})
    assert too_much.value.code == "insufficient_funds"
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 1_000})
    with pytest.raises(stripe.InvalidRequestError):  # a refund leaves less to transfer
        client.v1.transfers.create({**params, "amount": 3_001})
    second = client.v1.transfers.create({**params, "amount": 3_000})
    listed = client.v1.transfers.list({"transfer_group": "m1"}).data
    assert [t.id for t in listed] == [second.id, first.id]  # newest first
    assert listed[1].metadata["task_id"] == "t1"
    assert client.v1.transfers.list({"transfer_group": "other"}).data == []

    reversal = client.v1.transfers.reversals.create(first.id, {"amount": 500})
    assert reversal.amount == 500
    again = client.v1.transfers.retrieve(first.id)
    assert again.amount_reversed == 500 and not again.reversed


def test_idempotency_keys_replay_the_first_answer_and_refuse_other_parameters(
    stripe_emulator: StripeEmulator,
    stripe_client,
) -> None:
    client = stripe_client
    account = enabled_account(client, stripe_emulator)
    _, charge = paid_intent(client, stripe_emulator)
    params = {"amount": 2_500, "currency": "eur", "destination": account, "source_transaction": charge}
    first = client.v1.transfers.create(params, {"idempotency_key": "release:t1"})
    again = client.v1.transfers.create(params, {"idempotency_key": "release:t1"})
    assert again.id == first.id and len(client.v1.transfers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.transfers.create({**params, "amount": 2_501}, {"idempotency_key": "release:t1"})
    # A refusal is replayed too (as Stripe does): a new attempt needs a new key.
    bad = {**params, "amount": 99_999}
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.transfers.create(bad, {"idempotency_key": "release:t2"})


def test_the_client_confirms_with_the_publishable_key_and_the_client_secret_only(
    stripe_emulator: StripeEmulator,
    stripe_client,
) -> None:
    intent = stripe_client.v1.payment_intents.create({"amount": 4_200, "currency": "eur"})
    with pytest.raises(EmulatorError) as wrong_secret:
        stripe_emulator.confirm_payment(intent.id, intent.id + "_secret_forged")
    assert wrong_secret.value.status == 400
    with pytest.raises(EmulatorError) as no_secret_key_route:  # the publishable key cannot list or refund
        stripe_emulator.request("GET", "/v1/payment_intents", key=stripe_emulator.publishable_key)
    assert no_secret_key_route.value.status == 401
    with pytest.raises(EmulatorError) as declined:
        stripe_emulator.confirm_payment(intent.id, intent.client_secret, "pm_card_visa_chargeDeclined")
    assert declined.value.status == 402 and declined.value.body["error"]["code"] == "card_declined"
    failed = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method" and failed.last_payment_error.code == "card_declined"
    assert stripe_emulator.confirm_payment(intent.id, intent.client_secret)["status"] == "succeeded"


def test_webhooks_are_signed_like_stripe_and_connect_events_go_to_connect_endpoints(
    stripe_emulator: StripeEmulator,
    stripe_client,
) -> None:
    received: list[tuple[str, bytes, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        stripe_emulator.add_webhook("platform", f"{base}/platform", "whsec_p", connect=False)
        stripe_emulator.add_webhook("connect", f"{base}/connect", "whsec_c", connect=True)
        paid_intent(stripe_client, stripe_emulator)
        enabled_account(stripe_client, stripe_emulator)
        deadline = time.monotonic() + 5
        while len({path for path, _, _ in received}) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.shutdown()
    by_path = {path: (body, signature) for path, body, signature in received}
    body, signature = by_path["/platform"]
    event = stripe.Webhook.construct_event(body, signature, "whsec_p")
    assert event.type == "payment_intent.succeeded"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_c")
    body, signature = by_path["/connect"]
    connect_event = json.loads(body)
    assert connect_event["type"] == "account.updated" and connect_event["account"].startswith("acct_")
    stripe.Webhook.construct_event(body, signature, "whsec_c")
    assert {d["status"] for d in stripe_emulator.deliveries()} == {200}


def test_wipe_and_clock(stripe_emulator: StripeEmulator, stripe_client) -> None:
    stripe_client.v1.customers.create({"email": "a@example.fr"})
    now = stripe_emulator.request("GET", "/_config/clock")["now"]
    assert stripe_emulator.advance_clock(366 * 86_400) >= now + 366 * 86_400
    later = stripe_client.v1.customers.create({"email": "b@example.fr"})
    assert later.created >= now + 366 * 86_400  # objects are made at the emulator's time
    stripe_emulator.reset()
    assert stripe_client.v1.customers.list().data == []
    assert abs(stripe_emulator.request("GET", "/_config/clock")["now"] - time.time()) < 5
