"""Puts a person on the register at a fixed moment, through the register's own service, for the
deadline, housekeeping and retention tests (the API would stamp today's date)."""

from datetime import date, datetime

from sqlalchemy.orm import Session
from test_referrals_factory import new_nhs_number

from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.referrals.models import Referral, ReferralPersonal
from dsp_backend.register import consent, deadlines
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants import service as variant_service
from dsp_backend.variants.schemas import Rag

ADMIN = Actor(token_id=1, role=Role.dsr_admin)


def person(
    db_session: Session,
    *,
    referred: datetime,
    born: date,
    rag: Rag | None = "amber",
    variant_id: str = "llr",
    given_name: str = "Alex",
) -> RegisterEntry:
    variant = variant_service.load(variant_id)
    adult = deadlines.adult_on(born, variant) <= referred.date()
    consent_on = referred.date()
    entry = register_service.add(
        db_session=db_session,
        actor=ADMIN,
        variant=variant,
        rag=rag,
        age_group="adult" if adult else "cyp",
        referral_source="professional",
        consent_given_by="person" if adult else "parent_carer_guardian",
        consent_given_on=consent_on,
        consent_renewal_due_on=consent.consent_renewal_due(consent_on, variant),
        mam_organised_by_admin=True,
        now=referred,
    )
    nhs_number = new_nhs_number()
    db_session.add_all(
        [
            Referral(
                entry_id=entry.id,
                created_at=referred,
                referral_source="professional",
                referrer_kind="health",
                form="mandatory",
                mam_organised_by_admin=True,
                suggested_rag=rag,
                suggested_register=entry.register,
                matched_criteria=["amber.carer_strain"],
                decided_rag=rag,
                decided_register=entry.register,
            ),
            ReferralPersonal(
                entry_id=entry.id,
                nhs_number=nhs_number,
                active_nhs_number=nhs_number,
                given_name=given_name,
                family_name="Example",
                date_of_birth=born,
                postcode="LE1 6TH",
                form={"answers": {"referrer_email": "referrer@nhs.net"}},
            ),
        ]
    )
    db_session.flush()
    return entry


def move(
    db_session: Session,
    entry: RegisterEntry,
    to: register_service.lifecycle.State,
    at: datetime,
    removal_reason: register_service.lifecycle.RemovalReason | None = None,
) -> None:
    register_service.transition(
        db_session=db_session,
        actor=ADMIN,
        entry=entry,
        to=to,
        reason=f"Alex is now {to}",
        removal_reason=removal_reason,
        variant=register_service.variant_of(entry),
        now=at,
    )
    db_session.flush()
