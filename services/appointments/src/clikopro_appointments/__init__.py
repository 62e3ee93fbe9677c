"""CLIKOPRO appointments service: appointments between clients and professionals (R15)."""

SERVICE = "appointments"
