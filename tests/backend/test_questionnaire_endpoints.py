"""GET /api/v1/questionnaire, POST /api/v1/questionnaire/next and POST /api/v1/questionnaire/interpret:
what the assistant asks the service while a referral is being made. Nothing is stored; no answer
is repeated back unless it was understood; an answer the service understands is one POST
/api/v1/referrals accepts. (These carry over what the answers/check endpoint proved.)
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_referrals_factory import referral_body, years_ago

from dsp_backend.auth.schemas import Role

QUESTIONNAIRE = "/api/v1/questionnaire"
NEXT = "/api/v1/questionnaire/next"
INTERPRET = "/api/v1/questionnaire/interpret"
Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]
TODAY = date.today()


@pytest.fixture
def action_server(token_for: TokenFor) -> Headers:
    return token_for(Role.action_server)


def interpret(
    client: TestClient, headers: Headers, question: str, text: str, **body: Any
) -> dict[str, Any]:
    response = client.post(
        INTERPRET, json={"question": question, "text": text, **body}, headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def next_step(client: TestClient, headers: Headers, answers: dict[str, Any]) -> dict[str, Any]:
    response = client.post(NEXT, json={"answers": answers}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- the questionnaire itself ------------------------------------------------------------------


def test_the_questionnaire_is_fhir_shaped_and_every_question_says_why(
    client: TestClient, action_server: Headers
) -> None:
    response = client.get(QUESTIONNAIRE, headers=action_server)
    assert response.status_code == 200
    items = response.json()["items"]
    link_ids = [item["linkId"] for item in items]
    assert len(link_ids) == len(set(link_ids))
    assert all(item["text"] and item["why"] for item in items)
    known = set(link_ids)
    for item in items:
        for condition in item["enableWhen"]:
            assert condition["question"].startswith("$") or condition["question"] in known
    consent = next(item for item in items if item["linkId"] == "consent_by")
    assert [o["code"] for o in consent["answerOption"]] == [
        "person",
        "parent_carer_guardian",
        "best_interests",
        "not_given",
    ]


# --- each format: understood as the register keeps it, or refused in plain words ----------------


@pytest.mark.parametrize(
    ("question", "typed", "kept"),
    [
        ("nhs_number", "943 476 5919", "9434765919"),
        ("nhs_number", "943-476-5919", "9434765919"),
        ("postcode", "le1 6th", "LE1 6TH"),
        ("postcode", " LE156AB ", "LE15 6AB"),
        ("referrer_email", "jo.bloggs@nhs.net", "jo.bloggs@nhs.net"),
        ("referrer_phone", "0116 454 1000", "01164541000"),
        ("referrer_phone", "+44 7700 900123", "07700900123"),
    ],
)
def test_a_good_answer_comes_back_as_the_register_keeps_it_and_the_register_takes_it(
    client: TestClient, action_server: Headers, question: str, typed: str, kept: str
) -> None:
    result = interpret(client, action_server, question, typed)
    assert result["understood"] and result["answers"] == {question: kept}
    body = referral_body(full=True, mam_organised_by_admin=True, **{question: kept})
    # From the chat, held until the referrer confirms it (DESIGN.md, Data protection).
    assert client.post("/api/v1/referrals", json=body, headers=action_server).status_code == 202


@pytest.mark.parametrize(
    ("question", "typed", "says"),
    [
        ("nhs_number", "943 476 5918", "check digit"),
        ("nhs_number", "12345", "not a valid NHS number"),
        ("nhs_number", "9" * 30, "not a valid NHS number"),
        ("nhs_number", "   ", "not a valid NHS number"),
        ("postcode", "QX9 9ZZ", "UK postcode"),
        ("postcode", "near the park", "UK postcode"),
        ("referrer_email", "sam.referrer@", "email address"),
        ("referrer_phone", "12345", "phone number"),
    ],
)
def test_a_bad_answer_gets_a_plain_message_that_does_not_repeat_it_and_the_register_agrees(
    client: TestClient, action_server: Headers, question: str, typed: str, says: str
) -> None:
    response = client.post(
        INTERPRET, json={"question": question, "text": typed}, headers=action_server
    )
    result = response.json()
    assert not result["understood"] and result["answers"] == {}
    assert says in result["message"]
    if typed.strip():
        assert typed.strip() not in response.text
    body = referral_body(full=True, mam_organised_by_admin=True, **{question: typed})
    submitted = client.post("/api/v1/referrals", json=body, headers=action_server)
    assert submitted.status_code == 422
    assert [e["loc"] for e in submitted.json()["detail"]] == [["body", "answers", question]]


# --- the date of birth, and what follows from it (001 s14) ---------------------------------------


def test_a_date_of_birth_gives_the_register_age_group_001_s14(
    client: TestClient, action_server: Headers
) -> None:
    child = next_step(client, action_server, {"date_of_birth": years_ago(12).isoformat()})
    assert child["eligibility"]["age_group"] == "cyp"
    adult = next_step(client, action_server, {"date_of_birth": years_ago(18).isoformat()})
    assert adult["eligibility"]["age_group"] == "adult"
    born_18_tomorrow = TODAY.replace(year=TODAY.year - 18) + timedelta(days=1)
    almost = next_step(client, action_server, {"date_of_birth": born_18_tomorrow.isoformat()})
    assert almost["eligibility"]["age_group"] == "cyp"
    assert almost["eligibility"]["transition"] is True  # 001 s14: the adult DSR may be asked


@pytest.mark.parametrize(
    ("born", "says"),
    [(TODAY + timedelta(days=3), "cannot be in the future"), (years_ago(130), "over 120")],
)
def test_a_date_of_birth_nobody_could_have_is_refused_and_gives_no_age(
    client: TestClient, action_server: Headers, born: date, says: str
) -> None:
    typed = born.strftime("%d/%m/%Y")
    response = client.post(
        INTERPRET,
        json={"question": "date_of_birth", "text": typed, "today": TODAY.isoformat()},
        headers=action_server,
    )
    result = response.json()
    assert not result["understood"] and says in result["message"]
    assert result["answers"] == {}
    assert typed not in response.text and born.isoformat() not in response.text


# --- consent (001 s7; 004) ------------------------------------------------------------------------


def test_a_child_under_16_may_not_consent_for_themselves_004(
    client: TestClient, action_server: Headers
) -> None:
    child = {"date_of_birth": years_ago(12).isoformat()}
    alone = interpret(client, action_server, "consent_by", "she did", answers=child)
    assert not alone["understood"] and "under 16" in alone["message"]
    assert "consent_by" not in alone["answers"]
    parent = interpret(client, action_server, "consent_by", "her mum", answers=child)
    assert parent["answers"]["consent_by"] == "parent_carer_guardian"
    adult = {"date_of_birth": years_ago(30).isoformat()}
    person = interpret(client, action_server, "consent_by", "he did", answers=adult)
    assert person["answers"]["consent_by"] == "person"
    # 16 and over: whether they have capacity is asked (001 s7).
    asked = next_step(
        client,
        action_server,
        {**referral_body(age=30)["answers"], "consent_by": "person", "consent_capacity": None},
    )
    assert asked["question"]["linkId"] == "consent_capacity"


def test_without_an_age_whether_the_person_may_consent_is_left_to_the_register(
    client: TestClient, action_server: Headers
) -> None:
    result = interpret(client, action_server, "consent_by", "the young person herself")
    assert result["understood"] and result["answers"] == {"consent_by": "person"}


def test_consent_is_given_by_whom_the_variant_says_004(
    client: TestClient, action_server: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    result = interpret(client, action_server, "consent_by", "a best interests decision")
    assert not result["understood"]
    assert "In West Sussex consent is given by" in result["message"]


def test_consent_cannot_have_been_given_in_the_future(
    client: TestClient, action_server: Headers
) -> None:
    tomorrow = (TODAY + timedelta(days=1)).strftime("%d/%m/%Y")
    future = interpret(client, action_server, "consent_date", tomorrow)
    assert not future["understood"] and "cannot be in the future" in future["message"]
    today = interpret(client, action_server, "consent_date", "today")
    assert today["answers"] == {"consent_date": TODAY.isoformat()}


# --- the rating's register (000; 001 s10; 004) ------------------------------------------------


def test_a_rating_goes_on_the_variants_register(
    client: TestClient, action_server: Headers, variant: Callable[[str], None]
) -> None:
    red = referral_body(full=True, rag="red", imminent=True)["answers"]
    lines = {
        line["linkId"]: line["value"] for line in next_step(client, action_server, red)["summary"]
    }
    assert lines["rag"] == "red, on the ROAR"
    variant("west_sussex")  # 004: red stays on West Sussex's one register
    ws = referral_body(
        variant_id="west_sussex", full=True, rag="red", criteria=("red.serious_risk_of_harm",)
    )["answers"]
    lines = {
        line["linkId"]: line["value"] for line in next_step(client, action_server, ws)["summary"]
    }
    assert lines["rag"] == "red, on the DSR"


def test_blue_is_never_a_rating_at_referral_000(client: TestClient, action_server: Headers) -> None:
    answers = referral_body(rag=None, criteria=(), discharged=True)["answers"]
    result = interpret(client, action_server, "rag", "blue", answers=answers)
    assert not result["understood"] and "rag" not in result["answers"]
    assert [o["code"] for o in result["options"]] == ["amber", "green"]


# --- several answers at once -------------------------------------------------------------------


def test_one_message_may_answer_several_questions(
    client: TestClient, action_server: Headers
) -> None:
    result = interpret(
        client,
        action_server,
        "$opening",
        "Hi, I'm a school nurse. She's 14, has autism and lives in Oakham",
    )
    assert result["understood"]
    assert result["answers"] == {
        "referrer_role": "school nurse",
        "referrer_kind": "health",
        "age": 14,
        "council_area": "rutland",
        "diagnosis": "autism",
    }
    step = next_step(client, action_server, result["answers"])
    assert step["question"]["linkId"] == "diagnosis_confirmed"


# --- who may ask, and what a refusal repeats ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", QUESTIONNAIRE, None),
        ("POST", NEXT, {"answers": {}}),
        ("POST", INTERPRET, {"question": "age", "text": "14"}),
    ],
)
def test_those_who_refer_or_work_the_register_may_ask_and_commissioners_may_not(
    client: TestClient, token_for: TokenFor, method: str, path: str, body: Any
) -> None:
    assert client.request(method, path, json=body).status_code == 401
    assert (
        client.request(method, path, json=body, headers=token_for(Role.commissioner)).status_code
        == 403
    )
    for role in (Role.action_server, Role.referrer, Role.dsr_admin, Role.tco):
        assert client.request(method, path, json=body, headers=token_for(role)).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (INTERPRET, {"question": "date_of_birth", "text": "Alex " * 500}),
        (INTERPRET, {"question": "Alex Example", "text": "14th March 2009"}),
        (INTERPRET, {"question": "age", "text": "14", "answers": {"age": "Alex is 14"}}),
        (INTERPRET, {"question": "age", "text": "14", "today": "14th March 2009"}),
        (INTERPRET, {"question": "age", "text": "14", "name": "Alex Example"}),
        (NEXT, {"answers": {"date_of_birth": "14th March 2009"}}),
        (NEXT, {"answers": {"age": "Alex"}}),
        (NEXT, {"referral_source": "Alex Example", "answers": {}}),
        (NEXT, {"answers": {}, "suggestion": {"rag": "red", "by": "Alex"}}),
    ],
)
def test_a_malformed_request_is_refused_without_repeating_what_was_sent(
    client: TestClient, action_server: Headers, path: str, body: dict[str, Any]
) -> None:
    response = client.post(path, json=body, headers=action_server)
    assert response.status_code == 422
    assert "Alex" not in response.text and "March" not in response.text
    assert all("input" not in problem for problem in response.json()["detail"])
