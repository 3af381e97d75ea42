"""POST /api/v1/referrals/answers/check: a guided form's answers, checked one at a time exactly as
POST /api/v1/referrals checks them, with the age facts the form needs. Nothing is stored, and no
answer is repeated back unless it is accepted."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_referrals_factory import referral_body, years_ago

from dsp_backend.auth.schemas import Role

URL = "/api/v1/referrals/answers/check"
Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]
TODAY = date.today()


@pytest.fixture
def action_server(token_for: TokenFor) -> Headers:
    return token_for(Role.action_server)


def check(client: TestClient, headers: Headers, **answers: Any) -> dict[str, Any]:
    response = client.post(URL, json=answers, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- each format: accepted as the register keeps it, or refused in plain words ---


@pytest.mark.parametrize(
    ("field", "typed", "kept"),
    [
        ("nhs_number", "943 476 5919", "9434765919"),
        ("nhs_number", "943-476-5919", "9434765919"),
        ("postcode", "le1 6th", "LE1 6TH"),
        ("postcode", " LE156AB ", "LE15 6AB"),
        ("email", "jo.bloggs@nhs.net", "jo.bloggs@nhs.net"),
        ("phone", "0116 454 1000", "01164541000"),
        ("phone", "+44 7700 900123", "07700900123"),
    ],
)
def test_a_good_answer_comes_back_as_the_register_keeps_it(
    client: TestClient, action_server: Headers, field: str, typed: str, kept: str
) -> None:
    body = check(client, action_server, **{field: typed})
    assert body[field] == {"ok": True, "value": kept, "message": None}
    # Only what was asked about is answered.
    assert all(
        body[other] is None for other in ("nhs_number", "postcode", "email") if other != field
    )


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("nhs_number", "943 476 5918", "check digit"),
        ("nhs_number", "12345", "not a valid NHS number"),
        ("nhs_number", "9" * 30, "at most 20 characters"),
        ("nhs_number", "   ", "Please give the NHS number."),
        ("postcode", "QX9 9ZZ", "UK postcode"),
        ("postcode", "near the park", "UK postcode"),
        ("email", "sam.referrer@", "email address"),
        ("phone", "12345", "phone number"),
    ],
)
def test_a_bad_answer_gets_a_plain_message_that_does_not_repeat_it(
    client: TestClient, action_server: Headers, field: str, typed: str, says: str
) -> None:
    response = client.post(URL, json={field: typed}, headers=action_server)
    answer = response.json()[field]
    assert answer["ok"] is False and answer["value"] is None
    assert says in answer["message"]
    if typed.strip():
        assert typed.strip() not in response.text


@pytest.mark.parametrize(
    ("section", "field", "typed"),
    [
        ("person", "nhs_number", "943 476 5918"),
        ("person", "postcode", "QX9 9ZZ"),
        ("referrer", "email", "sam.referrer@"),
        ("referrer", "phone", "12345"),
    ],
)
def test_the_check_says_what_the_referral_itself_would_say(
    client: TestClient, action_server: Headers, section: str, field: str, typed: str
) -> None:
    """One rule, one message: the form hears what the register would answer at submission."""
    body = referral_body()
    body[section][field] = typed
    submitted = client.post("/api/v1/referrals", json=body, headers=action_server)
    assert submitted.status_code == 422
    [problem] = [e for e in submitted.json()["detail"] if e["loc"][1:] == [section, field]]
    assert check(client, action_server, **{field: typed})[field]["message"] == problem["msg"]


# --- the date of birth, and what follows from it ---


def test_a_date_of_birth_gives_the_age_and_the_register_age_group_001_s14(
    client: TestClient, action_server: Headers
) -> None:
    child = check(client, action_server, date_of_birth=years_ago(12).isoformat())
    assert child["date_of_birth"]["ok"] is True
    assert (child["age_years"], child["age_group"]) == (12, "cyp")
    adult = check(client, action_server, date_of_birth=years_ago(18).isoformat())
    assert (adult["age_years"], adult["age_group"]) == (18, "adult")
    born_18_tomorrow = TODAY.replace(year=TODAY.year - 18) + timedelta(days=1)
    assert check(client, action_server, date_of_birth=born_18_tomorrow.isoformat())[
        "age_group"
    ] == ("cyp")


@pytest.mark.parametrize(
    ("born", "says"),
    [
        (TODAY + timedelta(days=1), "cannot be in the future"),
        (years_ago(130), "over 120"),
    ],
)
def test_a_date_of_birth_nobody_could_have_is_refused_and_gives_no_age(
    client: TestClient, action_server: Headers, born: date, says: str
) -> None:
    response = client.post(URL, json={"date_of_birth": born.isoformat()}, headers=action_server)
    body = response.json()
    assert body["date_of_birth"]["ok"] is False and says in body["date_of_birth"]["message"]
    assert body["age_years"] is None and body["age_group"] is None
    assert born.isoformat() not in response.text


def test_a_date_of_birth_over_120_years_ago_is_refused_on_the_referral_too(
    client: TestClient, action_server: Headers
) -> None:
    body = referral_body()
    body["person"]["date_of_birth"] = years_ago(130).isoformat()
    submitted = client.post("/api/v1/referrals", json=body, headers=action_server)
    assert submitted.status_code == 422
    assert any("over 120" in e["msg"] for e in submitted.json()["detail"])


# --- consent (001 section 7; 004) ---


def test_a_child_under_16_may_not_consent_for_themselves_004(
    client: TestClient, action_server: Headers
) -> None:
    child = years_ago(12).isoformat()
    body = check(client, action_server, date_of_birth=child, consent={"given_by": "person"})
    assert body["person_may_consent"] is False
    given_by = body["consent"]["given_by"]
    assert given_by["ok"] is False and "under 16" in given_by["message"]
    assert body["consent"]["given_on"] is None
    parent = check(
        client, action_server, date_of_birth=child, consent={"given_by": "parent_carer_guardian"}
    )
    assert parent["consent"]["given_by"] == {
        "ok": True,
        "value": "parent_carer_guardian",
        "message": None,
    }
    adult = years_ago(30).isoformat()
    body = check(client, action_server, date_of_birth=adult, consent={"given_by": "person"})
    assert body["person_may_consent"] is True and body["consent"]["given_by"]["ok"] is True


def test_without_a_date_of_birth_whether_the_person_may_consent_is_not_known(
    client: TestClient, action_server: Headers
) -> None:
    body = check(client, action_server, consent={"given_by": "person"})
    assert body["person_may_consent"] is None
    assert body["consent"]["given_by"]["ok"] is True  # the register re-checks with the age


def test_consent_is_given_by_whom_the_variant_says(
    client: TestClient, action_server: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    body = check(client, action_server, consent={"given_by": "best_interests"})
    given_by = body["consent"]["given_by"]
    assert given_by["ok"] is False and "In West Sussex consent is given by" in given_by["message"]


def test_consent_cannot_have_been_given_in_the_future(
    client: TestClient, action_server: Headers
) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    body = check(client, action_server, consent={"given_on": tomorrow})
    assert body["consent"]["given_on"]["ok"] is False
    assert "cannot be in the future" in body["consent"]["given_on"]["message"]
    assert body["consent"]["given_by"] is None
    today = check(client, action_server, consent={"given_on": TODAY.isoformat()})
    assert today["consent"]["given_on"] == {"ok": True, "value": TODAY.isoformat(), "message": None}


# --- the rating the referrer decides, and its register (000; 001 section 10) ---


def test_a_rating_goes_on_the_variants_register(
    client: TestClient, action_server: Headers, variant: Callable[[str], None]
) -> None:
    assert check(client, action_server, rag="amber")["register"] == "DSR"
    assert check(client, action_server, rag="red")["register"] == "ROAR"
    blue = check(client, action_server, rag="blue")
    assert blue["rag"]["ok"] is False and "Nobody is referred as blue" in blue["rag"]["message"]
    assert blue["register"] is None
    variant("west_sussex")  # 004: red stays on West Sussex's DSR, and there is no blue
    assert check(client, action_server, rag="red")["register"] == "DSR"
    assert (
        "does not use the blue rating" in check(client, action_server, rag="blue")["rag"]["message"]
    )


# --- a subset, several at once, and nothing at all ---


def test_several_answers_at_once_each_get_their_own_verdict(
    client: TestClient, action_server: Headers
) -> None:
    body = check(client, action_server, email="jo@council.gov.uk", phone="0116 225")
    assert body["email"]["ok"] is True and body["phone"]["ok"] is False
    empty = check(client, action_server)
    assert all(value is None for value in empty.values())


# --- who may ask, and what a refusal repeats ---


def test_only_the_action_server_and_referrers_may_check_answers(
    client: TestClient, token_for: TokenFor
) -> None:
    body = {"nhs_number": "943 476 5919"}
    assert client.post(URL, json=body).status_code == 401
    bad = {"Authorization": "Bearer dsp_not-a-real-token"}
    assert client.post(URL, json=body, headers=bad).status_code == 401
    for role in (Role.dsr_admin, Role.tco, Role.commissioner):
        assert client.post(URL, json=body, headers=token_for(role)).status_code == 403, role
    for role in (Role.action_server, Role.referrer):
        assert client.post(URL, json=body, headers=token_for(role)).status_code == 200, role


@pytest.mark.parametrize(
    "body",
    [
        {"date_of_birth": "14th March 2009"},
        {"consent": {"given_by": "Alex Example"}},
        {"given_name": "Alex Example"},
        {"nhs_number": "9434765919" * 101},
    ],
)
def test_a_malformed_body_is_refused_without_repeating_what_was_sent(
    client: TestClient, action_server: Headers, body: dict[str, Any]
) -> None:
    response = client.post(URL, json=body, headers=action_server)
    assert response.status_code == 422
    assert "Alex" not in response.text and "March" not in response.text
    assert "9434765919" not in response.text
    assert all("input" not in problem for problem in response.json()["detail"])
