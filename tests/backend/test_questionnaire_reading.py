"""Answers as real people type them, read by the service (DESIGN.md "The referral
questionnaire"): questionnaire.service.interpret for one question at a time, and the pure readers
of questionnaire.reading where a case is about the reading alone.

Each case is a sentence someone could type. A reader that cannot tell says so and offers the
choices; it never guesses.
"""

from datetime import date, timedelta
from typing import Any

import pytest

from dsp_backend.questionnaire import logic, reading, service
from dsp_backend.questionnaire.schemas import Answers, Interpreted
from dsp_backend.variants import service as variant_service

TODAY = date(2026, 11, 30)  # a Monday


def interpret(
    question: str,
    text: str,
    answers: Answers | None = None,
    *,
    variant: str = "llr",
    source: str = "professional",
) -> Interpreted:
    return service.interpret(
        question=question,
        text=text,
        answers=dict(answers or {}),
        source=source,  # type: ignore[arg-type]
        variant=variant_service.load(variant),
        today=TODAY,
    )


def understood(question: str, text: str, answers: Answers | None = None, **kw: Any) -> Answers:
    """The answers after `text`, which must have been understood."""
    result = interpret(question, text, answers, **kw)
    assert result.understood, (text, result.message)
    return result.answers


def value(question: str, text: str, answers: Answers | None = None, **kw: Any) -> Any:
    return understood(question, text, answers, **kw).get(question)


# --- hospital stays (001 s10: green at referral only after an inpatient discharge) -------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("No, he has never been in hospital", "neither"),
        ("no he's never been admitted", "neither"),
        ("not in hospital, he's at home", "neither"),
        ("never", "neither"),
        ("no - lives at home with mum", "neither"),
        ("he came out of hospital 2 weeks ago", "discharged"),
        ("discharged last month from the Bradgate unit", "discharged"),
        ("she was in hospital but came home in May", "discharged"),
        ("he is an inpatient at the moment", "now"),
        ("Yes, he's on a ward at the moment", "now"),
    ],
)
def test_hospital_stays_are_read_with_their_negations_001_s10(text: str, code: str) -> None:
    """ "Never been in hospital" holds the words "in hospital", and means neither, not now."""
    assert value("inpatient_status", text) == code


# --- who gave consent (001 s7; 004; the Mental Capacity Act) -----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "his mum",
        "His mother, because he is under 16",
        "foster carer",
        "grandma",
        "Her father",
        "mum and dad",
        "her foster mum",
        "his nan",
    ],
)
def test_a_parent_carer_or_guardian_is_read_however_they_are_named_004(text: str) -> None:
    assert value("consent_by", text, {"age": 12}) == "parent_carer_guardian"


def test_consent_by_the_person_with_capacity_is_read_with_the_capacity_where_asked_001_s7() -> None:
    """A person of 16 or over with capacity consents themselves; the capacity said in passing
    answers the capacity question, which is asked only from 16."""
    text = "She gave consent herself; she has capacity for this decision"
    seventeen = understood("consent_by", text, {"age": 17})
    assert (seventeen["consent_by"], seventeen["consent_capacity"]) == ("person", True)
    unknown_age = understood("consent_by", text)
    assert unknown_age["consent_by"] == "person" and "consent_capacity" not in unknown_age


def test_a_parent_for_an_adult_who_lacks_capacity_is_read_with_the_capacity_001_s7() -> None:
    answers = understood("consent_by", "mum, he lacks capacity for this", {"age": 30})
    assert (answers["consent_by"], answers["consent_capacity"]) == ("parent_carer_guardian", False)


@pytest.mark.parametrize("text", ["she did", "the young person herself", "he consented himself"])
def test_a_child_under_16_consenting_alone_is_not_recorded_004(text: str) -> None:
    result = interpret("consent_by", text, {"age": 12})
    assert not result.understood and "consent_by" not in result.answers
    assert result.message and "under 16" in result.message


def test_consent_not_given_yet_is_not_recorded_and_says_what_to_do_001_s7() -> None:
    result = interpret("consent_by", "not yet, I haven't asked", {"age": 12})
    assert not result.understood and "consent_by" not in result.answers
    assert result.message and result.message.startswith("Consent is needed")


def test_someone_lacking_capacity_cannot_consent_themselves_and_both_answers_are_taken_back() -> (
    None
):
    """Mental Capacity Act, as 001 s7 and 004 apply it: where the person lacks capacity, a parent,
    carer or guardian (or, where allowed, a best-interests decision) consents."""
    result = interpret(
        "consent_capacity", "no, he lacks capacity", {"age": 17, "consent_by": "person"}
    )
    assert not result.understood
    assert "consent_by" not in result.answers and "consent_capacity" not in result.answers
    assert result.message and "cannot consent themselves" in result.message


def test_west_sussex_has_no_best_interests_consent_004() -> None:
    result = interpret(
        "consent_by", "we made a best interests decision", {"age": 12}, variant="west_sussex"
    )
    assert not result.understood
    assert result.message and "In West Sussex consent is given by" in result.message


@pytest.mark.parametrize(
    ("text", "capacity"),
    [
        ("she has capacity for this decision", True),
        ("yes he does have capacity", True),
        ("he lacks capacity", False),
        ("she doesn't have capacity to decide", False),
        ("no capacity for this", False),
        ("mum consented after a capacity assessment", None),
        ("mum gave consent", None),
    ],
)
def test_capacity_is_read_only_where_it_is_said(text: str, capacity: bool | None) -> None:
    assert reading.read_capacity(text) is capacity


@pytest.mark.parametrize(
    ("by", "text", "said"),
    [("best_interests", "lacks capacity", False), ("person", "yes", True)],
)
def test_the_capacity_question_takes_lacks_as_a_no(by: str, text: str, said: bool) -> None:
    result = interpret("consent_capacity", text, {"age": 30, "consent_by": by})
    assert result.understood and result.answers["consent_capacity"] is said


# --- where they live (000; 001 s9: a postcode suggests, never decides) ---------------------------


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("Nottingham City", "outside"),
        ("Derby", "outside"),
        ("Leicester", "leicester_city"),
        ("Leicster", "leicester_city"),
        ("leicestershire", "leicestershire"),
        ("he lives in Loughborough", "leicestershire"),
        ("Oakham", "rutland"),
        ("Leicester city council", "leicester_city"),
        ("out of area - Nottingham", "outside"),
    ],
)
def test_a_council_area_town_or_place_elsewhere_is_read_001_s9(text: str, area: str) -> None:
    assert value("council_area", text, {"age": 12}) == area


@pytest.mark.parametrize(
    "text",
    [
        "Derby City (placed there by Leicestershire County Council)",
        "he lives in Derby with foster carers, but Leicestershire placed him there",
        "Derby - Leicestershire County Council placed him",
    ],
)
def test_a_looked_after_child_placed_out_of_area_is_read_with_the_placing_council_000(
    text: str,
) -> None:
    """000: any looked-after child placed out of area by an LLR council may be referred."""
    answers = understood("council_area", text)
    assert answers["council_area"] == "outside"
    assert (answers["looked_after_child"], answers["placing_council"]) == (True, "leicestershire")


def test_a_postcode_alone_only_suggests_the_area_and_asks_000_001_s9() -> None:
    result = interpret("council_area", "LE15 6AB")
    assert "council_area" not in result.answers
    assert result.message and "Rutland" in result.message and "?" in result.message
    assert [o.code for o in result.options] == ["rutland", "outside"]
    assert value("council_area", "yes", result.answers) == "rutland"
    assert "_council_area_hint" not in understood("council_area", "yes", result.answers)


def test_not_knowing_where_they_live_offers_the_areas_and_records_nothing() -> None:
    result = interpret("council_area", "not sure")
    assert not result.understood and "council_area" not in result.answers
    assert [o.code for o in result.options] == [
        "leicester_city",
        "leicestershire",
        "rutland",
        "outside",
    ]


@pytest.mark.parametrize(
    ("variant", "text", "area"),
    [
        ("tees_valley", "Middlesbrough", "middlesbrough"),
        ("tees_valley", "Thornaby", "stockton"),
        ("west_sussex", "Crawley", "west_sussex"),
        ("west_sussex", "Brighton", "outside"),
    ],
)
def test_each_variant_reads_its_own_places_003_004(variant: str, text: str, area: str) -> None:
    assert value("council_area", text, {"age": 12}, variant=variant) == area


# --- the diagnosis (000; 001 s9: a learning difficulty is not a learning disability) -----------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("autism and a learning difficulty", "autism"),
        ("learning difficulties", "learning_difficulty_only"),
        ("he has a learning difficulty but not a learning disability", "learning_difficulty_only"),
        ("autisim", "autism"),
        ("autism, and ADHD as well", "autism"),
        ("ASD and global developmental delay", "both"),
        ("both", "both"),
        ("not autism, but he has a learning disability", "learning_disability"),
        ("suspected autism, on the waiting list", "unknown"),
        ("being assessed for autism", "unknown"),
        ("autism, and being assessed for a learning disability", "autism"),
    ],
)
def test_the_diagnosis_is_read_as_said_001_s9(text: str, code: str) -> None:
    assert value("diagnosis", text) == code


def test_confirmation_with_its_evidence_in_one_answer_keeps_the_evidence_000() -> None:
    """000: evidence of the confirmation goes with the referral; said with the yes, it is kept."""
    answers = understood(
        "diagnosis_confirmed", "yes, letter from the community paediatrician, 2019"
    )
    assert answers["diagnosis_confirmed"] is True
    assert answers["diagnosis_evidence"] == "letter from the community paediatrician, 2019"
    assert value("diagnosis_confirmed", "No, not yet confirmed") is False


# --- dates and ages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "03/04/2012",
        "3rd April 2012",
        "3/4/12",
        "April 3rd 2012",
        "2012-04-03",
        "3rd of april, 2012",
    ],
)
def test_a_date_of_birth_is_read_as_the_uk_writes_it(text: str) -> None:
    assert value("date_of_birth", text) == "2012-04-03"


@pytest.mark.parametrize(
    ("text", "days_back"),
    [("yesterday", 1), ("today", 0), ("last Tuesday", 6), ("3 days ago", 3), ("last Monday", 7)],
)
def test_a_consent_date_may_be_said_as_people_say_it(text: str, days_back: int) -> None:
    assert value("consent_date", text) == (TODAY - timedelta(days=days_back)).isoformat()


@pytest.mark.parametrize(
    ("question", "text", "says"),
    [
        ("date_of_birth", "3rd April", "year"),
        ("date_of_birth", "31/02/2012", "does not exist"),
        ("date_of_birth", "04/12/2026", "cannot be in the future"),
        ("date_of_birth", "01/01/1890", "over 120"),
        ("consent_date", "01/12/2026", "cannot be in the future"),
        ("consent_date", "a while back", "Please give the date"),
    ],
)
def test_a_date_that_cannot_be_is_not_recorded_and_the_message_says_why(
    question: str, text: str, says: str
) -> None:
    result = interpret(question, text)
    assert not result.understood and question not in result.answers
    assert result.message and says in result.message


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("she's 14", 14),
        ("14", 14),
        ("fourteen", 14),
        ("he is 14 years old", 14),
        ("14yo", 14),
        ("aged 9", 9),
        ("17 and a half", 17),
    ],
)
def test_an_age_is_read_from_what_people_say(text: str, years: int) -> None:
    assert value("age", text) == years


def test_an_age_given_as_a_date_of_birth_records_the_date_of_birth() -> None:
    answers = understood("age", "born 03/04/2012")
    assert answers == {"date_of_birth": "2012-04-03"}


def test_no_age_is_guessed_from_words_without_one() -> None:
    assert reading.read_age("no idea, sorry") is None
    assert not interpret("age", "no idea, sorry").understood


# --- yes and no ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("no, never", False),
        ("nope", False),
        ("I don't think so", False),
        ("not that I know of", False),
        ("Not at all", False),
        ("yes definitely", True),
        ("yeah", True),
        ("correct", True),
    ],
)
def test_yes_and_no_are_read_as_people_say_them(text: str, said: bool) -> None:
    assert reading.read_boolean(text) is said
    assert value("imminent_risk", text) is said


@pytest.mark.parametrize("text", ["not sure", "I don't know", "maybe", "ask his mum"])
def test_an_unsure_answer_is_never_read_as_yes_or_no(text: str) -> None:
    assert reading.read_boolean(text) is None
    result = interpret("imminent_risk", text)
    assert not result.understood and "imminent_risk" not in result.answers
    assert [o.code for o in result.options] == ["yes", "no"]


# --- facts said in passing -------------------------------------------------------------------


def test_an_opening_message_tells_the_referrers_sector() -> None:
    answers = understood("$opening", "Hi, I'm a social worker and I'd like to make a referral")
    assert answers["referrer_kind"] == "social_care"
    assert answers["referrer_role"] == "social worker"


def test_an_opening_message_tells_the_age_and_the_area() -> None:
    answers = understood("$opening", "she's 14 and lives in Oakham")
    assert (answers["age"], answers["council_area"]) == (14, "rutland")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "hello I'm a school nurse, want to refer a 12 year old girl with autism",
            {"referrer_kind": "health", "age": 12, "diagnosis": "autism"},
        ),
        (
            "Im a CAMHS nurse referring a young man aged 17 living in Leicester",
            {
                "referrer_kind": "health",
                "referrer_role": "CAMHS nurse",
                "age": 17,
                "council_area": "leicester_city",
            },
        ),
        (
            "Hi I am a teacher at a special school. He is 9 and lives in Loughborough",
            {"referrer_kind": "education", "age": 9, "council_area": "leicestershire"},
        ),
    ],
)
def test_an_opening_message_may_answer_several_questions(
    text: str, expected: dict[str, Any]
) -> None:
    answers = understood("$opening", text)
    assert {k: answers.get(k) for k in expected} == expected


def test_a_self_referrers_opening_message_is_read_for_its_own_questions_003() -> None:
    answers = understood(
        "$opening",
        "Hi, my son has autism, we live in Stockton",
        variant="tees_valley",
        source="self",
    )
    assert answers == {"self_who": "family", "council_area": "stockton", "diagnosis": "autism"}


def test_a_greeting_alone_answers_nothing() -> None:
    result = interpret("$opening", "Hi")
    assert not result.understood and result.answers == {}


def test_facts_in_passing_fill_only_questions_not_yet_answered() -> None:
    answers = understood("diagnosis", "autism, she's 14 and lives in Oakham")
    assert answers == {"diagnosis": "autism", "age": 14, "council_area": "rutland"}
    kept = understood("diagnosis", "autism, she's 14", {"age": 15})
    assert kept["age"] == 15


# --- the people to invite, and the referrer (001 s10, s11) ---------------------------------------

ANN = "Dr Ann Lee, psychiatrist, ann.lee@nhs.net, 0116 225 5000"
JO = "Jo Bloggs, teacher, jo@school.example.org, 07700 900123"


@pytest.mark.parametrize("joined", ["; ", " and ", "\n"])
def test_several_invitees_in_one_message_are_each_added_001_s10(joined: str) -> None:
    invitees = value("invitees", f"{ANN}{joined}{JO}")
    assert [p["name"] for p in invitees["people"]] == ["Dr Ann Lee", "Jo Bloggs"]
    assert invitees["people"][0] == {
        "name": "Dr Ann Lee",
        "role": "psychiatrist",
        "email": "ann.lee@nhs.net",
        "phone": "01162255000",
    }
    assert invitees["complete"] is False
    done = value("invitees", "no, that's everyone", {"invitees": invitees})
    assert done == {"people": invitees["people"], "complete": True}


def test_an_invitee_without_a_phone_number_is_not_added_and_the_gap_is_named_001_s10() -> None:
    result = interpret("invitees", "Jo Bloggs, teacher, jo@school.example.org")
    assert not result.understood and "invitees" not in result.answers
    assert result.message and "phone number" in result.message
    nobody = interpret("invitees", "no")
    assert not nobody.understood and nobody.message == "Please give at least one person to invite."


def test_the_referrers_name_role_organisation_and_email_come_from_one_line() -> None:
    answers = understood(
        "referrer_name",
        "Hannah Moss, social worker, Leicestershire County Council, hannah.moss@leics.gov.uk",
    )
    assert answers == {
        "referrer_name": "Hannah Moss",
        "referrer_role": "social worker",
        "referrer_organisation": "Leicestershire County Council",
        "referrer_email": "hannah.moss@leics.gov.uk",
    }


@pytest.mark.parametrize(
    ("question", "text", "kept"),
    [
        ("nhs_number", "it's 943 476 5919", "9434765919"),
        ("postcode", "le1 6th I think", "LE1 6TH"),
        ("referrer_phone", "call me on +44 7700 900123", "07700900123"),
    ],
)
def test_a_number_or_postcode_inside_a_sentence_is_found(
    question: str, text: str, kept: str
) -> None:
    assert value(question, text) == kept


def test_a_name_is_read_with_a_lead_in_and_a_title() -> None:
    assert value("person_name", "her name is amy jones") == {"given": "Amy", "family": "Jones"}
    assert value("person_name", "Mr Jayden Fox, 13") == {"given": "Jayden", "family": "Fox"}
    assert not interpret("person_name", "Amy").understood


# --- the criteria and the rating ---------------------------------------------------------------

DESCRIBED = {
    "age": 12,
    "current_situation": "He is hitting out at home and his mum is exhausted.",
}


def test_criteria_are_picked_by_number_all_or_none_and_named_in_words() -> None:
    """The criteria matching what was described are shown first, numbered (000 amber)."""
    shown = service.proposed_criteria(
        logic.state_of(DESCRIBED, "professional", variant_service.load("llr"), TODAY)
    )
    assert shown[:2] == ["amber.behaviours_that_challenge", "amber.carer_strain"]
    assert value("concerns", "1 and 2", DESCRIBED) == shown[:2]
    assert value("concerns", "all of these", DESCRIBED) == shown
    assert value("concerns", "none of these", DESCRIBED) == []
    assert value("concerns", "a new safeguarding issue", DESCRIBED) == [
        "amber.new_safeguarding_issue"
    ]


def test_agreeing_with_the_suggested_rating_chooses_it_001_s10() -> None:
    """Discharged from an inpatient hospital: amber or green may be chosen (001 s10)."""
    answers = {
        **DESCRIBED,
        "concerns": ["amber.carer_strain"],
        "inpatient_status": "discharged",
        "imminent_risk": False,
    }
    assert value("rag", "amber, agreed", answers) == "amber"
    assert value("rag", "yes, go with the suggestion", answers) == "amber"
    assert value("rag", "green please", answers) == "green"
    red = interpret("rag", "red", answers)
    assert not red.understood and red.message and "Red at referral is only" in red.message


# --- a question back, and the summary ------------------------------------------------------------


def test_why_do_you_need_this_is_answered_from_the_questionnaire() -> None:
    result = interpret("nhs_number", "why do you need this?", {"age": 12})
    assert result.action == "explain"
    assert result.message == "The NHS number identifies the person safely across services."
    assert result.answers == {"age": 12}
    family = interpret("date_of_birth", "why?", variant="tees_valley", source="self")
    assert family.message == "We need it to know who they are."


SUMMARY: Answers = {"date_of_birth": "2012-04-03", "postcode": "LE1 6TH", "diagnosis": "autism"}


@pytest.mark.parametrize(
    ("text", "removed"),
    [
        ("change the date of birth", "date_of_birth"),
        ("actually the postcode is wrong", "postcode"),
        ("can I change the diagnosis please", "diagnosis"),
    ],
)
def test_at_the_summary_changing_an_answer_takes_it_back_to_ask_again(
    text: str, removed: str
) -> None:
    result = interpret("$summary", text, SUMMARY)
    assert result.understood and result.action is None
    assert result.answers == {k: v for k, v in SUMMARY.items() if k != removed}


@pytest.mark.parametrize("text", ["send it", "yes, that's all correct, send it", "looks good"])
def test_at_the_summary_send_it_submits(text: str) -> None:
    result = interpret("$summary", text, SUMMARY)
    assert result.action == "submit" and result.answers == SUMMARY


@pytest.mark.parametrize("text", ["no, don't send it yet", "hmm"])
def test_at_the_summary_anything_else_neither_sends_nor_changes(text: str) -> None:
    result = interpret("$summary", text, SUMMARY)
    assert result.action is None and result.answers == SUMMARY and not result.understood
    unclear = interpret("$summary", "something is wrong", SUMMARY)
    assert unclear.message and "Which answer" in unclear.message
