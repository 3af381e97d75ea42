"""Submitting a referral: check it, re-check eligibility, put the person on the register.

A retried submission with the same Idempotency-Key gets the first answer back instead of adding
the person twice.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.eligibility.schemas import EligibilityResult
from dsp_backend.referrals import rules
from dsp_backend.referrals.models import IdempotencyRecord, Referral, ReferralPersonal
from dsp_backend.referrals.schemas import RatingDecision, ReferralCreate, ReferralCreated
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.schemas import Variant

CREATED = 201


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


def _eligibility_problems(
    result: EligibilityResult, decision: RatingDecision | None, variant: Variant
) -> list[rules.Problem]:
    """000, 001 section 9: no ineligible person is stored; an out-of-area exception may need a
    particular rating or register (000: red and an urgent CETR for a section 117 CYP)."""
    if not result.referrer_may_refer:
        texts = [r.text for r in result.reasons if r.rule == "who_may_refer"]
        return [rules.Problem(("eligibility", "referrer_kind"), " ".join(texts), "eligibility")]
    if not result.eligible:
        unmet = [f"{r.text} ({r.source})" for r in result.reasons if not r.met]
        to_confirm = [f"Please confirm {item}." for item in result.to_confirm]
        return [rules.Problem(("eligibility",), text, "eligibility") for text in unmet + to_confirm]
    if decision is None:
        return []
    why = " ".join(r.text for r in result.reasons if r.rule.startswith("out_of_area."))
    if result.rating_required is not None and decision.rag != result.rating_required:
        return [
            rules.Problem(
                ("rating", "decision", "rag"),
                f"This referral is possible only with a {result.rating_required} rating. {why}",
                "eligibility",
            )
        ]
    if result.register == "ROAR" and rules.register_of(decision.rag, variant) != "ROAR":
        return [
            rules.Problem(
                ("rating", "decision", "register"),
                f"This referral is possible only to the ROAR. {why}",
                "eligibility",
            )
        ]
    return []


def _check(referral: ReferralCreate, *, variant: Variant, now: datetime) -> None:
    today = now.date()
    found = rules.problems(referral, variant=variant, today=today)
    if found or referral.eligibility is None:
        raise Refused(422, [problem.as_error() for problem in found])
    person = referral.person
    # The form's date of birth and postcode are the ones the register keeps: check with those.
    answers = referral.eligibility.model_copy(
        update={
            "date_of_birth": person.date_of_birth or referral.eligibility.date_of_birth,
            "postcode": person.postcode or referral.eligibility.postcode,
        }
    )
    try:
        result = eligibility_service.check(answers=answers, variant=variant, today=today)
    except eligibility_service.InvalidAnswers as error:
        problem = rules.Problem(("eligibility",), str(error), "eligibility")
        raise Refused(422, [problem.as_error()]) from error
    decision = referral.rating.decision if referral.rating else None
    found = _eligibility_problems(result, decision, variant)
    if found:
        raise Refused(422, [problem.as_error() for problem in found])


def _store(
    *,
    db_session: Session,
    actor: Actor,
    referral: ReferralCreate,
    variant: Variant,
    now: datetime,
) -> tuple[RegisterEntry, ReferralCreated]:
    person, consent, rating = referral.person, referral.consent, referral.rating
    # rules.problems() has refused a referral without these.
    assert consent is not None and consent.given_by and consent.given_on
    assert rating is not None and referral.eligibility is not None
    assert person.date_of_birth and person.given_name and person.family_name and person.postcode
    # Where the DSR meeting rates (003), the person waits as amber: a DSR referral is amber (001 s10).
    rag = rating.decision.rag if rating.decision else "amber"
    age = eligibility_service.age_on(date_of_birth=person.date_of_birth, today=now.date())
    entry = register_service.add(
        db_session=db_session,
        actor=actor,
        variant=variant,
        rag=rag,
        age_group=eligibility_service.age_group_for(age, variant),
        referral_source=referral.referral_source,
        consent_given_by=consent.given_by,
        consent_given_on=consent.given_on,
        consent_renewal_due_on=rules.consent_renewal_due(consent.given_on, variant),
        mam_organised_by_admin=referral.mam_organised_by_admin,
        now=now,
    )
    form = rules.form_kind(referral, variant)
    db_session.add_all(
        [
            Referral(
                entry_id=entry.id,
                created_at=now,
                referral_source=referral.referral_source,
                referrer_kind=referral.eligibility.referrer_kind,
                form=form,
                mam_organised_by_admin=referral.mam_organised_by_admin,
                suggested_rag=rating.suggestion.rag,
                suggested_register=rating.suggestion.register,
                matched_criteria=[c.id for c in rating.suggestion.criteria_matched],
                decided_rag=rag,
                decided_register=entry.register,
            ),
            ReferralPersonal(
                entry_id=entry.id,
                nhs_number=person.nhs_number,
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth,
                postcode=person.postcode,
                form=referral.model_dump(mode="json", exclude_none=True),
            ),
        ]
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="referral.create",
        entity_type=register_service.ENTITY,
        entity_id=entry.dsp_id,
        fields=set(field_names(referral.model_dump(mode="json"))),
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
    )


def submit(
    *,
    db_session: Session,
    actor: Actor,
    referral: ReferralCreate,
    variant: Variant,
    now: datetime,
    idempotency_key: str | None = None,
) -> Answer:
    """Stores a referral and returns 201 with its dsp_id, or raises Refused saying why not."""
    digest = request_hash(referral)
    if idempotency_key is not None:
        earlier = replay(db_session=db_session, key=idempotency_key, digest=digest)
        if earlier is not None:
            return earlier
    _check(referral, variant=variant, now=now)
    nhs_number = referral.person.nhs_number
    if nhs_number is not None and register_service.get_by_nhs_number(
        db_session=db_session, nhs_number=nhs_number, active_only=True
    ):
        # 000: someone on the pathway moves between ratings with no new referral.
        raise Refused(
            409,
            "This person is already on the register. Ask the DSR admin lead to change their "
            "rating: no new referral is needed.",
        )
    try:
        # A savepoint: if a retry with the same key won a race, only this attempt is undone.
        with db_session.begin_nested():
            entry, created = _store(
                db_session=db_session, actor=actor, referral=referral, variant=variant, now=now
            )
            answer = Answer(CREATED, created.model_dump(mode="json"))
            if idempotency_key is not None:
                db_session.add(
                    IdempotencyRecord(
                        key=idempotency_key,
                        request_hash=digest,
                        status_code=answer.status_code,
                        response=answer.body,
                        entry_id=entry.id,
                        created_at=now,
                    )
                )
    except IntegrityError:
        earlier = (
            replay(db_session=db_session, key=idempotency_key, digest=digest)
            if idempotency_key is not None
            else None
        )
        if earlier is None:
            raise
        return earlier
    return answer
