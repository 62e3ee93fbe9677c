"""The pure rules: lifecycles as tables, the task plan, the Paris calendar month, departments."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from clikopro_chassis.errors import ValidationFailed
from clikopro_chassis.state_machine import ActorNotAllowed, TransitionNotAllowed
from clikopro_missions.domain.lifecycle import (
    ACTORS,
    CLIENT,
    MISSION,
    NEW,
    OTHER,
    PRO,
    PROPOSAL,
    STAFF,
    SYSTEM,
    TASK,
    actor_of,
)
from clikopro_missions.domain.places import department_of, postcode_problem
from clikopro_missions.domain.proposals import PlannedTask, Terms, check_terms
from clikopro_missions.domain.quota import limit_for, month_of, paris_today

# -- lifecycles: the whole table, written out again here, checked cell by cell --------------------------

MISSION_ALLOWED = {
    (NEW, "publish", CLIENT): "published",
    ("published", "accept", CLIENT): "contracted",
    ("contracted", "await_payment", SYSTEM): "awaiting_payment",
    ("contracted", "start", SYSTEM): "in_progress",
    ("awaiting_payment", "secure_payment", SYSTEM): "in_progress",
    ("in_progress", "complete", CLIENT): "completed",
    ("in_progress", "complete", SYSTEM): "completed",
    ("in_progress", "complete", STAFF): "completed",
    ("published", "cancel", CLIENT): "cancelled",
    ("published", "cancel", STAFF): "cancelled",
    ("contracted", "cancel", STAFF): "cancelled",
    ("awaiting_payment", "cancel", STAFF): "cancelled",
    ("in_progress", "cancel", STAFF): "cancelled",
}
PROPOSAL_ALLOWED = {
    (NEW, "submit", PRO): "submitted",
    ("submitted", "accept", CLIENT): "accepted",
    ("submitted", "reject", SYSTEM): "rejected",
    ("submitted", "withdraw", PRO): "withdrawn",
}
TASK_ALLOWED = {
    ("pending", "submit", PRO): "submitted",
    ("contested", "submit", PRO): "submitted",
    ("submitted", "validate", CLIENT): "validated",
    ("submitted", "auto_validate", SYSTEM): "validated",
    ("submitted", "contest", CLIENT): "contested",
    ("pending", "cancel", STAFF): "cancelled",
    ("submitted", "cancel", STAFF): "cancelled",
    ("contested", "cancel", STAFF): "cancelled",
    ("validated", "cancel", STAFF): "cancelled",
    ("contested", "reopen", STAFF): "submitted",
}


def every_cell(machine, allowed):
    states = [NEW, *machine.states]
    commands = sorted({c for (_, c, _) in allowed} | set(machine.commands))
    for state, command, actor in itertools.product(states, commands, ACTORS):
        yield pytest.param(
            machine, allowed, state, command, actor, id=f"{machine.name}-{state}-{command}-{actor}"
        )


CELLS = [
    *every_cell(MISSION, MISSION_ALLOWED),
    *every_cell(PROPOSAL, PROPOSAL_ALLOWED),
    *every_cell(TASK, TASK_ALLOWED),
]


@pytest.mark.parametrize(("machine", "allowed", "state", "command", "actor"), CELLS)
def test_each_cell_of_the_transition_tables(machine, allowed, state, command, actor) -> None:
    expected = allowed.get((state, command, actor))
    if expected is not None:
        assert machine.decide(state, command, actor) == expected
        return
    command_actors = {a for (_, c, a) in allowed if c == command}
    state_allows = any(s == state and c == command for (s, c, _) in allowed)
    # Whoever may never give the command is forbidden before the state is even looked at;
    # someone who may give it in another state gets a conflict.
    error = ActorNotAllowed if actor not in command_actors or state_allows else TransitionNotAllowed
    with pytest.raises(error) as raised:
        machine.decide(state, command, actor)
    assert raised.value.status == (403 if error is ActorNotAllowed else 409)


def test_nobody_else_is_ever_allowed_anything() -> None:
    for machine in (MISSION, PROPOSAL, TASK):
        assert all(OTHER not in rule.actors for rule in machine.table.values())


def test_terminal_states_have_no_way_out() -> None:
    terminals = [
        (MISSION, {"completed", "cancelled"}),
        (PROPOSAL, {"accepted", "rejected", "withdrawn"}),
        (TASK, {"cancelled"}),
    ]
    for machine, terminal in terminals:
        assert not [key for key in machine.table if key[0] in terminal]
    # A validated task only leaves its state by a moderator's refund (an incident), never by a party.
    assert {(c, r.to, r.actors) for (s, c), r in TASK.table.items() if s == "validated"} == {
        ("cancel", "cancelled", frozenset({STAFF}))
    }


def test_the_callers_relation_to_a_mission() -> None:
    client, pro, someone = (object() for _ in range(3))
    assert actor_of(client, "client", client_id=client, pro_id=pro) == CLIENT
    assert actor_of(pro, "pro", client_id=client, pro_id=pro) == PRO
    assert actor_of(someone, "client", client_id=client, pro_id=pro) == OTHER
    assert actor_of(someone, "pro", client_id=client, pro_id=pro) == OTHER
    assert actor_of(client, "pro", client_id=client, pro_id=pro) == OTHER  # the id, and the role
    assert actor_of(someone, "moderator", client_id=client, pro_id=pro) == STAFF
    assert actor_of(someone, "admin", client_id=client, pro_id=None) == STAFF
    assert actor_of(None, None, client_id=client, pro_id=None) == SYSTEM


# -- the task plan ------------------------------------------------------------------------------------

TODAY = dt.date(2026, 3, 10)


def terms(amount: int = 150_000, *tasks: tuple[int, dt.date], **changes) -> Terms:
    planned = tasks or ((100_000, TODAY), (50_000, TODAY + dt.timedelta(days=30)))
    values = {
        "amount_cents": amount,
        "payment_mode": "secure",
        "message": "Bonjour",
        "tasks": tuple(PlannedTask(f"t{i}", a, d) for i, (a, d) in enumerate(planned)),
    }
    return Terms(**{**values, **changes})


def errors_of(value: Terms) -> set[str]:
    with pytest.raises(ValidationFailed) as raised:
        check_terms(value, today=TODAY)
    return {e["field"] for e in raised.value.errors}


def test_a_plan_whose_tasks_add_up_to_the_total_is_accepted_even_due_today() -> None:
    check_terms(terms(), today=TODAY)
    check_terms(terms(1, (1, TODAY)), today=TODAY)


def test_plan_errors_name_their_fields() -> None:
    assert errors_of(terms(149_999)) == {"tasks"}  # sum != total
    assert errors_of(terms(0, (0, TODAY))) == {"amount_cents", "tasks.0.amount_cents"}
    assert errors_of(terms(-5, (-5, TODAY))) == {"amount_cents", "tasks.0.amount_cents"}
    assert errors_of(terms(10, (10, TODAY - dt.timedelta(days=1)))) == {"tasks.0.due_date"}
    assert errors_of(terms(tasks=())) == {"tasks"}
    assert errors_of(terms(51, *[(1, TODAY)] * 51)) == {"tasks"}
    assert errors_of(terms(payment_mode="cash")) == {"payment_mode"}
    assert errors_of(terms(message="  ")) == {"message"}
    assert errors_of(terms(True, (True, TODAY))) == {"amount_cents", "tasks.0.amount_cents"}  # not cents


# -- the Paris calendar month ----------------------------------------------------------------------------


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "key", "resets_at"),
    [
        (utc(2026, 3, 10, 9), "2026-03", utc(2026, 3, 31, 22)),  # April starts in summer time (UTC+2)
        (utc(2026, 3, 31, 21, 59, 59), "2026-03", utc(2026, 3, 31, 22)),
        (utc(2026, 3, 31, 22), "2026-04", utc(2026, 4, 30, 22)),  # already April in Paris
        (utc(2026, 10, 31, 22, 30), "2026-10", utc(2026, 10, 31, 23)),  # November starts in winter time
        (utc(2026, 12, 31, 23), "2027-01", utc(2027, 1, 31, 23)),  # new year in Paris
        (utc(2026, 2, 28, 22, 59), "2026-02", utc(2026, 2, 28, 23)),
    ],
)
def test_the_quota_month_is_the_paris_calendar_month(now, key, resets_at) -> None:
    month = month_of(now)
    assert month.key == key
    assert month.resets_at == resets_at
    assert month.starts_at < now < month.resets_at or month.starts_at == now


def test_the_paris_date_decides_what_is_in_the_past() -> None:
    assert paris_today(utc(2026, 3, 10, 23, 30)) == dt.date(2026, 3, 11)
    assert paris_today(utc(2026, 7, 10, 21, 59)) == dt.date(2026, 7, 10)


def test_the_limit_comes_from_the_plan_or_the_configured_free_quota() -> None:
    assert limit_for(None, known_plan=False, free_default=5) == 5
    assert limit_for(None, known_plan=True, free_default=5) is None  # paid: unlimited
    assert limit_for(3, known_plan=True, free_default=5) == 3


# -- departments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "department"),
    [
        ("69003", "69"),
        ("01000", "01"),
        ("75001", "75"),
        ("20000", "2A"),
        ("20199", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("97400", "974"),
        ("97100", "971"),
        ("98800", "988"),
    ],
)
def test_the_department_of_a_postcode(postcode: str, department: str) -> None:
    assert department_of(postcode) == department


def test_postcodes_that_are_not_french() -> None:
    assert postcode_problem("00100") and postcode_problem("1234") and postcode_problem("69OO3")
    assert postcode_problem("69003") is None
