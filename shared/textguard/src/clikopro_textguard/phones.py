"""Phone numbers, however they are spelt: ``06 12 34 56 78``, ``06.12.34.56.78``, ``+33 6…``,
``0033 6…``, ``zéro six douze trente-quatre…``, ``06 douze 34…``, ``O6…``, or digits split by filler
words (``et``, ``tiret``…) or emoji.

The text is read as tokens; each token that carries digits (a digit run, a spelt number, a letter O)
becomes a *group*. Groups separated only by punctuation, emoji, spaces or a few filler words form a
*chain*; a chain holds a phone number if its digits, read from a group boundary to a group boundary,
are one. What looks like a number but is something else — a price (``1 200 €``), a time (``14h30``),
a date (``06/12``, ``12 juin``), a surface (``12 m2``), a quote or SIRET reference — is *blocked*: it
never joins a chain, so it can neither be nor complete a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from clikopro_textguard.normalise import Token
from clikopro_textguard.numbers import NUMBER_WORDS, read_number


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words that may sit between the groups of a disguised number (``06 et 12 et 34``).
FILLERS = frozenset({"et", "puis", "tiret", "espace", "point", "virgule", "slash", "ensuite", "apres"})
#: Words after a number that make it a quantity, a price, a time, a size... never a phone group.
UNITS = _words(
    """
    e eur euro euros ht ttc k ke m m2 m3 mm cm dm km ml kg g gr t l litre litres cl w kw kwh kva v a
    h heure heures hr min mn minute minutes s sec seconde secondes j jour jours nuit nuits semaine
    semaines mois an ans annee annees fois x er ere eme emes pourcent pct degres pieces piece pers
    personnes places etage etages metre metres metres2 lineaires lm
    """
)
#: Units that are also one-letter French words (à, l', s'...) count only glued to the number.
SPACED_UNITS = UNITS - {"a", "e", "s", "l", "t", "j", "v", "w", "g"}
UNIT_SYMBOLS = frozenset("€$£%°²³")
MONTHS = _words(
    """
    janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre janv fev
    avr juil sept oct nov dec
    """
)
#: Words that announce a reference (a quote, an invoice, a company number): the number after is one.
REFERENCES = _words(
    """
    devis facture factures commande dossier ref reference references siret siren tva rcs contrat
    police ticket lot article bon client chantier rm ape naf intracommunautaire
    """
)
#: Between a reference word and its number: ``devis n° 2024-0612``, ``SIRET : 123…``.
REFERENCE_LINKS = frozenset(
    {"n", "no", "num", "numero", "de", "du", "d", "la", "le", "°", ":", "#", "-", "."}
    | {"fournisseur", "produit", "interne", "client", "chantier", "article"}
)

_PHONE = re.compile(r"0[1-9]\d{8}|(?:00)?330?[1-9]\d{8}")
_INTERNATIONAL = re.compile(r"[1-9]\d{7,13}")
#: A mobile number without its leading zero, still in its five groups: ``6 12 34 56 78``.
_NO_ZERO = re.compile(r"[67]\d{8}")
_MAX_DIGITS = 15


@dataclass(slots=True)
class Group:
    digits: str
    start: int  # folded-text span
    end: int
    plus_at: int | None = None  # a ``+`` or ``plus`` just before


def _adjacent(a: Token, b: Token) -> bool:
    return a.end == b.start


def _is_o(tok: Token) -> bool:
    return tok.kind == "word" and tok.text == "o"


def blocked_tokens(toks: list[Token]) -> set[int]:
    """Indexes of digit tokens that are a price, a time, a date, a size or a reference."""
    blocked: set[int] = set()
    n = len(toks)

    def block_number_back(k: int) -> None:
        """Block digit token ``k`` and the thousands / decimal groups before it (``2 500,00``)."""
        blocked.add(k)
        while True:
            prev = toks[k - 1] if k >= 1 else None
            if prev is not None and prev.kind == "digits" and toks[k].start - prev.end == 1:
                if len(toks[k].text) != 3 or len(prev.text) > 3:
                    return  # a space separates thousands only: 2 500, not 06 12
                k -= 1
            elif (
                k >= 2
                and prev is not None
                and prev.text in (".", ",")
                and toks[k - 2].kind == "digits"
                and _adjacent(toks[k - 2], prev)
                and _adjacent(prev, toks[k])
            ):
                k -= 2
            else:
                return
            blocked.add(k)

    for k, tok in enumerate(toks):
        if tok.kind != "digits":
            continue
        prev = toks[k - 1] if k >= 1 else None
        if prev is not None and prev.kind == "word" and prev.text in UNITS and _adjacent(prev, tok):
            blocked.add(k)  # the 2 of m2, the 30 of 14h30
            continue
        nxt = toks[k + 1] if k + 1 < n else None
        if nxt is None:
            continue
        if nxt.kind == "word" and _adjacent(tok, nxt) and nxt.text != "o" and nxt.text not in NUMBER_WORDS:
            # 14h30, 12m2, 3eme, 1er, 1200e, 2x: a suffix glued to the digits
            block_number_back(k)
            after = toks[k + 2] if k + 2 < n else None
            if after is not None and after.kind == "digits" and _adjacent(nxt, after) and nxt.text in UNITS:
                blocked.add(k + 2)
            continue
        elided = k + 2 < n and toks[k + 2].text in "'\u2019" and _adjacent(nxt, toks[k + 2])
        if nxt.kind == "word" and not elided and (nxt.text in SPACED_UNITS or nxt.text in MONTHS):
            block_number_back(k)
            after = toks[k + 2] if k + 2 < n else None
            minutes = nxt.text in ("h", "heure", "heures") and after is not None and len(after.text) == 2
            if after is not None and after.kind == "digits" and (nxt.text in MONTHS or minutes):
                blocked.add(k + 2)  # 12 juin 2024, 14 h 30
            continue
        if nxt.kind == "symbol" and nxt.text in UNIT_SYMBOLS:
            block_number_back(k)
            continue
        if nxt.kind == "symbol" and nxt.text in ":/." and _adjacent(tok, nxt):
            _block_date_or_time(toks, k, blocked)
    for k, tok in enumerate(toks):
        if tok.kind == "word" and tok.text in REFERENCES:
            _block_reference(toks, k + 1, blocked)
    return blocked


def _separated_run(toks: list[Token], k: int, separator: str) -> list[int]:
    """Digit tokens ``k``, ``k+2``... glued by ``separator`` (``06/12/2024``)."""
    run = [k]
    while True:
        last = run[-1]
        if last + 2 < len(toks):
            sep, nxt = toks[last + 1], toks[last + 2]
            if (
                sep.text == separator
                and nxt.kind == "digits"
                and _adjacent(toks[last], sep)
                and _adjacent(sep, nxt)
            ):
                run.append(last + 2)
                continue
        return run


def _block_date_or_time(toks: list[Token], k: int, blocked: set[int]) -> None:
    glued_before = k >= 2 and _adjacent(toks[k - 2], toks[k - 1]) and _adjacent(toks[k - 1], toks[k])
    if glued_before and toks[k - 2].kind == "digits" and toks[k - 1].text == toks[k + 1].text:
        return  # not the start of the run: its first token decided
    run = _separated_run(toks, k, toks[k + 1].text)
    sizes = [len(toks[i].text) for i in run]
    sep = toks[k + 1].text
    if sep == ":" and len(run) == 2 and sizes[0] <= 2 and sizes[1] == 2:
        blocked.update(run)  # 14:30
    elif sep in "/." and len(run) in (2, 3) and sizes[0] <= 2 and sizes[1] <= 2:
        day_month = sep == "/" and len(run) == 2
        with_year = len(run) == 3 and sizes[2] in (2, 4)
        if day_month or with_year:
            blocked.update(run)  # 06/12, 06/12/2024, 06.12.2024


def _block_reference(toks: list[Token], k: int, blocked: set[int]) -> None:
    links = 0
    while k < len(toks) and toks[k].kind != "digits":
        if toks[k].text not in REFERENCE_LINKS or links >= 4:
            return
        links += 1
        k += 1
    # the reference is the run of digit tokens glued by spaces or separators (2024-0612, 123 456 789 00012)
    while k < len(toks):
        tok = toks[k]
        if tok.kind == "digits":
            blocked.add(k)
        elif (tok.kind == "word" and tok.text != "o") or (tok.kind == "symbol" and tok.text not in "-/."):
            return
        k += 1


def _groups(toks: list[Token], blocked: set[int]) -> Iterator[list[Group] | None]:
    """Groups in text order; ``None`` where a chain breaks."""
    n = len(toks)
    k = 0
    fillers = 0
    plus_at: int | None = None
    while k < n:
        tok = toks[k]
        if tok.kind == "digits":
            if k in blocked:
                yield None
                fillers, plus_at = 0, None
            else:
                yield [Group(tok.text, tok.start, tok.end, plus_at)]
                fillers, plus_at = 0, None
            k += 1
            continue
        if tok.kind == "symbol":
            if tok.text == "+":
                plus_at = tok.start
            elif tok.text in UNIT_SYMBOLS:
                yield None
                fillers, plus_at = 0, None
            k += 1
            continue
        # a word
        if _is_o(tok):
            yield [Group("0", tok.start, tok.end, plus_at)]
            fillers, plus_at = 0, None
            k += 1
            continue
        if tok.text in NUMBER_WORDS:
            words, index = [tok.text], [k]
            j = k + 1
            while j < n and len(words) < 6:
                t = toks[j]
                if t.kind == "symbol" and t.text == "-":
                    j += 1
                    continue
                if t.kind == "word" and (t.text in NUMBER_WORDS or t.text == "et"):
                    words.append(t.text)
                    index.append(j)
                    j += 1
                    continue
                break
            read = read_number(words, 0)
            if read is not None:
                value, used = read
                last = toks[index[used - 1]]
                yield [Group(str(value), tok.start, last.end, plus_at)]
                fillers, plus_at = 0, None
                k = index[used - 1] + 1
                continue
        if tok.text == "plus":
            plus_at = tok.start
            k += 1
            continue
        if tok.text in FILLERS and fillers < 2:
            fillers += 1
            k += 1
            continue
        yield None
        fillers, plus_at = 0, None
        k += 1


def _chains(toks: list[Token], blocked: set[int]) -> Iterator[list[Group]]:
    chain: list[Group] = []
    for item in _groups(toks, blocked):
        if item is None:
            if chain:
                yield chain
            chain = []
        else:
            chain.extend(item)
    if chain:
        yield chain


def find_phones(toks: list[Token]) -> Iterator[tuple[int, int]]:
    """Folded-text spans of the phone numbers among ``toks``."""
    blocked = blocked_tokens(toks)
    for chain in _chains(toks, blocked):
        i = 0
        while i < len(chain):
            best: int | None = None
            digits = ""
            plus = chain[i].plus_at is not None
            for j in range(i, len(chain)):
                digits += chain[j].digits
                if len(digits) > _MAX_DIGITS:
                    break
                if _PHONE.fullmatch(digits) or (plus and _INTERNATIONAL.fullmatch(digits)):
                    best = j
                elif j == i + 4 and _NO_ZERO.fullmatch(digits) and len(chain[i].digits) == 1:
                    best = j if all(len(g.digits) == 2 for g in chain[i + 1 : j + 1]) else best
            if best is None:
                i += 1
                continue
            start = chain[i].plus_at if chain[i].plus_at is not None else chain[i].start
            yield start, chain[best].end
            i = best + 1
