"""Submitting a referral: check it, re-check eligibility, put the person on the register.

A retried submission with the same Idempotency-Key gets the first answer back instead of adding
the person twice.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.questionnaire import fhir, logic, rules
from dsp_backend.referrals.models import IdempotencyRecord, Referral, ReferralPersonal
from dsp_backend.referrals.schemas import FormKind, ReferralCreate, ReferralCreated
from dsp_backend.register import consent
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.schemas import Variant

CREATED = 201
UNREADABLE = {
    "loc": ["body", "answers"],
    "msg": "The answers are not in the questionnaire's form; check each one's type.",
    "type": "answers",
}


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]


class Refused(Exception):
    """The referral cannot be stored; `detail` is a list of plain-English problems, or one."""

    def __init__(self, status_code: int, detail: list[dict[str, Any]] | str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.detail = detail


def request_hash(referral: ReferralCreate) -> str:
    canonical = json.dumps(referral.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(*, db_session: Session, key: str, digest: str) -> Answer | None:
    """The first answer to this key; a different submission under the same key is refused."""
    earlier = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    if earlier is None:
        return None
    if earlier.request_hash != digest:
        raise Refused(
            409,
            "This Idempotency-Key was already used for a different referral. Use a new key for "
            "a new referral.",
        )
    return Answer(earlier.status_code, earlier.response)


def remember(
    *,
    db_session: Session,
    key: str | None,
    digest: str,
    answer: Answer,
    entry_id: int | None,
    now: datetime,
) -> None:
    """Keeps the first answer to an Idempotency-Key, so that a retry gets it back."""
    if key is not None:
        db_session.add(
            IdempotencyRecord(
                key=key,
                request_hash=digest,
                status_code=answer.status_code,
                response=answer.body,
                entry_id=entry_id,
                created_at=now,
            )
        )


def field_names(value: Any, prefix: str = "") -> Iterator[str]:
    """The dotted names of the fields given, for the audit log (names only, never values)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from field_names(inner, f"{prefix}.{name}" if prefix else name)
    elif isinstance(value, list):
        for inner in value:
            yield from field_names(inner, f"{prefix}[]")
    elif value is not None:
        yield prefix


def check(referral: ReferralCreate, *, variant: Variant, now: datetime) -> logic.State:
    """The answers as the questionnaire reads them, with eligibility and the rating recomputed;
    Refused with every problem at once, each naming its question."""
    source, today = referral.referral_source, now.date()
    try:
        state = logic.state_of(referral.answers, source, variant, today)
    except (ValueError, TypeError, KeyError) as error:
        # An answer of a shape the rules cannot read: name it, never repeat it.
        blank = logic.state_of({}, source, variant, today)
        named = [p.as_error() for p in rules.shape_problems(referral.answers, blank)]
        raise Refused(422, named or [UNREADABLE]) from error
    found = rules.problems(state)
    if found:
        raise Refused(422, [problem.as_error() for problem in found])
    return state


def form_kind(state: logic.State) -> FormKind:
    """001 sections 10 and 11: the full form where the DSP admin lead organises the MAM or the
    referral is to the ROAR; otherwise the mandatory fields. Self-referrals: 003's short form."""
    if state.source == "self":
        return "self_referral"
    return "full" if state.facts["full_form"] else "mandatory"


def next_steps(state: logic.State) -> list[str]:
    """What happens next in this variant (001 s10; 003; 004): never LLR's process everywhere."""
    after = state.variant.after_referral
    if state.source == "self":
        return [after.text_self or after.text]
    steps = []
    if after.process == "admin_lead_mam":
        chosen = (
            after.admin_lead if state.in_force.get("mam_by_admin") else after.referrer_organises
        )
        steps.append(chosen or after.text)
    else:
        steps.append(after.text)
    if state.rag == "red" and after.on_red:
        steps.append(after.on_red)
    return steps


def _store(
    *,
    db_session: Session,
    actor: Actor,
    referral: ReferralCreate,
    state: logic.State,
    now: datetime,
) -> tuple[RegisterEntry, ReferralCreated]:
    variant = state.variant
    # The rating goes with the answers even where it was the only one that could be given.
    answers = {**state.in_force, **({"rag": state.rag} if state.rag else {})}
    name = answers["person_name"]
    birth = date.fromisoformat(answers["date_of_birth"])
    consent_on = date.fromisoformat(answers["consent_date"])
    age = eligibility_service.age_on(date_of_birth=birth, today=now.date())
    entry = register_service.add(
        db_session=db_session,
        actor=actor,
        variant=variant,
        rag=state.rag,
        age_group=eligibility_service.age_group_for(age, variant),
        referral_source=referral.referral_source,
        consent_given_by=answers["consent_by"],
        consent_given_on=consent_on,
        consent_renewal_due_on=consent.consent_renewal_due(consent_on, variant),
        mam_organised_by_admin=bool(answers.get("mam_by_admin")),
        now=now,
    )
    form = form_kind(state)
    suggestion = state.suggestion
    kind = answers.get("referrer_kind") or answers.get("self_who") or "family"
    db_session.add_all(
        [
            Referral(
                entry_id=entry.id,
                created_at=now,
                referral_source=referral.referral_source,
                referrer_kind=kind,
                form=form,
                mam_organised_by_admin=entry.mam_organised_by_admin,
                suggested_rag=suggestion.rag if suggestion else None,
                suggested_register=suggestion.register if suggestion else "DSR",
                matched_criteria=[c.id for c in suggestion.criteria_matched] if suggestion else [],
                decided_rag=entry.rag,
                decided_register=entry.register,
            ),
            ReferralPersonal(
                entry_id=entry.id,
                nhs_number=answers.get("nhs_number"),
                active_nhs_number=answers.get("nhs_number"),
                given_name=name["given"],
                family_name=name["family"],
                date_of_birth=birth,
                postcode=answers["postcode"],
                form={"questionnaire": logic.questionnaire().id, "answers": answers},
            ),
        ]
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="referral.create",
        entity_type=register_service.ENTITY,
        entity_id=entry.dsp_id,
        fields=set(field_names(answers)),
    )
    return entry, ReferralCreated(
        dsp_id=entry.dsp_id,
        register=entry.register,
        rag=entry.rag,
        age_group=entry.age_group,
        referral_source=referral.referral_source,
        form=form,
        created_at=entry.created_at,
        step_down_ends_on=entry.step_down_ends_on,
        consent_renewal_due_on=entry.consent_renewal_due_on,
        follow_ups=[task.kind for task in entry.tasks],
        next_steps=next_steps(state),
    )


ALREADY_ON_THE_REGISTER: Final = (
    "This person is already on the register. Ask the DSR admin lead to change their rating: no "
    "new referral is needed."
)


def store_or_link(
    *, db_session: Session, actor: Actor, referral: ReferralCreate, variant: Variant, now: datetime
) -> tuple[RegisterEntry | None, RegisterEntry | None]:
    """Puts the person on the register, or finds the entry they are already on (000: someone on
    the pathway needs no new referral): (new entry, None) or (None, existing entry). Race-free:
    the unique active NHS number makes a concurrent second insert fail, and that attempt alone
    is undone."""
    state = check(referral, variant=variant, now=now)
    nhs_number = state.in_force.get("nhs_number")
    existing = (
        register_service.get_by_nhs_number(
            db_session=db_session, nhs_number=nhs_number, active_only=True
        )
        if nhs_number
        else None
    )
    if existing is not None:
        return None, existing
    try:
        with db_session.begin_nested():
            entry, _ = _store(
                db_session=db_session, actor=actor, referral=referral, state=state, now=now
            )
    except IntegrityError:
        existing = register_service.get_by_nhs_number(
            db_session=db_session, nhs_number=nhs_number or "", active_only=True
        )
        if existing is None:
            raise
        return None, existing
    return entry, None


def submit(
    *,
    db_session: Session,
    actor: Actor,
    referral: ReferralCreate,
    variant: Variant,
    now: datetime,
    idempotency_key: str | None = None,
) -> Answer:
    """Stores a referral from an authenticated professional and returns 201 with its dsp_id, or
    raises Refused saying why not. A retry with the same Idempotency-Key gets the first answer."""
    digest = request_hash(referral)
    if idempotency_key is not None:
        earlier = replay(db_session=db_session, key=idempotency_key, digest=digest)
        if earlier is not None:
            return earlier
    state = check(referral, variant=variant, now=now)
    try:
        # A savepoint: if a retry with the same key, or another referral of the same person, won
        # a race, only this attempt is undone.
        with db_session.begin_nested():
            if state.in_force.get("nhs_number") and register_service.get_by_nhs_number(
                db_session=db_session, nhs_number=state.in_force["nhs_number"], active_only=True
            ):
                # A retry whose first attempt committed since this one began gets its answer.
                earlier = (
                    replay(db_session=db_session, key=idempotency_key, digest=digest)
                    if idempotency_key is not None
                    else None
                )
                if earlier is not None:
                    return earlier
                raise Refused(409, ALREADY_ON_THE_REGISTER)
            entry, created = _store(
                db_session=db_session, actor=actor, referral=referral, state=state, now=now
            )
            answer = Answer(CREATED, created.model_dump(mode="json"))
            remember(
                db_session=db_session,
                key=idempotency_key,
                digest=digest,
                answer=answer,
                entry_id=entry.id,
                now=now,
            )
    except IntegrityError:
        earlier = (
            replay(db_session=db_session, key=idempotency_key, digest=digest)
            if idempotency_key is not None
            else None
        )
        if earlier is None:
            raise Refused(409, ALREADY_ON_THE_REGISTER) from None
        return earlier
    return answer


def export_fhir(*, db_session: Session, actor: Actor, dsp_id: str) -> dict[str, Any] | None:
    """The referral's answers as a FHIR QuestionnaireResponse; the read is audited."""
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    personal = register_service.personal_of(db_session=db_session, entry=entry) if entry else None
    if entry is None or personal is None:
        return None
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="referral.export_fhir",
        entity_type=register_service.ENTITY,
        entity_id=entry.dsp_id,
        fields={"answers"},
    )
    return fhir.questionnaire_response(
        dsp_id=entry.dsp_id, answers=personal.form.get("answers", {}), authored=entry.created_at
    )
