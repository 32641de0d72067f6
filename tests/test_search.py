"""Dossier search that finds (case, tones and đ/Đ folded) and the status filter per procedure, on
SQLite and PostgreSQL, through the officers' API and page and a business's own list."""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlmodel import select

from tests.support import business, officer
from tests.test_pages import page_login
from workflows.db import transaction
from workflows.dossier_search import search_words
from workflows.folding import search_key
from workflows.models import Dossier, dossier_search_text

THEP_DONG_HA = "Công ty TNHH Thép Đông Hà"
OPTION = re.compile(r'<option value="([^"]+)" data-procedures="[^"]*"( selected)?( hidden disabled)?>')


def test_search_key_folds_case_tones_and_d_with_stroke() -> None:
    assert search_key("  Công ty TNHH   Thép ĐÔNG HÀ ") == "cong ty tnhh thep dong ha"
    # A browser may send decomposed letters: they fold the same.
    assert search_key(unicodedata.normalize("NFD", "Thép Đông Hà")) == "thep dong ha"
    assert search_key("Ưu đãi ỷ lại QUẢNG TRỊ") == "uu dai y lai quang tri"
    assert search_words("Đông  hà đông") == ["dong", "ha"]


def test_a_shipment_is_found_by_each_of_its_goods() -> None:
    goods = [{"name": "Thép tấm", "hs_code": "7208"}, {"name": "Ống thép hàn", "hs_code": "7306"}, {}]
    shipment = Dossier(
        code="X-1", applicant_name="Công ty Đông Hà", subject="Thép tấm", data={"goods": goods}
    )
    assert dossier_search_text(shipment) == "x-1 cong ty dong ha thep tam ong thep han"
    single = Dossier(code="X-2", applicant_name="A", subject="Mũ", data={"product": {"name": "Mũ"}})
    assert dossier_search_text(single) == "x-2 a mu"


@pytest.fixture
def dossiers(client, rt):  # type: ignore[no-untyped-def]
    """Two dossiers of the steel company (one product with tones, one with đ), one of another."""
    steel = business(client, THEP_DONG_HA)
    first = steel.submitted(product={**steel.declaration()["product"], "name": "Thép cuộn cán nóng"})
    second = steel.submitted(product={**steel.declaration()["product"], "name": "Dây điện đồng"})
    other = business(client, "Công ty Cổ phần Xi măng Quảng Trị")
    third = other.submitted()
    return {
        "steel": steel,
        "other": other,
        "clerk": officer(client, rt, "clerk"),
        "codes": (first, second, third),
    }


def _found(person, q: str, **params: str) -> set[str]:  # type: ignore[no-untyped-def]
    response = person.get("/api/dossiers", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return {item["code"] for item in body["items"]}


def test_officers_find_dossiers_with_or_without_tones_case_and_d(dossiers, rt) -> None:  # type: ignore[no-untyped-def]
    first, second, third = dossiers["codes"]
    clerk = dossiers["clerk"]
    steel = {first, second}
    for q in (
        "Đông Hà",
        "dong ha",
        "ĐÔNG HÀ",
        "DONG HA",
        "đông hà",
        "ha dong",
        unicodedata.normalize("NFD", "Đông Hà"),
    ):
        assert _found(clerk, q) == steel, q
    assert _found(clerk, "thep") == _found(clerk, "thép") == steel  # the company's name
    assert _found(clerk, "cuon can nong") == _found(clerk, "cuộn cán") == {first}  # a product
    assert _found(clerk, "day dien dong") == {second}
    assert _found(clerk, "xi mang") == {third}
    assert _found(clerk, dossiers["other"].tax_code) == {third}  # a tax code
    assert _found(clerk, first.lower()) == {first}  # the code, whatever its case
    assert _found(clerk, "thep xi mang") == set()  # every word must match
    assert _found(clerk, "%") == _found(clerk, "_") == set()  # typed wildcards are letters
    # The page says the same, counted.
    page_login(clerk.client, clerk.email)
    page = clerk.client.get("/work/dossiers", params={"q": "dong ha"})
    assert page.status_code == 200 and first in page.text and second in page.text and third not in page.text
    assert "2 hồ sơ" in page.text
    # A corrected applicant name is found at once (the folded copy follows every write).
    with transaction(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == first)).one()
        dossier.applicant_name = "Công ty TNHH Đồng Đức"
        session.add(dossier)
    assert _found(clerk, "dong duc") == {first}
    assert _found(clerk, "dong ha") == {second}


def test_a_business_searches_only_its_own_dossiers_and_anyone_looks_a_code_up(dossiers) -> None:  # type: ignore[no-untyped-def]
    first, second, third = dossiers["codes"]
    assert _found(dossiers["steel"], "thep") == {first, second}
    assert _found(dossiers["other"], "thep") == set()
    assert _found(dossiers["other"], "quang tri") == {third}
    page_login(dossiers["steel"].client, dossiers["steel"].email)
    page = dossiers["steel"].client.get("/my/dossiers", params={"q": "cuon"})
    assert first in page.text and second not in page.text
    # Its status filter offers the statuses its dossiers are in, not every procedure's.
    statuses = {item["status"] for item in dossiers["steel"].get("/api/dossiers").json()["items"]}
    offered = set(
        re.findall(r'<option value="([a-z_]+)"', page.text.split('id="status"', 1)[1].split("</select>")[0])
    )
    assert offered == statuses and "tbt_answering" not in page.text
    # The public lookup takes a code typed in lower case.
    client = dossiers["steel"].client
    assert client.get(f"/api/public/dossiers/{first.lower()}").json()["code"] == first
    lookup = client.get("/lookup", params={"code": f"  {first.lower()} "})
    assert lookup.status_code == 200 and first in lookup.text
    assert client.get("/lookup", params={"code": "khong-co"}).status_code == 404


def _offered(html: str) -> tuple[list[str], str | None]:
    """The statuses a status select offers (not hidden) and the one selected."""
    select_html = html.split('id="status"', 1)[1].split("</select>", 1)[0]
    offered, selected = [], None
    for key, is_selected, hidden in OPTION.findall(select_html):
        if not hidden:
            offered.append(key)
        if is_selected:
            selected = key
    return offered, selected


def test_the_status_filter_offers_the_chosen_procedures_statuses(client, rt) -> None:  # type: ignore[no-untyped-def]
    clerk = officer(client, rt, "clerk")
    page_login(client, clerk.email)
    everything, _ = _offered(clerk.client.get("/work/dossiers").text)
    assert {"awaiting_receipt", "tbt_answering", "awaiting_clearance", "scoring"} <= set(everything)
    assert len(everything) == len(set(everything))  # a status shared by procedures, once
    declaration, _ = _offered(
        clerk.client.get("/work/dossiers", params={"procedure": "cong-bo-hop-chuan-hop-quy"}).text
    )
    assert {"submitted", "awaiting_receipt", "supplement_requested", "issued", "refused", "withdrawn"} <= set(
        declaration
    )
    assert not {"tbt_answering", "awaiting_clearance", "scoring"} & set(declaration)
    assert len(declaration) < len(everything) // 2
    # A status the chosen procedure never reaches (left from another choice) is dropped.
    page = clerk.client.get(
        "/work/dossiers",
        params={"procedure": "cong-bo-hop-chuan-hop-quy", "status": "tbt_answering"},
        headers=clerk.headers,
    ).text
    assert _offered(page)[1] is None
    tbt, selected = _offered(
        clerk.client.get(
            "/work/dossiers", params={"procedure": "hoi-dap-tbt", "status": "tbt_answering"}
        ).text
    )
    assert "tbt_answering" in tbt and "awaiting_receipt" not in tbt and selected == "tbt_answering"
