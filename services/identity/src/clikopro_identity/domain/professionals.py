"""What makes a professional's sign-up acceptable (R1): a real SIRET and insurance in force."""

from __future__ import annotations

import datetime as dt

from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.fr import siret as stdnum_siret


class InvalidSiret(ValueError):
    pass


def normalise_siret(raw: str) -> str:
    """The 14 digits of a valid SIRET (spaces and dots allowed in the input), else :class:`InvalidSiret`.

    The check key is Luhn's, except for La Poste's establishments (SIREN 356 000 000), whose digits
    must add up to a multiple of 5: python-stdnum knows both rules.
    """
    try:
        return stdnum_siret.validate(raw)
    except InvalidLength:
        raise InvalidSiret("must have 14 digits") from None
    except InvalidFormat:
        raise InvalidSiret("must contain digits only") from None
    except InvalidChecksum:
        raise InvalidSiret("is not a valid SIRET (wrong check digit)") from None
    except ValidationError:
        raise InvalidSiret("is not a valid SIRET") from None


def insurance_problem(valid_until: dt.date, today: dt.date) -> str | None:
    """A policy that ended before today is refused; one that ends today is still in force."""
    if valid_until < today:
        return f"the policy expired on {valid_until.isoformat()}"
    return None
