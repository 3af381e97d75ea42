"""The guided referral for professionals: the actions between and around the forms.

action_referral_next is the one place that decides what comes next: it asks the register service
(eligibility, rating suggestion) when a form is done, says what the answers mean, and sets the
`referral_step` slot that the rules (data/rules/referral.yml) turn into the next form. The other
actions start, send, pause, stop, change an answer, and answer questions along the way. None of
them decides eligibility or a rating: the register service does, and they turn its answers into
conversation.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import register_client
from actions.referral_forms import (
    DRAFT_SLOTS,
    FAILURES,
    FIELD_LIST,
    FIELDS,
    OTHER_COUNCIL,
    OUTSIDE,
    REFERRAL_SLOTS,
    REQUESTED_SLOT,
    SKIPPED,
    STAGE_OF_SLOT,
    STAGES,
    UNKNOWN,
    Context,
    age_group_settled,
    criteria_for,
    criterion_title,
    explain,
    find_resume_code,
    full_form,
    intent_of,
    load_draft,
    missing,
    normalise,
    readable_time,
)

STEP: Final = "referral_step"
FINISHED: Final = "finished"
RESUME: Final = "resume"
SERVICE_DOWN: Final = (
    "I cannot reach the register service just now, so I cannot {what}. Your answers are kept in "
    "this conversation: say 'continue my referral' in a few minutes and I will try again."
)
NOTHING_IN_PROGRESS: Final = (
    "There is no referral in progress. Say 'I want to make a referral' to start one, or "
    "'resume' with your code to carry on with one you paused."
)


def answer_of(slots: Mapping[str, Any], slot: str) -> Any:
    """The answer, or None where it was not given or the referrer left it out."""
    value = slots.get(slot)
    return None if value == SKIPPED else value


def in_progress(slots: Mapping[str, Any]) -> bool:
    """A referral is in progress from its start until it is sent or stopped."""
    return bool(slots.get("ref_idempotency_key")) and not slots.get("ref_dsp_id")


def cleared(*slots: str) -> list[EventType]:
    return [SlotSet(slot, None) for slot in slots]


async def forget_draft(code: str) -> None:
    """Deletes a draft that is no longer needed; if that fails it expires and is purged."""
    with contextlib.suppress(register_client.RegisterUnavailable, register_client.RegisterRejected):
        await register_client.delete_draft(code)


async def variant() -> dict[str, Any]:
    return await register_client.get_variant_cached()


# ---- what goes to the register service ------------------------------------------------------------


def eligibility_answers(
    slots: Mapping[str, Any], variant_: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """EligibilityAnswers from the questions this referral needed (eligibility/schemas.py)."""
    asked = set(STAGES[0].slots(slots, variant_, today))

    def given(slot: str) -> Any:
        return slots.get(slot) if slot in asked else None

    area = given("ref_council_area")
    confirmation = given("ref_diagnosis_confirmation")
    placing = given("ref_placing_council")
    gp = given("ref_gp_in_area")
    return {
        "referrer_kind": slots["ref_referrer_kind"],
        "diagnosis": given("ref_diagnosis"),
        "diagnosis_confirmed": confirmation in ("confirmed_with_evidence", "confirmed_no_evidence"),
        "confirmation_evidence_available": confirmation == "confirmed_with_evidence",
        "autism_diagnosis_private": given("ref_autism_private") is True,
        "council_area": area if area not in (None, OUTSIDE, UNKNOWN) else None,
        "lives_outside_area": area == OUTSIDE,
        "gp_in_area": {"yes": True, "no": False}.get(gp) if gp else None,
        "date_of_birth": given("ref_date_of_birth"),
        "looked_after_child": given("ref_looked_after") is True,
        "placing_council": placing if placing not in (None, OTHER_COUNCIL) else None,
        "section_117_funded": given("ref_section_117") is True,
        "out_of_area_placement": given("ref_out_of_area_placement") is True,
        "urgent_cetr_needed": given("ref_urgent_cetr") is True,
    }


def rating_question(slots: Mapping[str, Any]) -> dict[str, Any]:
    """RatingQuestion from the rating form's answers (rating/schemas.py)."""
    inpatient = slots.get("ref_inpatient")
    return {
        "criteria_ids": list(slots.get("ref_criteria") or []),
        "other_concern": slots.get("ref_other_concern") is True,
        "imminent_risk_of_admission": slots.get("ref_imminent_risk") is True,
        "earlier_knowledge_of_escalating_risk": slots.get("ref_earlier_knowledge") is True,
        "inpatient_now": inpatient == "now",
        "recently_discharged_from_inpatient": inpatient == "discharged",
        "age_group": slots.get("ref_age_group"),
    }


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def referral_body(
    slots: Mapping[str, Any], variant_: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """ReferralCreate (referrals/schemas.py) from the conversation's answers."""

    def text(slot: str) -> Any:
        return answer_of(slots, slot)

    name = text("ref_person_name") or {}
    ehcp = text("ref_ehcp") or {}
    police = text("ref_police_crisis") or {}
    decision = text("ref_rating_decision")
    good = _without_empty(
        {
            "lac_cin_cpp": text("ref_lac_cin_cpp"),
            "has_ehcp": ehcp.get("has"),
            "ehcp_primary_need": ehcp.get("details") or None,
            "lives_with": text("ref_lives_with"),
            "school": text("ref_school"),
            "who_is_involved": text("ref_who_is_involved"),
            "police_or_crisis_contact_last_12_months": police.get("has"),
            "police_or_crisis_details": police.get("details") or None,
            "outcomes_wanted": text("ref_outcomes_wanted"),
            "how_we_will_know": text("ref_how_we_will_know"),
        }
    )
    location = _without_empty(
        {"kind": text("ref_location_kind"), "details": text("ref_location_details")}
    )
    return _without_empty(
        {
            "referral_source": "professional",
            "eligibility": eligibility_answers(slots, variant_, today),
            "rating": _without_empty(
                {
                    "suggestion": slots.get("ref_rating_suggestion"),
                    "decision": {"rag": decision, "register": slots.get("ref_register")}
                    if decision
                    else None,
                }
            ),
            "consent": {
                "given": slots.get("ref_consent_given") is True,
                "given_by": slots.get("ref_consent_given_by"),
                "given_on": slots.get("ref_consent_date"),
            },
            "mam_organised_by_admin": slots.get("ref_mam_by_admin") is True,
            "person": _without_empty(
                {
                    "given_name": name.get("given_name"),
                    "family_name": name.get("family_name"),
                    "nhs_number": text("ref_nhs_number"),
                    "date_of_birth": slots.get("ref_date_of_birth"),
                    "gender": text("ref_gender"),
                    "preferred_pronouns": text("ref_pronouns"),
                    "ethnicity": text("ref_ethnicity"),
                    "address": text("ref_address"),
                    "postcode": text("ref_postcode"),
                    "gp_practice": text("ref_gp_practice"),
                }
            ),
            "referrer": _without_empty(
                {
                    "name": text("ref_referrer_name"),
                    "role": text("ref_referrer_role"),
                    "organisation": text("ref_referrer_organisation"),
                    "email": text("ref_referrer_email"),
                    "phone": text("ref_referrer_phone"),
                }
            ),
            "commissioner": text("ref_commissioner"),
            "carer": text("ref_carer"),
            "care_team": text("ref_care_team"),
            "current_location": location or None,
            "communication_needs": text("ref_communication_needs"),
            "brief_history": text("ref_brief_history"),
            "current_situation": text("ref_current_situation"),
            "risk_details": text("ref_risk_details"),
            "safeguarding": text("ref_safeguarding"),
            "support_in_place": text("ref_support_in_place"),
            "good_referral": good or None,
            "invitees": list(slots.get("ref_invitees") or []) if full_form(slots) else [],
        }
    )


# ---- what the service's answers mean, in plain words ----------------------------------------------

_AGE_GROUPS: Final = {"cyp": "children and young people's", "adult": "adults'"}


def eligibility_message(result: Mapping[str, Any]) -> list[str]:
    reasons = result.get("reasons", [])
    if result["outcome"] == "eligible":
        group = _AGE_GROUPS.get(result.get("age_group") or "", "")
        lines = [
            "Thank you. From your answers the person meets the criteria for the Dynamic Support "
            f"Pathway: the referral would go on the {result['register']}"
            + (f" ({group} register)." if group else ".")
        ]
        lines += [
            f"{r['text']} ({r['source']})"
            for r in reasons
            if r["rule"].startswith("out_of_area.") and r["met"]
        ]
        if result.get("rating_required"):
            lines.append(f"This referral needs a {result['rating_required']} rating.")
        if result.get("transition"):
            lines += [
                f"Please note, they are close to 18: {r['text']}"
                for r in reasons
                if r["rule"] == "transition"
            ]
        if result.get("keyworker"):
            lines.append(result["keyworker"])
        lines.append(result["other_services"])
        return lines
    if result["outcome"] == "not_eligible" or not result.get("referrer_may_refer", True):
        lines = ["I am sorry: from your answers, the person cannot be referred to the pathway."]
        lines += [f"- {r['text']} ({r['source']})" for r in reasons if not r["met"]]
        if result.get("what_to_do_instead"):
            lines.append(f"What you can do instead: {result['what_to_do_instead']}")
        lines.append(result["other_services"])
        lines.append(
            "If one of your answers was wrong, tell me which, for example 'change the diagnosis'."
        )
        return lines
    lines = ["Before the referral can go ahead, please confirm:"]
    lines += [f"- {item}" for item in result.get("to_confirm", [])]
    lines.append(
        "When you can, tell me which answer to change (for example 'change the evidence' or "
        "'change where they live'). You can also say 'pause' to keep your answers and come back "
        "later with a code."
    )
    lines.append(result["other_services"])
    return lines


def suggestion_message(suggestion: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    if suggestion.get("decided_by") == "dsr_meeting":
        lines.append("Here the DSR meeting decides the rating, so I do not suggest one.")
    elif suggestion.get("rag"):
        lines.append(
            f"Suggested rating: {suggestion['rag']}, on the {suggestion['register']}. You decide."
        )
    lines += [f"- {reason}" for reason in suggestion.get("reasons", [])]
    if suggestion.get("linked_processes"):
        lines.append(f"What follows the {suggestion['rag']} rating:")
        lines += [f"- {step}" for step in suggestion["linked_processes"]]
    return lines


_DIAGNOSES: Final = {
    "learning_disability": "learning disability",
    "autism": "autism",
    "both": "learning disability and autism",
    "learning_difficulty_only": "a learning difficulty (not a learning disability)",
    "none": "no diagnosis yet",
    "unknown": "not sure",
}
_CONFIRMATIONS: Final = {
    "confirmed_with_evidence": "confirmed, with evidence",
    "confirmed_no_evidence": "confirmed, evidence not to hand",
    "not_confirmed": "not confirmed yet",
}
_GIVEN_BY: Final = {
    "person": "the person",
    "parent_carer_guardian": "a parent, carer or guardian",
    "best_interests": "a best-interests decision",
}
_INPATIENT: Final = {
    "now": "in an inpatient unit now",
    "discharged": "recently discharged",
    "neither": "neither",
}
_KINDS: Final = {"health": "health", "social_care": "social care", "education": "education"}


def shown(slot: str, value: Any, slots: Mapping[str, Any], variant_: Mapping[str, Any]) -> str:
    """An answer as the referrer would say it."""
    if value == SKIPPED:
        return "left out"
    if isinstance(value, bool):
        return "yes" if value else "no"
    areas = {a["id"]: a["name"] for a in variant_["areas"]}
    words: dict[str, Mapping[str, str]] = {
        "ref_diagnosis": _DIAGNOSES,
        "ref_diagnosis_confirmation": _CONFIRMATIONS,
        "ref_consent_given_by": _GIVEN_BY,
        "ref_inpatient": _INPATIENT,
        "ref_referrer_kind": _KINDS,
        "ref_council_area": {**areas, OUTSIDE: "outside the area", UNKNOWN: "not sure"},
        "ref_placing_council": {**areas, OTHER_COUNCIL: "another council"},
    }
    if slot in words:
        return str(words[slot].get(value, value))
    if slot == "ref_criteria":
        titles = {c["id"]: criterion_title(c) for c in criteria_for(variant_, None)}
        chosen = [titles.get(i, i) for i in value] or ["none of the listed concerns"]
        if slots.get("ref_other_concern"):
            chosen.append("another significant concern")
        return "; ".join(chosen)
    if slot == "ref_person_name":
        return f"{value['given_name']} {value['family_name']}"
    if slot == "ref_carer":
        if value.get("no_carer"):
            return "no parent or carer"
        return f"{value['name']} ({value['relationship']}), {value['phone']}"
    if slot in ("ref_ehcp", "ref_police_crisis"):
        return f"yes: {value['details']}" if value.get("has") else "no"
    if slot == "ref_rating_decision":
        return f"{value}, on the {slots.get('ref_register')}"
    if slot in ("ref_date_of_birth", "ref_consent_date"):
        return f"{date.fromisoformat(value):%d/%m/%Y}"
    return str(value)


def summary_message(slots: Mapping[str, Any], variant_: Mapping[str, Any], today: date) -> str:
    lines = ["Here is the referral. Please check it:"]
    section = ""
    for stage in STAGES[:-1]:
        for slot in stage.slots(slots, variant_, today):
            field_ = FIELDS[slot]
            if slot in ("ref_invitee", "ref_invitee_more") or slots.get(slot) is None:
                continue
            if field_.section != section:
                section = field_.section
                lines.append(f"\n{section}")
            lines.append(f"- {field_.label}: {shown(slot, slots[slot], slots, variant_)}")
            if slot == "ref_mam_by_admin" and slots.get("ref_invitees") and full_form(slots):
                people = [f"{i['name']} ({i['role']})" for i in slots["ref_invitees"]]
                lines.append(f"- people to invite: {', '.join(people)}")
    return "\n".join(lines)


# ---- the flow -------------------------------------------------------------------------------------


class ActionReferralStart(Action):
    """Starts a referral (or starts again): clears every answer and makes the idempotency key that
    every attempt to send this referral will carry."""

    def name(self) -> str:
        return "action_referral_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        again = intent_of(tracker) == "start_over"
        code = tracker.get_slot("ref_resume_code")
        if code:
            await forget_draft(code)
        try:
            where = f" in {(await variant())['name']}"
        except register_client.RegisterUnavailable:
            where = ""
        dispatcher.utter_message(
            text=("OK, starting again: I have cleared the answers. " if again else "")
            + f"I can help you refer someone to the Dynamic Support Pathway{where}. I will check "
            "eligibility first, then help with the rating, consent and the referral form. At any "
            "point you can ask 'why do you need this?' or 'what should I have ready?', say "
            "'pause' to save your answers and come back later, or 'stop'."
        )
        return [
            *cleared(*REFERRAL_SLOTS),
            SlotSet("ref_idempotency_key", str(uuid.uuid4())),
        ]


class ActionReferralNext(Action):
    """Decides what comes next and sets `referral_step`; see the module docstring."""

    def name(self) -> str:
        return "action_referral_next"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("ref_resume_code_given", None)]
        slots = dict(tracker.slots)
        code = (
            find_resume_code(tracker.latest_message.get("text") or "")
            if intent_of(tracker) == "resume_referral"
            else None
        )
        if code:
            loaded, message = await load_draft(code, dispatcher)
            if loaded is None:
                dispatcher.utter_message(text=message)
                return [*events, SlotSet(STEP, RESUME)]
            events += [SlotSet(slot, value) for slot, value in loaded.items()]
            slots.update(loaded)
        elif not in_progress(slots):
            # Nothing to carry on with: ask for a code, or stop here (after a pause, a stop, or
            # a change with nothing to change, which have said so already).
            step = RESUME if intent_of(tracker) == "resume_referral" else FINISHED
            return [*events, SlotSet(STEP, step)]
        try:
            step = await self.next_step(dispatcher, slots, events, date.today())
        except register_client.RegisterUnavailable:
            dispatcher.utter_message(text=SERVICE_DOWN.format(what="check your answers"))
            step = FINISHED
        except register_client.RegisterRejected as rejected:
            dispatcher.utter_message(
                text="The register service could not use these answers: "
                f"{rejected.detail}. Tell me which answer to change, or say 'start again'."
            )
            step = FINISHED
        return [*events, SlotSet(STEP, step)]

    async def next_step(
        self,
        dispatcher: CollectingDispatcher,
        slots: dict[str, Any],
        events: list[EventType],
        today: date,
    ) -> str:
        """The first stage with a question still to ask, after saying what the answers so far
        mean. `slots` and `events` are updated with what the service answered."""

        def remember(slot: str, value: Any) -> None:
            slots[slot] = value
            events.append(SlotSet(slot, value))

        variant_ = await variant()
        eligibility, rating, decision, consent = STAGES[:4]
        if slots.get("ref_eligibility") is None and slots.get("ref_date_of_birth"):
            # Eligibility is to be checked: first the age group for this date of birth, from the
            # service (it chooses the out-of-area questions). This also checks a date of birth
            # kept while the service was not answering.
            checked = await register_client.check_answers(
                {"date_of_birth": slots["ref_date_of_birth"]}
            )
            if checked["date_of_birth"]["ok"]:
                for slot, value in age_group_settled(slots, checked["age_group"]).items():
                    remember(slot, value)
            else:
                dispatcher.utter_message(text=checked["date_of_birth"]["message"])
                remember("ref_date_of_birth", None)
        if missing(eligibility, slots, variant_, today):
            return eligibility.step
        if slots.get("ref_referrer_kind") not in _KINDS:
            referrers = variant_["referrers"]
            dispatcher.utter_message(
                text="This guided referral is for professionals. "
                f"{referrers['text']} "
                + (
                    "In this area you can also refer yourself: ask me 'can I refer myself?'."
                    if variant_["self_referral"]
                    else variant_["what_to_do_instead"]["referrer"]
                )
            )
            return FINISHED
        if slots.get("ref_eligibility") is None:
            result = await register_client.check_eligibility(
                eligibility_answers(slots, variant_, today)
            )
            dispatcher.utter_message(text="\n".join(eligibility_message(result)))
            remember("ref_eligibility", result)
            for slot, value in age_group_settled(slots, result.get("age_group")).items():
                remember(slot, value)
        if not slots["ref_eligibility"]["eligible"]:
            return FINISHED
        if missing(rating, slots, variant_, today):
            return rating.step
        if slots.get("ref_rating_suggestion") is None:
            suggestion = await register_client.suggest_rating(rating_question(slots))
            dispatcher.utter_message(text="\n".join(suggestion_message(suggestion)))
            remember("ref_rating_suggestion", suggestion)
        if missing(decision, slots, variant_, today):
            return decision.step
        if missing(consent, slots, variant_, today):
            return consent.step
        if slots.get("ref_consent_given") is False:
            dispatcher.utter_message(text=self.no_consent(variant_))
            return FINISHED
        for stage in STAGES[4:6]:
            if missing(stage, slots, variant_, today):
                return stage.step
        if slots.get("ref_dsp_id"):
            return FINISHED
        if slots.get("ref_confirm") is None and not slots.get("ref_submit_failed"):
            dispatcher.utter_message(text=summary_message(slots, variant_, today))
        return STAGES[6].step

    @staticmethod
    def no_consent(variant_: Mapping[str, Any]) -> str:
        """001 section 7: no consent, nothing stored; how to gain it."""
        rule = variant_["consent"]
        information = [
            f"{c['name']}: {c['url']} ({c['how_to_reach']})"
            for c in variant_["contacts"]
            if c["kind"] == "information" and c.get("url")
        ]
        return " ".join(
            [
                "Without consent the referral cannot be made, and nothing has been stored.",
                f"{rule['text']} ({rule['source']})",
                "Talk with the person (or, for a child under "
                f"{rule.get('parent_consents_under_age', 16)} or someone who lacks capacity, "
                "their parent, carer or guardian, or make a best-interests decision) about what "
                "the pathway is and what the register keeps.",
                *information,
                "Once consent is given, say 'change consent' and we will carry on from here.",
            ]
        )


class ActionReferralSubmit(Action):
    """Sends the referral with its idempotency key: a retry after the service was down sends the
    same key and body, so the referral lands exactly once."""

    def name(self) -> str:
        return "action_referral_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = tracker.slots
        key = slots.get("ref_idempotency_key")
        if not key or not slots.get("ref_confirm"):
            return []
        try:
            variant_ = await variant()
            created = await register_client.submit_referral(
                referral_body(slots, variant_, date.today()), key
            )
        except register_client.RegisterUnavailable:
            dispatcher.utter_message(
                text="I could not reach the register service, so the referral has not been sent "
                "yet. I have kept every answer. Please try again in a few minutes: when you say "
                "'yes', I will send it once, even if an earlier attempt got through."
            )
            return [SlotSet("ref_confirm", None), SlotSet("ref_submit_failed", True)]
        except register_client.RegisterRejected as rejected:
            return self.rejected(dispatcher, tracker, rejected)
        dispatcher.utter_message(text=self.what_next(created, slots, variant_))
        code = slots.get("ref_resume_code")
        if code:
            await forget_draft(code)
        # The referral is on the register now: the conversation keeps no personal answers.
        return [
            *cleared(*(s for s in REFERRAL_SLOTS if s != "ref_idempotency_key")),
            SlotSet("ref_dsp_id", created["dsp_id"]),
        ]

    @staticmethod
    def what_next(
        created: Mapping[str, Any], slots: Mapping[str, Any], variant_: Mapping[str, Any]
    ) -> str:
        """001 sections 10, 12 and 13: who makes contact, who chairs, the MAM and its notes."""
        lines = [
            f"The referral has been sent. Its reference is {created['dsp_id']}: please use it "
            "instead of the person's name in emails and documents.",
            f"They are on the {created['register']}, rated {created['rag']}.",
        ]
        admin = [c for c in variant_["contacts"] if c["kind"] in ("dsr_admin", "referral_inbox")]
        if created["register"] == "ROAR":
            lines.append(
                "The Transforming Care Officers are told and will contact you to find out more "
                "and confirm whether an urgent C(E)TR will be organised (001 section 10)."
            )
        elif slots.get("ref_mam_by_admin"):
            lines.append(
                "What happens next: the DSR admin lead will contact you to agree the next steps "
                "and how urgent the multi-agency meeting (MAM) is. You will agree who chairs it "
                "(in most cases the referrer) and who completes the notes; the admin lead takes "
                "notes of the first MAM they organise, and sends the invitations with the "
                "referral attached, password protected (001 section 10)."
            )
        else:
            lines.append(
                "What happens next: you organise and chair the multi-agency meeting (MAM) "
                "yourself, with the standard MAM notes template (first and subsequent MAM "
                "templates, 001 section 13). Meet the family 15 minutes before the MAM to explain "
                "it. You remain the accountable professional (001 sections 10 and 12)."
            )
        for contact in admin:
            how = contact.get("email") or contact.get("phone") or contact.get("url") or ""
            lines.append(f"{contact['name']}: {how}. {contact.get('how_to_reach', '')}".strip())
        return "\n".join(lines)

    @staticmethod
    def rejected(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        rejected: register_client.RegisterRejected,
    ) -> list[EventType]:
        """A 409 (already on the register) ends here; a 422 clears the answers it names so the
        forms ask them again."""
        detail = rejected.detail
        if rejected.status_code == 409 or not isinstance(detail, list):
            dispatcher.utter_message(
                text=f"The register did not take the referral: {detail} If you need help, say "
                "'talk to someone'."
            )
            return [SlotSet("ref_confirm", None), SlotSet("ref_submit_failed", None)]
        slots = tracker.slots
        to_clear: set[str] = set()
        messages = []
        for problem in detail:
            messages.append(f"- {problem.get('msg')}")
            to_clear |= slots_for_problem([str(p) for p in problem.get("loc", [])[1:]], slots)
        dispatcher.utter_message(
            text="The register service could not accept the referral yet:\n"
            + "\n".join(messages)
            + "\nLet us put that right."
        )
        return [
            *cleared(*sorted(to_clear), "ref_confirm", "ref_submit_failed"),
        ]


_LOC_SLOTS: Final = {
    ("person", "given_name"): ("ref_person_name",),
    ("person", "family_name"): ("ref_person_name",),
    ("person", "nhs_number"): ("ref_nhs_number",),
    ("person", "postcode"): ("ref_postcode",),
    ("person", "date_of_birth"): ("ref_date_of_birth", "ref_eligibility"),
    ("person", "gender"): ("ref_gender",),
    ("person", "address"): ("ref_address",),
    ("person", "gp_practice"): ("ref_gp_practice",),
    ("referrer", "name"): ("ref_referrer_name",),
    ("referrer", "role"): ("ref_referrer_role",),
    ("referrer", "organisation"): ("ref_referrer_organisation",),
    ("referrer", "email"): ("ref_referrer_email",),
    ("referrer", "phone"): ("ref_referrer_phone",),
    ("consent",): ("ref_consent_given", "ref_consent_given_by", "ref_consent_date"),
    ("carer",): ("ref_carer",),
    ("current_location", "kind"): ("ref_location_kind",),
    ("current_location", "details"): ("ref_location_details",),
    ("invitees",): ("ref_invitees", "ref_invitee", "ref_invitee_more"),
    ("rating",): ("ref_rating_decision", "ref_register"),
    ("eligibility",): ("ref_eligibility",),
}


def slots_for_problem(loc: list[str], slots: Mapping[str, Any]) -> set[str]:
    """The slots to ask again for a problem the service names by its field path."""
    for length in (2, 1):
        found = _LOC_SLOTS.get(tuple(loc[:length]))
        if found:
            return set(found)
    name = f"ref_{loc[0]}" if loc else ""
    return {name} if name in FIELDS else set()


class ActionReferralPause(Action):
    """Keeps the answers in the register service against a short resume code, for the variant's
    retention period; the same code is used again if the referrer pauses again."""

    def name(self) -> str:
        return "action_referral_pause"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = tracker.slots
        if not in_progress(slots):
            dispatcher.utter_message(text=NOTHING_IN_PROGRESS)
            return []
        if slots.get("ref_consent_given") is False:
            dispatcher.utter_message(
                text="Without consent nothing can be stored, so I cannot save these answers. "
                "Once consent is given, say 'change consent' and we will carry on."
            )
            return []
        data = {slot: slots[slot] for slot in DRAFT_SLOTS if slots.get(slot) is not None}
        code = slots.get("ref_resume_code")
        try:
            if code:
                try:
                    saved = await register_client.update_draft(code, data)
                except register_client.RegisterRejected:  # expired meanwhile: a new code
                    code = None
            if not code:
                saved = await register_client.create_draft(data)
                code = saved["resume_code"]
        except register_client.RegisterUnavailable:
            dispatcher.utter_message(
                text="I could not save your answers: the register service is not answering. "
                "They are still here in this conversation, so let us carry on, or try 'pause' "
                "again in a few minutes."
            )
            return []
        dispatcher.utter_message(
            text=f"Your answers are saved. Your resume code is {code}. Please keep it safe: it "
            "opens the answers, which include personal details. The draft is kept until "
            f"{readable_time(saved['expires_at'])} and then deleted. To carry on, come back and "
            f"say 'resume {code}'."
        )
        return cleared(*REFERRAL_SLOTS)


class ActionReferralStop(Action):
    """Stops the referral: nothing is sent, the answers are cleared and any draft deleted."""

    def name(self) -> str:
        return "action_referral_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not in_progress(tracker.slots):
            dispatcher.utter_message(text="OK. There is no referral in progress.")
            return []
        code = tracker.get_slot("ref_resume_code")
        if code:
            await forget_draft(code)
        dispatcher.utter_message(
            text="OK, I have stopped the referral. Nothing has been sent or stored, and I have "
            "cleared your answers. Say 'I want to make a referral' to start a new one."
        )
        return cleared(*REFERRAL_SLOTS)


# ---- changing an answer ---------------------------------------------------------------------------

_GROUPS: Final = {
    "ref_consent_given": ("ref_consent_given", "ref_consent_given_by", "ref_consent_date"),
    "ref_invitee": ("ref_invitees", "ref_invitee", "ref_invitee_more"),
    "ref_invitee_more": ("ref_invitees", "ref_invitee", "ref_invitee_more"),
    "ref_criteria": ("ref_criteria", "ref_other_concern"),
}
# What a changed answer makes stale, by the stage it belongs to.
_STALE: Final = {
    "eligibility": (
        "ref_eligibility",
        "ref_rating_suggestion",
        "ref_rating_decision",
        "ref_register",
    ),
    "rating": ("ref_rating_suggestion", "ref_rating_decision", "ref_register"),
    "decision": ("ref_register",),
}


def fields_named(text: str) -> list[str]:
    """The answers a referrer names ("change the postcode", "the date of birth is wrong"): the
    field whose name matches most words wins."""
    plain = re.sub(r"[^\w\s/-]", " ", text)
    said = f" {normalise(plain)} "
    scored = [
        (len(keyword), -index, field_.slot)
        for index, field_ in enumerate(FIELD_LIST)
        for keyword in field_.keywords
        if f" {keyword} " in said
    ]
    if not scored:
        return []
    best = max(scored)
    return [best[2]]


class ActionReferralChangeAnswer(Action):
    """Clears the answer the referrer names, and what depends on it; the forms then ask it again
    (action_referral_next comes next)."""

    def name(self) -> str:
        return "action_referral_change_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not in_progress(tracker.slots):
            dispatcher.utter_message(text=NOTHING_IN_PROGRESS)
            return []
        named = fields_named(tracker.latest_message.get("text") or "")
        if not named:
            dispatcher.utter_message(
                text="Which answer would you like to change? Say, for example, 'change the "
                "postcode' or 'the date of birth is wrong'."
            )
            return []
        slot = named[0]
        to_clear = set(_GROUPS.get(slot, (slot,)))
        to_clear |= set(_STALE.get(STAGE_OF_SLOT[slot].step, ()))
        dispatcher.utter_message(text=f"OK, let us change {FIELDS[slot].label}.")
        return cleared(*sorted(to_clear), "ref_confirm", "ref_submit_failed", FAILURES)


# ---- questions along the way ----------------------------------------------------------------------


def _rating_term(rag: str) -> Any:
    async def define(ctx: Context) -> str:
        definition = next(
            (d for d in (await ctx.variant())["ratings"]["definitions"] if d["rag"] == rag), None
        )
        if definition is None:
            return f"{(await ctx.variant())['name']} does not use a {rag} rating."
        at_referral = definition.get("at_referral") or "It is never given at referral."
        return (
            f"{rag.capitalize()} ({definition['register']}): {definition['text']} "
            f"At referral: {at_referral} ({definition['source']})"
        )

    return define


async def _keyworker(ctx: Context) -> str:
    keyworker = (await ctx.variant()).get("keyworker")
    return keyworker["text"] if keyworker else "This area does not describe a keyworker service."


async def _transition(ctx: Context) -> str:
    transition = (await ctx.variant()).get("transition")
    if not transition:
        return "This area does not set a transition window."
    return f"{transition['text']} ({transition['source']})"


async def _diagnosis(ctx: Context) -> str:
    rule = (await ctx.variant())["diagnosis"]
    return f"{rule['text']} ({rule['source']})"


async def _ratings(ctx: Context) -> str:
    ratings = (await ctx.variant())["ratings"]
    return f"RAG rating: {ratings['text']} ({ratings['source']})"


GLOSSARY: Final[tuple[tuple[str, Any], ...]] = (
    (r"\bamber\b", _rating_term("amber")),
    (r"\bred\b", _rating_term("red")),
    (r"\bblue\b", _rating_term("blue")),
    (r"\bgreen\b|step.?down", _rating_term("green")),
    (r"\brag\b|\brating", _ratings),
    (
        r"\broar\b|risk of admission",
        "The Risk of Admission Register (ROAR) is for crisis management: people at imminent risk "
        "of admission to a mental health or learning disability hospital. The Transforming Care "
        "Officers are told and arrange an urgent Care (Education) and Treatment Review (001 "
        "sections 6 and 10).",
    ),
    (
        r"\bdsr\b|dynamic support register",
        "The Dynamic Support Register (DSR) is for crisis avoidance: people with a learning "
        "disability, autism or both whose health and well-being are getting worse, so extra "
        "support can be agreed early at a multi-agency meeting (001 section 6).",
    ),
    (
        r"\bc\(?e\)?tr|care,? (education )?and treatment review",
        "A Care, Education and Treatment Review (CETR, for children and young people) or a Care "
        "and Treatment Review (CTR, for adults) is an independent review of someone's care, to "
        "avoid a hospital admission or to plan a discharge. A red rating leads to an urgent "
        "community C(E)TR (000; 001 section 10).",
    ),
    (
        r"\bmams?\b|multi.?agency",
        "A multi-agency meeting (MAM) brings together the key people involved in the person's "
        "care, with the person and their family, to agree an action plan of extra support. MAMs "
        "continue for as long as needed (001 section 12).",
    ),
    (
        r"\btcos?\b|transforming care",
        "Transforming Care Officers (TCOs) are told when someone goes on the ROAR; they contact "
        "the referrer and organise an urgent C(E)TR (001 section 10).",
    ),
    (
        r"\blac\b|looked.?after",
        "LAC: a looked-after child, in the care of the council. A good referral says whether the "
        "child is LAC, CIN or CPP (003).",
    ),
    (r"\bcin\b|child in need", "CIN: a child in need, supported by children's social care (003)."),
    (
        r"\bcpp\b|child protection",
        "CPP: a child on a child protection plan. The pathway does not replace a safeguarding "
        "referral (001 section 12).",
    ),
    (
        r"\behcp\b|education,? health and care plan",
        "An Education, Health and Care Plan (EHCP) sets out a child or young person's special "
        "educational needs and the support for them, up to age 25; the primary need is its main "
        "area of need (003).",
    ),
    (
        r"section 117|\bs ?117\b",
        "Section 117 of the Mental Health Act 1983 gives free aftercare to someone who was "
        "detained under certain sections; 'health funded (section 117)' means health pays for "
        "all or part of their care.",
    ),
    (
        r"best.?interest|capacity",
        "Where a person lacks the mental capacity to decide (Mental Capacity Act 2005), a "
        "decision can be made in their best interests; for consent to a referral this is "
        "recorded as a best-interests decision (004).",
    ),
    (r"key.?worker", _keyworker),
    (r"transition|turning 18|close to 18", _transition),
    (r"learning difficult|learning disab", _diagnosis),
    (
        r"\bdsp\b|dynamic support pathway",
        "The Dynamic Support Pathway (DSP) supports people with a learning disability, autism or "
        "both whose health and well-being are getting worse in the community, to prevent a "
        "crisis and a hospital admission (000; 001 section 2).",
    ),
)


# The family journey's questions, asked inside a referral form, answered for a professional: the
# words to look up (a tuple), or the answer itself.
TOPICS: Final[dict[str, Any]] = {
    "ask_colours": ("amber", "red", "blue", "green"),
    "ask_cetr": ("cetr",),
    "ask_mam": ("mam",),
    "ask_mam_who": ("mam",),
    "ask_mam_topics": ("mam",),
    "ask_mam_can_i_come": ("mam",),
    "ask_mam_before": ("mam",),
    "ask_support_lists": ("dsr", "roar"),
    "ask_what_is_dsp": ("dsp",),
    "ask_keyworkers": ("keyworker",),
    "ask_adult_services": ("transition",),
    "ask_after_referral": (
        "After the referral the DSR admin lead contacts the referrer to agree the next steps and "
        "how urgent the multi-agency meeting is; for the ROAR, the Transforming Care Officers "
        "make contact (001 section 10)."
    ),
    "ask_information_safe": (
        "The register is held securely; access is by role and logged, each person gets an "
        "anonymous DSP id used on documents instead of their name, and data are kept only while "
        "the person is on the pathway and for the set retention (001 sections 6 and 8)."
    ),
}


async def define_terms(text: str, ctx: Context) -> list[str]:
    said = text.lower()
    found = []
    for pattern, meaning in GLOSSARY:
        if re.search(pattern, said):
            found.append(meaning if isinstance(meaning, str) else await meaning(ctx))
    return found


class ActionReferralAnswerQuestion(Action):
    """Answers "why do you need this?", "what does amber mean?", "what is a CETR?", "what should I
    have ready?" and "can I talk to someone?"; a form in progress carries on after it."""

    def name(self) -> str:
        return "action_referral_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ctx = Context(tracker)
        intent = intent_of(tracker)
        message = tracker.latest_message.get("text") or ""
        try:
            if intent == "ask_why":
                text = await self.why(tracker, ctx)
            elif intent in ("ask_what_to_prepare", "ask_referral_questions"):
                text = await self.what_to_prepare(ctx)
            elif intent in ("ask_talk_to_someone", "ask_who_to_contact"):
                text = await self.who_to_talk_to(ctx)
            elif intent in ("ask_consent", "ask_consent_who", "ask_consent_change"):
                rule = (await ctx.variant())["consent"]
                text = f"{rule['text']} ({rule['source']})"
            elif intent in TOPICS and not isinstance(TOPICS[intent], tuple):
                text = TOPICS[intent]
            else:
                terms = await define_terms(message, ctx) or await define_terms(
                    " ".join(TOPICS.get(intent, ())), ctx
                )
                text = "\n".join(terms) or (
                    "I can explain: amber, red, blue and green ratings, the DSR, the ROAR, a MAM, "
                    "a CETR or CTR, TCOs, LAC / CIN / CPP, an EHCP, section 117, best interests, "
                    "keyworkers and transition. Which would you like?"
                )
        except register_client.RegisterUnavailable:
            text = SERVICE_DOWN.format(what="look that up")
        dispatcher.utter_message(text=text)
        return []

    @staticmethod
    async def why(tracker: Tracker, ctx: Context) -> str:
        slot = tracker.get_slot(REQUESTED_SLOT) if tracker.active_loop.get("name") else None
        if slot in FIELDS:
            return await explain(FIELDS[slot], ctx)
        return (
            "I ask only what the pathway needs: first what decides eligibility, then what helps "
            "you choose the rating, consent, and the referral form itself (001 sections 9 to 11). "
            "The register service keeps the referral securely; access is by role and logged."
        )

    @staticmethod
    async def what_to_prepare(ctx: Context) -> str:
        variant_ = await ctx.variant()
        information = [
            f"{c['name']}: {c['url']}"
            for c in variant_["contacts"]
            if c["kind"] == "information" and c.get("url")
        ]
        return "\n".join(
            [
                "It helps to have ready:",
                "- the diagnosis and evidence of its confirmation ("
                + variant_["diagnosis"]["source"]
                + ")",
                "- where the person lives (council area or GP practice) and their date of birth",
                "- what is happening now and its impact, and any risk of hospital admission",
                "- consent: who gave it and when (" + variant_["consent"]["source"] + ")",
                "- the person's name, NHS number and postcode; your name, role, organisation "
                "and email",
                "- if the DSP admin lead is to organise the MAM, or for the ROAR, the whole form: "
                "gender, address, GP practice, commissioner, parent or carer, care team, where "
                "they live now, communication needs, a brief history, risks, safeguarding, "
                "support in place, and the name, role, email and phone of each person to invite",
                "- also worth having (003): LAC / CIN / CPP status, EHCP and primary need, "
                "pronouns, who they live with, school, who is involved, police or crisis team "
                "contact in the last 12 months, and the outcomes wanted",
                *information,
            ]
        )

    @staticmethod
    async def who_to_talk_to(ctx: Context) -> str:
        variant_ = await ctx.variant()
        kinds = ("dsr_admin", "referral_inbox", "coordinator", "referral_portal")
        lines = ["You can talk to the DSP team:"]
        for contact in variant_["contacts"]:
            if contact["kind"] not in kinds:
                continue
            reach = ", ".join(str(contact[k]) for k in ("email", "phone", "url") if contact.get(k))
            lines.append(
                f"- {contact['name']}: {reach}. {contact.get('how_to_reach', '')}".rstrip()
            )
        lines.append("Please do not put the person's name in an email subject.")
        return "\n".join(lines)
