"""French postcodes and departments."""

from __future__ import annotations

import re

_POSTCODE = re.compile(r"^[0-9]{5}$")


def department_of(postcode: str) -> str:
    """The department code of a postcode.

    Mainland: the first two digits. Corsica (20xxx): ``2A`` (Corse-du-Sud) below
    20200, ``2B`` (Haute-Corse) from 20200. Overseas (97x, 98x): three digits.
    """
    if not _POSTCODE.match(postcode):
        raise ValueError(f"not a French postcode: {postcode!r}")
    if postcode.startswith("20"):
        return "2A" if int(postcode) < 20200 else "2B"
    if postcode.startswith(("97", "98")):
        return postcode[:3]
    return postcode[:2]


def postcode_problem(postcode: str) -> str | None:
    """Why ``postcode`` is not a real French postcode, or None."""
    if not _POSTCODE.match(postcode):
        return "must be 5 digits"
    if postcode.startswith("00") or postcode.startswith("96") or postcode.startswith("99"):
        return "is not a French postcode"
    return None


DEPARTMENT = re.compile(r"^(?:0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[0-9]|98[0-9])$")
