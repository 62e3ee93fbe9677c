"""CLIKOPRO subscriptions service: plans, 12-month subscriptions with tacit renewal, entitlements (R12)."""

SERVICE = "subscriptions"
