"""The transition-table mechanism: allowed, forbidden for the actor, impossible in the state."""

import pytest

from clikopro_chassis.state_machine import NEW, ActorNotAllowed, StateMachine, TransitionNotAllowed, rule

DOOR = StateMachine(
    "door",
    {
        (NEW, "install"): rule("closed", "builder"),
        ("closed", "open"): rule("open", "owner", "guest"),
        ("open", "close"): rule("closed", "owner", "guest"),
        ("closed", "lock"): rule("locked", "owner"),
    },
    past_tense={"lock": "locked"},
)


def test_an_allowed_command_gives_the_new_state() -> None:
    assert DOOR.decide(NEW, "install", "builder") == "closed"
    assert DOOR.decide("closed", "open", "guest") == "open"
    assert DOOR.states == ("closed", "locked", "open")
    assert DOOR.commands == ("close", "install", "lock", "open")


def test_someone_who_may_never_fire_the_command_is_refused_before_the_state_is_checked() -> None:
    with pytest.raises(ActorNotAllowed) as raised:
        DOOR.decide("open", "lock", "guest")  # impossible in this state too, but the guest never may
    assert raised.value.status == 403


def test_a_command_the_state_does_not_allow_is_a_conflict_for_whoever_may_fire_it() -> None:
    with pytest.raises(TransitionNotAllowed) as raised:
        DOOR.decide("open", "lock", "owner")
    assert raised.value.status == 409
    assert raised.value.detail == "A door cannot be locked when it is open."
    assert raised.value.extra == {"state": "open", "command": "lock"}


def test_an_actor_allowed_elsewhere_but_not_in_this_state_is_forbidden() -> None:
    machine = StateMachine("x", {("a", "go"): rule("b", "p"), ("b", "go"): rule("c", "q")})
    with pytest.raises(ActorNotAllowed):
        machine.decide("a", "go", "q")
    assert not machine.allows("a", "go", "q") and machine.allows("b", "go", "q")
