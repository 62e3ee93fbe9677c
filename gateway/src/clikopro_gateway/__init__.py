"""CLIKOPRO API gateway: the one entry for mobile and web clients (R21)."""

SERVICE = "gateway"
