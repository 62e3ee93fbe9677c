"""E-mail addresses, links, IBANs, social handles and off-platform payment invitations, as regular
expressions on the folded text (lower case, no accents).

Every repetition is bounded and every pattern that starts on a word is anchored by a look-behind, so
no input makes them backtrack more than a few dozen steps per position (a long hostile input is
tested to finish quickly)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from stdnum import iban as stdnum_iban

_SP = r"[ \t]{1,3}"
_OPEN, _CLOSE = r"[\(\[\{<]", r"[\)\]\}>]"
#: ``@`` and its disguises: ``arobase``, ``(at)``, `` at ``, ``[a]``.
_AT = (
    rf"(?:[ \t]{{0,3}}@[ \t]{{0,3}}"
    rf"|[ \t]{{0,3}}{_OPEN}[ \t]?(?:at|a|arobase|arobas|@)[ \t]?{_CLOSE}[ \t]{{0,3}}"
    rf"|{_SP}(?:at|arobase|arrobase|arobaz|arobas|arrobas|a[ \t]commercial|chez){_SP})"
)
#: ``.`` and its disguises: ``point``, ``(dot)``, `` dot ``.
_DOT = (
    rf"(?:[ \t]{{0,3}}\.[ \t]{{0,3}}"
    rf"|[ \t]{{0,3}}{_OPEN}[ \t]?(?:dot|point|pt|\.)[ \t]?{_CLOSE}[ \t]{{0,3}}"
    rf"|{_SP}(?:dot|point){_SP})"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LOCAL = rf"(?<![\w.+-]){_LABEL}(?:[._+-]{_LABEL}|{_SP}(?:point|dot){_SP}{_LABEL}){{0,3}}"
TLDS = (
    "com|fr|net|org|eu|io|be|ch|info|biz|de|uk|co|me|ca|lu|es|it|pro|email|app|xyz|online|tech|dev|ovh"
    "|bzh|paris|site|shop|store|tv|ly|gl|gg|ai|re"
)
_TLD = rf"(?:{TLDS})(?![\w-])"
#: Mail providers: ``paul arobase gmail`` is an address even without its ``point com``.
PROVIDERS = (
    "gmail|googlemail|hotmail|yahoo|outlook|live|msn|orange|wanadoo|free|sfr|neuf|laposte|icloud|gmx"
    "|protonmail|proton|bbox|aol|numericable|club-internet|yopmail"
)

EMAIL = re.compile(
    rf"{_LOCAL}{_AT}(?:{_LABEL}{_DOT}){{1,4}}{_TLD}"
    rf"|{_LOCAL}{_AT}(?:{PROVIDERS})(?![\w-])"
    rf"|{_LOCAL}{_SP}(?:{PROVIDERS}){_DOT}(?:com|fr|net)(?![\w-])"
)

#: Bare domains with a real dot; the TLDs that are also French words glued after a full stop
#: (``fini.De plus``) are left out.
_BARE_TLD = (
    r"(?:com|fr|net|org|eu|io|be|ch|biz|uk|ca|lu|xyz|online|ovh|bzh|paris|site|shop|store|tv|ly|gl|gg)"
    r"(?![\w-])"
)
#: Words that end a phrase before ``point`` in ordinary French (``faire le point``): not a domain.
_NOT_A_SITE = (
    r"(?!(?:le|la|les|un|une|au|aux|du|de|des|ce|cet|mon|ton|son|bon|en|sur|a|et|ou|gros|petit|dernier"
    r"|premier|seul|mauvais|meme|nom|prenom)[ \t])"
)
_PATH = r"(?:/[^\s<>\"']{0,200})?"
LINK = re.compile(
    rf"(?<![\w.])https?://[^\s<>\"']{{1,300}}"
    rf"|(?<![\w.])www\d?{_DOT}(?:{_LABEL}{_DOT}){{1,4}}{_TLD}{_PATH}"
    rf"|(?<![\w.@-]){_LABEL}(?:\.{_LABEL}){{0,3}}\.{_BARE_TLD}{_PATH}"
    rf"|(?<![\w.@-]){_NOT_A_SITE}{_LABEL}(?:{_DOT}{_LABEL}){{0,3}}"
    rf"(?:{_SP}(?:point|dot|\.){_SP}|[ \t]?{_OPEN}[ \t]?(?:dot|point)[ \t]?{_CLOSE}[ \t]?){_BARE_TLD}"
)

#: Letters spaced out one by one (``p a u l @ g m a i l . c o m``): read again without the spaces.
SPACED_OUT = re.compile(r"(?<!\S)(?:\S[ \t]){5,400}\S(?!\S)")


def spaced_out(folded: str) -> Iterator[tuple[str, int, int]]:
    """E-mail addresses and links written one character at a time, as (kind, start, end)."""
    for run in SPACED_OUT.finditer(folded):
        keep = [i for i in range(run.start(), run.end()) if not folded[i].isspace()]
        collapsed = "".join(folded[i] for i in keep)
        for kind, pattern in (("email", EMAIL), ("link", LINK)):
            for m in pattern.finditer(collapsed):
                yield kind, keep[m.start()], keep[m.end() - 1] + 1


IBAN_CANDIDATE = re.compile(r"(?<![a-z0-9])[a-z]{2}[0-9]{2}(?:[ -]?[a-z0-9]){10,30}")

_SOCIAL_NAMES = (
    r"whats?[ \t]?app?|what'?s[ \t]?app|wats?[ \t]?app?|watsap+|whatsap+|wh?atsapp|wtsp|wsp"
    r"|telegram|tlgrm|insta(?:gram)?|snap(?:chat)?|facebook|fb|messenger|viber|skype|tiktok|tik[ \t]tok"
    r"|linkedin|discord|wechat|imessage|twitter"
)
SOCIAL = re.compile(
    rf"(?<![\w@])(?:{_SOCIAL_NAMES})(?![\w])"
    # "signal" is a French word too: only the messenger when it is named as a means to reach someone
    r"|(?<![\w])(?:sur|via|par|on|appli(?:cation)?|app|whatsapp[ \t]ou)[ \t]{1,3}signal(?![\w])"
    r"|(?<![\w])signal[ \t]{1,3}(?:messenger|app)(?![\w])"
    r"|(?<![\w])wa(?=[ \t]{0,2}:)"
    r"|(?<![\w.@+-])@[a-z_][a-z0-9_.]{1,29}(?<!\.)"
)

_ANY = r"[\s'\u2019-]{1,3}"
OFFPLATFORM_PAYMENT = re.compile(
    "|".join(
        rf"(?<![\w]){p}(?![\w])"
        for p in (
            rf"en{_ANY}(?:argent{_ANY})?(?:liquide|especes?|cash|main{_ANY}propre)",
            rf"cash(?!{_ANY}(?:flow|back))",
            rf"(?:du|le|les|des){_ANY}(?:liquide|especes?)(?!{_ANY}(?:de|d|vaisselle|pour|protegees?|vegetales?))",
            rf"de{_ANY}la{_ANY}main{_ANY}a{_ANY}la{_ANY}main",
            rf"(?:payez|payer|paye|payes|payons|reglez|regler|regle|reglons|reglement|paiement|versez|verser)"
            rf"(?:{_ANY}(?:moi|me|nous|vous|le|la|les|tout|ca))?{_ANY}directement"
            rf"(?!{_ANY}(?:via|par|sur|dans|avec){_ANY}(?:la{_ANY}plateforme|l{_ANY}?appli|clikopro|le{_ANY}site"
            rf"|le{_ANY}paiement))(?:{_ANY}(?:a{_ANY}moi|de{_ANY}la{_ANY}main))?",
            rf"virements?{_ANY}(?:direct|directement|bancaire|sur{_ANY}mon{_ANY}compte|perso|personnel)",
            rf"par{_ANY}virement(?!{_ANY}(?:via|par|sur|de){_ANY}(?:la{_ANY}plateforme|l{_ANY}?appli|clikopro))",
            rf"sans{_ANY}passer{_ANY}par{_ANY}(?:la{_ANY}plateforme|le{_ANY}site|l{_ANY}?appli(?:cation)?"
            rf"|clikopro|le{_ANY}service|ici|eux|l{_ANY}?intermediaire|le{_ANY}paiement{_ANY}securise)",
            rf"(?:hors|en{_ANY}dehors)(?:{_ANY}(?:de|du|d))?(?:{_ANY}(?:la|le|l))?{_ANY}(?:plateforme|site"
            rf"|appli(?:cation)?|clikopro)",
            rf"sans{_ANY}(?:(?:la|le|l){_ANY}?(?:plateforme|site|appli(?:cation)?)|clikopro)",
            rf"(?:passer|traiter|faire|voir|regler|payer|travailler|s{_ANY}?arranger)(?:{_ANY}(?:ca|tout))?"
            rf"{_ANY}en{_ANY}direct",
            r"paypal|pay[ \t]pal|lydia|paylib|wero|revolut|sumeria|pumpkin|western[ \t]union|moneygram",
            rf"mandat{_ANY}cash|cesu|cheque{_ANY}emploi{_ANY}service",
            rf"(?:par|en){_ANY}cheques?",
            rf"au{_ANY}black|sans{_ANY}facture|non{_ANY}declare",
            rf"(?:eviter|economiser)(?:{_ANY}(?:les|la))?{_ANY}(?:frais|commissions?)",
            rf"(?:sans|zero|pas{_ANY}de)(?:{_ANY}(?:les|la))?{_ANY}commissions?",
            rf"sans{_ANY}(?:les{_ANY})?frais{_ANY}de{_ANY}(?:la{_ANY}plateforme|clikopro|du{_ANY}site)",
            rf"(?:mon|votre|ton|ses|son|vos|tes|un){_ANY}rib",
        )
    )
)


@lru_cache(maxsize=512)
def iban_length(country: str) -> int | None:
    """The length of an IBAN of ``country`` (from python-stdnum's registry), ``None`` if it has none."""
    bban = stdnum_iban._ibandb.info(country.upper() + "00")[0][1].get("bban")
    if not bban:
        return None
    return 4 + sum(int(count) for count in re.findall(r"(\d+)!", bban))


def ibans(folded: str) -> Iterator[tuple[int, int]]:
    """Spans of valid IBANs (checked by python-stdnum: country format, check digits, national checks)."""
    pos = 0
    while (m := IBAN_CANDIDATE.search(folded, pos)) is not None:
        pos = m.start() + 1
        length = iban_length(m.group()[:2])
        # The candidate may run on into the next words: it ends where the country's IBANs end.
        ends = [i + 1 for i in range(m.start(), m.end()) if folded[i].isalnum()]
        if length is None or len(ends) < length:
            continue
        compact = "".join(folded[i - 1] for i in ends[:length])
        if stdnum_iban.is_valid(compact):
            yield m.start(), ends[length - 1]
            pos = ends[length - 1]
