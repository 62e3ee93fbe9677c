"""The shared service CLI runs a service's own commands beside migrate and worker."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pytest

from clikopro_chassis.cli import Command, service_cli
from clikopro_chassis.config import Settings
from clikopro_chassis.db import Database


@dataclass
class Runtime:
    settings: Settings
    database: Database

    def joined_uow(self, session):
        raise NotImplementedError


def runtime_for(tmp_path: Path) -> Runtime:
    settings = Settings.from_env("probe", {"DATA_DIR": str(tmp_path), "BROKER_URL": "memory://"})
    return Runtime(settings, Database(settings.database_url))


def test_an_extra_command_gets_its_arguments_and_gives_the_exit_status(tmp_path: Path) -> None:
    seen: list[tuple[Runtime, argparse.Namespace]] = []

    def greet(runtime: Runtime, args: argparse.Namespace) -> int:
        seen.append((runtime, args))
        return 3

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", required=True)

    runtime = runtime_for(tmp_path)
    status = service_cli(
        "clikopro_probe",
        lambda: runtime,
        {},
        extra_commands={"greet": Command("say hello", greet, arguments)},
        argv=["greet", "--name", "Léa"],
    )
    assert status == 3
    [(given, args)] = seen
    assert given is runtime and args.name == "Léa"


def test_an_extra_command_cannot_shadow_a_chassis_command(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="migrate"):
        service_cli(
            "clikopro_probe",
            lambda: runtime_for(tmp_path),
            {},
            extra_commands={"migrate": Command("no", lambda *_: 0)},
            argv=["migrate"],
        )


def test_an_unknown_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        service_cli("clikopro_probe", lambda: runtime_for(tmp_path), {}, argv=["frobnicate"])
    assert exc.value.code == 2
