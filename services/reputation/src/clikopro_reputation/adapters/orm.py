"""Tables of the reputation database."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
