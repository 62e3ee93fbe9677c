"""The pure rules of identity, as tables of cases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from clikopro_identity.domain.passwords import password_problems
from clikopro_identity.domain.phones import InvalidPhone, normalise_phone
from clikopro_identity.domain.professionals import InvalidSiret, insurance_problem, normalise_siret
from clikopro_identity.domain.suspensions import Suspension, supersedes
from clikopro_identity.domain.throttling import ThrottleRule, retry_after
from clikopro_identity.domain.tokens import RefreshToken, RefreshVerdict, refresh_verdict

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a long enough passphrase", None),
        ("correct horse battery staple", None),
        ("Tr0ub4dor&3x", None),
        ("short", "at least 10 characters"),
        ("x" * 257, "at most 256 characters"),
        ("abababababab", "different characters"),
        ("Azertyuiop", "too common"),
        ("azertyuiop2024!", "too common"),
        ("MotDePasse123", "too common"),
        ("lea.martin-2026", "e-mail address or name"),
        ("martin est content", "e-mail address or name"),
    ],
)
def test_password_policy(password: str, problem: str | None) -> None:
    problems = password_problems(password, min_length=10, personal=("lea.martin@example.fr", "Léa", "Martin"))
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("73282932000074", "73282932000074"),
        ("732 829 320 00074", "73282932000074"),
        ("35600000049837", "35600000049837"),  # La Poste: digit sum % 5 == 0, Luhn fails
        ("73282932000075", InvalidSiret),  # Luhn fails
        ("35600000049838", InvalidSiret),  # La Poste, wrong sum
        ("732829320", InvalidSiret),  # a SIREN is not a SIRET
        ("7328293200007X", InvalidSiret),
        ("", InvalidSiret),
    ],
)
def test_siret(raw: str, expected: str | type[Exception]) -> None:
    if isinstance(expected, str):
        assert normalise_siret(raw) == expected
    else:
        with pytest.raises(expected):
            normalise_siret(raw)


@pytest.mark.parametrize(
    ("valid_until", "refused"),
    [(dt.date(2026, 11, 25), True), (dt.date(2026, 11, 26), False), (dt.date(2027, 1, 1), False)],
)
def test_insurance_must_be_in_force(valid_until: dt.date, refused: bool) -> None:
    assert (insurance_problem(valid_until, dt.date(2026, 11, 26)) is not None) is refused


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("01 23 45 67 89", "+33123456789"),
        ("+44 20 7946 0958", "+442079460958"),
        ("12345", InvalidPhone),
        ("06 12 34", InvalidPhone),
        ("not a number", InvalidPhone),
    ],
)
def test_phone_numbers(raw: str, expected: str | type[Exception]) -> None:
    if isinstance(expected, str):
        assert normalise_phone(raw) == expected
    else:
        with pytest.raises(expected):
            normalise_phone(raw)


def token(**changes) -> RefreshToken:
    values = {
        "user_id": uuid.uuid4(),
        "family_id": uuid.uuid4(),
        "token_hash": "h",
        "issued_at": NOW - dt.timedelta(days=1),
        "expires_at": NOW + dt.timedelta(days=29),
    }
    return RefreshToken(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({}, RefreshVerdict.USABLE),
        ({"expires_at": NOW}, RefreshVerdict.EXPIRED),
        ({"used_at": NOW - dt.timedelta(hours=1)}, RefreshVerdict.REUSED),
        # A spent token replayed after it expired still reveals a leak.
        (
            {"used_at": NOW - dt.timedelta(days=40), "expires_at": NOW - dt.timedelta(days=1)},
            RefreshVerdict.REUSED,
        ),
        ({"revoked_at": NOW - dt.timedelta(hours=1)}, RefreshVerdict.REVOKED),
        ({"revoked_at": NOW, "used_at": NOW}, RefreshVerdict.REVOKED),
    ],
)
def test_refresh_token_verdicts(changes: dict, verdict: RefreshVerdict) -> None:
    assert refresh_verdict(token(**changes), NOW) is verdict


RULE = ThrottleRule(max_failures=3, window=dt.timedelta(minutes=15))


@pytest.mark.parametrize(
    ("minutes_ago", "wait"),
    [
        ([], None),
        ([1, 2], None),
        ([1, 2, 3], 12 * 60),  # the oldest of the last three leaves the window in 12 min
        ([1, 2, 3, 4, 5], 12 * 60),
        ([1, 2, 20], None),  # one is already out of the window
        ([14.5, 14.6, 14.7], 18),  # 14.7 min ago leaves in 18 s
    ],
)
def test_login_throttle(minutes_ago: list[float], wait: int | None) -> None:
    failures = [NOW - dt.timedelta(minutes=m) for m in minutes_ago]
    assert retry_after(failures, RULE, NOW) == wait


@pytest.mark.parametrize(
    ("current_at", "change_at", "applies"),
    [(None, NOW, True), (NOW, NOW + dt.timedelta(seconds=1), True), (NOW, NOW, True),
     (NOW, NOW - dt.timedelta(seconds=1), False)],
)  # fmt: skip
def test_an_older_suspension_change_is_ignored(
    current_at: dt.datetime | None, change_at: dt.datetime, applies: bool
) -> None:
    current = Suspension(uuid.uuid4(), True, current_at) if current_at else None
    assert supersedes(change_at, current) is applies


def test_a_temporary_suspension_ends_by_itself() -> None:
    suspension = Suspension(uuid.uuid4(), True, NOW, until=NOW + dt.timedelta(days=1))
    assert suspension.in_force(NOW)
    assert not suspension.in_force(NOW + dt.timedelta(days=1))
    assert not Suspension(uuid.uuid4(), False, NOW).in_force(NOW)
