from clikopro_textguard import scan


def test_a_phone_and_an_email_are_found_and_masked():
    result = scan("Appelez-moi au 06 12 34 56 78 ou paul@example.fr")
    assert result.kinds == ["phone", "email"]
    assert "06" not in result.masked and "@" not in result.masked
    assert result.masked.startswith("Appelez-moi au ")


def test_a_price_is_not_a_phone():
    assert scan("Devis : 1 200 € TTC").clean
