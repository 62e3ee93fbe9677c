"""The password policy (R2): long enough, not guessable, not made of the user's own details.

Length matters more than character classes (NIST SP 800-63B): a passphrase of
ordinary words passes; a short password, a very common one, a run of one
character or the user's own e-mail or name does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 5

#: The most common passwords and their French favourites, compared without case, spaces or
#: trailing digits ("Azertyuiop2024" is "azertyuiop").
COMMON = frozenset(
    {
        "password", "motdepasse", "azertyuiop", "qwertyuiop", "azerty", "qwerty", "123456789",
        "1234567890", "0123456789", "iloveyou", "jetaime", "soleil", "doudou", "chouchou", "marseille",
        "bonjour", "loulou", "football", "azertyuiopqsdfghjklm", "qwertyuiopasdfghjkl", "clikopro",
        "letmein", "welcome", "administrator", "motdepasse123", "abcdefghij", "passw0rd", "p4ssw0rd",
        "m0tdepasse", "changeme", "trustno1", "sunshine", "princess", "dragon", "monkey", "master",
    }
)  # fmt: skip


def _skeleton(text: str) -> str:
    return re.sub(r"[\s\d!?.]+$", "", re.sub(r"\s+", "", text.lower())) or text.lower()


def password_problems(password: str, *, min_length: int, personal: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``password`` (empty if it is acceptable).

    ``personal`` are the user's own details (e-mail, names): a password built on them is refused.
    """
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        problems.append(f"must use at least {MIN_DISTINCT_CHARACTERS} different characters")
    lowered = password.lower()
    if _skeleton(password) in COMMON or lowered in COMMON:
        problems.append("is too common")
    for detail in personal:
        for part in re.split(r"[@.\s_+-]+", detail.lower()):
            if len(part) >= 4 and part in lowered:
                problems.append("must not contain your e-mail address or name")
                return problems
    return problems
