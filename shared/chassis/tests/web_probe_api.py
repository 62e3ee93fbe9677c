"""Operation handlers of the web probe spec (web_probe.yaml)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import flask
from sqlalchemy import Column, MetaData, String, Table, Text, insert

from clikopro_chassis.context import correlation_id_var, request_id_var
from clikopro_chassis.errors import Conflict, NotFound
from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created, ok
from clikopro_chassis.web.security import principal


def create_thing(body: dict[str, Any]) -> flask.Response:
    if body["name"] == "taken":
        raise Conflict("That name is taken.")
    return created({"name": body["name"], "count": body["count"]})


def create_appointment(body: dict[str, Any]) -> flask.Response:
    # What a handler does with a validated date: it cannot fail here.
    day, at = dt.date.fromisoformat(body["day"]), dt.datetime.fromisoformat(body["at"])
    return created({"day": day.isoformat(), "at": at.isoformat()})


def upload_document() -> flask.Response:
    upload = flask.request.files["file"]
    return created({"name": upload.filename, "size": len(upload.read())})


def get_thing(thing_id: str) -> flask.Response:
    raise NotFound(f"No thing {thing_id}.")


def boom() -> flask.Response:
    raise RuntimeError("an unexpected bug")


def context(q: str | None = None) -> flask.Response:
    return ok({"request_id": request_id_var.get(), "correlation_id": correlation_id_var.get()})


def internal_secret() -> flask.Response:
    return ok({"for": "the gateway"})


def whoami() -> flask.Response:
    caller = principal()
    return ok({"user_id": caller.user_id, "role": caller.role})


notes_metadata = MetaData()
notes = Table("notes", notes_metadata, Column("id", String(36), primary_key=True), Column("text", Text))


@idempotent
def create_note(body: dict[str, Any]) -> flask.Response:
    note_id = str(uuid.uuid4())
    with UnitOfWork(services().database, producer="probe") as uow:
        uow.session.execute(insert(notes).values(id=note_id, text=body["text"]))
        time.sleep(float(body.get("delay", 0)))  # widens the window for racing copies
        uow.commit()
    return created({"id": note_id, "text": body["text"]})
