"""``GET /api/v1/plans``: the catalog (public)."""

from __future__ import annotations

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.responses import ok


def list_plans() -> flask.Response:
    catalog = services().catalog
    return ok(
        {"items": [p.public() for p in catalog.plans]}, headers={"Cache-Control": "public, max-age=300"}
    )
