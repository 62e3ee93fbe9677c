"""Missions keeps its own copy of who is a client and who is a pro, from identity's events."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from clikopro_chassis.testing.services import migrated_sqlite
from clikopro_contracts import parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import wire, with_data
from clikopro_missions.adapters.orm import members
from clikopro_missions.bootstrap import bootstrap
from clikopro_missions.service_layer.handlers import HANDLERS
from clikopro_missions.settings import MissionsSettings


def test_userregistered_from_the_contract_example_becomes_a_member(tmp_path: Path) -> None:
    url = migrated_sqlite("clikopro_missions", tmp_path)
    services = bootstrap(
        MissionsSettings.from_env("missions", {"DATABASE_URL": url, "BROKER_URL": "memory://"})
    )
    pro = parse_event(wire(example("UserRegistered", 1)))
    client_example = with_data(
        example("UserRegistered", 1),
        user_id=str(uuid.uuid4()),
        role="client",
        pro_profile=None,
        first_name="Jean",
        last_name="Petit",
    )
    client = parse_event(wire(client_example))

    with services.database.session() as session:
        for event in (pro, client, pro):  # the redelivered copy only updates
            with services.joined_uow(session) as uow:
                HANDLERS[event.type](event, uow)
        session.commit()
        rows = session.execute(select(members.c.user_id, members.c.role, members.c.display_name)).all()

    by_id = {str(r.user_id): (r.role, r.display_name) for r in rows}
    assert len(by_id) == 2
    assert by_id[client.data["user_id"]] == ("client", "Jean P.")
    assert by_id[pro.data["user_id"]][0] == pro.data["role"]
