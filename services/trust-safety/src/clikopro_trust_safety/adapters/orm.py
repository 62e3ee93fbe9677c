"""Tables of the trust-safety database."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
