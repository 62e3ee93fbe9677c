"""Payments' business gauges on /metrics: payouts waiting for onboarding, frozen money, failures."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).parent))

from payments_helpers import Platform

from clikopro_payments.adapters import gauges


def scraped(platform: Platform) -> dict[str, float]:
    answer = platform.get("/metrics")
    assert answer.status_code == 200
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name in gauges.read(platform.svc.database) and sample.labels.get("service") == "payments"
    }


def test_money_waiting_and_frozen_is_on_metrics(platform: Platform) -> None:
    assert set(scraped(platform).values()) == {0.0}
    mission = platform.accept([10_000, 20_000, 30_000])
    platform.pay(mission)
    platform.validate(mission, 0)
    platform.run_money()  # the pro has no Stripe account yet: the payout waits
    figures = scraped(platform)
    assert figures["clikopro_payments_payouts_waiting_onboarding"] == 1
    assert figures["clikopro_payments_payouts_waiting_onboarding_cents"] == 10_000

    platform.handle(platform.incident_opened(mission, uuid.uuid4()))
    platform.validate(mission, 1)  # validated during the incident: held
    platform.run_money()
    figures = scraped(platform)
    view = platform.payment(mission)
    frozen = [t for t in view["tasks"] if (t.get("release") or {}).get("status") == "frozen"]
    assert len(frozen) >= 1  # the one validated during the incident, at least
    assert figures["clikopro_payments_frozen_cents"] == sum(t["amount_cents"] for t in frozen) > 0
    assert (
        figures["clikopro_payments_failed_payouts"] == 0 and figures["clikopro_payments_failed_refunds"] == 0
    )
