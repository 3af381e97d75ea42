"""Contacts for a place (002, 003, 004): found, ambiguous or not found; never an invented email."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dsp_backend.auth.schemas import Role
from dsp_backend.contacts import service
from dsp_backend.variants import service as variant_service

LLR = variant_service.load("llr")
TEES = variant_service.load("tees_valley")
SUSSEX = variant_service.load("west_sussex")

TokenFor = Callable[[Role], dict[str, str]]


def emails(answer: service.ContactAnswer) -> list[str | None]:
    return [contact.email for contact in answer.contacts]


@pytest.mark.parametrize(
    ("place", "area_id", "email", "matched_by"),
    [
        # 002: the three LLR parent carer forums, by council, area name and town.
        ("Leicester City Council", "leicester_city", "info@lcpcf.net", "council"),
        ("leicester", "leicester_city", "info@lcpcf.net", "town"),
        (
            "we live in Leicestershire",
            "leicestershire",
            "admin@leicestershiresendhub.org.uk",
            "area",
        ),
        ("Loughborough", "leicestershire", "admin@leicestershiresendhub.org.uk", "town"),
        ("melton mowbray", "leicestershire", "admin@leicestershiresendhub.org.uk", "town"),
        ("Rutland", "rutland", "rutlandpcv@gmail.com", "area"),
        ("near Oakham", "rutland", "rutlandpcv@gmail.com", "town"),
    ],
)
def test_llr_place_finds_its_parent_carer_forum(
    place: str, area_id: str, email: str, matched_by: str
) -> None:
    answer = service.lookup(place=place, variant=LLR)
    assert answer.status == "found"
    assert answer.area is not None and answer.area.id == area_id
    assert answer.matched_by == matched_by
    assert emails(answer) == [email]
    assert not answer.hint_only


def test_a_postcode_suggests_an_area_and_says_it_is_only_a_hint() -> None:
    for place in ("LE15 6AB", "le15", "my postcode is LE15"):
        answer = service.lookup(place=place, variant=LLR)
        assert answer.status == "found"
        assert answer.area is not None and answer.area.id == "rutland"
        assert answer.matched_by == "postcode_district"
        assert answer.hint_only
        assert emails(answer) == ["rutlandpcv@gmail.com"]


def test_a_name_wins_over_a_postcode_and_is_not_a_hint() -> None:
    answer = service.lookup(place="Oakham LE15 6AB", variant=LLR)
    assert answer.area is not None and answer.area.id == "rutland"
    assert answer.matched_by == "town" and not answer.hint_only


@pytest.mark.parametrize(
    ("place", "choices"),
    [
        ("Leicester, Leicestershire and Rutland", ["leicester_city", "leicestershire", "rutland"]),
        ("between Oakham and Melton Mowbray", ["leicestershire", "rutland"]),
        ("LE", ["leicester_city", "leicestershire", "rutland"]),  # a postcode area alone
        ("Loughbrough", ["leicestershire"]),  # a near spelling is asked about, not assumed
    ],
)
def test_several_or_uncertain_areas_are_asked_about(place: str, choices: list[str]) -> None:
    answer = service.lookup(place=place, variant=LLR)
    assert answer.status == "ambiguous"
    assert [choice.id for choice in answer.choices] == choices
    assert answer.contacts == []
    assert answer.area is None


@pytest.mark.parametrize("place", ["Leeds", "NE1 4ST", "the moon", "LE99"])
def test_nothing_found_offers_the_areas_and_no_contact(place: str) -> None:
    answer = service.lookup(place=place, variant=LLR)
    assert answer.status == "not_found"
    assert answer.contacts == []
    assert [c.id for c in answer.choices] == ["leicester_city", "leicestershire", "rutland"]


def test_no_place_in_llr_asks_which_area_because_forums_are_by_area() -> None:
    answer = service.lookup(place=None, variant=LLR)
    assert answer.status == "ambiguous"
    assert [c.id for c in answer.choices] == ["leicester_city", "leicestershire", "rutland"]
    assert service.lookup(place="   ", variant=LLR).status == "ambiguous"


def test_tees_valley_places_get_the_variant_wide_dsr_team() -> None:
    """003: one DSR team and coordinator for Tees Valley, and Daisy Chain's keyworkers."""
    for place in ("Redcar", "Hartlepool", "TS18 1AB", "darlington", "Stockton-on-Tees"):
        answer = service.lookup(place=place, variant=TEES)
        assert answer.status == "found", place
        assert {c.id for c in answer.contacts} == {
            "tv_childrens_dsr",
            "tv_dsr_coordinator",
            "daisy_chain",
        }
    assert "nencicb-tv.childrensdsr@nhs.net" in emails(service.lookup(place=None, variant=TEES))


def test_west_sussex_has_the_joint_commissioning_unit_and_no_email_is_made_up() -> None:
    answer = service.lookup(place="Worthing", variant=SUSSEX)
    assert answer.status == "found"
    assert [c.id for c in answer.contacts] == ["ws_jcu"]
    assert emails(answer) == [None]  # 004 gives no email address: none is invented


def test_every_email_given_is_in_the_variant_file() -> None:
    places = ["Leicester", "Rutland", "Loughborough", "LE1", "Redcar", "Crawley", None, "Leeds"]
    for variant in (LLR, TEES, SUSSEX):
        known = {c.email for c in variant.contacts if c.email}
        for place in places:
            for audience in ("family", "professional"):
                answer = service.lookup(place=place, variant=variant, audience=audience)
                assert {e for e in emails(answer) if e} <= known


def test_professionals_also_get_the_portal_and_admin_lead_where_the_area_has_none() -> None:
    family = service.lookup(place=None, variant=TEES, audience="family")
    assert all(c.kind in service.FAMILY_KINDS for c in family.contacts)
    professional = service.contacts_for_area(None, LLR, "professional")
    assert {c.kind for c in professional} == {"referral_portal", "information", "dsr_admin"}
    assert "referral_portal" not in {c.kind for c in service.contacts_for_area(None, LLR, "family")}


def test_the_route_needs_the_action_server_role(client: TestClient, token_for: TokenFor) -> None:
    body = {"place": "Oakham"}
    assert client.post("/api/v1/contacts/lookup", json=body).status_code == 401
    refused = client.post("/api/v1/contacts/lookup", json=body, headers=token_for(Role.dsr_admin))
    assert refused.status_code == 403
    response = client.post(
        "/api/v1/contacts/lookup", json=body, headers=token_for(Role.action_server)
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "found"
    assert answer["area"] == {"id": "rutland", "name": "Rutland"}
    assert [c["email"] for c in answer["contacts"]] == ["rutlandpcv@gmail.com"]


def test_the_route_answers_for_the_deployed_variant(
    client: TestClient, token_for: TokenFor, variant: Callable[[str], None]
) -> None:
    variant("tees_valley")
    response = client.post(
        "/api/v1/contacts/lookup", json={"place": "Yarm"}, headers=token_for(Role.action_server)
    )
    assert response.json()["area"]["id"] == "stockton"
    assert "nencicb-tv.childrensdsr@nhs.net" in [c["email"] for c in response.json()["contacts"]]


def test_the_route_refuses_unknown_fields_and_overlong_places(
    client: TestClient, token_for: TokenFor
) -> None:
    headers = token_for(Role.action_server)
    for body in ({"place": "x" * 201}, {"place": "Oakham", "guess": True}):
        assert client.post("/api/v1/contacts/lookup", json=body, headers=headers).status_code == 422
