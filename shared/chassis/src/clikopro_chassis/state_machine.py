"""A lifecycle as a table of allowed transitions (ARCHITECTURE.md: "a state machine is a
table of allowed transitions, tested as a table").

A table maps ``(state, command)`` to the new state and the actors allowed to fire the
command. Actors are the service's own words for the caller's relation to the thing (a
mission's ``client``, a subscription's ``stripe``...). A command that the state does not
allow is a conflict (409, whoever asks); a command the state allows but not for this actor
is forbidden (403); someone who may never fire the command is refused before learning
anything about the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clikopro_chassis.errors import Conflict, Forbidden

#: The state of something that does not exist yet (the source of a creation).
NEW = None


class TransitionNotAllowed(Conflict):
    """The command is not possible in the current state, whoever asks."""


class ActorNotAllowed(Forbidden):
    """The command is possible in this state, but not for this caller."""


@dataclass(frozen=True)
class Rule:
    to: str
    actors: frozenset[str]


def rule(to: str, *actors: str) -> Rule:
    return Rule(to, frozenset(actors))


@dataclass(frozen=True)
class StateMachine:
    #: What the machine is the lifecycle of ("mission"), for messages.
    name: str
    table: Mapping[tuple[str | None, str], Rule]
    #: How a command reads once done ("accept" -> "accepted"), for messages; default: the command.
    past_tense: Mapping[str, str] | None = None

    @property
    def states(self) -> tuple[str, ...]:
        found = {s for s, _ in self.table if s is not None} | {r.to for r in self.table.values()}
        return tuple(sorted(found))

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(sorted({c for _, c in self.table}))

    def allows(self, state: str | None, command: str, actor: str) -> bool:
        found = self.table.get((state, command))
        return found is not None and actor in found.actors

    def decide(self, state: str | None, command: str, actor: str, *, hint: str | None = None) -> str:
        """The state after ``command`` by ``actor``; raises if the table does not allow it."""
        refusal = hint or f"You may not {command.replace('_', ' ')} this {self.name}."
        if not any(actor in r.actors for (_, c), r in self.table.items() if c == command):
            raise ActorNotAllowed(refusal)
        found = self.table.get((state, command))
        if found is None:
            done = (self.past_tense or {}).get(command, command.replace("_", " "))
            raise TransitionNotAllowed(
                f"A {self.name} cannot be {done} when it is {state or 'new'}.", state=state, command=command
            )
        if actor not in found.actors:
            raise ActorNotAllowed(refusal)
        return found.to
