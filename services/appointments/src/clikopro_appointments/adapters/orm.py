"""Tables of the appointments database."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
