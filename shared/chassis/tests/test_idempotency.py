"""``Idempotency-Key``: the same key and request give the same answer, and one effect,
even when copies race."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from web_probe_api import notes, notes_metadata

from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import metadata as messaging_metadata
from clikopro_chassis.web.app import create_app

SPEC = Path(__file__).parent / "web_probe.yaml"


def build(database: Database, tmp_path: Path) -> TestClient:
    messaging_metadata.create_all(database.engine)
    notes_metadata.create_all(database.engine)
    settings = Settings.from_env("probe", {"DATA_DIR": str(tmp_path)}).replace(broker_url="memory://")
    app = create_app(
        settings=settings, spec=SPEC, database=database, services=SimpleNamespace(database=database)
    )
    return TestClient(app)


def note_count(database: Database) -> int:
    with database.session() as session:
        return session.execute(select(func.count()).select_from(notes)).scalar_one()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/probe.sqlite3")
    else:
        db = Database(request.getfixturevalue("postgres_databases").create(f"idem_{uuid.uuid4().hex[:6]}"))
    yield db
    db.dispose()


def test_a_repeated_request_is_answered_once_and_replayed(database: Database, tmp_path: Path) -> None:
    with build(database, tmp_path) as client:
        first = client.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-1"})
        again = client.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-1"})
        other = client.post("/notes", json={"text": "hello"}, headers={"Idempotency-Key": "k-2"})
        plain = client.post("/notes", json={"text": "hello"})
    assert plain.status_code == 201
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other.json()["id"] != first.json()["id"]
    assert note_count(database) == 3  # k-1 once, k-2, and the request without a key


def test_a_key_reused_for_another_request_is_refused(database: Database, tmp_path: Path) -> None:
    with build(database, tmp_path) as client:
        assert client.post("/notes", json={"text": "a"}, headers={"Idempotency-Key": "k"}).status_code == 201
        reused = client.post("/notes", json={"text": "b"}, headers={"Idempotency-Key": "k"})
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert note_count(database) == 1


def test_racing_copies_have_one_effect(database: Database, tmp_path: Path) -> None:
    answers: list[tuple[int, dict]] = []
    with build(database, tmp_path) as client:

        def send() -> None:
            response = client.post(
                "/notes", json={"text": "race", "delay": 0.2}, headers={"Idempotency-Key": "r"}
            )
            answers.append((response.status_code, response.json()))

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert note_count(database) == 1
    created = {body["id"] for status, body in answers if status == 201}
    assert len(created) == 1  # every 201 is the same answer (the original or its replay)
    assert all(status in (201, 409) for status, _ in answers)
    assert all(body["code"] == "conflict" for status, body in answers if status == 409)
