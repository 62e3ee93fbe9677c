"""A folded copy of the text (lower case, no accents, compatibility forms) that remembers, for each of
its characters, where it came from: rules match the copy, findings are reported on the original."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Characters that stand for a separator in contact details but fold to nothing useful.
_SPACES = {"\u00a0", "\u202f", "\u2009", "\u200b", "\u2007"}


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    if c in _SPACES:
        return " "
    if c.isascii():
        return c.lower()
    decomposed = unicodedata.normalize("NFKD", c)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return folded or c


@dataclass(frozen=True, slots=True)
class Folded:
    text: str
    #: ``origin[i]`` is the index in the original text of the folded character ``i``;
    #: one more entry (the original length) closes the last span.
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded span ``[start, end)``."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


def fold(text: str) -> Folded:
    parts: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        f = _fold_char(c)
        parts.append(f)
        origin.extend([i] * len(f))
    origin.append(len(text))
    return Folded("".join(parts), tuple(origin))


@dataclass(frozen=True, slots=True)
class Token:
    """A run of digits, a run of letters, or one other visible character, in the folded text."""

    kind: str  # "digits" | "word" | "symbol"
    text: str
    start: int
    end: int


_TOKEN = re.compile(r"(?P<digits>\d+)|(?P<word>[^\W\d_]+)|(?P<symbol>\S)")


def tokens(folded: str) -> list[Token]:
    return [Token(m.lastgroup or "symbol", m.group(), m.start(), m.end()) for m in _TOKEN.finditer(folded)]
