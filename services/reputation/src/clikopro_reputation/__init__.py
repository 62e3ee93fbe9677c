"""CLIKOPRO reputation service: reviews, reputation scores, professional directory (R16, R17)."""

SERVICE = "reputation"
