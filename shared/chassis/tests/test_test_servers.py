"""The test servers' resolution: a server we were told to use and cannot reach fails the run."""

from __future__ import annotations

import pytest

from clikopro_chassis.testing.http import free_port
from clikopro_chassis.testing.servers import Servers, ServerUnreachable


@pytest.mark.parametrize(
    ("variable", "scheme", "method"),
    [
        ("TEST_POSTGRES_URL", "postgresql://postgres@", "postgres"),
        ("TEST_BROKER_URL", "amqp://guest:guest@", "broker"),
        ("TEST_REDIS_URL", "redis://", "redis"),
    ],
)
def test_an_unreachable_server_that_was_named_fails_rather_than_skips(
    monkeypatch: pytest.MonkeyPatch, variable: str, scheme: str, method: str
) -> None:
    url = f"{scheme}127.0.0.1:{free_port()}/x"
    monkeypatch.setenv(variable, url)
    with pytest.raises(ServerUnreachable, match=variable):
        getattr(Servers(), method)()


def test_a_named_server_that_answers_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        monkeypatch.setenv("TEST_REDIS_URL", url)
        assert Servers().redis() == url
