"""Everything that moves money at Stripe, done outside any database transaction.

The pattern, for releases and refunds alike:

1. **claim** the row in a short transaction (a conditional ``UPDATE ... RETURNING``: of racing
   workers or requests exactly one gets it; the row says ``transferring``/``refunding``);
2. **call Stripe** with a deterministic idempotency key (``release:<task_id>``,
   ``refund:<refund_id>``; a new generation suffix only once Stripe's answer to the previous key
   is known to have done nothing), no database lock held;
3. **record** the outcome in a second transaction, with the ledger posting and the event, if
   the claim is still ours.

An ambiguous outcome (timeout, 5xx...) leaves the row claimed; once the claim is stale
(``STALE_CLAIM_SECONDS``) the next pass **asks Stripe** (transfers of the mission's
``transfer_group``, refunds of the PaymentIntent, matched on our metadata) and records what it
finds, and only then tries again.

The worker runs :func:`run_money_jobs` every second; the web process also creates a missing
PaymentIntent when the client asks for the payment.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from clikopro_chassis.errors import AppError, Forbidden
from clikopro_chassis.stripe.adapter import StripeNotConfigured, StripeRefused, StripeUnavailable
from clikopro_payments.adapters.stripe_gateway import Intent, Transfer
from clikopro_payments.domain import ledger
from clikopro_payments.domain.money import release_commission
from clikopro_payments.domain.releases import BLOCKED, IN_FLIGHT, backoff_seconds, blocker
from clikopro_payments.service_layer import views
from clikopro_payments.service_layer.handlers import request_refund

log = logging.getLogger(__name__)


class PaymentProviderUnavailable(AppError):
    status = 503
    code = "payment_provider_unavailable"
    title = "The payment provider cannot be reached"


def _key(prefix: str, ident: Any, generation: int) -> str:
    return f"{prefix}:{ident}" if generation == 0 else f"{prefix}:{ident}:g{generation}"


# -- PaymentIntents ---------------------------------------------------------------------------------


def ensure_intent(svc: Any, payment: Any) -> Any:
    """Create the client's PaymentIntent if the payment has none yet; returns the payment row."""
    if (
        payment["mode"] != "secure"
        or payment["stripe_payment_intent_id"]
        or payment["status"] != "awaiting_payment"
    ):
        return payment
    intent = svc.stripe.create_payment_intent(
        amount_cents=int(payment["amount_cents"]),
        currency=payment["currency"],
        transfer_group=str(payment["mission_id"]),
        description=f"CLIKOPRO Secure - mission {payment['mission_id']}",
        metadata={
            "payment_id": str(payment["id"]),
            "mission_id": str(payment["mission_id"]),
            "client_id": str(payment["client_id"]),
            "pro_id": str(payment["pro_id"]),
        },
        # Deterministic: the job and a client's request racing create one intent.
        idempotency_key=f"payment-intent:{payment['id']}",
    )
    with svc.uow() as uow:
        uow.payments.set_intent(payment["id"], intent.id, intent.client_secret, svc.now())
        uow.commit()
        return uow.payments.get(payment["id"])


def create_missing_intents(svc: Any) -> int:
    with svc.uow() as uow:
        waiting = uow.payments.needing_intent()
    done = 0
    for payment in waiting:
        try:
            ensure_intent(svc, payment)
            done += 1
        except (StripeRefused, StripeUnavailable) as exc:
            log.warning("payment %s: PaymentIntent not created yet: %s", payment["id"], exc)
    return done


def cancel_abandoned_intents(svc: Any) -> int:
    with svc.uow() as uow:
        to_cancel = uow.payments.intents_to_cancel()
    done = 0
    for payment in to_cancel:
        intent_id = payment["stripe_payment_intent_id"]
        try:
            intent = svc.stripe.retrieve_payment_intent(intent_id)
            if intent.status not in ("succeeded", "canceled", "processing"):
                svc.stripe.cancel_payment_intent(intent_id, idempotency_key=f"cancel-intent:{payment['id']}")
        except (StripeRefused, StripeUnavailable) as exc:
            log.warning("payment %s: intent %s not cancelled yet: %s", payment["id"], intent_id, exc)
            continue
        with svc.uow() as uow:
            uow.payments.change(payment["id"], intent_cancelled_at=svc.now())
            uow.commit()
        done += 1
    return done


def client_payment(svc: Any, mission_id: uuid.UUID, caller: Any) -> dict[str, Any]:
    """``GET /missions/{id}/payment``; creates the PaymentIntent on demand for its client."""
    with svc.uow() as uow:
        payment = uow.payments.by_mission(mission_id)
        if payment is not None:
            views.authorise(payment, caller)
    if payment is not None and caller.user_id == payment["client_id"]:
        try:
            ensure_intent(svc, payment)
        except (StripeRefused, StripeUnavailable, StripeNotConfigured) as exc:
            log.warning("payment %s: PaymentIntent not created: %s", payment["id"], exc)
    with svc.uow() as uow:
        return views.payment_view(uow, mission_id, caller, svc.settings.stripe_publishable_key)


def apply_intent(
    svc: Any, intent: Intent, *, event_id: str | None = None, event_type: str = "", created: int = 0
) -> str:
    """Bring our payment to the PaymentIntent's *current* state (fetched from Stripe, so the order in
    which webhooks arrive does not matter). Returns what happened."""
    now = svc.now()
    with svc.uow() as uow:
        if event_id is not None and not uow.stripe_events.claim(
            event_id, event_type, intent.id, created, now
        ):
            return "duplicate"
        payment = uow.payments.by_intent(intent.id)
        if payment is None and intent.metadata.get("payment_id"):
            payment = uow.payments.get(uuid.UUID(intent.metadata["payment_id"]))
        outcome = _apply_intent(uow, payment, intent, now) if payment is not None else "unknown_payment"
        if event_id is not None:
            uow.stripe_events.set_outcome(event_id, outcome)
        try:
            uow.commit()
        except IntegrityError:
            return "duplicate"  # the same event, delivered twice at once: the other copy applied it
    return outcome


def _apply_intent(uow: Any, payment: Any, intent: Intent, now: dt.datetime) -> str:
    if intent.status == "succeeded":
        if payment["secured_at"] is not None:
            return "already_secured"
        if int(intent.amount) != int(payment["amount_cents"]):
            log.error("intent %s amount %s differs from payment %s", intent.id, intent.amount, payment["id"])
        cancelled = payment["status"] == "cancelled"
        changed = uow.payments.change(
            payment["id"],
            when_status=("awaiting_payment", "payment_failed", "cancelled"),
            status="cancelled" if cancelled else "secured",
            secured_at=now,
            stripe_charge_id=intent.charge_id,
            updated_at=now,
        )
        if not changed:
            return "no_change"
        uow.ledger.post(
            payment["mission_id"], f"capture:{payment['id']}", ledger.capture(intent.amount), now, intent.id
        )
        if cancelled:
            # Paid after the mission was cancelled: the whole amount goes back.
            request_refund(
                uow,
                payment,
                intent.amount,
                reference=f"cancelled:{payment['mission_id']}",
                reason="mission_cancelled",
            )
            return "refunding_cancelled"
        uow.publish(
            "PaymentSecured",
            {
                "payment_id": payment["id"],
                "mission_id": payment["mission_id"],
                "client_id": payment["client_id"],
                "pro_id": payment["pro_id"],
                "amount_cents": intent.amount,
                "commission_cents": int(payment["commission_cents"]),
                "currency": payment["currency"],
                "secured_at": now,
            },
        )
        return "secured"
    if intent.status == "requires_payment_method" and intent.last_error_charge:
        if payment["status"] not in ("awaiting_payment", "payment_failed"):
            return "stale"
        if intent.last_error_charge == payment["last_failed_charge_id"]:
            return "already_failed"
        attempts = int(payment["failed_attempts"]) + 1
        if not uow.payments.change(
            payment["id"],
            when_status=("awaiting_payment", "payment_failed"),
            status="payment_failed",
            failed_attempts=attempts,
            last_failed_charge_id=intent.last_error_charge,
            failure_code=intent.last_error_code,
            updated_at=now,
        ):
            return "no_change"
        uow.publish(
            "PaymentFailed",
            {
                "payment_id": payment["id"],
                "mission_id": payment["mission_id"],
                "client_id": payment["client_id"],
                "amount_cents": int(payment["amount_cents"]),
                "currency": payment["currency"],
                "failure_code": intent.last_error_code,
                "attempt": attempts,
                "failed_at": now,
            },
        )
        return "failed"
    return f"ignored_{intent.status}"


# -- webhooks ----------------------------------------------------------------------------------------


def handle_webhook(svc: Any, payload: bytes, signature: str | None) -> str:
    """R13: verified (raises InvalidSignature), deduplicated by event id, order-proof (the object is
    fetched again from Stripe and its current state applied), recorded."""
    event = svc.stripe.construct_event(payload, signature)
    event_id, event_type = event["id"], event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    created = int(event.get("created") or 0)
    with svc.uow() as uow:
        if uow.stripe_events.seen(event_id):
            return "duplicate"
    try:
        if event_type.startswith("payment_intent.") and obj.get("id"):
            return apply_intent(
                svc,
                svc.stripe.retrieve_payment_intent(obj["id"]),
                event_id=event_id,
                event_type=event_type,
                created=created,
            )
        if event_type == "account.updated" and obj.get("id"):
            account = svc.stripe.retrieve_account(obj["id"])
            return apply_account(svc, account, event_id=event_id, event_type=event_type, created=created)
    except StripeUnavailable as exc:
        # Not recorded: Stripe sends it again, and we will fetch the object then.
        raise PaymentProviderUnavailable(str(exc)) from exc
    with svc.uow() as uow:
        uow.stripe_events.claim(event_id, event_type, obj.get("id"), created, svc.now())
        uow.stripe_events.set_outcome(event_id, "ignored")
        try:
            uow.commit()
        except IntegrityError:
            return "duplicate"
    return "ignored"


# -- Connect onboarding -----------------------------------------------------------------------------


def start_onboarding(svc: Any, caller: Any) -> dict[str, Any]:
    """The pro's Express account (created once) and a fresh onboarding link."""
    if caller.role != "pro":
        raise Forbidden("Only professionals have a payout account.")
    with svc.uow() as uow:
        account = uow.accounts.get(caller.user_id)
    if account is None:
        created = svc.stripe.create_account(
            email=None, metadata={"pro_id": str(caller.user_id)}, idempotency_key=f"account:{caller.user_id}"
        )
        now = svc.now()
        with svc.uow() as uow:
            uow.accounts.add(
                {
                    "pro_id": caller.user_id,
                    "stripe_account_id": created.id,
                    "transfers_enabled": created.transfers_enabled,
                    "details_submitted": created.details_submitted,
                    "payouts_enabled": created.payouts_enabled,
                    "created_at": now,
                    "refreshed_at": now,
                }
            )
            uow.commit()
            account = uow.accounts.get(caller.user_id)
    link = svc.stripe.create_account_link(
        account["stripe_account_id"],
        refresh_url=svc.settings.onboarding_refresh_url,
        return_url=svc.settings.onboarding_return_url,
    )
    return {
        "url": link.url,
        "expires_at": dt.datetime.fromtimestamp(link.expires_at, dt.UTC),
        "account_id": account["stripe_account_id"],
    }


def account_status(svc: Any, caller: Any) -> dict[str, Any]:
    if caller.role != "pro":
        raise Forbidden("Only professionals have a payout account.")
    with svc.uow() as uow:
        account = uow.accounts.get(caller.user_id)
    if account is not None and not account["transfers_enabled"]:
        try:  # a fresh read: the webhook may not have arrived yet
            apply_account(svc, svc.stripe.retrieve_account(account["stripe_account_id"]))
        except (StripeRefused, StripeUnavailable) as exc:
            log.warning("account %s not refreshed: %s", account["stripe_account_id"], exc)
    with svc.uow() as uow:
        waiting = next(iter(uow.releases.pros_waiting_for_account(caller.user_id)), None)
        return views.account_view(
            uow.accounts.get(caller.user_id),
            0 if waiting is None else int(waiting["waiting_cents"]),
            uow.onboarding_reminders.get(caller.user_id),
        )


def apply_account(
    svc: Any, account: Any, *, event_id: str | None = None, event_type: str = "", created: int = 0
) -> str:
    now = svc.now()
    with svc.uow() as uow:
        if event_id is not None and not uow.stripe_events.claim(
            event_id, event_type, account.id, created, now
        ):
            return "duplicate"
        row = uow.accounts.refresh(
            account.id,
            now,
            transfers_enabled=account.transfers_enabled,
            details_submitted=account.details_submitted,
            payouts_enabled=account.payouts_enabled,
        )
        outcome = (
            "unknown_account" if row is None else ("enabled" if account.transfers_enabled else "pending")
        )
        if event_id is not None:
            uow.stripe_events.set_outcome(event_id, outcome)
        try:
            uow.commit()
        except IntegrityError:
            return "duplicate"
    return outcome


def remind_onboarding(svc: Any) -> int:
    """Pros whose released money waits for their onboarding, started or not: check at Stripe those
    who have an account (a webhook may have been lost), then remind them, at most once per
    ``ONBOARDING_REMINDER_INTERVAL_SECONDS``. A reminder is recorded per pro (shown to them)
    together with its PayoutOnboardingReminderDue, for the notifications to send, in one
    transaction. Returns how many pros were reminded."""
    now = svc.now()
    not_since = now - dt.timedelta(seconds=svc.settings.onboarding_reminder_interval_seconds)
    with svc.uow() as uow:
        waiting = [
            (r["pro_id"], uow.accounts.get(r["pro_id"]), uow.onboarding_reminders.get(r["pro_id"]))
            for r in uow.releases.pros_waiting_for_account()
        ]
    reminded = 0
    for pro_id, account, last in waiting:
        # Without an account (onboarding never started) there is nothing to ask Stripe about.
        if account is not None and _enabled_at_stripe(svc, account):
            continue
        if last is not None and last["last_reminded_at"] > not_since:
            continue  # saves a transaction; under races the upsert of the reminder decides
        if _remind_onboarding_of(svc, pro_id, now, not_since=not_since):
            reminded += 1
    return reminded


def _enabled_at_stripe(svc: Any, account: Any) -> bool:
    """Refresh the account from Stripe; True if it can receive transfers now (nobody to remind)."""
    try:
        return apply_account(svc, svc.stripe.retrieve_account(account["stripe_account_id"])) == "enabled"
    except (StripeRefused, StripeUnavailable) as exc:
        log.warning("account of pro %s not refreshed: %s", account["pro_id"], exc)
        return False


def _remind_onboarding_of(svc: Any, pro_id: uuid.UUID, now: dt.datetime, *, not_since: dt.datetime) -> bool:
    """Record the reminder and publish it, in one transaction; False if another pass reminded the pro
    meanwhile, or nothing waits any more (onboarded, or the money was frozen or refunded)."""
    with svc.uow() as uow:
        # Read again: the amounts announced are those of the transaction that records the reminder.
        waiting = next(iter(uow.releases.pros_waiting_for_account(pro_id)), None)
        if waiting is None:
            return False
        # Locked: a webhook enabling the account meanwhile either is seen here or waits for this
        # transaction (its releases stay waiting until the next money pass, so they prove nothing).
        account = uow.accounts.get(pro_id, lock=True)
        if account is not None and account["transfers_enabled"]:
            return False
        if not uow.onboarding_reminders.record(pro_id, now, not_since=not_since):
            return False
        cents = int(waiting["waiting_cents"])
        uow.publish(
            "PayoutOnboardingReminderDue",
            {
                "pro_id": pro_id,
                "waiting_cents": cents,
                "currency": "EUR",  # only euros are handled (R23); a release has no currency of its own
                "releases_waiting": int(waiting["releases"]),
                "missions_waiting": int(waiting["missions"]),
                "reminded_at": now,
            },
        )
        uow.commit()
    log.info("reminding pro %s to finish payout onboarding: %s cents are waiting for it", pro_id, cents)
    return True


# -- releases -----------------------------------------------------------------------------------------


def dispatch_releases(svc: Any) -> int:
    """One pass over releases that are blocked, due for a retry or stale; returns how many went out."""
    now = svc.now()
    stale_before = now - dt.timedelta(seconds=svc.settings.stale_claim_seconds)
    with svc.uow() as uow:
        candidates = uow.releases.candidates(now, stale_before)
    return sum(1 for release in candidates if process_release(svc, release["id"]) == "released")


def process_release(svc: Any, release_id: uuid.UUID) -> str:
    """Try to release one task's money: evaluate what blocks it, claim it, transfer, record."""
    now = svc.now()
    stale_before = now - dt.timedelta(seconds=svc.settings.stale_claim_seconds)
    token = str(uuid.uuid4())
    with svc.uow() as uow:
        release = uow.releases.get(release_id)
        if release is None or release["status"] not in (*BLOCKED, IN_FLIGHT):
            return f"already_{release['status']}" if release else "unknown"
        if release["status"] == IN_FLIGHT and release["claimed_at"] >= stale_before:
            return "in_flight"
        payment = uow.payments.by_mission(release["mission_id"])
        account = uow.accounts.get(release["pro_id"])
        reason = blocker(
            payment_secured=payment is not None
            and payment["mode"] == "secure"
            and payment["secured_at"] is not None,
            frozen=uow.projections.is_frozen(release["mission_id"])
            or uow.projections.is_suspended(release["pro_id"]),
            account_ready=account is not None and bool(account["transfers_enabled"]),
        )
        if reason is not None and release["status"] != IN_FLIGHT:
            if release["status"] != reason and release["status"] != "failed":
                uow.releases.set_status(release_id, reason, now, only_from=BLOCKED)
                uow.commit()
            return reason
        task = next(
            (t for t in uow.payments.tasks(release["mission_id"]) if t["task_id"] == release["task_id"]), None
        )
        amount = int(release["amount_cents"])
        if task is None:
            commission = 0  # a task outside the contract: nothing is kept on it (logged, reconciled)
            log.error(
                "release %s: task %s is not in the contract of mission %s",
                release_id,
                release["task_id"],
                release["mission_id"],
            )
        else:
            commission = release_commission(
                int(task["amount_cents"]),
                int(task["commission_cents"]),
                amount,
                int(payment["commission_rate_bps"]),
            )
        was_in_flight = release["status"] == IN_FLIGHT
        claimed = uow.releases.claim(
            release_id,
            token=token,
            now=now,
            commission_cents=commission,
            net_cents=amount - commission,
            stale_before=stale_before,
        )
        uow.commit()
    if claimed is None:
        return "taken"
    net = int(claimed["net_cents"])
    if was_in_flight:
        # The last attempt's outcome is unknown: ask Stripe before trying again.
        try:
            found = _find_transfer(svc, claimed)
        except StripeUnavailable as exc:
            _note(svc, claimed, token, f"lookup failed: {exc}")
            return "in_flight"
        if found is not None:
            return _record_release(svc, claimed, token, payment, found)
        generation = int(claimed["key_generation"]) + 1  # the old key's answer may be a replayed error
        with svc.uow() as uow:
            if reason is not None:  # nothing went out, and it may not go out now
                uow.releases.finish(
                    release_id, token, svc.now(), key_generation=generation, status=reason, claim_token=None
                )
                uow.commit()
                return reason
            uow.releases.finish(release_id, token, svc.now(), key_generation=generation)
            uow.commit()
        claimed = {**claimed, "key_generation": generation}
    if net <= 0:
        return _record_release(svc, claimed, token, payment, None)
    try:
        transfer = svc.stripe.create_transfer(
            amount_cents=net,
            currency=payment["currency"],
            destination=account["stripe_account_id"],
            source_transaction=payment["stripe_charge_id"],
            transfer_group=str(claimed["mission_id"]),
            metadata={
                "mission_id": str(claimed["mission_id"]),
                "task_id": str(claimed["task_id"]),
                "release_id": str(claimed["id"]),
            },
            idempotency_key=_key("release", claimed["task_id"], int(claimed["key_generation"])),
        )
    except StripeRefused as exc:
        return _refused(svc, claimed, token, exc)
    except (StripeUnavailable, StripeNotConfigured) as exc:
        _note(svc, claimed, token, f"outcome unknown: {exc}")
        log.warning("release %s: outcome unknown, will ask Stripe: %s", release_id, exc)
        return "in_flight"
    return _record_release(svc, claimed, token, payment, transfer)


def _find_transfer(svc: Any, release: Any) -> Transfer | None:
    for transfer in svc.stripe.list_transfers(transfer_group=str(release["mission_id"])):
        if transfer.metadata.get("task_id") == str(release["task_id"]):
            return transfer
    return None


def _note(svc: Any, release: Any, token: str, error: str) -> None:
    with svc.uow() as uow:
        uow.releases.finish(release["id"], token, svc.now(), last_error=error[:2000])
        uow.commit()


def _refused(svc: Any, release: Any, token: str, exc: StripeRefused) -> str:
    now = svc.now()
    status = "waiting_for_account" if exc.code == "insufficient_capabilities_for_transfer" else "failed"
    delay = backoff_seconds(int(release["attempts"]), svc.settings.retry_base_seconds)
    with svc.uow() as uow:
        uow.releases.finish(
            release["id"],
            token,
            now,
            status=status,
            claim_token=None,
            # Stripe keeps answering this refusal to the same key: the next attempt takes a new one.
            key_generation=int(release["key_generation"]) + 1,
            last_error=f"{exc.code}: {exc}"[:2000],
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )
        if status == "waiting_for_account":
            account = uow.accounts.get(release["pro_id"])
            if account is not None:
                uow.accounts.refresh(account["stripe_account_id"], now, transfers_enabled=False)
        uow.commit()
    log.warning("release %s refused by Stripe (%s): %s", release["id"], exc.code, exc)
    return status


def _record_release(svc: Any, release: Any, token: str, payment: Any, transfer: Transfer | None) -> str:
    now = svc.now()
    net, commission = int(release["net_cents"]), int(release["commission_cents"])
    with svc.uow() as uow:
        if not uow.releases.finish(
            release["id"],
            token,
            now,
            status="released",
            transfer_id=transfer.id if transfer else None,
            released_at=now,
            claim_token=None,
            last_error=None,
        ):
            return "taken"
        uow.ledger.post(
            release["mission_id"],
            f"release:{release['task_id']}",
            ledger.release(net, commission),
            now,
            transfer.id if transfer else None,
        )
        if transfer is not None:
            uow.publish(
                "FundsReleased",
                {
                    "mission_id": release["mission_id"],
                    "task_id": release["task_id"],
                    "pro_id": release["pro_id"],
                    "amount_cents": net + commission,
                    "commission_cents": commission,
                    "net_cents": net,
                    "currency": payment["currency"],
                    "transfer_id": transfer.id,
                    "released_at": now,
                },
            )
        _close_if_settled(uow, payment["id"], release["mission_id"], now)
        uow.commit()
    log.info(
        "released %s cents of task %s (transfer %s)",
        net,
        release["task_id"],
        transfer.id if transfer else None,
    )
    return "released"


def _close_if_settled(uow: Any, payment_id: uuid.UUID, mission_id: uuid.UUID, now: dt.datetime) -> None:
    """Nothing held any more and no release open: the payment is completed (or all refunded)."""
    uow.payments.change(payment_id, updated_at=now)  # money moved: reconciled by the periodic job
    balances, captured, _refunded = views.balances(uow, mission_id)
    if captured == 0 or balances["escrow"] != 0:
        return
    if any(r["status"] not in ("released", "refunded") for r in uow.releases.of_mission(mission_id)):
        return
    status = "completed" if balances["pro"] or balances["commission"] else "refunded"
    uow.payments.change(payment_id, when_status=("secured",), status=status, updated_at=now)


# -- refunds ------------------------------------------------------------------------------------------


def process_refunds(svc: Any) -> int:
    now = svc.now()
    stale_before = now - dt.timedelta(seconds=svc.settings.stale_claim_seconds)
    with svc.uow() as uow:
        candidates = uow.refunds.candidates(now, stale_before)
    return sum(1 for refund in candidates if process_refund(svc, refund["id"]) == "refunded")


def process_refund(svc: Any, refund_id: uuid.UUID) -> str:
    now = svc.now()
    stale_before = now - dt.timedelta(seconds=svc.settings.stale_claim_seconds)
    token = str(uuid.uuid4())
    with svc.uow() as uow:
        current = uow.refunds.get(refund_id)
        if current is None or current["status"] == "refunded":
            return "done"
        payment = uow.payments.get(current["payment_id"])
        if payment["secured_at"] is None or not payment["stripe_payment_intent_id"]:
            return "waiting_payment"
        claimed = uow.refunds.claim(refund_id, token=token, now=now, stale_before=stale_before)
        uow.commit()
    if claimed is None:
        return "taken"
    generation = int(claimed["key_generation"])
    if current["status"] == "refunding":  # stale: ask Stripe first
        try:
            for found in svc.stripe.list_refunds(payment_intent=payment["stripe_payment_intent_id"]):
                if found.metadata.get("refund_id") == str(refund_id):
                    return _record_refund(svc, claimed, token, payment, found.id)
        except StripeUnavailable as exc:
            log.warning("refund %s: lookup failed: %s", refund_id, exc)
            return "in_flight"
        generation += 1
    try:
        made = svc.stripe.create_refund(
            payment_intent=payment["stripe_payment_intent_id"],
            amount_cents=int(claimed["amount_cents"]),
            metadata={"refund_id": str(refund_id), "mission_id": str(claimed["mission_id"])},
            idempotency_key=_key("refund", refund_id, generation),
        )
    except StripeRefused as exc:
        with svc.uow() as uow:
            uow.refunds.finish(
                refund_id,
                token,
                status="failed",
                key_generation=generation + 1,
                last_error=f"{exc.code}: {exc}"[:2000],
                next_attempt_at=svc.now()
                + dt.timedelta(
                    seconds=backoff_seconds(int(claimed["attempts"]), svc.settings.retry_base_seconds)
                ),
            )
            uow.commit()
        log.error("refund %s refused by Stripe: %s", refund_id, exc)
        return "failed"
    except (StripeUnavailable, StripeNotConfigured) as exc:
        with svc.uow() as uow:
            uow.refunds.finish(
                refund_id, token, key_generation=generation, last_error=f"outcome unknown: {exc}"[:2000]
            )
            uow.commit()
        return "in_flight"
    return _record_refund(svc, claimed, token, payment, made.id)


def _record_refund(svc: Any, refund: Any, token: str, payment: Any, stripe_refund_id: str) -> str:
    now = svc.now()
    amount = int(refund["amount_cents"])
    with svc.uow() as uow:
        if not uow.refunds.finish(
            refund["id"],
            token,
            status="refunded",
            stripe_refund_id=stripe_refund_id,
            refunded_at=now,
            claim_token=None,
        ):
            return "taken"
        uow.ledger.post(
            refund["mission_id"], f"refund:{refund['id']}", ledger.refund(amount), now, stripe_refund_id
        )
        _, _, total_refunded = views.balances(uow, refund["mission_id"])
        uow.publish(
            "RefundIssued",
            {
                "payment_id": payment["id"],
                "mission_id": payment["mission_id"],
                "client_id": payment["client_id"],
                "pro_id": payment["pro_id"],
                "amount_cents": amount,
                "total_refunded_cents": total_refunded,
                "currency": payment["currency"],
                "reason": refund["reason"],
                "incident_id": refund["incident_id"],
                "refund_id": stripe_refund_id,
                "refunded_at": now,
            },
        )
        _close_if_settled(uow, payment["id"], refund["mission_id"], now)
        uow.commit()
    return "refunded"


def run_money_jobs(svc: Any) -> None:
    """The worker's money pass: intents, cancellations, releases, refunds."""
    if not svc.settings.stripe_api_key:
        return
    create_missing_intents(svc)
    cancel_abandoned_intents(svc)
    dispatch_releases(svc)
    process_refunds(svc)
