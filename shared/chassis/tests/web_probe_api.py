"""Operation handlers of the web probe spec (web_probe.yaml)."""

from __future__ import annotations

from typing import Any

import flask

from clikopro_chassis.context import correlation_id_var, request_id_var
from clikopro_chassis.errors import Conflict, NotFound
from clikopro_chassis.web.responses import created, ok
from clikopro_chassis.web.security import principal


def create_thing(body: dict[str, Any]) -> flask.Response:
    if body["name"] == "taken":
        raise Conflict("That name is taken.")
    return created({"name": body["name"], "count": body["count"]})


def get_thing(thing_id: str) -> flask.Response:
    raise NotFound(f"No thing {thing_id}.")


def boom() -> flask.Response:
    raise RuntimeError("an unexpected bug")


def context() -> flask.Response:
    return ok({"request_id": request_id_var.get(), "correlation_id": correlation_id_var.get()})


def whoami() -> flask.Response:
    caller = principal()
    return ok({"user_id": caller.user_id, "role": caller.role})
