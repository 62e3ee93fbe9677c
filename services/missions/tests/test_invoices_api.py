"""Invoices (R9): PDFs the contracted pro attaches to the mission, for tracking only."""

from __future__ import annotations

import hashlib

from missions_helpers import Api, assert_problem, fields_of

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(api: Api, who, mission_id: str, data: bytes = PDF, content_type: str = "application/pdf",
           name: str = "../../etc/facture.pdf"):  # fmt: skip
    return api.http.post(
        f"/api/v1/missions/{mission_id}/invoices",
        headers=who.headers,
        files={"file": (name, data, content_type)},
    )


def test_the_pro_attaches_a_pdf_that_both_parties_list_and_download(api: Api) -> None:
    client, pro, mission = api.contracted("secure")
    response = upload(api, pro, mission["id"])
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["size_bytes"] == len(PDF) and invoice["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert invoice["file_name"] == f"facture-{invoice['id']}.pdf"  # ours, never the uploader's
    stored = list((api.services.settings.invoice_directory / mission["id"]).iterdir())
    assert [p.name for p in stored] == [f"{invoice['id']}.pdf"]

    for who in (client, pro, api.moderator()):
        listed = api.get(who, f"/api/v1/missions/{mission['id']}/invoices")
        assert [i["id"] for i in listed.json()["items"]] == [invoice["id"]]
        download = api.get(who, invoice["download_path"])
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert f'filename="facture-{invoice["id"]}.pdf"' in download.headers["content-disposition"]


def test_only_the_contracted_pro_uploads_and_only_the_parties_read(api: Api) -> None:
    client, pro, mission = api.contracted("secure")
    for who in (client, api.pro(), api.client(), api.moderator()):
        assert_problem(upload(api, who, mission["id"]), 403, "forbidden")
    invoice = upload(api, pro, mission["id"]).json()
    for who in (api.pro(), api.client()):
        assert_problem(api.get(who, f"/api/v1/missions/{mission['id']}/invoices"), 404, "not_found")
        assert_problem(api.get(who, invoice["download_path"]), 404, "not_found")

    published = api.publish(client)
    api.propose(pro, published["id"])
    assert_problem(upload(api, pro, published["id"]), 403, "forbidden")  # no contract with them


def test_what_is_not_a_pdf_is_refused_with_field_errors(api: Api) -> None:
    _, pro, mission = api.contracted("secure")
    mid = mission["id"]
    disguised = upload(api, pro, mid, b"GIF89a not a pdf at all")
    assert_problem(disguised, 422, "validation_error")
    assert fields_of(disguised) == {"file"}
    wrong_type = upload(api, pro, mid, PDF, content_type="image/png")
    assert_problem(wrong_type, 422, "validation_error")
    assert fields_of(wrong_type) == {"file"}
    assert fields_of(upload(api, pro, mid, b"")) == {"file"}

    api.services.settings = api.services.settings.replace(invoice_max_bytes=1000)
    too_big = upload(api, pro, mid, PDF + b"0" * 1000)
    assert_problem(too_big, 422, "validation_error")
    assert "at most 1000 bytes" in too_big.json()["errors"][0]["message"]

    missing = api.http.post(
        f"/api/v1/missions/{mid}/invoices", headers=pro.headers, files={"other": ("a", b"x")}
    )
    assert missing.status_code == 400, missing.text
    assert api.get(pro, f"/api/v1/missions/{mid}/invoices").json()["items"] == []
    assert not (api.services.settings.invoice_directory / mid).exists()


def test_a_body_over_the_service_limit_is_refused_before_it_is_read(api: Api) -> None:
    _, pro, mission = api.contracted("secure")
    limit = api.services.settings.max_body_bytes
    assert limit == 10 * 1024 * 1024
    response = upload(api, pro, mission["id"], b"%PDF-" + b"0" * limit)
    assert_problem(response, 413, "payload_too_large")
