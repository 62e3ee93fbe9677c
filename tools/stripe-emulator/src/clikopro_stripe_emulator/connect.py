"""Stripe Connect, which localstripe lacks: Accounts, AccountLinks (with a local onboarding page),
Transfers (``source_transaction``, ``transfer_group``, reversals).

Behaviour kept from Stripe where CLIKOPRO depends on it:
- a transfer to an account whose ``transfers`` capability is not active is refused
  (400 ``insufficient_capabilities_for_transfer``), so nothing moves before onboarding;
- a transfer naming ``source_transaction`` (a charge id, ``ch_…``) may not exceed what is left of
  that charge (its amount, less refunds and earlier transfers from it); without one it draws on
  the platform's available balance (charges less refunds and transfers);
- lists are newest first and filter like Stripe's (``transfer_group``, ``destination``);
- onboarding completes on the page the AccountLink's URL opens (or ``POST
  /_config/accounts/{id}/onboard``), then ``account.updated`` is sent to Connect endpoints.
"""

from __future__ import annotations

import html
import urllib.parse
from typing import Any

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.server import get_post_data, json_response, unflatten_data

from clikopro_stripe_emulator import clock

ACCOUNT_TYPES = ("express", "standard", "custom")
ONBOARDING_FIELDS = ["business_profile.url", "external_account", "individual.dob.day", "tos_acceptance.date"]


def _int(value: Any, name: str) -> int:
    value = ls.try_convert_to_int(value)
    if type(value) is not int:
        raise UserError(400, f"Invalid integer: {name}", {"param": name})
    return value


def _unexpected(kwargs: dict[str, Any]) -> None:
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise UserError(400, f"Received unknown parameter: {names}", {"param": sorted(kwargs)[0]})


def _account_event(account: Account) -> None:
    event = ls.Event("account.updated", account)
    event.account = account.id
    ls.schedule_webhook(event)


class Account(ls.StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self,
        type=None,
        country=None,
        email=None,
        capabilities=None,
        business_type=None,
        business_profile=None,
        default_currency=None,
        metadata=None,
        **kwargs,
    ):
        _unexpected(kwargs)
        if type is not None and type not in ACCOUNT_TYPES:
            raise UserError(400, "Invalid type", {"param": "type"})
        if capabilities is not None and not isinstance(capabilities, dict):
            raise UserError(400, "Invalid capabilities", {"param": "capabilities"})
        super().__init__()
        self.type = type or "express"
        self.country = country or "FR"
        self.email = email
        self.business_type = business_type
        self.business_profile = business_profile or {}
        self.default_currency = default_currency or "eur"
        self.metadata = metadata or {}
        self.capabilities = {}
        for name, wanted in (capabilities or {}).items():
            if isinstance(wanted, dict) and ls.try_convert_to_bool(wanted.get("requested")) is True:
                self.capabilities[name] = "inactive"
        self.details_submitted = False
        self.charges_enabled = False
        self.payouts_enabled = False
        self.requirements = {
            "currently_due": list(ONBOARDING_FIELDS),
            "eventually_due": list(ONBOARDING_FIELDS),
            "past_due": [],
            "pending_verification": [],
            "disabled_reason": "requirements.past_due",
            "current_deadline": None,
        }

    @property
    def transfers_active(self) -> bool:
        return self.capabilities.get("transfers") == "active"

    def _complete_onboarding(self) -> None:
        self.details_submitted = True
        self.charges_enabled = True
        self.payouts_enabled = True
        self.capabilities = {name: "active" for name in self.capabilities} or {"transfers": "active"}
        self.capabilities.setdefault("transfers", "active")
        self.requirements = {
            "currently_due": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
            "disabled_reason": None,
            "current_deadline": None,
        }
        _account_event(self)

    def _restrict(self) -> None:
        self.payouts_enabled = False
        self.charges_enabled = False
        self.capabilities = {name: "inactive" for name in self.capabilities}
        self.requirements["currently_due"] = ["individual.verification.document"]
        self.requirements["disabled_reason"] = "requirements.past_due"
        _account_event(self)

    @classmethod
    def _api_update(cls, id, **data):
        account = cls._api_retrieve(id)
        capabilities = data.pop("capabilities", None)
        for key in ("email", "business_profile", "business_type", "default_currency"):
            if key in data:
                setattr(account, key, data.pop(key))
        metadata = data.pop("metadata", None)
        _unexpected(data)
        if isinstance(metadata, dict):
            account.metadata.update(metadata)
        for name, wanted in (capabilities or {}).items():
            if isinstance(wanted, dict) and ls.try_convert_to_bool(wanted.get("requested")) is True:
                account.capabilities.setdefault(name, "active" if account.details_submitted else "inactive")
        _account_event(account)
        return account


class Transfer(ls.StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(
        self,
        amount=None,
        currency=None,
        destination=None,
        source_transaction=None,
        transfer_group=None,
        description=None,
        metadata=None,
        **kwargs,
    ):
        _unexpected(kwargs)
        amount = _int(amount, "amount")
        if amount <= 0:
            raise UserError(400, "Invalid positive integer", {"param": "amount"})
        if not isinstance(currency, str) or not currency:
            raise UserError(400, "Missing required param: currency.", {"param": "currency"})
        currency = currency.lower()
        if not isinstance(destination, str) or not destination.startswith("acct_"):
            raise UserError(400, "Missing required param: destination.", {"param": "destination"})
        account = ls.store.get("account:" + destination)
        if account is None:
            raise UserError(
                400,
                f"No such destination: '{destination}'",
                {"param": "destination", "code": "resource_missing"},
            )
        if not account.transfers_active:
            raise UserError(
                400,
                "Your destination account needs to have at least one of the following capabilities "
                "enabled: transfers, crypto_transfers, legacy_payments",
                {"code": "insufficient_capabilities_for_transfer", "param": "destination"},
            )
        if source_transaction is not None:
            charge = ls.store.get("charge:" + str(source_transaction))
            if charge is None:
                raise UserError(
                    400,
                    f"No such charge: '{source_transaction}'",
                    {"param": "source_transaction", "code": "resource_missing"},
                )
            if charge.status != "succeeded" or not charge.captured:
                raise UserError(
                    400, "The source transaction has not succeeded.", {"param": "source_transaction"}
                )
            if charge.currency.lower() != currency:
                raise UserError(400, "Currency must match the source transaction.", {"param": "currency"})
            available = charge.amount - charge.amount_refunded - _transferred_from(charge.id)
            if amount > available:
                raise UserError(
                    400,
                    "The transfer amount exceeds the available amount of the source transaction "
                    f"({available}).",
                    {"code": "insufficient_funds", "param": "amount"},
                )
        elif amount > platform_available(currency):
            raise UserError(
                400,
                "You have insufficient available funds in your Stripe account.",
                {"code": "balance_insufficient"},
            )
        super().__init__()
        self.amount = amount
        self.amount_reversed = 0
        self.currency = currency
        self.destination = destination
        self.destination_payment = "py_" + ls.random_id(14)
        self.source_transaction = source_transaction
        self.source_type = "card"
        self.transfer_group = transfer_group
        self.description = description
        self.metadata = metadata or {}
        self.reversed = False
        self.balance_transaction = None
        ls.schedule_webhook(ls.Event("transfer.created", self))

    @property
    def reversals(self):
        listing = ls.List("/v1/transfers/" + self.id + "/reversals")
        listing._list = _newest_first(r for r in _all("transfer_reversal") if r.transfer == self.id)
        return listing

    @classmethod
    def _api_update(cls, id, **data):
        transfer = cls._api_retrieve(id)
        metadata = data.pop("metadata", None)
        if "description" in data:
            transfer.description = data.pop("description")
        _unexpected(data)
        if isinstance(metadata, dict):
            transfer.metadata.update(metadata)
        return transfer

    @classmethod
    def _api_list_all(
        cls, url, limit=None, starting_after=None, destination=None, transfer_group=None, **kwargs
    ):
        kwargs.pop("created", None)
        _unexpected(kwargs)
        listing = ls.List(url, limit=limit, starting_after=starting_after)
        listing._list = _newest_first(
            t
            for t in _all("transfer")
            if (destination is None or t.destination == destination)
            and (transfer_group is None or t.transfer_group == transfer_group)
        )
        return listing


class TransferReversal(ls.StripeObject):
    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, transfer=None, amount=None, description=None, metadata=None, **kwargs):
        kwargs.pop("refund_application_fee", None)
        _unexpected(kwargs)
        parent = Transfer._api_retrieve(transfer)
        remaining = parent.amount - parent.amount_reversed
        amount = remaining if amount is None else _int(amount, "amount")
        if amount <= 0 or amount > remaining:
            raise UserError(
                400, f"The reversal amount must be between 1 and {remaining}.", {"param": "amount"}
            )
        super().__init__()
        self.transfer = parent.id
        self.amount = amount
        self.currency = parent.currency
        self.description = description
        self.metadata = metadata or {}
        parent.amount_reversed += amount
        parent.reversed = parent.amount_reversed == parent.amount
        ls.schedule_webhook(ls.Event("transfer.reversed", parent))


class AccountLink:
    """Not stored (Stripe gives account links no id); its URL opens the local onboarding page."""

    def __init__(self, base_url: str, account=None, refresh_url=None, return_url=None, type=None, **kwargs):
        kwargs.pop("collect", None)
        kwargs.pop("collection_options", None)
        _unexpected(kwargs)
        if type not in ("account_onboarding", "account_update"):
            raise UserError(
                400, "Invalid type: must be account_onboarding or account_update", {"param": "type"}
            )
        Account._api_retrieve(account)
        query = urllib.parse.urlencode(
            {k: v for k, v in {"return_url": return_url, "refresh_url": refresh_url}.items() if v}
        )
        self.created = int(clock.now())
        self.expires_at = self.created + 300
        self.url = f"{base_url}/_emulator/onboarding/{account}" + (f"?{query}" if query else "")

    def _export(self, expand=None):
        return {
            "object": "account_link",
            "created": self.created,
            "expires_at": self.expires_at,
            "url": self.url,
        }


def _all(kind: str) -> list[Any]:
    return [value for key, value in ls.store.items() if key.startswith(kind + ":")]


def _newest_first(items) -> list[Any]:
    # The store keeps insertion order; Stripe lists newest first.
    return list(reversed(list(items)))


def _transferred_from(charge_id: str) -> int:
    return sum(t.amount - t.amount_reversed for t in _all("transfer") if t.source_transaction == charge_id)


def platform_available(currency: str) -> int:
    """Charges captured less refunds (localstripe's balance transactions) less net transfers."""
    collected = sum(txn.amount for txn in _all("balance_transaction") if txn.currency.lower() == currency)
    transferred = sum(t.amount - t.amount_reversed for t in _all("transfer") if t.currency == currency)
    return collected - transferred


# -- HTTP -------------------------------------------------------------------------------------------


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _api(func):
    async def handler(request: web.Request) -> web.Response:
        if request.method == "POST":
            data = await get_post_data(request) or {}
        else:
            data = unflatten_data(request.query)
        expand = data.pop("expand", None)
        result = func(request, **{**data, **request.match_info})
        return json_response(result._export(expand=expand))

    return handler


def _create_account(request, **data):
    return Account(**data)


def _retrieve(cls):
    return lambda request, id: cls._api_retrieve(id)


def _update(cls):
    return lambda request, id, **data: cls._api_update(id, **data)


def _delete_account(request, id):
    return Account._api_delete(id)


def _list(cls, url):
    return lambda request, **data: cls._api_list_all(url, **data)


def _create_transfer(request, **data):
    return Transfer(**data)


def _create_reversal(request, id, **data):
    return TransferReversal(transfer=id, **data)


def _list_reversals(request, id, **data):
    return Transfer._api_retrieve(id).reversals


def _create_account_link(request, **data):
    return AccountLink(_base_url(request), **data)


def _page(title: str, body: str) -> web.Response:
    return web.Response(
        text=f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>{body}</body></html>",
        content_type="text/html",
    )


async def onboarding_page(request: web.Request) -> web.Response:
    """What Stripe's hosted onboarding would be: one button (or ``?complete=1``) finishes it."""
    account = Account._api_retrieve(request.match_info["id"])
    return_url = request.query.get("return_url")
    if request.method == "POST" or request.query.get("complete") in ("1", "true"):
        if not account.details_submitted:
            account._complete_onboarding()
        if (
            return_url
            and return_url.startswith(("http://", "https://"))
            and request.query.get("complete") is None
        ):
            raise web.HTTPSeeOther(return_url)
        return _page(
            "Onboarding complete",
            f"<h1>Onboarding complete</h1><p>{html.escape(account.id)} can now "
            "receive transfers. You can close this page.</p>",
        )
    state = "complete" if account.details_submitted else "not complete"
    return _page(
        "Stripe Connect onboarding (emulator)",
        "<h1>Stripe Connect onboarding (local emulator)</h1>"
        f"<p>Account <code>{html.escape(account.id)}</code>"
        f" ({html.escape(account.email or 'no e-mail')}): onboarding {state}.</p>"
        f"<form method='post'><button type='submit'>Complete onboarding</button></form>",
    )


async def config_onboard(request: web.Request) -> web.Response:
    account = Account._api_retrieve(request.match_info["id"])
    account._complete_onboarding()
    return json_response(account._export())


async def config_restrict(request: web.Request) -> web.Response:
    account = Account._api_retrieve(request.match_info["id"])
    account._restrict()
    return json_response(account._export())


ROUTES = [
    ("POST", "/v1/accounts", _api(_create_account)),
    ("GET", "/v1/accounts", _api(_list(Account, "/v1/accounts"))),
    ("GET", "/v1/accounts/{id}", _api(_retrieve(Account))),
    ("POST", "/v1/accounts/{id}", _api(_update(Account))),
    ("DELETE", "/v1/accounts/{id}", _api(_delete_account)),
    ("POST", "/v1/account_links", _api(_create_account_link)),
    ("POST", "/v1/transfers", _api(_create_transfer)),
    ("GET", "/v1/transfers", _api(_list(Transfer, "/v1/transfers"))),
    ("GET", "/v1/transfers/{id}", _api(_retrieve(Transfer))),
    ("POST", "/v1/transfers/{id}", _api(_update(Transfer))),
    ("POST", "/v1/transfers/{id}/reversals", _api(_create_reversal)),
    ("GET", "/v1/transfers/{id}/reversals", _api(_list_reversals)),
    ("GET", "/_emulator/onboarding/{id}", onboarding_page),
    ("POST", "/_emulator/onboarding/{id}", onboarding_page),
    ("POST", "/_config/accounts/{id}/onboard", config_onboard),
    ("POST", "/_config/accounts/{id}/restrict", config_restrict),
]
