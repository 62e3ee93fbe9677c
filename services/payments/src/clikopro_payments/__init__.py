"""CLIKOPRO payments service: CLIKOPRO Secure on Stripe Connect, Paiement Direct, escrow ledger."""

SERVICE = "payments"
