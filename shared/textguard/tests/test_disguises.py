"""What the detector finds, disguise by disguise, and what it leaves alone, class by class."""

import re

import pytest

from clikopro_textguard import KINDS, MASK, scan
from clikopro_textguard.numbers import read_number


def kinds(text: str) -> list[str]:
    return scan(text).kinds


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "06/12/34/56/78",
        "06 12 34 56 7 8",
        "0612 34 56 78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "ZERO SIX DOUZE TRENTE QUATRE CINQUANTE SIX SOIXANTE DIX HUIT",
        "zéro sept quatre-vingt-un vingt-deux quatre-vingt-dix treize",
        "zéro cinq cinquante six trente trois vingt et un zéro neuf",
        "06 douze 34 cinquante-six 78",
        "zéro six 12 34 56 soixante-dix-huit",
        "O6 12 34 56 78",
        "o6 12 34 56 78",
        "06 🙂 12 🙂 34 🙂 56 🙂 78",
        "06 et 12 et 34 et 56 et 78",
        "06 tiret 12 tiret 34 tiret 56 tiret 78",
        "0 6 1 2 3 4 5 6 7 8",
        "6 12 34 56 78",
        "+32 470 12 34 56",
    ],
)
def test_phone_numbers_in_every_spelling(text):
    result = scan(f"Appelez-moi au {text} merci")
    assert result.kinds == ["phone"]
    assert result.masked == f"Appelez-moi au {MASK} merci"


@pytest.mark.parametrize(
    "text",
    [
        "paul.martin@gmail.com",
        "paul arobase gmail point com",
        "paul (at) gmail (dot) com",
        "paul at gmail dot com",
        "paul @ gmail . com",
        "jean point dupont arobase orange point fr",
        "marie.l [at] yahoo [point] fr",
        "paul arobase gmail",
        "paul.martin\uff20gmail.com",  # a full-width at sign
        "PAUL.MARTIN@GMAIL.COM",
        "paul.martin chez gmail point com",
    ],
)
def test_email_addresses_plain_and_disguised(text):
    result = scan(f"Écrivez à {text} svp")
    assert result.kinds == ["email"]
    assert result.masked == f"Écrivez à {MASK} svp"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("p a u l . m a r t i n @ g m a i l . c o m", "email"),
        ("w w w . r e n o v - m a r t i n . f r", "link"),
    ],
)
def test_an_address_spelt_one_character_at_a_time(text, kind):
    result = scan(f"Mon contact : {text} merci")
    assert result.kinds == [kind]
    assert result.masked == f"Mon contact : {MASK} merci"


@pytest.mark.parametrize(
    "text",
    ["FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189", "fr76-3000-6000-0112-3456-7890-189"],
)
def test_valid_ibans(text):
    result = scan(f"IBAN : {text} merci")
    assert result.kinds == ["iban"]
    assert result.masked == f"IBAN : {MASK} merci"


def test_an_iban_with_a_wrong_check_digit_is_no_iban():
    assert "iban" not in kinds("IBAN : FR77 3000 6000 0112 3456 7890 189")


@pytest.mark.parametrize(
    "text",
    [
        "https://exemple.com/page?x=1",
        "www.renovation-martin.fr",
        "renov-martin.fr",
        "www point renovation-martin point fr",
        "monentreprise point com",
        "martin-plomberie (point) fr",
        "renovmartin . fr",
        "bit.ly/3xYz12",
    ],
)
def test_links_and_bare_domains(text):
    result = scan(f"Voyez {text} pour mes chantiers")
    assert result.kinds == ["link"]
    assert result.masked == f"Voyez {MASK} pour mes chantiers"


def test_a_link_leaves_the_sentence_full_stop():
    assert scan("Voyez www.monsite.fr.").masked == f"Voyez {MASK}."


@pytest.mark.parametrize(
    "text",
    [
        "ajoutez-moi sur WhatsApp",
        "on continue sur watsap",
        "je suis sur Telegram",
        "mon insta c'est renov_paul",
        "ajoute moi sur snap",
        "retrouvez moi sur Facebook",
        "on passe sur Signal",
        "mon compte @renov.martin",
        "Messenger c'est plus simple",
    ],
)
def test_social_handles_and_messengers(text):
    assert set(kinds(text)) == {"social"}


@pytest.mark.parametrize(
    "text",
    [
        "Je préfère être payé en liquide",
        "paiement en espèces uniquement",
        "virement direct sur mon compte",
        "On peut faire ça sans passer par la plateforme ?",
        "PayPal",
        "je prends Lydia",
        "payez-moi directement",
        "de la main à la main",
        "pour éviter les frais de la plateforme",
        "Je vous envoie mon RIB",
        "hors plateforme je vous fais un prix",
        "au black",
    ],
)
def test_invitations_to_pay_outside(text):
    assert set(kinds(text)) == {"offplatform_payment"}


@pytest.mark.parametrize(
    "text",
    [
        # prices
        "Devis : 1 200 € TTC",
        "Total 2 500,00 euros",
        "4 800,50 € HT et 1 200 € de fournitures",
        "Lot 1 : 4 500 €, lot 2 : 2 300 €, lot 3 : 1 200 €.",
        # dates and times
        "Passage le 06/12 à 14h30",
        "le 12 juin 2024",
        "Je peux commencer le 06/12/2024 à 8h30, fin le 12/12.",
        "de 8:30 à 17:00",
        "le 06 décembre 2024 à 14 h 30",
        # surfaces and quantities
        "12 m2 de carrelage",
        "45 m² et 18 ml de plinthes",
        "3 fenêtres et 2 portes, 120 x 60 cm",
        "6 radiateurs de 1 500 W",
        # postcodes and addresses
        "75011 Paris",
        "06000 Nice, 12 rue de France",
        # quote, invoice, company references
        "devis n° 2024-0612",
        "facture n° 06 12 34 56",
        "SIRET 732 829 320 00074",
        "SIRET : 73282932000074",
        "Assurance décennale police n° 06 123 456 78",
        "Ref fournisseur 06 12 34 56 78 90 12",
        # the platform's own words
        "Je propose le Paiement Direct de mon abonnement",
        "Paiement sécurisé par la plateforme",
        "Livraison sans frais supplémentaires",
        "Faisons le point vendredi",
        "le signal wifi est faible",
    ],
)
def test_lookalikes_are_left_alone(text):
    result = scan(text)
    assert result.clean, result.findings
    assert result.masked == text


def test_spans_are_spans_of_the_original_text():
    text = "Très bien — appelez le ZÉRO six douze 34 56 78 ou écrivez à élodie.b@gmail.com ✔"
    result = scan(text)
    assert [(f.kind, text[f.start : f.end]) for f in result.findings] == [
        ("phone", "ZÉRO six douze 34 56 78"),
        ("email", "élodie.b@gmail.com"),
    ]


def test_the_issue_example_leaves_no_digit_run_nor_address():
    result = scan("Appelez-moi au zéro six douze 34 56 78 ou paul arobase gmail point com")
    assert result.kinds == ["phone", "email"]
    assert result.masked == f"Appelez-moi au {MASK} ou {MASK}"
    assert not re.search(r"\d", result.masked)
    assert "gmail" not in result.masked and "paul" not in result.masked


def test_kinds_are_the_contract_kinds():
    assert set(KINDS) == {"phone", "email", "iban", "link", "social", "offplatform_payment"}


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("zero", 0),
        ("douze", 12),
        ("trente quatre", 34),
        ("soixante dix huit", 78),
        ("soixante et onze", 71),
        ("quatre vingt", 80),
        ("quatre vingt un", 81),
        ("quatre vingt dix neuf", 99),
        ("vingt et un", 21),
        ("dix sept", 17),
        ("cent douze", 112),
    ],
)
def test_french_number_words(words, value):
    assert read_number(words.split(), 0) == (value, len(words.split()))
