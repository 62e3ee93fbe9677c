"""Tables of the payments database."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
