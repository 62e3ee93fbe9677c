"""PaymentIntents as CLIKOPRO uses them, patched into localstripe.

- the Connect parameters are accepted and kept (``transfer_group``, ``description``,
  ``on_behalf_of``, ``application_fee_amount``, ``transfer_data``, ...), and the charge carries the
  PaymentIntent's ``transfer_group``;
- ``confirm`` takes a ``payment_method`` (or ``payment_method_data``), from the server with the
  secret key or from the client with the publishable key and the ``client_secret``, as the
  mobile app does; after a declined card the client may confirm again with another one;
- ``pm_card_visa_chargeDeclined`` (4000000000000002) and the other generic decline cards are
  declined at charge time, as on Stripe.
"""

from __future__ import annotations

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.server import get_post_data, json_response, unflatten_data

EXTRA_PARAMS = (
    "transfer_group",
    "description",
    "on_behalf_of",
    "application_fee_amount",
    "transfer_data",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "receipt_email",
    "setup_future_usage",
    "automatic_payment_methods",
)
DECLINED_CARDS = {
    "4000000000000002",  # generic decline
    "4000000000009995",  # insufficient funds
    "4000000000009987",  # lost card
    "4000000000009979",  # stolen card
    "4000000000000069",  # expired card
    "4000000000000127",  # incorrect cvc
    "4000000000000119",  # processing error
}

_patched = False


def patch() -> None:
    global _patched
    if _patched:
        return
    _patched = True
    original_init = ls.PaymentIntent.__init__
    original_create_charge = ls.PaymentIntent._create_charge
    original_declined = ls.PaymentMethod._charging_is_declined

    def init(self, **kwargs):
        extra = {name: kwargs.pop(name) for name in EXTRA_PARAMS if name in kwargs}
        if "application_fee_amount" in extra:
            extra["application_fee_amount"] = ls.try_convert_to_int(extra["application_fee_amount"])
        original_init(self, **kwargs)
        for name in EXTRA_PARAMS:
            setattr(self, name, extra.get(name))

    def _create_charge(self, on_failure_now):
        try:
            original_create_charge(self, on_failure_now)
        finally:
            if self.latest_charge is not None:
                self.latest_charge.transfer_group = getattr(self, "transfer_group", None)

    def _charging_is_declined(self):
        if self.type == "card" and self._card_number in DECLINED_CARDS:
            return True
        return original_declined(self)

    ls.PaymentIntent.__init__ = init
    ls.PaymentIntent._create_charge = _create_charge
    ls.PaymentMethod._charging_is_declined = _charging_is_declined
    ls.Charge.transfer_group = None
    for name in EXTRA_PARAMS:
        setattr(ls.PaymentIntent, name, None)


def _check_client_secret(request: web.Request, intent, client_secret) -> None:
    if request.get("publishable") and client_secret != intent.client_secret:
        raise UserError(
            400,
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
            {"code": "payment_intent_invalid_parameter", "param": "client_secret"},
        )


async def retrieve(request: web.Request) -> web.Response:
    data = unflatten_data(request.query)
    expand = data.pop("expand", None)
    intent = ls.PaymentIntent._api_retrieve(request.match_info["id"])
    _check_client_secret(request, intent, data.pop("client_secret", None))
    return json_response(intent._export(expand=expand))


async def confirm(request: web.Request) -> web.Response:
    data = await get_post_data(request) or {}
    expand = data.pop("expand", None)
    intent = ls.PaymentIntent._api_retrieve(request.match_info["id"])
    _check_client_secret(request, intent, data.pop("client_secret", None))
    payment_method = data.pop("payment_method", None)
    method_data = data.pop("payment_method_data", None)
    for ignored in (
        "return_url",
        "use_stripe_sdk",
        "mandate_data",
        "off_session",
        "error_on_requires_action",
    ):
        data.pop(ignored, None)
    if data:
        raise UserError(400, "Received unknown parameter: " + ", ".join(sorted(data)))
    if method_data is not None:
        if not isinstance(method_data, dict):
            raise UserError(400, "Invalid payment_method_data", {"param": "payment_method_data"})
        payment_method = ls.PaymentMethod(**method_data).id
    if payment_method is not None:
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(
                400,
                f"You cannot confirm this PaymentIntent because it has a status of {intent.status}.",
                {"code": "payment_intent_unexpected_state"},
            )
        intent.payment_method = ls.PaymentMethod._api_retrieve(payment_method).id
        intent.latest_charge = None  # a new attempt after a declined card
    if intent.status != "requires_confirmation":
        raise UserError(
            400,
            f"You cannot confirm this PaymentIntent because it has a status of {intent.status}.",
            {"code": "payment_intent_unexpected_state"},
        )
    intent._confirm(on_failure_now=intent._report_failure)
    return json_response(intent._export(expand=expand))


ROUTES = [
    ("GET", "/v1/payment_intents/{id}", retrieve),
    ("POST", "/v1/payment_intents/{id}/confirm", confirm),
]
