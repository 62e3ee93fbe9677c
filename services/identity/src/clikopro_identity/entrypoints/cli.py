"""``clikopro-identity migrate|worker|create-staff|rotate-keys`` (see clikopro_chassis.cli).

- ``create-staff --role moderator|admin --email ... --first-name ... --last-name ...``: staff
  accounts exist only this way, never through public sign-up. The password is read from standard
  input with ``--password-stdin``, else asked twice at the terminal.
- ``rotate-keys [--activate-in SECONDS]``: publish a new signing key now; it signs after the delay
  (``KEY_ACTIVATION_DELAY_SECONDS`` by default); the old ones stay published until their tokens
  have expired. Nobody is logged out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from collections.abc import Sequence

from clikopro_chassis.cli import Command, service_cli
from clikopro_chassis.errors import AppError
from clikopro_chassis.jobs import PeriodicJob
from clikopro_identity.bootstrap import Services, bootstrap
from clikopro_identity.domain.users import STAFF_ROLES
from clikopro_identity.service_layer import housekeeping
from clikopro_identity.service_layer.handlers import HANDLERS
from clikopro_identity.service_layer.registration import create_staff


def _staff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, choices=STAFF_ROLES)
    parser.add_argument("--email", required=True)
    parser.add_argument("--first-name", required=True)
    parser.add_argument("--last-name", required=True)
    parser.add_argument("--phone", default=None)
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise SystemExit("no terminal to ask the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def _create_staff(svc: Services, args: argparse.Namespace) -> int:
    password = _read_password(args)
    try:
        user = create_staff(
            svc.uow(),
            role=args.role,
            email=args.email,
            password=password,
            first_name=args.first_name,
            last_name=args.last_name,
            phone=args.phone,
            now=svc.now(),
            hasher=svc.hasher,
            password_min_length=svc.settings.password_min_length,
        )
    except AppError as exc:
        problems = "; ".join(f"{e['field']} {e['message']}" for e in exc.errors or []) or exc.detail
        print(f"refused: {problems}", file=sys.stderr)
        return 1
    print(f"{user.role} {user.email} created: {user.id}")
    return 0


def _rotate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--activate-in",
        type=int,
        default=None,
        help="seconds before the new key signs (default: KEY_ACTIVATION_DELAY_SECONDS)",
    )


def _rotate_keys(svc: Services, args: argparse.Namespace) -> int:
    delay = svc.settings.key_activation_delay_seconds if args.activate_in is None else args.activate_in
    now = svc.now()
    kid = svc.keys.rotate(now, dt.timedelta(seconds=delay))
    print(f"new signing key {kid} published; it signs from {(now + dt.timedelta(seconds=delay)).isoformat()}")
    return 0


def _jobs(svc: Services) -> list[PeriodicJob]:
    window = dt.timedelta(seconds=svc.settings.login_failure_window_seconds)
    return [
        PeriodicJob(
            "identity-housekeeping",
            3600,
            lambda: housekeeping.purge(svc.uow(), now=svc.now(), failure_window=window),
        )
    ]


COMMANDS = {
    "create-staff": Command("create a moderator or admin account", _create_staff, _staff_arguments),
    "rotate-keys": Command("publish a new access-token signing key", _rotate_keys, _rotate_arguments),
}


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(
        service_cli("clikopro_identity", bootstrap, HANDLERS, jobs=_jobs, extra_commands=COMMANDS, argv=argv)
    )
