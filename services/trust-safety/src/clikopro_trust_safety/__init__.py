"""CLIKOPRO trust & safety service: incidents, moderation, suspensions, anti-circumvention, fraud."""

SERVICE = "trust-safety"
