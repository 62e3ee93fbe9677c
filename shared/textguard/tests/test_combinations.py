"""Lookalikes side by side, and contact details dropped among them: seeded random combinations of the
corpus's classes, so that no rule only works on the sentences it was written for."""

import random

import pytest

from clikopro_textguard import scan

NEGATIVE_FRAGMENTS = [
    "1 200 €", "2 500,00 euros", "850€ TTC", "le 06/12", "le 12 juin 2024", "à 14h30", "de 8:30 à 17:00",
    "12 m2", "45 m²", "75011 Paris", "06000 Nice", "3 fenêtres", "2 portes 83 x 204", "devis n° 2024-0612",
    "facture n°2024-118", "SIRET 732 829 320 00074", "semaine 49", "10 à 12 jours", "6 radiateurs de 1 500 W",
    "TVA 10 %", "4,20 m sur 3,10 m", "le 1er décembre", "15 ans d'expérience", "40 sacs de 35 kg",
    "réf. 4512-88", "étage 3", "un ballon de 200 litres", "Paiement Direct", "paiement sécurisé",
    "24 m2 de parquet et 18 ml de plinthes", "lot 2 : 2 300 €", "entre 13h et 14h", "le 06.12.2024",
]  # fmt: skip
GLUE = [", ", " et ", " puis ", ". ", " — ", " ; ", " pour ", " avec "]

PHONES = [
    "06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 6 12 34 56 78", "0033 6 12 34 56 78",
    "zéro six douze trente-quatre cinquante-six soixante-dix-huit", "06 douze 34 cinquante-six 78",
    "O6 12 34 56 78", "06 🙂 12 🙂 34 🙂 56 🙂 78", "07 81 22 90 13", "zéro sept quatre-vingt-un vingt-deux "
    "quatre-vingt-dix treize",
]  # fmt: skip
EMAILS = [
    "paul.martin@gmail.com",
    "paul arobase gmail point com",
    "paul (at) gmail (dot) com",
    "paul @ gmail . com",
]


def sentence(rng: random.Random, n: int) -> str:
    parts = [rng.choice(NEGATIVE_FRAGMENTS) for _ in range(n)]
    out = parts[0]
    for part in parts[1:]:
        out += rng.choice(GLUE) + part
    return out


@pytest.mark.parametrize("seed", range(20))
def test_lookalikes_side_by_side_are_never_a_contact(seed):
    rng = random.Random(seed)
    for _ in range(50):
        text = sentence(rng, rng.randint(2, 6))
        assert scan(text).clean, (text, scan(text).findings)


@pytest.mark.parametrize("seed", range(20))
def test_a_contact_among_lookalikes_is_found_with_its_exact_span(seed):
    rng = random.Random(1000 + seed)
    for _ in range(25):
        kind, contact = rng.choice([("phone", p) for p in PHONES] + [("email", e) for e in EMAILS])
        before, after = sentence(rng, rng.randint(1, 3)), sentence(rng, rng.randint(1, 3))
        text = f"{before}, contactez-moi au {contact} ou sinon {after}"
        result = scan(text)
        start = len(before) + len(", contactez-moi au ")
        found = [(f.kind, f.start, f.end) for f in result.findings]
        assert found == [(kind, start, start + len(contact))], text
