"""CLIKOPRO identity service (R1-R3): accounts of clients and professionals."""

SERVICE = "identity"
