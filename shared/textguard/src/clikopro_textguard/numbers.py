"""Numbers written in French words, as people spell a phone number out: ``zéro six``, ``douze``,
``trente-quatre``, ``soixante-dix-huit``, ``quatre-vingt-onze``, ``vingt et un``.

Works on folded words (lower case, no accents). :func:`read_number` reads the longest number that
starts at a word and says how many words it used; a phone number is read group by group, so values
stay below one hundred (``cent`` is read too, for ``cent douze`` style groups of three)."""

from __future__ import annotations

from collections.abc import Sequence

UNITS = {
    "zero": 0,
    "un": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
}
TEENS = {
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
}
TENS = {"vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60}
#: Spelling variants and slips seen in messages.
ALIASES = {"sinq": "cinq", "cinque": "cinq", "vint": "vingt", "vingt": "vingt", "septe": "sept"}

NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | {"cent", "cents"} | frozenset(ALIASES)


def _word(words: Sequence[str], i: int) -> str | None:
    if i >= len(words):
        return None
    w = words[i]
    return ALIASES.get(w, w)


def _below_twenty(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """``un``..``seize``, ``dix-sept``..``dix-neuf``."""
    w = _word(words, i)
    if w == "dix" and _word(words, i + 1) in ("sept", "huit", "neuf"):
        return 10 + UNITS[_word(words, i + 1) or ""], 2
    if w in TEENS:
        return TEENS[w], 1
    if w in UNITS:
        return UNITS[w], 1
    return None


def _below_hundred(words: Sequence[str], i: int) -> tuple[int, int] | None:
    w = _word(words, i)
    if w == "quatre" and _word(words, i + 1) in ("vingt", "vingts"):
        tens, used = 80, 2
    elif w in TENS and w not in ("vingts",):
        tens, used = TENS[w], 1
    else:
        return _below_twenty(words, i)
    j = i + used
    if _word(words, j) == "et" and _word(words, j + 1) in ("un", "onze"):
        j += 1
    rest = _below_twenty(words, j)
    if rest is not None and rest[0] != 0:
        value, more = rest
        # soixante-dix and quatre-vingt-dix count on with the teens; the other tens take units only
        if (tens in (60, 80) and value < 20) or value < 10:
            return tens + value, j - i + more
    return tens, used


def read_number(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """The number spelt from ``words[i]`` on, as ``(value, words used)``; ``None`` if none starts there."""
    w = _word(words, i)
    if w == "zero":
        return 0, 1
    if w in ("cent", "cents"):
        rest = _below_hundred(words, i + 1)
        return (100 + rest[0], 1 + rest[1]) if rest else (100, 1)
    first = _below_hundred(words, i)
    if first is None:
        return None
    value, used = first
    if value < 10 and _word(words, i + used) in ("cent", "cents"):
        rest = _below_hundred(words, i + used + 1)
        if rest:
            return value * 100 + rest[0], used + 1 + rest[1]
        return value * 100, used + 1
    return first
