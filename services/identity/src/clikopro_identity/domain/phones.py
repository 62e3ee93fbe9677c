"""Phone numbers, stored in E.164 (``+33612345678``); French numbers may be written as people do."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "FR"


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    """``06 12 34 56 78``, ``06.12.34.56.78``, ``0033 6 12 34 56 78``, ``+33612345678``: ``+33612345678``."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("is not a valid phone number") from None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
